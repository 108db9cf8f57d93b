"""One bounded ring of log segment files on flash (`PREFIX.0` .. `PREFIX.N-1`).

Lines `JSON|CHECK` are appended to the current segment; a full segment moves the
ring to the next one, which is overwritten whole. A cut in the middle of an
append leaves a torn last line that fails its check and is skipped; the next
append starts on a fresh line. A cut in the middle of the overwrite can only
spoil the segment being overwritten, whose entries were the oldest.

The boot finds the current segment with a binary search on each segment's first
entry (about log2(N) + 1 segment reads, not the whole ring), and lines are read
back newest first one segment at a time, so no call holds more than one segment.
"""

import hashlib
import json
import struct


def check(text):
    return "%08x" % struct.unpack("<I", hashlib.sha256(text).digest()[:4])[0]


def decode_line(line):
    """The entry of one line, or None if it is torn or damaged."""
    i = line.rfind(b"|")
    if i < 0 or len(line) - i != 9:
        return None
    text = line[:i]
    try:
        if check(text).encode() != line[i + 1 :]:
            return None
        e = json.loads(text)
    except (ValueError, UnicodeError):
        return None
    if not isinstance(e, list) or len(e) != 5 or not isinstance(e[0], int):
        return None
    return e


def seq_of(line):
    # "[123, ..." -> 123 without the checksum and the parse (a damaged line is skipped later)
    j = line.find(b",")
    if j < 2 or line[:1] != b"[":
        return None
    try:
        return int(line[1:j])
    except ValueError:
        return None


def _first_seq(raw):
    # the first line that checks: a torn or damaged first line does not hide the segment
    if raw:
        for line in raw.split(b"\n"):
            if line:
                e = decode_line(line)
                if e is not None:
                    return e[0]
    return -1


def _last_seq(raw):
    end = len(raw)
    while end > 0:
        start = raw.rfind(b"\n", 0, end - 1) + 1 if end > 1 else 0
        line = raw[start:end].rstrip(b"\n")
        if line:
            e = decode_line(line)
            if e is not None:
                return e[0]
        end = start
    return -1


class Ring:
    def __init__(self, fs, prefix, segments, segment_bytes):
        self._fs = fs
        self.prefix = prefix
        self.segments = segments
        self.segment_bytes = segment_bytes
        self.lost = 0  # lines that could not be written (flash full or failing)
        self.last = -1  # the newest entry's number on flash
        self._cur = 0
        self._size = 0
        self._torn = False
        self._scan()

    def name(self, i):
        return self.prefix + str(i)

    def _scan(self):
        keys = {}

        def key(i):
            if i not in keys:
                keys[i] = _first_seq(self._fs.read(self.name(i)))
            return keys[i]

        k0 = key(0)
        if k0 < 0:
            cur = self._linear()  # a fresh ring, or segment 0 spoilt by a cut while overwritten
        else:
            # the segments 0..cur begin at or after segment 0's first entry, the rest before it
            # (older, or absent): the last of the first run is the current one
            lo, hi = 0, self.segments
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if key(mid) >= k0:
                    lo = mid
                else:
                    hi = mid
            cur = lo
        if cur < 0:
            return
        raw = self._fs.read(self.name(cur)) or b""
        self._cur = cur
        self._size = len(raw)
        self._torn = bool(raw) and not raw.endswith(b"\n")
        self.last = _last_seq(raw)

    def _linear(self):
        best = -1
        cur = -1
        for i in range(self.segments):
            last = _last_seq(self._fs.read(self.name(i)) or b"")
            if last > best:
                best = last
                cur = i
        return cur

    def put(self, lines, nums):
        """Write `lines` (numbered `nums`) in as few appends as the segments allow; the count written."""
        done = 0
        i = 0
        n = len(lines)
        while i < n:
            pre = b"\n" if self._torn else b""
            rotate = self._size and self._size + len(pre) + len(lines[i]) > self.segment_bytes
            if rotate:
                self._cur = (self._cur + 1) % self.segments
                self._size = 0
                self._torn = False
                pre = b""
            size = self._size + len(pre) + len(lines[i])
            j = i + 1
            while j < n and size + len(lines[j]) <= self.segment_bytes:
                size += len(lines[j])
                j += 1
            data = pre + b"".join(lines[i:j])
            name = self.name(self._cur)
            try:
                if rotate:
                    self._fs.write(name, data)
                else:
                    self._fs.append(name, data)
            except OSError:
                self.lost += j - i
                self._torn = True  # whatever reached flash may lack its newline
                i = j
                continue
            self._size = size
            self._torn = False
            self.last = nums[j - 1]
            done += j - i
            i = j
        return done

    def back(self):
        """(number, line) of every line, newest first, one segment read at a time.

        A segment is taken only if it begins before the newer one walked before it: a
        segment spoilt by a cut (or never written) ends the walk, never reorders it.
        """
        i = self._cur
        newer = None
        for _ in range(self.segments):
            raw = self._fs.read(self.name(i))
            if not raw:
                return
            first = _first_seq(raw)
            if first < 0 or (newer is not None and first >= newer):
                return
            newer = first
            lines = raw.split(b"\n")
            raw = None
            k = len(lines)
            while k > 0:
                k -= 1
                n = seq_of(lines[k])
                if n is not None:
                    yield n, lines[k]
            i = (i - 1) % self.segments

    def used(self):
        """Bytes its segments hold on flash."""
        return sum(self._fs.size(self.name(i)) for i in range(self.segments))
