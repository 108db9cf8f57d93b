"""Trend buffer: a RAM ring of per-minute samples for plots (SPEC 10, `pumpctl plot`).

Each sample holds, for the minute that just ended: the wall-clock minute,
the net steps delivered in it, line pressure (0.1 kPa), reservoir volume (uL)
and a bitmask of the active alarm codes. Typed arrays keep it compact and
fixed in size (14 bytes a sample), so it costs the same RAM from boot on and
never allocates while sampling. Samples are numbered from boot; `since(i)`
pages through what the ring still holds.

Readings come from hooks so the trend depends on no sensor module: the
safety service sets `pressure_fn(pump)` -> 0.1 kPa or None and the reservoir
service `reservoir_fn(pump)` -> uL or None; until then they read as unknown.
"""

import struct
from array import array

from firmware.safety.alarms import TABLE

MINUTE_MS = 60000
CAPACITY = 1500  # 25 h of minutes: a full 24 h always on the plot
NO_PRESSURE = -32768  # 'h' sentinel: no reading
NO_RESERVOIR = 65535  # 'H' sentinel: no reading
# bit i of the alarm mask is CODES[i]; fixed order, so a plot decodes it the same way. Codes
# added after the 17 of TRD2 go last, so a history saved before keeps its bits
LATER = ("OCCLUSION_UNPROTECTED", "BATTERY_FAULT", "SELFTEST")
CODES = tuple(sorted(c for c in TABLE if c not in LATER)) + tuple(c for c in LATER if c in TABLE)
FIELDS = ("minute", "steps", "kpa10", "reservoir_ul", "alarms")
FILE = "trend.bin"
_MAGIC = b"TRD2"
_HEAD = "<4sII"  # magic, capacity, count
_TYPES = "iihHI"  # the arrays in FIELDS order: the alarm mask 32-bit since 17 codes
_OLD = {b"TRD1": "iihHH", _MAGIC: _TYPES}  # a history saved before the change still loads


def _clamp(v, lo, hi, none):
    if v is None:
        return none
    return lo if v < lo else hi if v > hi else v


class Trend:
    def __init__(self, capacity=CAPACITY, fs=None):
        self.capacity = capacity
        self._minute = array("i", bytes(4 * capacity))  # wall-clock minutes since 1970
        self._steps = array("i", bytes(4 * capacity))
        self._kpa10 = array("h", bytes(2 * capacity))
        self._res = array("H", bytes(2 * capacity))
        self._alarms = array("I", bytes(4 * capacity))  # one bit an alarm code: more than 16 now
        self.count = 0  # samples written since boot; sample i sits at i % capacity
        self._at = None  # the first service() takes the baseline, after persistence restored the totals
        self._total = 0
        self.pressure_fn = None
        self.reservoir_fn = None
        self._fs = fs  # where the history waits across a commanded shutdown

    def nbytes(self):
        """RAM held by the sample arrays."""
        return self.capacity * 14

    def service(self, pump):
        m = pump.pump_ms() // MINUTE_MS
        if m == self._at:
            return
        if self._at is None:
            self._total = pump.ledger.total_steps
        else:
            self.sample(pump)
        self._at = m

    def sample(self, pump):
        total = pump.ledger.total_steps
        k = self.count % self.capacity
        self._minute[k] = pump.wall() // 60
        self._steps[k] = _clamp(total - self._total, -(1 << 31), (1 << 31) - 1, 0)
        self._total = total
        f = self.pressure_fn
        self._kpa10[k] = _clamp(f(pump) if f else None, -32767, 32767, NO_PRESSURE)
        f = self.reservoir_fn
        self._res[k] = _clamp(f(pump) if f else None, 0, 65534, NO_RESERVOIR)
        self._alarms[k] = self.alarm_mask(pump)
        self.count += 1

    def _arrays(self):
        return (self._minute, self._steps, self._kpa10, self._res, self._alarms)

    def on_event(self, name, fields):
        # a commanded shutdown (an update; every end of a piped simulator run)
        # keeps the history; a power cut loses it, it is only for plots
        if name == "shutdown" and self._fs is not None:
            try:
                parts = [struct.pack(_HEAD, _MAGIC, self.capacity, self.count)]
                for a in self._arrays():
                    parts.append(bytes(a))
                self._fs.write(FILE, b"".join(parts))
            except (OSError, MemoryError):
                pass

    def load(self):
        """Take back the history saved by the last shutdown, once (at boot: `plot` may come first)."""
        fs = self._fs
        if fs is None:
            return False
        data = fs.read(FILE)
        if data is None:
            return False
        fs.remove(FILE)  # never restored twice (a later power cut must not bring back stale minutes)
        cap = self.capacity
        if len(data) < struct.calcsize(_HEAD):
            return False
        magic, c, n = struct.unpack_from(_HEAD, data, 0)
        types = _OLD.get(magic)
        if types is None or c != cap:
            return False
        if len(data) != struct.calcsize(_HEAD) + cap * struct.calcsize("<" + types):
            return False
        off = struct.calcsize(_HEAD)
        out = []
        for i, t in enumerate(types):
            a = array(t, struct.unpack_from("<%d%s" % (cap, t), data, off))
            out.append(a if t == _TYPES[i] else array(_TYPES[i], a))
            off += cap * struct.calcsize(t)
        self._minute, self._steps, self._kpa10, self._res, self._alarms = out
        self.count = n
        return True

    def alarm_mask(self, pump):
        mask = 0
        for a in pump.alarms.items:
            if a.code in CODES:
                mask |= 1 << CODES.index(a.code)
        return mask

    def first(self):
        """Index of the oldest sample still held."""
        return self.count - self.capacity if self.count > self.capacity else 0

    def since(self, i, n):
        """Up to n samples from index i (clamped to what is held), each a list of FIELDS."""
        i = max(i, self.first())
        out = []
        end = min(self.count, i + n)
        while i < end:
            k = i % self.capacity
            p = self._kpa10[k]
            r = self._res[k]
            out.append(
                [
                    self._minute[k],
                    self._steps[k],
                    None if p == NO_PRESSURE else p,
                    None if r == NO_RESERVOIR else r,
                    self._alarms[k],
                ]
            )
            i += 1
        return out


def attach(pump):
    """Wire the trend buffer (app.build); its `trend` command is firmware/shell/cmd_trend.py."""
    # a board short of RAM may hold fewer samples (boards/<board>.py `trend_capacity`)
    cap = getattr(pump.board, "trend_capacity", CAPACITY)
    t = Trend(capacity=cap, fs=getattr(pump.store, "fs", None))
    t.load()
    pump.listeners.append(t.on_event)
    pump.trend = t
    pump.services.append(t)
    return t
