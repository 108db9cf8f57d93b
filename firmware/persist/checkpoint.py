"""The checkpoint service: dose accounting and pump state saved at a bounded interval.

Three records (firmware/persist/store.py): `acct`, binary and under 100 bytes,
written at every checkpoint (at most every `interval_ms` of pump time while
delivering, and at once after any pump event: bolus start and end, program
change, start, stop, alarm) with the totals and the current 10-minute bin;
`bins`, every 24 h bin, written only when the current bin rolls (the older
bins never change after that); and `rx`, JSON, written only when an event
may have changed it. Any service with `persist_key`, `snapshot()` and `restore(d)` is saved:
in `rx` by default, in `acct` if its `persist_class` is "acct" (keep those
snapshots tiny). The RAM ledger is the truth in between; a cut loses at most
one interval of accounting, which recovery counts as worst-case delivery.
"""

import json
import struct

from firmware.ledger import NBINS
from firmware.persist.store import Record
from firmware.pump import ALARM, REFILL, RUNNING, STOPPED, SUSPENDED

ACCT_VERSION = 1
RX_VERSION = 1
KIND_ACCT = 1
KIND_RX = 2
KIND_BINS = 3
INTERVAL_MS = 60000
IDLE_INTERVAL_MS = 600000  # nothing to account while stopped: only the clock ages
# the record holds a state as its index here: the order is the on-flash format
STATES = (STOPPED, RUNNING, SUSPENDED, REFILL, ALARM)
F_CLEAN = 1  # written by a commanded shutdown: the next boot is not unexpected
F_UNCERTAIN = 2  # the wall clock was uncertain
F_CLOCK_OK = 4  # a clean shutdown whose clock goes on exactly (the simulator)
# pump_ms wall fwd rev dropped bin rate basal state flags nbins cur_bin cur_assumed budget
_FIX = "<qqqqqiiiBBHiii"
FIX_LEN = struct.calcsize(_FIX)
_BINS = "<%di" % NBINS
BINS_LEN = struct.calcsize(_BINS)
REVIEW_EVERY = 60  # checkpoints between checks that rx still matches RAM
SLACK_MS = 1000  # how late the main loop may come; the simulator lands a step on next_due_ms()


def persisted(pump, cls):
    """Services saved in record class `cls` ("rx" or "acct"), as (key, service)."""
    seen = []
    out = []
    cands = [getattr(pump, n, None) for n in ("alarms", "auth", "therapy", "reservoir", "safety", "trend")]
    for s in cands + list(pump.services):
        if s is None or s in seen:
            continue
        seen.append(s)
        key = getattr(s, "persist_key", None)
        if key is None or getattr(s, "snapshot", None) is None or getattr(s, "restore", None) is None:
            continue
        if getattr(s, "persist_class", "rx") == cls:
            out.append((key, s))
    return out


def pack_acct(pump, flags, extra):
    """The per-checkpoint record: totals, state and only the current 10-minute bin."""
    led = pump.ledger
    i = led._bin % NBINS
    rate = pump.engine.rate() if pump.engine.running() else 0
    st = STATES.index(pump.state) if pump.state in STATES else 0
    if pump.clock_uncertain:
        flags |= F_UNCERTAIN
    head = struct.pack(
        _FIX,
        pump.pump_ms(),
        pump.wall(),
        led.fwd,
        led.rev,
        led.dropped_steps,
        led._bin,
        rate,
        pump.basal,
        st,
        flags,
        NBINS,
        led._bins[i],
        led._assumed[i],
        pump.engine.budget() if pump.engine.running() else 0,
    )
    if not extra:
        return head
    return head + json.dumps({k: s.snapshot() for k, s in extra}).encode()


def unpack_acct(payload):
    """The acct record as a dict; ValueError if it does not parse."""
    if len(payload) < FIX_LEN:
        raise ValueError("acct record too short")
    f = struct.unpack(_FIX, payload[:FIX_LEN])
    if f[10] != NBINS or f[8] >= len(STATES):
        raise ValueError("acct record layout")
    tail = payload[FIX_LEN:]
    return {
        "pump_ms": f[0],
        "wall": f[1],
        "fwd": f[2],
        "rev": f[3],
        "dropped_steps": f[4],
        "bin": f[5],
        "rate": f[6],
        "basal": f[7],
        "state": STATES[f[8]],
        "flags": f[9],
        "cur": f[11],
        "cur_assumed": f[12],
        "budget": f[13],
        "svc": json.loads(tail) if tail else {},
    }


def pack_bins(ledger):
    """Every bin, written when the current bin rolls: the bins before it no longer change."""
    return (
        struct.pack("<iH", ledger._bin, NBINS)
        + struct.pack(_BINS, *ledger._bins)
        + struct.pack(_BINS, *ledger._assumed)
    )


def unpack_bins(payload):
    if len(payload) != 6 + 2 * BINS_LEN:
        raise ValueError("bins record size")
    b, n = struct.unpack("<iH", payload[:6])
    if n != NBINS:
        raise ValueError("bins record layout")
    return {
        "bin": b,
        "bins": list(struct.unpack(_BINS, payload[6 : 6 + BINS_LEN])),
        "assumed": list(struct.unpack(_BINS, payload[6 + BINS_LEN :])),
    }


