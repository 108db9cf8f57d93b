"""The event and audit log: two bounded rings of segment files on flash (SPEC 8, docs/safety.md).

Every pump event becomes one line `JSON|CHECK`, entries [seq, wall,
clock_uncertain, event, fields], numbered in one sequence across both rings:

- the protected ring (`plog.N`) keeps alarms, refusals, therapy changes, resets
  and every event not named routine: the entries a clinician audits;
- the routine ring (`rlog.N`) keeps the routine entries (`ROUTINE`: logins,
  logouts, button presses, a boot self-test that passed), so these can never
  push the protected ones out.

Each ring drops its own oldest segment when full (firmware/persist/ring.py). The
single ring of the firmware before (`log.N`, the same lines) is read, never
written: a pump upgraded in place keeps every entry it had. The log is read
newest first, the rings merged by number, so `log N` reads only the segments
its N entries are in.
"""

import json

from firmware.jsonout import Dec
from firmware.persist.ring import Ring, check, decode_line

PREFIX = "log."  # the single ring before the protected one: read only
PROTECTED_PREFIX = "plog."
ROUTINE_PREFIX = "rlog."
OLD_SEGMENTS = 4
ROUTINE = ("login", "logout", "button")
PROTECTED = "protected"
ROUTINE_STORE = "routine"
OLD_STORE = "before_upgrade"


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
    return text + b"|" + check(text).encode() + b"\n"


def is_routine(name, fields):
    """True for the entries the routine ring keeps; every other entry is protected."""
    if name == "selftest":
        return fields.get("passed") is True  # a failed check is kept with the alarm it raised
    return name in ROUTINE


def _contains(line, having):
    for h in having:
        if h in line:
            return True
    return False


def _wall_of(line):
    # "[seq, wall, ..." -> wall, without the checksum and the parse
    i = line.find(b",")
    j = line.find(b",", i + 1)
    try:
        return int(line[i + 1 : j])
    except ValueError:
        return None


def _next(it):
    try:
        return next(it)
    except StopIteration:
        return None


class EventLog:
    # each checkpoint records the next entry's number: the boot reads the entries a cut
    # left after the last checkpoint (recovery._late_budget)
    persist_key = "log"
    persist_class = "acct"

    def __init__(self, fs, pump, segments=48, segment_bytes=4096, routine_segments=8, routine_bytes=4096):
        self._fs = fs
        self._pump = pump
        self.protected = Ring(fs, PROTECTED_PREFIX, segments, segment_bytes)
        self.routine = Ring(fs, ROUTINE_PREFIX, routine_segments, routine_bytes)
        # one stat of its first segment: a pump that never ran the old firmware reads nothing more
        self.old = Ring(fs, PREFIX, OLD_SEGMENTS, 4096) if fs.exists(PREFIX + "0") else None
        self.who = _nobody  # names who acts (the shell's role); set by the wiring
        self._held = None  # entries kept in RAM during the boot (hold/release)
        old = self.old.last if self.old is not None else -1
        self.seq = max(self.protected.last, self.routine.last, old) + 1

    @property
    def lost(self):
        """Entries that could not be written (flash full or failing)."""
        return self.protected.lost + self.routine.lost

    def add(self, name, fields):
        """Append one entry to its ring; a flash error is counted, never raised."""
        f = {}
        for k in fields:
            f[str(k)] = _plain(fields[k], 1)
        if "who" not in f:
            f["who"] = self.who()
        p = self._pump
        ring = self.routine if is_routine(name, f) else self.protected
        if self._held is not None:
            # stamped at release: the boot logs before its restore has set the clock
            self._held.append((ring, self.seq, p.now_ms(), name, f))
            self.seq += 1
            return
        line = encode_line([self.seq, p.wall(), 1 if p.clock_uncertain else 0, name, f])
        if ring.put([line], [self.seq]):
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
        """Write the held entries, in as few flash writes as each ring allows."""
        held = self._held
        self._held = None
        if held:
            p = self._pump
            u = 1 if p.clock_uncertain else 0
            for ring in (self.protected, self.routine):
                mine = [h for h in held if h[0] is ring]
                if mine:
                    # each at the time it happened by the clock as restored
                    lines = [encode_line([h[1], p.wall_at(h[2]), u, h[3], h[4]]) for h in mine]
                    ring.put(lines, [h[1] for h in mine])

    def on_event(self, name, fields):
        self.add(name, fields)

    def snapshot(self):
        return {"seq": self.seq}

    def restore(self, d):
        pass  # the numbering comes from the segments themselves; the boot reads d

    def back(self):
        """(number, line, ring name) of every entry newest first, the rings merged."""
        its = [self.protected.back(), self.routine.back()]
        names = [PROTECTED, ROUTINE_STORE]
        if self.old is not None:
            its.append(self.old.back())
            names.append(OLD_STORE)
        heads = [_next(it) for it in its]
        while True:
            k = -1
            best = None
            for i in range(len(heads)):
                h = heads[i]
                if h is not None and (best is None or h[0] > best[0]):
                    k = i
                    best = h
            if best is None:
                return
            yield best[0], best[1], names[k]
            heads[k] = _next(its[k])

    def since(self, seq, having=None):
        """Entries numbered `seq` or later, oldest first; with `having` (bytes), only the lines
        that contain one of them are decoded and returned.

        Read from the newest line back and only as far as `seq`: at boot these are the few a
        cut left after the last checkpoint.
        """
        out = []
        for n, line, _ in self.back():
            if n < seq:
                if decode_line(line) is None:
                    continue  # a damaged number must not end the search early
                break
            if having is not None and not _contains(line, having):
                continue
            e = decode_line(line)
            if e is not None:
                out.append(e)
        out.reverse()
        return out

    def last(self, count, since_wall=None):
        """The newest `count` readable entries (at or after `since_wall`), oldest first, each
        with the name of its ring; only what is asked for is decoded."""
        out = []
        for _, line, store in self.back():
            if since_wall is not None:
                w = _wall_of(line)
                if w is None or w < since_wall:
                    continue
            e = decode_line(line)
            if e is not None:
                out.append((e, store))
                if len(out) >= count:
                    break
        out.reverse()
        return out

    def entries(self):
        """Every readable entry, oldest first (hosts and tests: on a board use `last`)."""
        return [e for e, _ in self.last(1 << 30)]

    def service(self, pump):
        pass
