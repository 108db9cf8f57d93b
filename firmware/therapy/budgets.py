"""The step budgets of the therapy service (a mixin of `Therapy`, therapy/service.py): a bolus,
bridge, priming, calibration or trial dose run as an exact number of steps on top of the basal,
ended when spent, on time, or cut by a stop; and the trial modes' doses and report."""

from firmware.pump import RUNNING
from firmware.therapy.program import DAY, win_rate
from firmware.therapy.units import dose_dec, ml_dec, steps_ng, steps_nl

DAY_MS = 86400000


try:
    from typing import Any  # noqa: F401  (type comments below; absent on the boards)
except ImportError:
    pass


class Budgets:
    # fields of `Therapy` these use, set in its __init__ (declared here for the type checker)
    pump = None  # type: Any
    prog = None  # type: Any
    boluses = None  # type: Any
    excluded = None  # type: Any
    conc = 0
    unit = ""
    kind = ""
    kind_info = None  # type: Any
    _timed = None  # type: Any
    _trial = None  # type: Any
    _stops = 0

    def _run_budget(self, kind, rate, steps, then, info):
        self.kind = kind
        self.kind_info = info
        # `budget` marks a start the boot looks for when the checkpoint after it was cut
        # off (recovery._late_budget): it ends with kind_done or kind_cancelled. Logged before
        # the motor takes it up: a cut during the log's write then finds no step of it made
        self.pump.event(kind, steps=steps, rate=rate, budget=True)
        self.pump.engine.set_rate(rate, steps=steps, then=then)
        self._stops = self.pump.engine.stops

    def _cancel_budget(self, why):
        if self.kind in ("prime", "calibrate") and self.excluded:
            # only what it moved is excluded from the cap: the rest never left the reservoir
            left = self.pump.engine.budget()
            e = self.excluded[-1]
            e[1] = e[1] - left if e[1] > left else 0
        if self.kind:
            self.pump.event(self.kind + "_cancelled", why=why)
        self.kind = ""
        self.kind_info = {}
        self._timed = None

    def _budget_done(self):
        if not self.kind:
            return False
        if self._timed is not None and self.pump.pump_ms() >= self._timed[0]:
            return True
        return self.pump.engine.budget() == 0

    def _start_timed(self, kind, steps, dur_s, base, info):
        # the bolus rides on the basal at the nearest rate that gives it over exactly `dur_s`
        # (off by under half a step); the service ends it on time, and a step budget one step
        # above the whole window stops it even if the main loop stalls
        b = win_rate(steps, dur_s)
        limit = steps + (base * dur_s + DAY - 1) // DAY + 1
        self._run_budget(kind, base + b, limit, base, info)
        self._timed = [self.pump.pump_ms() + dur_s * 1000, b]

    def _budget_now(self, basal):
        """The step budget from now: a bridge keeps what it has left; a timed bolus its own steps
        still owed plus the new basal over its time left (the budget sized for the old basal would
        end it early when the basal rises), one step above, as at its start."""
        eng = self.pump.engine
        if self._timed is None:
            return eng.budget()
        left = self._timed[0] - self.pump.pump_ms()
        left = left if left > 0 else 0
        owed = (self._timed[1] * left + DAY_MS - 1) // DAY_MS
        return owed + (basal * left + DAY_MS - 1) // DAY_MS + 1

    def _finish_budget(self):
        kind = self.kind
        self.pump.event(kind + "_done", **self.kind_info)
        self.kind = ""
        self.kind_info = {}
        if self._timed is not None:
            self._timed = None
            eng = self.pump.engine
            if eng.budget():
                eng.set_rate(self.pump.basal)
        if kind in ("prime", "calibrate") and self.pump.state != RUNNING:
            self.pump.engine.stop()
        if kind == "trial" and self._trial is not None and self._trial[1] == 0:
            self._end_trial()

    def _trial_step(self, pump):
        p = self.prog
        t = self._trial
        now = pump.pump_ms()
        if not t[3]:
            t[3] = 1
            t[0] = now
            t[4] = pump.ledger.total_steps
            if p.t_kind == "continuous":
                t[2] = now + p.t_days * DAY_MS
        if p.t_kind == "continuous":
            if now >= t[2]:
                self._end_trial()
            return
        if not self.kind and t[1] > 0 and now >= t[0]:
            t[1] -= 1
            t[0] = now + p.t_every * 1000
            self._start_timed("trial", p.t_steps, p.t_dur, 0, {"steps": p.t_steps})
            self.boluses.append([now, p.t_steps])

    def _end_trial(self):
        pump = self.pump
        t = self._trial
        steps = pump.ledger.total_steps - t[4] if t else 0
        spm = pump.steps_per_ml
        self.trial_report = {
            "mode": self.prog.name() if self.prog else "trial",
            "delivered_steps": steps,
            "delivered_ml": ml_dec(steps_nl(steps, spm)),
            "delivered_dose": dose_dec(steps_ng(steps, self.conc, spm), self.unit),
        }
        self._trial = None
        pump.stop("trial_end")
        pump.event("trial_report", steps=steps)
