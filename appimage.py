"""The application's modules served from one verified image file (`/app.img`).

Why: on the Pico each module imported from littlefs costs 15-30 ms of path
lookups (three `stat`s and an `open`, each walking the directory's metadata
log), 1.6 s of a 2.2 s boot for the ~75 modules the pump imports. One image
file, mounted as a read-only filesystem at `/app` and put first on
`sys.path`, serves the same `.mpy` files from an index in RAM. It is a
user-defined VFS (the mechanism `mpremote mount` uses), built and copied by
tools/deploy.py, and mounted by boot.py so every soft reset (an `mpremote`
session too) sees the application.

The image is checked before any of its code runs: a SHA-256 over its index
and the files must match the one it carries, else nothing is mounted and
`error` says why (boardsel then stays in safe mode). A loose tree (no image,
a firmware/ directory) is left to the normal import path.

Format: MAGIC, the index as one JSON line {"dirs", "files": [[path, offset,
size], ...]}, the hex SHA-256 of that line and the files' bytes on the next
line, then the files' bytes (offsets count from their start). The index is
inside the checksum: a flipped bit in a name or an offset is refused too.
"""

import hashlib
import io
import json

MAGIC = b"PUMPIMG1"
IMAGE = "/app.img"
MOUNT = "/app"
S_DIR = 0x4000
S_FILE = 0x8000
CHUNK = 4096

error = None  # why the image was refused, or None
digest = None  # hex SHA-256 of the mounted image (its index and files)


def _hex(b):
    # firmware/auth.py has the same; it lives inside the image this checks, so not imported here
    return "".join("%02x" % x for x in b)


class ImageVfs:
    """A read-only filesystem over one open image file."""

    def __init__(self, path):
        f = open(path, "rb")
        try:
            if f.read(len(MAGIC)) != MAGIC:
                raise ValueError("not an app image")
            line = f.readline()
            self.sha256 = f.readline().strip().decode()
            base = f.tell()
            self._check(f, line)  # before the index is believed
            head = json.loads(line)
            self.files = {}
            for name, off, size in head["files"]:
                self.files[name] = (base + off, size)
            self.dirs = set(head["dirs"])
            self.dirs.add("")
        except Exception:
            f.close()
            raise
        self.f = f

    def _check(self, f, line):
        # the index line and every byte after the checksum line, to the end of the file
        h = hashlib.sha256(line)
        buf = bytearray(CHUNK)
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(memoryview(buf)[:n])
        if _hex(h.digest()) != self.sha256:
            raise ValueError("app image checksum mismatch")

    # the VFS protocol (paths arrive relative to the mount point)
    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        self.f.close()

    def stat(self, path):
        p = path.strip("/")
        e = self.files.get(p)
        if e is not None:
            return (S_FILE, 0, 0, 0, 0, 0, e[1], 0, 0, 0)
        if p in self.dirs:
            return (S_DIR, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        raise OSError(2)  # ENOENT

    def ilistdir(self, path):
        p = path.strip("/")
        if p not in self.dirs:
            raise OSError(2)
        pre = p + "/" if p else ""
        seen = set()
        for names, kind in ((self.dirs, S_DIR), (self.files, S_FILE)):
            for n in names:
                if n and n.startswith(pre) and "/" not in n[len(pre) :] and n not in seen:
                    seen.add(n)
                    yield (n[len(pre) :], kind, 0)

    def open(self, path, mode):
        if "w" in mode or "a" in mode or "+" in mode:
            raise OSError(30)  # EROFS
        e = self.files.get(path.strip("/"))
        if e is None:
            raise OSError(2)
        # one read into RAM: a module's bytecode is read whole by the import anyway,
        # and the one open handle saves a littlefs open per import
        self.f.seek(e[0])
        data = self.f.read(e[1])
        if "b" in mode or path.endswith(".mpy"):
            return io.BytesIO(data)
        return io.StringIO(data.decode())

    def chdir(self, path):
        pass

    def getcwd(self):
        return ""

    def statvfs(self, path):
        return (CHUNK, CHUNK, 0, 0, 0, 0, 0, 0, 0, 255)


def mount(image=IMAGE, at=MOUNT):
    """Mount the image if there is one; True once mounted. Never raises: `error` says why not."""
    global error, digest
    import os
    import sys

    error = None
    try:
        os.stat(image)
    except OSError:
        try:
            os.stat("firmware")  # a loose tree copied by hand: imported as it is
        except OSError:
            error = "%s missing: redeploy" % image  # e.g. a deploy cut off after its clean-up
        return False
    try:
        fs = ImageVfs(image)
    except Exception as e:  # a damaged image must not run, and boot must still reach the REPL
        error = "%s: %s" % (image, e)
        return False
    import vfs

    try:
        vfs.umount(at)
    except OSError:
        pass
    vfs.mount(fs, at)
    if at not in sys.path:
        sys.path.insert(0, at)
    digest = fs.sha256
    return True
