"""The filesystem the firmware keeps its records and log on.

`Fs` is the board's flash (littlefs, through `os`) or, on the simulator, a
host directory the unix port's `os` reads and writes. `MemFs` holds the
same files in RAM: the simulator without `--state`, and tests. Both offer
only whole-file reads, whole-file writes and appends, so a fault-injecting
fake can cut power between (or inside) any of them.
"""

import os

ENOSPC = 28


class Fs:
    def __init__(self, root):
        self.root = root.rstrip("/")
        if self.root:
            _makedirs(self.root)

    def path(self, name):
        return self.root + "/" + name if self.root else name

    def read(self, name):
        """The file's bytes, or None if it does not exist or cannot be read."""
        try:
            with open(self.path(name), "rb") as f:
                return f.read()
        except OSError:
            return None

    def write(self, name, data):
        """Replace the file's content (the caller keeps another generation)."""
        with open(self.path(name), "wb") as f:
            f.write(data)

    def append(self, name, data):
        with open(self.path(name), "ab") as f:
            f.write(data)

    def remove(self, name):
        try:
            os.remove(self.path(name))
        except OSError:
            pass

    def exists(self, name):
        try:
            os.stat(self.path(name))
            return True
        except OSError:
            return False

    def size(self, name):
        try:
            return os.stat(self.path(name))[6]
        except OSError:
            return 0


def _makedirs(path):
    part = ""
    for p in path.split("/"):
        if not p:
            part = "/" if not part else part
            continue
        part = part + p if part.endswith("/") else (part + "/" + p if part else p)
        try:
            os.mkdir(part)
        except OSError:
            pass  # exists (or cannot be made: the first write will say so)


class MemFs:
    """Files in RAM, with the same calls as Fs."""

    def __init__(self):
        self.files = {}

    def read(self, name):
        d = self.files.get(name)
        return None if d is None else bytes(d)

    def write(self, name, data):
        self.files[name] = bytes(data)

    def append(self, name, data):
        self.files[name] = self.files.get(name, b"") + bytes(data)

    def remove(self, name):
        self.files.pop(name, None)

    def exists(self, name):
        return name in self.files

    def size(self, name):
        d = self.files.get(name)
        return 0 if d is None else len(d)
