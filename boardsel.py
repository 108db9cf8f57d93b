"""Check the application's ROMFS image, pick the board file, honour safe mode, run the app.

The application (firmware/, drivers/, boards/) is a ROMFS image in its own
flash partition (MicroPython mounts it at `/rom`; its .mpy run in place from
flash, so their bytecode takes no heap). Before any of it is imported,
`check_image()` (boot.py, every soft reset) hashes the image and compares the
SHA-256 and length that tools/deploy wrote to `/romfs.sha256` after it;
a damaged, partial or missing image is unmounted and taken off `sys.path`,
and the board stays in safe mode saying why. `image` is the checked SHA-256
(`version` reports it).

Safe mode (application skipped, REPL free, no watchdog) also comes from the
pin, from the flag file `/data/safe_mode`, or from the boot-loop counter after
repeated boots without a stable run (firmware/persist/recovery.py); remove the flag
with `mpremote rm :data/safe_mode` to run the application again.
`import boardsel; boardsel.safe_mode` at the REPL says why it was skipped
(the printed line is gone on USB before a host connects).
"""

import sys

ROM = "/rom"
RECORD = "/romfs.sha256"  # "<hex sha256> <length>", written by tools/deploy after the image
ROMFS_HEADER = b"\xd2\xcd\x31"  # MicroPython's ROMFS magic (extmod/vfs_rom.c)

image = None  # hex SHA-256 of the checked ROMFS image the application runs from
image_error = None  # why the image was refused at this boot, or None
_checked = False


def romfs_length(buf):
    """Bytes of the ROMFS image at the start of `buf` (header and body), or 0 if there is none."""
    if bytes(buf[:3]) != ROMFS_HEADER:
        return 0
    size = 0
    i = 3
    while i < len(buf) and i < 8:
        b = buf[i]
        size = (size << 7) | (b & 0x7F)
        i += 1
        if not b & 0x80:
            return i + size
    return 0


def verify(rom, record):
    """(hex SHA-256, None) if the image in `rom` (a buffer over the partition) is the one
    `record` (the text of RECORD, or None if it is missing) names; else (None, why)."""
    n = romfs_length(rom)
    if not n:
        return None, "no ROMFS image in the partition: redeploy"
    if n > len(rom):
        return None, "ROMFS image longer than its partition: redeploy"
    if record is None:
        return None, "%s missing: redeploy" % RECORD
    want = record.split()
    if len(want) != 2 or len(want[0]) != 64 or not want[1].isdigit():
        return None, "%s unreadable: redeploy" % RECORD
    if int(want[1]) != n:
        return None, "ROMFS image is %d bytes, deploy wrote %s: redeploy" % (n, want[1])
    import hashlib

    got = "".join("%02x" % x for x in hashlib.sha256(memoryview(rom)[:n]).digest())
    if got != want[0]:
        return None, "ROMFS image checksum mismatch: redeploy"
    return got, None


def _partition():
    # the ROMFS partition as a buffer, or None on a firmware built without ROMFS
    try:
        import vfs

        dev = vfs.rom_ioctl(2, 0)
    except (ImportError, AttributeError, OSError, TypeError):
        return None
    if isinstance(dev, int):  # a negative errno: no partition 0
        return None
    return memoryview(dev)


def _read_record():
    try:
        with open(RECORD) as f:
            return f.read()
    except OSError:
        return None


def _loose_tree():
    # a tree copied by hand (no image, no record): imported from the filesystem as it is
    import os

    try:
        os.stat("firmware")
    except OSError:
        return False
    return True


def _unmount():
    # none of a refused image's code can be imported at this boot, by the app or at the REPL
    try:
        import vfs

        vfs.umount(ROM)
    except (ImportError, OSError):
        pass
    for p in (ROM, ROM + "/lib"):
        while p in sys.path:
            sys.path.remove(p)


def check_image():
    """Check the ROMFS image once per boot; returns why it was refused, or None."""
    global image, image_error, _checked
    _checked = True
    image = None
    try:
        rom = _partition()
        if rom is None:
            why = None if _loose_tree() else "this firmware has no ROMFS partition: flash RPI_PICO_ROMFS"
        else:
            record = _read_record()
            if record is None and not romfs_length(rom) and _loose_tree():
                why = None
            else:
                image, why = verify(rom, record)
    except Exception as e:  # a check that did not finish is a refusal, never a pass
        image, why = None, "ROMFS image check failed (%r): redeploy" % e
    image_error = why
    if why is not None:
        _unmount()
    elif image is not None:
        # the checked image first: an import then never walks littlefs (15-30 ms a
        # module on the Pico), and no stray loose copy can shadow what was checked
        for p in (ROM, ".frozen", ROM + "/lib"):
            while p in sys.path:
                sys.path.remove(p)
        sys.path[0:0] = [ROM, ".frozen", ROM + "/lib"]
    return why


def image_view():
    """(buffer, length, hex SHA-256, True) of the image checked at this boot, for the
    application's periodic re-check (firmware/safety/selftest.py); None without one."""
    if image is None:
        return None
    rom = _partition()
    if rom is None:
        return None
    return rom, romfs_length(rom), image, True


def board_module():
    if sys.platform == "rp2":
        from boards import pico

        return pico
    if sys.platform == "esp32":
        from boards import esp32

        return esp32
    raise RuntimeError("no board file for " + sys.platform)


DATA_DIR = "/data"


safe_mode = None  # why the application was skipped at this boot (`import boardsel` at the REPL)


def _safe(why):
    # printed, and kept: on USB the message goes out before a host has the console open
    global safe_mode
    if why:
        safe_mode = why
        print("safe mode (%s): application skipped, REPL free" % why)
    return why


def main():
    # Collect every 32 KB allocated: imports then fill the holes their own garbage
    # left (the trend's arrays once failed with MemoryError at boot for want of one
    # large block). With the code in ROMFS the imports allocate far less.
    if _safe(image_error if _checked else check_image()):
        return
    import gc

    gc.threshold(32768)
    saved = _image_only_path()
    try:
        _run()
    finally:
        sys.path[:] = saved  # the REPL after Ctrl-C imports loose files again


def _run():
    mod = board_module()
    from firmware.persist import recovery
    from firmware.persist.flashfs import Fs

    fs = Fs(DATA_DIR)
    if _safe(recovery.safe_mode_reason(fs, pin_low=mod.safe_mode_requested())):
        return
    from firmware import app

    app.run(mod.Board(), fs=fs)


def _image_only_path():
    # While the application runs, imports search the checked image and the frozen modules
    # only. MicroPython looks for an extensible built-in (json, time, os, struct, machine...)
    # on the filesystem first, at every `import` statement: with littlefs ('' and /lib) on
    # sys.path each of those cost the Pico 7 ms (0.2 ms with ROMFS only), several hundred
    # ms of a boot. Returns the path to put back when the application stops.
    saved = sys.path[:]
    if image is not None:
        sys.path[:] = [p for p in saved if p == ROM or p == ".frozen" or p == ROM + "/lib"]
    return saved
