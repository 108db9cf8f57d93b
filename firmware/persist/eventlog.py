"""The event and audit log: a bounded ring of segment files on flash.

Every pump event (commands that change therapy, alarms, resets, logins...)
becomes one line `JSON|CHECK` in the current segment `log.N`; when a
segment is full the next one is overwritten, so the log never grows past
`segments * segment_bytes` (plus one line). A cut in the middle of an append
leaves a torn last line that fails its check and is skipped; the next append
starts on a fresh line. Entries are [seq, wall, clock_uncertain, event, fields].
"""

import hashlib
import json
import struct

from firmware.jsonout import Dec

PREFIX = "log."


def _check(text):
    return "%08x" % struct.unpack("<I", hashlib.sha256(text).digest()[:4])[0]


def _plain(v, depth=0):
    # the log holds only what reads back the same: Dec becomes its exact text
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, Dec):
        return str(v)
    if depth < 4 and isinstance(v, (list, tuple)):
        return [_plain(x, depth + 1) for x in v]
    if depth < 4 and isinstance(v, dict):
        return {str(k): _plain(x, depth + 1) for k, x in v.items()}
    return repr(v)


def _nobody():
    return "pump"


def encode_line(entry):
    text = json.dumps(entry).encode()
    return text + b"|" + _check(text).encode() + b"\n"


def decode_line(line):
    """The entry of one line, or None if it is torn or damaged."""
    i = line.rfind(b"|")
    if i < 0 or len(line) - i != 9:
        return None
    text = line[:i]
    try:
        if _check(text).encode() != line[i + 1 :]:
            return None
        e = json.loads(text)
    except (ValueError, UnicodeError):
        return None
    if not isinstance(e, list) or len(e) != 5 or not isinstance(e[0], int):
        return None
    return e


def _seq_of(line):
    # "[123, ..." -> 123 without the checksum and the parse (a damaged line is skipped later)
    j = line.find(b",")
    if j < 2 or line[:1] != b"[":
        return None
    try:
        return int(line[1:j])
    except ValueError:
        return None


def _contains(line, having):
    for h in having:
        if h in line:
            return True
    return False


def _entries(raw):
    out = []
    if raw:
        for line in raw.split(b"\n"):
            if line:
                e = decode_line(line)
                if e is not None:
                    out.append(e)
    return out


def _last_seq(raw):
    # from the end: a boot reads one line per segment, not the whole log
    end = len(raw)
    while end > 0:
        start = raw.rfind(b"\n", 0, end - 1) + 1 if end > 1 else 0
        line = raw[start:end].rstrip(b"\n")
        if line:
            e = decode_line(line)
            if e is not None:
                return e[0]
        end = start
    return None


class EventLog:
    # each checkpoint records the next entry's number: the boot reads the entries a cut
    # left after the last checkpoint (recovery._late_budget)
    persist_key = "log"
    persist_class = "acct"

    def __init__(self, fs, pump, segments=4, segment_bytes=4096):
        self._fs = fs
        self._pump = pump
        self.segments = segments
        self.segment_bytes = segment_bytes
        self.who = _nobody  # names who acts (the shell's role); set by the wiring
        self.lost = 0  # entries that could not be written (flash full or failing)
        self._cur = 0
        self._size = 0
        self._torn = False
        self._held = None  # entries kept in RAM during the boot (hold/release)
        self.seq = 0
        self._scan()

    def _scan(self):
        # only each segment's last good line matters: it says where the ring is
        best = -1
        for i in range(self.segments):
            raw = self._fs.read(PREFIX + str(i))
            if not raw:
                continue
            last = _last_seq(raw)
            if last is not None and last > best:
                best = last
                self._cur = i
                self._size = len(raw)
                self._torn = not raw.endswith(b"\n")
        self.seq = best + 1 if best >= 0 else 0

    def add(self, name, fields):
        """Append one entry; a flash error is counted, never raised."""
        f = {}
        for k in fields:
            f[str(k)] = _plain(fields[k], 1)
        if "who" not in f:
            f["who"] = self.who()
        p = self._pump
        line = encode_line([self.seq, p.wall(), 1 if p.clock_uncertain else 0, name, f])
        if self._held is not None:
            self._held.append(line)
            self.seq += 1
            return
        if self._put([line]):
            self.seq += 1

    def hold(self):
        """Keep new entries in RAM until `release`: the boot writes all of its own at once.

        A flash append costs 60-150 ms on the Pico; the boot's four cost 0.39 s.
        Only for the boot: until its records are saved a cut loses nothing the
        next boot would not find again (it restores the same state and logs anew).
        """
        if self._held is None:
            self._held = []

    def release(self):
        """Write the held entries, in as few flash writes as the ring allows."""
        held = self._held
        self._held = None
        if held:
            self._put(held)

    def _put(self, lines):
        # lines that fit in the current segment go in one append; a full segment
        # moves to the next one, which is overwritten. Returns the lines written.
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
            name = PREFIX + str(self._cur)
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
            done += j - i
            i = j
        return done

    def on_event(self, name, fields):
        self.add(name, fields)

    def snapshot(self):
        return {"seq": self.seq}

    def restore(self, d):
        pass  # the numbering comes from the segments themselves (_scan); the boot reads d

    def since(self, seq, having=None):
        """Entries numbered `seq` or later, oldest first; with `having` (bytes), only the lines
        that contain one of them are decoded and returned.

        Read from the newest line back and only as far as `seq`, each line's number read from
        its text: at boot these are the few a cut left after the last checkpoint, and when
        checkpoints kept failing the rest costs a search, not a checksum and a parse each.
        """
        out = []
        i = self._cur
        for _ in range(self.segments):
            raw = self._fs.read(PREFIX + str(i))
            lines = raw.split(b"\n") if raw else []
            k = len(lines)
            while k > 0:
                k -= 1
                line = lines[k]
                n = _seq_of(line)
                if n is None:
                    continue
                if n < seq:
                    if decode_line(line) is None:
                        continue  # a damaged number must not end the search early
                    out.reverse()
                    return out
                if having is not None and not _contains(line, having):
                    continue
                e = decode_line(line)
                if e is not None:
                    out.append(e)
            i = (i - 1) % self.segments
        out.reverse()
        return out

    def entries(self):
        """Every readable entry, oldest first."""
        segs = []
        for i in range(self.segments):
            es = _entries(self._fs.read(PREFIX + str(i)))
            if es:
                segs.append(es)
        segs.sort(key=lambda es: es[0][0])
        out = []
        for es in segs:
            out.extend(es)
        return out

    def service(self, pump):
        pass
