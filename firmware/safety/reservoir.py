"""Reservoir volume (SPEC 5): tracked from delivered steps, cross-checked with the sensor.

The tracked volume is the truth for dosing: the volume at the last fill less
the net steps delivered since. The sensor checks it: a difference beyond the
tolerance, held, is RESERVOIR_MISMATCH (a leak, or drug put into the pocket
instead of the port). A fresh pump takes its first volume from the sensor and
logs it. Low at 2 mL or 7 days to empty; empty stops delivery at the 1 mL
residual, and days to empty count to that residual. The refill workflow
stages withdrawn and added volumes and commits them only on `confirm`.
"""

from firmware.errors import E_CONFIRM, E_RANGE, E_STATE, PumpError
from firmware.jsonout import Dec
from firmware.volume import steps_to_nl

NL_PER_ML = 1000000
DEFAULT_CAPACITY_NL = 20000000
LOW_NL = 2000000
LOW_DAYS = 7
RESIDUAL_NL = 1000000
MISMATCH_NL = 1000000
# a withdrawn volume further than this from the tracked one asks for `confirm` (issue 16): the
# larger of 0.5 mL and 10 % of the tracked volume, about what the sensor and a syringe read to
WITHDRAWN_FLOOR_NL = 500000
WITHDRAWN_PCT = 10
MISMATCH_SAMPLES = 8  # held this many samples: noise and a refill's sloshing do not raise it


def capacity_nl(pump):
    t = pump.therapy
    for obj in (t, getattr(t, "rx", None)):
        v = getattr(obj, "capacity_nl", None) if obj is not None else None
        if isinstance(v, int) and v > 0:
            return v
    return DEFAULT_CAPACITY_NL


