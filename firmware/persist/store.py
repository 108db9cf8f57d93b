"""Versioned records in two generations: a power cut at any instant leaves one valid.

A record is a 12-byte header (magic, version, kind, sequence number, length),
the payload and a 4-byte check (the first bytes of its SHA-256). It lives in
two fixed slots, `NAME.0` and `NAME.1`; a save overwrites the slot that does
*not* hold the newest valid record, so a cut in the middle of a write can
only spoil the older generation (littlefs even makes the new content visible
atomically at close). The reader takes the newest slot that checks and whose
version it knows; a corrupt slot or one from a newer firmware is never
half-used, and each problem is kept in `problems` for the log.
"""

import hashlib
import struct

MAGIC = b"IP"
_HEAD = "<2sBBII"  # magic, version, kind, seq, payload length
HEAD_LEN = 12
CHECK_LEN = 4


def _check(data):
    return hashlib.sha256(data).digest()[:CHECK_LEN]


def encode(version, kind, seq, payload):
    head = struct.pack(_HEAD, MAGIC, version, kind, seq, len(payload))
    body = head + payload
    return body + _check(body)


def decode(data, kind, max_version):
    """(version, seq, payload) of a record, or a string saying why it cannot be used."""
    if data is None:
        return "missing"
    if len(data) < HEAD_LEN + CHECK_LEN:
        return "truncated (%d bytes)" % len(data)
    magic, version, k, seq, n = struct.unpack(_HEAD, data[:HEAD_LEN])
    if magic != MAGIC or k != kind:
        return "not a record of this kind"
    if len(data) != HEAD_LEN + n + CHECK_LEN:
        return "truncated (%d of %d bytes)" % (len(data), HEAD_LEN + n + CHECK_LEN)
    body = data[: HEAD_LEN + n]
    if _check(body) != data[HEAD_LEN + n :]:
        return "checksum mismatch"
    if version > max_version:
        return "version %d is newer than this firmware's %d" % (version, max_version)
    return version, seq, bytes(data[HEAD_LEN : HEAD_LEN + n])


class Record:
    """One record kind in its two slots."""

    def __init__(self, fs, name, kind, version):
        self._fs = fs
        self.name = name
        self.kind = kind
        self.version = version
        self.seq = 0
        self._newest = -1  # slot holding the newest valid generation
        self.problems = []  # (slot, why) found by the last load
        self.found = False  # any slot existed at all (fresh pump: none)
        self._written = None  # the check bytes of the last generation this firmware wrote

    def slot(self, i):
        return "%s.%d" % (self.name, i)

    def load(self):
        """The newest valid payload and its version, or None; fills `problems`."""
        best = None
        self.problems = []
        self.found = False
        for i in (0, 1):
            raw = self._fs.read(self.slot(i))
            if raw is not None:
                self.found = True
            r = decode(raw, self.kind, self.version)
            if isinstance(r, str):
                if raw is not None:
                    self.problems.append((self.slot(i), r))
                continue
            if best is None or _newer(r[1], best[1]):
                best = (r[0], r[1], r[2], i)
        if best is None:
            self._newest = -1
            return None
        self.seq = best[1]
        self._newest = best[3]
        return best[0], best[2]

    def save(self, payload):
        """Write a new generation over the older one; OSError if the write failed."""
        seq = (self.seq + 1) & 0xFFFFFFFF
        i = 1 if self._newest == 0 else 0
        self._written = None
        data = encode(self.version, self.kind, seq, payload)
        self._fs.write(self.slot(i), data)
        self.seq = seq
        self._newest = i
        self._written = data[-CHECK_LEN:]

    def verify(self):
        """Read the newest generation back from flash: None if it is the one last written, else why."""
        if self._written is None:
            return "not written by this boot"
        raw = self._fs.read(self.slot(self._newest))
        r = decode(raw, self.kind, self.version)
        if isinstance(r, str):
            return r
        if r[1] != self.seq or bytes(raw[-CHECK_LEN:]) != self._written:
            return "reads back other than written"
        return None


def _newer(a, b):
    # sequence numbers wrap at 2**32: newer means less than half the circle ahead
    d = (a - b) & 0xFFFFFFFF
    return 0 < d < 0x80000000
