"""Dose accounting: the engine's wrapping counters folded into totals and 24 h bins.

The RAM ledger is the truth between checkpoints. Bins are 10 minutes of the
pump's own elapsed time (`pump_ms`), so `time set` never moves the window.
`assumed` bins hold delivery that cannot be ruled out (the worst case after a
reset) and count against the cap, never as delivered.
"""

from firmware.dose import wrap_delta

BIN_MS = 600000
NBINS = 145  # the current bin and the 144 before it: a full 24 h at least


class Ledger:
    def __init__(self, engine):
        self._engine = engine
        self._last = engine.counters()
        self.fwd = 0
        self.rev = 0
        self.ticks = 0
        self.dropped_ticks = 0
        self.dropped_steps = 0
        self._bins = [0] * NBINS
        self._assumed = [0] * NBINS
        self._bin = 0  # absolute bin number of _bins[_bin % NBINS]

    @property
    def total_steps(self):
        """Net forward steps ever emitted (back-off steps subtract)."""
        return self.fwd - self.rev

    def engine_fwd(self):
        """The engine's wrapping forward counter as read at the last fold."""
        return self._last[1]

    def _roll(self, pump_ms):
        b = pump_ms // BIN_MS
        if b <= self._bin:
            return
        gap = b - self._bin
        if gap >= NBINS:
            for i in range(NBINS):
                self._bins[i] = 0
                self._assumed[i] = 0
        else:
            for k in range(1, gap + 1):
                i = (self._bin + k) % NBINS
                self._bins[i] = 0
                self._assumed[i] = 0
        self._bin = b

    def fold(self, pump_ms):
        """Take the steps made since the last fold; returns (forward, reverse) made."""
        c = self._engine.counters()
        o = self._last
        self._last = c
        dt = wrap_delta(c[0], o[0])
        df = wrap_delta(c[1], o[1])
        dr = wrap_delta(c[2], o[2])
        self.ticks += dt
        self.fwd += df
        self.rev += dr
        self.dropped_ticks += wrap_delta(c[3], o[3])
        self.dropped_steps += wrap_delta(c[4], o[4])
        self._roll(pump_ms)
        self._bins[self._bin % NBINS] += df - dr
        return df, dr

    def assume(self, steps, pump_ms):
        """Count steps that may have been delivered (after a reset) against the cap."""
        self._roll(pump_ms)
        self._assumed[self._bin % NBINS] += steps

    def delivered_24h(self, pump_ms):
        self._roll(pump_ms)
        return sum(self._bins)

    def counted_24h(self, pump_ms):
        """Delivered plus assumed: what the rolling cap is checked against."""
        self._roll(pump_ms)
        return sum(self._bins) + sum(self._assumed)

    def snapshot(self):
        return {
            "fwd": self.fwd,
            "rev": self.rev,
            "bin": self._bin,
            "bins": list(self._bins),
            "assumed": list(self._assumed),
            "dropped_steps": self.dropped_steps,
        }

    def restore(self, snap):
        self.fwd = snap["fwd"]
        self.rev = snap["rev"]
        self._bin = snap["bin"]
        self._bins = list(snap["bins"])
        self._assumed = list(snap["assumed"])
        self.dropped_steps = snap.get("dropped_steps", 0)