def _changed(therapy, conc):
    """Does the refill's concentration differ from the prescription's (ng/mL)?"""
    cur = getattr(therapy, "conc", None)
    new = conc[0] if isinstance(conc, tuple) else conc
    return cur != new


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
        self.refill = None  # staged refill: prev state, withdrawn, added, conc
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
        if p.state not in ("running", "suspended"):
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
        if pump.state == "refill":
            return
        v = self.volume_nl()
        if v is None:
            return
        al = pump.alarms
        if v <= self.residual_nl:
            if pump.state == "running" and al.get("RESERVOIR_EMPTY") is None:
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

    # ---- refill (SPEC 5) ----------------------------------------------------------------

    def _open(self):
        if self.refill is None:
            raise PumpError(E_STATE, "no refill open; refill begin first")
        return self.refill

    def begin(self):
        p = self._pump
        if self.refill is not None:
            raise PumpError(E_STATE, "refill already open")
        self.refill = {"prev": p.state, "withdrawn": None, "added": None, "conc": None}
        p.stop("refill_begin", state="refill")
        return self.refill

    def withdrawn_margin_nl(self, tracked_nl):
        m = tracked_nl * WITHDRAWN_PCT // 100
        return m if m > WITHDRAWN_FLOOR_NL else WITHDRAWN_FLOOR_NL

    def withdrawn(self, nl, confirm=False):
        """Stage the withdrawn volume; returns (difference from tracked or None, a discrepancy?).

        Beyond the margin it is E_CONFIRM (nothing staged) unless `confirm`: a reservoir that
        gives back more or less than the pump counted may mean drug went into the pocket, or a leak.
        """
        r = self._open()
        v = self.volume_nl()
        if nl > capacity_nl(self._pump):
            raise PumpError(E_RANGE, "withdrawn volume above the reservoir capacity")
        diff = None if v is None else nl - v
        off = 0 if diff is None else diff if diff > 0 else -diff
        margin = 0 if v is None else self.withdrawn_margin_nl(v)
        odd = v is not None and off > margin
        if odd and not confirm:
            raise PumpError(
                E_CONFIRM,
                "withdrawn %s mL differs from the %s mL the pump tracked by %s mL, more than %s mL "
                "(the larger of 0.5 mL and 10 %%): check for drug in the pocket or a leak; "
                "refill withdrawn %s confirm to accept" % (_ml(nl), _ml(v), _ml(off), _ml(margin), _ml(nl)),
            )
        r["withdrawn"] = nl
        self._pump.event("refill_withdrawn", withdrawn_nl=nl, tracked_nl=v, confirmed=odd)
        if odd:
            # an event, not a lasting condition: raised and cleared at once, it stays listed
            # (and sounds, medium) until someone acknowledges it
            self._pump.alarms.raise_alarm(
                "REFILL_DISCREPANCY", "withdrawn %s mL, tracked %s mL" % (_ml(nl), _ml(v))
            )
            self._pump.alarms.clear("REFILL_DISCREPANCY")
        return diff, odd

    def add(self, nl, conc, confirm=False):
        r = self._open()
        cap = capacity_nl(self._pump)
        if nl <= 0:
            raise PumpError(E_RANGE, "added volume must be above 0")
        if self._base_nl(r) + nl > cap:
            raise PumpError(E_RANGE, "reservoir would hold more than its %d mL" % (cap // NL_PER_ML))
        t = self._pump.therapy
        if conc is not None and t is not None:
            f = getattr(t, "check_concentration", None)
            if f is not None:
                # a drug limit, a slip or no prescription refuses it here, before anything changes
                f(conc, confirm)
        r["added"] = nl
        r["conc"] = conc
        f = getattr(t, "stage_conc", None)
        if conc is not None and f is not None:
            f(conc[0] if isinstance(conc, tuple) else conc)
        self._pump.event("refill_add", added_nl=nl)
        return self._base_nl(r) + nl

    def _base_nl(self, r):
        v = self.volume_nl() or 0
        if r["withdrawn"] is not None:
            v -= r["withdrawn"]
        return v if v > 0 else 0

    def confirm(self, bridge=True):
        p = self._pump
        r = self._open()
        if r["added"] is None:
            raise PumpError(E_STATE, "nothing added yet; refill add ML first")
        left = self._base_nl(r)
        new = left + r["added"]
        self.refill = None
        self.set_fill(new, "refill", added_nl=r["added"], withdrawn_nl=r["withdrawn"], bridge=bridge)
        for code in ("RESERVOIR_EMPTY", "RESERVOIR_LOW", "RESERVOIR_MISMATCH"):
            p.alarms.clear(code)
        self._on = self._off = 0
        self._resume(r["prev"])
        conc = r["conc"]
        t = p.therapy
        f = getattr(t, "refilled", None)
        if f is not None:
            f(left, r["added"], (conc[0] if isinstance(conc, tuple) else conc) if conc is not None else None)
        if conc is not None and t is not None and _changed(t, conc):
            if not bridge:
                p.event("bridge_cancelled", why="nobridge")
            t.concentration_changed(conc, bridge)
        return new

    def cancel(self):
        r = self._open()
        self.refill = None
        self._pump.event("refill_cancel")
        self._resume(r["prev"])

    def _resume(self, prev):
        p = self._pump
        if p.alarms.stopping_unacked():
            # a stopping alarm raised before or during the refill holds: only
            # `ack` then `start` resumes (SPEC 7), never the refill's end
            p.engine.stop()
            p.state = "alarm"
            return
        if prev in ("running", "suspended") and p.mode != "none":
            if prev == "running":
                p.state = "stopped"
                p.start()
            else:
                p.state = prev
            return
        if prev == "alarm" and p.alarms.stopping_unacked():
            p.state = "alarm"
            return
        p.state = "stopped"

    def snapshot(self):
        return {"fill_nl": self.fill_nl, "fill_steps": self.fill_steps}

    def restore(self, d):
        self.fill_nl = d.get("fill_nl")
        self.fill_steps = d.get("fill_steps", 0)


def _ml(nl):
    return str(Dec((nl + 50) // 100, 4))