def ledger_state(acct, bins):
    """The ledger's snapshot from both records, or None if bins are missing between them.

    The bins record was written when bin `bins["bin"]` began, so it holds every
    earlier bin complete; the acct record holds the bin current at its save.
    """
    b0 = bins["bin"]
    c = acct["bin"]
    if c < b0 - 1 or c > b0:
        return None  # acct too old for these bins, or bins missing in between
    vals = list(bins["bins"])
    ass = list(bins["assumed"])
    cur = b0
    if c == b0:
        vals[c % NBINS] = acct["cur"]
        ass[c % NBINS] = acct["cur_assumed"]
    return {
        "fwd": acct["fwd"],
        "rev": acct["rev"],
        "dropped_steps": acct["dropped_steps"],
        "bin": cur,
        "bins": vals,
        "assumed": ass,
    }


def pack_rx(pump):
    d = {
        "pump": {"basal": pump.basal, "mode": pump.mode, "steps_per_ml": pump.steps_per_ml},
        "svc": {k: s.snapshot() for k, s in persisted(pump, "rx")},
    }
    return json.dumps(d).encode()


class Checkpoint:
    def __init__(self, fs, pump, interval_ms=INTERVAL_MS):
        self.fs = fs
        self.interval_ms = interval_ms
        self.acct = Record(fs, "acct", KIND_ACCT, ACCT_VERSION)
        self.rx = Record(fs, "rx", KIND_RX, RX_VERSION)
        self.bins = Record(fs, "bins", KIND_BINS, ACCT_VERSION)
        self.bins_bin = None  # the ledger bin current when `bins` was last written
        self._extra = None  # services saved with every checkpoint (found once, after boot)
        self._pump = pump
        # the main loop may reach us a little late: save that much early, so no
        # gap between checkpoints exceeds the interval recovery counts
        self._slack = SLACK_MS
        self._last_ms = 0
        self._due = False
        self._rx_dirty = False
        self._rx_text = None
        self._count = 0
        self.writes = 0
        self.failures = 0
        self.enabled = False  # recovery turns it on once the records are read
        self.on_stable = None  # called once after a stable run (boot-loop counter)
        self.stable_ms = 30000
        self.boot_info = {}  # what recovery did at the last boot

    def on_event(self, name, fields):
        if name == "refused" and fields.get("cmd") != "ptm":
            # a refused request changed nothing the records hold (the log has its entry): no
            # write. A refused patient press did: its demand count (therapy_acct) is saved
            return
        # any event may change state or prescription: save soon, when the loop gets here
        self._due = True
        self._rx_dirty = True

    def service(self, pump):
        if not self.enabled:
            return
        if self.on_stable is not None and pump.uptime.ms >= self.stable_ms:
            f = self.on_stable
            self.on_stable = None
            f()
        if not self._due:
            every = self.interval_ms if pump.engine.running() else IDLE_INTERVAL_MS
            if pump.pump_ms() - self._last_ms + self._slack < every:
                return
        self.save()

    def next_due_ms(self):
        """Milliseconds until the next checkpoint falls due while delivering, else None."""
        if not self.enabled or not self._pump.engine.running():
            return None
        return self._last_ms + self.interval_ms - self._slack - self._pump.pump_ms()

    def save(self, flags=0):
        """Write the checkpoint now; True if it reached flash."""
        if not self.enabled:
            return False  # not restored yet, or this firmware instance is gone (power cut)
        pump = self._pump
        self._due = False
        self._count += 1
        try:
            if self._rx_dirty or self._count % REVIEW_EVERY == 0:
                self._save_rx()
            led = pump.ledger
            if led._bin != self.bins_bin:
                # before acct: an acct never names a bin newer than the bins on flash
                self.bins.save(pack_bins(led))
                self.bins_bin = led._bin
            if self._extra is None:
                self._extra = persisted(pump, "acct")
            self.acct.save(pack_acct(pump, flags, self._extra))
        except OSError as e:
            self.failures += 1
            self._last_ms = pump.pump_ms()
            self._failed(e)
            return False
        self.writes += 1
        self._last_ms = pump.pump_ms()
        return True

    def _save_rx(self):
        text = pack_rx(self._pump)
        if text != self._rx_text:
            self.rx.save(text)
            self._rx_text = text
        self._rx_dirty = False

    def _failed(self, e):
        # accounting can no longer be bounded: a stopping MEMORY alarm says so
        self._rx_dirty = True
        self._pump.alarms.raise_alarm("MEMORY", "checkpoint write failed: %s" % e)

    def flush(self):
        """Save now if an event asked for it: a command's change is on flash before its reply."""
        if self._due:
            self.save()

    def shutdown(self, clock_ok=False):
        """A commanded shutdown: the next boot is expected (no UNEXPECTED_RESET)."""
        self._pump.event("shutdown", clock_ok=clock_ok)
        self._rx_dirty = True
        return self.save(F_CLEAN | (F_CLOCK_OK if clock_ok else 0))
