"""Reservoir volume (SPEC 5): tracked from delivered steps, cross-checked with the sensor.

The tracked volume is the truth for dosing: the volume at the last fill less
the net steps delivered since. The sensor checks it: a difference beyond the
tolerance, held, is RESERVOIR_MISMATCH (a leak, or drug put into the pocket
instead of the port). A fresh pump takes its first volume from the sensor and
logs it. Low at 2 mL or 7 days to empty; empty stops delivery at the 1 mL
residual, and days to empty count to that residual. The refill workflow
(firmware/safety/refill.py, imported at the first `refill`) stages withdrawn and added volumes
on `reservoir.refill` and commits them here only on `confirm`.
"""

from firmware.jsonout import Dec
from firmware.pump import REFILL, RUNNING, SUSPENDED
from firmware.volume import steps_to_nl

NL_PER_ML = 1000000
DEFAULT_CAPACITY_NL = 20000000
LOW_NL = 2000000
LOW_DAYS = 7
RESIDUAL_NL = 1000000
MISMATCH_NL = 1000000
MISMATCH_SAMPLES = 8  # held this many samples: noise and a refill's sloshing do not raise it


def capacity_nl(pump):
    t = pump.therapy
    for obj in (t, getattr(t, "rx", None)):
        v = getattr(obj, "capacity_nl", None) if obj is not None else None
        if isinstance(v, int) and v > 0:
            return v
    return DEFAULT_CAPACITY_NL


class Reservoir:
    # saved in the rx record, written after every event: the fill changes only at
    # `reservoir_init` and `refill`, both events; the steps since come from the ledger
    persist_key = "reservoir"

    def __init__(self, pump):
        self._pump = pump
        self.fill_nl = None  # volume at the last fill (None: not known yet)
        self.fill_steps = 0  # ledger.total_steps at that fill
        self.low_nl = LOW_NL
        self.low_days = LOW_DAYS
        self.residual_nl = RESIDUAL_NL
        self.tolerance_nl = MISMATCH_NL
        self.refill = None  # staged refill (firmware/safety/refill.py): prev state, withdrawn, added, conc
        self._off = 0
        self._on = 0
        self._seen = None

    # ---- volumes ------------------------------------------------------------

    def volume_nl(self):
        if self.fill_nl is None:
            return None
        p = self._pump
        return self.fill_nl - steps_to_nl(p.ledger.total_steps - self.fill_steps, p.steps_per_ml)

    def sensor_nl(self):
        s = self._pump.safety
        ppm = s.sensors.reservoir_ppm() if s is not None else None
        if ppm is None:
            return None
        # the sensor's noise reads past either end: the reservoir holds 0 .. its capacity, and a
        # tracked volume above it could never be withdrawn (`refill withdrawn` refuses it)
        ppm = 0 if ppm < 0 else 1000000 if ppm > 1000000 else ppm
        return ppm * (capacity_nl(self._pump) // 1000) // 1000

    def daily_nl(self):
        """Volume per day now delivering, or None when nothing delivers.

        A time-of-day program counts its whole day (issue 16): the rate of the segment
        running now says nothing of the day's volume."""
        p = self._pump
        if p.state not in (RUNNING, SUSPENDED):
            return None
        f = getattr(p.therapy, "program_daily_nl", None)
        day = f() if f is not None else None
        if day:
            return day
        if p.basal <= 0:
            return None
        return steps_to_nl(p.basal, p.steps_per_ml)

    def days_to_empty_x10(self, extra_nl=0):
        v = self.volume_nl()
        daily = self.daily_nl()
        if v is None or not daily:
            return None
        left = v - self.residual_nl
        return left * 10 // (daily + extra_nl) if left > 0 else 0

    def set_fill(self, nl, why, **fields):
        p = self._pump
        self.fill_nl = nl
        self.fill_steps = p.ledger.total_steps
        p.event(why, volume_nl=nl, **fields)

    # ---- the service ----------------------------------------------------------------

    def service(self, pump):
        s = pump.safety
        if s is None or s.last_sample_ms == self._seen:
            return
        self._seen = s.last_sample_ms
        if self.fill_nl is None:
            nl = self.sensor_nl()
            if nl is not None:
                self.set_fill(nl, "reservoir_init", source="sensor")
            return
        if pump.state == REFILL:
            return
        v = self.volume_nl()
        if v is None:
            return
        al = pump.alarms
        if v <= self.residual_nl:
            if pump.state == RUNNING and al.get("RESERVOIR_EMPTY") is None:
                al.raise_alarm(
                    "RESERVOIR_EMPTY", "%d uL left, residual %d uL" % (v // 1000, self.residual_nl // 1000)
                )
        days = self.days_to_empty_x10()
        if v <= self.low_nl or (days is not None and days < self.low_days * 10):
            al.raise_alarm("RESERVOIR_LOW", "%d uL left" % (v // 1000))
        else:
            al.clear("RESERVOIR_LOW")
        self._cross_check(pump, v)

    def _cross_check(self, pump, v):
        nl = self.sensor_nl()
        if nl is None:
            return
        diff = nl - v
        if diff > self.tolerance_nl or -diff > self.tolerance_nl:
            self._on += 1
            self._off = 0
            if self._on >= MISMATCH_SAMPLES and pump.alarms.get("RESERVOIR_MISMATCH") is None:
                pump.alarms.raise_alarm(
                    "RESERVOIR_MISMATCH", "sensor %d uL, tracked %d uL" % (nl // 1000, v // 1000)
                )
        else:
            self._on = 0
            self._off += 1
            if self._off >= MISMATCH_SAMPLES:
                pump.alarms.clear("RESERVOIR_MISMATCH")

    def status(self, pump, d):
        v = self.volume_nl()
        d["reservoir_ml"] = None if v is None else Dec((v + 50) // 100, 4)
        x10 = self.days_to_empty_x10()
        d["days_to_empty"] = None if x10 is None else Dec(x10, 1)
        # and if the patient takes every bolus the settings allow a day (the Prometra refill date)
        f = getattr(pump.therapy, "ptm_daily_nl", None)
        ptm = f() if f is not None else 0
        x10 = self.days_to_empty_x10(ptm) if ptm else x10
        d["days_to_empty_with_ptm"] = None if x10 is None else Dec(x10, 1)

    def refilled(self, nl, **fields):
        """A confirmed refill: the new fill, the reservoir alarms cleared and the cross-check
        started afresh (the sensor's last samples read the old volume)."""
        self.set_fill(nl, "refill", **fields)
        for code in ("RESERVOIR_EMPTY", "RESERVOIR_LOW", "RESERVOIR_MISMATCH"):
            self._pump.alarms.clear(code)
        self._on = self._off = 0

    def snapshot(self):
        return {"fill_nl": self.fill_nl, "fill_steps": self.fill_steps}

    def restore(self, d):
        self.fill_nl = d.get("fill_nl")
        self.fill_steps = d.get("fill_steps", 0)
