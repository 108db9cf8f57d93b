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


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    if sys.stdin.isatty():
        args += ["--tty", "1"]
    try:
        return subprocess.call(command(args), env=env(), cwd=ROOT)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
