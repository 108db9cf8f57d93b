"""Build the application image the board mounts at /app (format: appimage.py).

Deploy compiles the packages to .mpy in a stage directory, then `pack_stage`
moves them into one `app.img` there: the board opens one file instead of one
per module (boot 2.2 s -> 1.5 s on the emulated Pico, docs/boards.md).
"""

import hashlib
import json
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from appimage import MAGIC  # noqa: E402

NAME = "app.img"


def build(files):
    """The image bytes and its SHA-256 (hex) for `files`: (path inside the image, bytes) pairs."""
    index, dirs, blobs, off = [], set(), [], 0
    for path, data in sorted(files):
        index.append([path, off, len(data)])
        blobs.append(data)
        off += len(data)
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    body = b"".join(blobs)
    line = json.dumps({"dirs": sorted(dirs), "files": index}, separators=(",", ":")).encode() + b"\n"
    sha = hashlib.sha256(line + body).hexdigest()  # the index too: a bit flipped in a name is caught
    return MAGIC + line + sha.encode() + b"\n" + body, sha


def tree_files(base, packages):
    """(path relative to `base`, bytes) of every file under the `packages` directories."""
    out = []
    for pkg in packages:
        for d, dirs, names in os.walk(os.path.join(base, pkg)):
            dirs[:] = sorted(x for x in dirs if x != "__pycache__")
            for n in sorted(names):
                full = os.path.join(d, n)
                with open(full, "rb") as f:
                    out.append((os.path.relpath(full, base).replace(os.sep, "/"), f.read()))
    return out


def pack_stage(stage, packages):
    """Replace the staged `packages` directories by one image file; returns its SHA-256."""
    data, sha = build(tree_files(stage, packages))
    with open(os.path.join(stage, NAME), "wb") as f:
        f.write(data)
    for pkg in packages:
        shutil.rmtree(os.path.join(stage, pkg), ignore_errors=True)
    return sha
