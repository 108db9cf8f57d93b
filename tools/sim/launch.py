"""`make sim`: start the simulator on the MicroPython unix port from .venv."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def micropython_path():
    return os.path.join(os.path.dirname(sys.executable), "micropython")


def command(args, heap="1M"):
    return [
        micropython_path(),
        "-X",
        "heapsize=" + heap,
        os.path.join(ROOT, "tools", "sim", "simmain.py"),
    ] + list(args)


def env():
    return dict(os.environ, MICROPYPATH=os.pathsep.join([ROOT, ".frozen"]))


def claim(state):
    """`make sim SIM_ARGS='--state DIR'`: DIR's lock for the session, or None with one line on stderr.

    One flash, one simulator: not while pumpctl's background simulator serves DIR
    (tools/pumpctl/simserver.py) or a pumpctl call holds it.
    """
    from tools.pumpctl import simserver

    try:
        fd = simserver.lock(state, 0.0)
    except simserver.Error as e:
        sys.stderr.write("%s: %s\n" % (e.code, e.msg))
        return None
    try:
        d = simserver.info(state)
        if d is not None and simserver.alive(state, d):
            sys.stderr.write(
                "E_SIM: %s is served by pumpctl's background simulator (pid %d): "
                "pumpctl --state %s sim stop first\n" % (state, d["pid"], state)
            )
            simserver.unlock(fd)
            return None
    except simserver.Error as e:
        sys.stderr.write("%s: %s\n" % (e.code, e.msg))
        simserver.unlock(fd)
        return None
    return fd


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    if sys.stdin.isatty():
        args += ["--tty", "1"]
    if "--state" in args[:-1]:
        i = args.index("--state") + 1
        args[i] = os.path.abspath(args[i])  # the simulator runs in the repository
        if claim(args[i]) is None:
            return 1
    saved = _cbreak()
    try:
        return subprocess.call(command(args), env=env(), cwd=ROOT)
    except KeyboardInterrupt:
        return 130
    finally:
        if saved is not None:
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


def _cbreak():
    """A terminal on stdin: byte by byte, no echo (the simulator's console echoes and edits, as a
    board's does); Ctrl-C still signals. The old settings, to restore, or None."""
    if not sys.stdin.isatty():
        return None
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    mode = termios.tcgetattr(fd)
    mode[3] &= ~termios.ECHO  # setcbreak leaves echo on before Python 3.12
    termios.tcsetattr(fd, termios.TCSADRAIN, mode)
    return saved


if __name__ == "__main__":
    sys.exit(main())
