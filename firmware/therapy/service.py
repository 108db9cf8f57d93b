"""The therapy service: the prescription, the running program and every bolus.

It sets `pump.basal` (the schedule's rate now) and `pump.mode`, follows the
wall clock for time-of-day programs, runs boluses as exact step budgets on
top of the basal, and holds the basal (state `suspended`, alarm DOSE_CAP)
only when the rolling 24 h count would cross the cap.

Persistence: `snapshot()` gives a plain dict (ints, strs, lists) and
`restore(d)` takes it back. After a reset, `on_reset(assumed_steps)` counts
the worst case since the last checkpoint against the cap (never as zero),
drops any bolus, bridge or priming that was in flight (never repeated) and
lets the basal resume under the program; `worst_case_steps(ms)` is what the
pump could have delivered in `ms` at its fastest programmed rate.
"""

try:
    from typing import Any  # noqa: F401  (type comments below; absent on the boards)
except ImportError:
    pass

from firmware.errors import E_STATE, PumpError
from firmware.pump import RUNNING, SUSPENDED
from firmware.therapy import cap, druglib_module, report, state
from firmware.therapy.programs import Programs

DAY_MS = 86400000
TIMED = ("bolus", "ptm", "trial")  # ride on the basal for a set time; the others run a step budget


def _boluses():
    # imported at the first bolus, refill or calibration, not at boot: the pump must
    # answer `status` within 2 s of power-on (SPEC 8) and each import costs the Pico
    # tens of ms. Called from the shell and the main loop only, never an interrupt.
    from firmware.therapy import boluses

    return boluses


def _rx():
    # a prescription change or a refill, from the shell only: not at boot
    from firmware.therapy import rx

    return rx


class Therapy(Programs):
    persist_key = "therapy"
    persist_class = "rx"  # the prescription; the fast-changing accounting is in Acct

    def __init__(self, pump):
        self.pump = pump
        self._pl = None  # the pump-wide limits, read from the drug library at first use (pl)
        self.drug = None  # type: Any
        self.conc = 0
        self.unit = "mg"
        self.soft_daily = 0
        self.soft_bolus = 0
        self.catheter_nl = 0
        self.capacity_nl = 20000000  # reservoir capacity (20 or 40 mL); the reservoir service reads it
        self.patient = ""
        self.changed_by = ""
        self.changed_at = 0
        self.ptm_dose = 0
        self.ptm_lockout = 0
        self.ptm_max = 0
        self.ptm_over = 900
        self.ptm_times = []  # pump_ms of patient boluses given
        # patient bolus demand since `ptm set` (issue 16): presses, given, refused by the lockout,
        # refused by the daily maximum; and the wall clock of that `ptm set` (0: never)
        self.ptm_demand = [0, 0, 0, 0]
        self.ptm_since = 0
        self.boluses = []  # [pump_ms, steps]: every bolus on top of the basal, for the cap
        self.excluded = []  # [pump_ms, steps]: priming and calibration, not given to the patient
        self.cap_hist = []  # [pump_ms it ended, daily steps, top rate] of programs replaced
        # [pump_ms of a concentration change, the concentration before it]: the step counts of
        # the window are worth that much dose up to then (therapy/cap.py)
        self.conc_hist = []
        self.prog = None  # type: Any
        self.pending = None  # type: Any
        self.pending_warn = []
        self.pending_spm = 0
        self.pending_ms = 0  # pump_ms the pending program was proposed (PROPOSAL_MS)
        self.spm_ms = 0  # and the pending calibration measured
        self.cal_steps = 0
        self.primed_nl = 0  # primed since the last refill or catheter change (boluses.prime)
        # the strongest drug a refill put in the reservoir that was never confirmed (refill add
        # with a concentration, then cancel or a cut): the governor values steps at it too
        self.suspect_conc = 0
        self.kind = ""  # what the engine's step budget is running now
        self._stops = 0  # the engine's stop count when the budget began
        self.kind_info = {}
        self._bridge = None  # type: Any  # (old rate, steps, old ng/mL) waiting for the pump to run
        self._saved_bridge = None  # type: Any  # the bridge the last record had, for after a reset
        self._timed = None  # type: Any  # [end pump_ms, rate on top] of a bolus that ends on time
        # until this pump_ms the basal itself is watched against the cap: a reset's assumed
        # steps or a clock change are in the window
        self._doubt_until = 0
        self._wall_off = None  # type: Any
        self._applied = -1
        self._trial = None  # type: Any  # [next_ms, left, end_ms, started, start_total]
        self.trial_report = None  # type: Any
        self.capped = False

    @property
    def pl(self):
        """The pump-wide hard limits (druglib.PumpLimits), read from the library when first needed.

        Not at boot: reading and parsing drugs.json costs the Pico tens of ms of
        the 2 s it has to answer `status` (SPEC 8), and nothing at boot needs it.
        """
        if self._pl is None:
            self._pl = druglib_module().pump_limits()
        return self._pl

    # ---- prescription (its changes: firmware/therapy/rx.py, imported at the first) -----------

    def stamp(self, who):
        self.changed_by = who
        self.changed_at = self.pump.wall()

    def drop_program(self, why):
        if self.prog is not None:
            self.pump.event("program_cleared", why=why)
        self.prog = None
        self.pending = None
        self._trial = None
        self._applied = -1
        self.pump.basal = 0
        self.pump.mode = "none"

    def note_conc(self, new_conc):
        # the counts of the 24 h window so far were given at the concentration now replaced
        self.pump.account()
        now = self.pump.pump_ms()
        cap.prune_conc(self, now)
        if new_conc != self.conc:
            self.conc_hist.append([now, self.conc])

    def clear_pending(self, why):
        """A change of concentration, soft limits or drug: a pending program's steps and warnings
        were worked out for the old numbers, so it goes; the clinician enters it again and sees
        (and confirms) the new ones."""
        if self.pending is not None:
            self.pump.event("pending_cleared", why=why)
        self.pending = None
        self.pending_warn = []

    # ---- boluses ----------------------------------------------------------

    def cap_steps(self):
        return cap.cap_steps(self)

    def cap_ng(self):
        """The active 24 h cap in ng (the governor enforces it with the hard limit)."""
        return self.cap_steps() * self.conc // self.pump.steps_per_ml

    def _admit(self, steps, what):
        return cap.admit(self, steps, what)

    def _need_running(self, what):
        if self.pump.state != RUNNING or self.prog is None:
            raise PumpError(E_STATE, "%s needs a running pump (state %s)" % (what, self.pump.state))
        if self.kind:
            raise PumpError(E_STATE, "%s not now: a %s is in progress" % (what, self.kind))

    def bolus(self, amount, dur_s, override, kind="bolus"):
        """A bolus now on top of the basal: exact size from the engine's step budget."""
        return _boluses().bolus(self, amount, dur_s, override, kind)

    def patient_bolus(self, source="shell"):
        """The patient's bolus (`ptm` or the button): same checks, same log, whichever asked."""
        return _boluses().patient_bolus(self, source)

    def set_ptm(self, dose_ng, lockout_s, count, over_s, override):
        return _boluses().set_ptm(self, dose_ng, lockout_s, count, over_s, override)

    def prime(self, nl):
        return _boluses().prime(self, nl)

    def calibrate_begin(self, steps, disconnected=False):
        return _boluses().calibrate_begin(self, steps, disconnected)

    def check_calibration(self, spm, confirm):
        return _boluses().check_calibration(self, spm, confirm)

    def refilled(self, left_nl=0, added_nl=0, conc=None):
        return _rx().refilled(self, left_nl, added_nl, conc)

    def stage_conc(self, conc):
        return _rx().stage_conc(self, conc)

    # ---- refill hook --------------------------------------------------------

    def check_concentration(self, new_conc, confirm=True):
        """Raise PumpError if `new_conc` (ng/mL, or text like '2mg/mL') cannot be taken; else its ng/mL."""
        return _boluses().check_concentration(self, new_conc, confirm)

    def concentration_changed(self, new_conc, bridge=True):
        return _boluses().concentration_changed(self, new_conc, bridge)

    # ---- the main loop --------------------------------------------------------

    def service(self, pump):
        if self.pending is not None or self.pending_spm:
            self._expire_stale()
        if self.kind in ("prime", "calibrate"):
            if not pump.engine.running() and pump.engine.budget():
                self._cancel_budget("stop")
        elif self.kind and pump.state != RUNNING:
            self._cancel_budget(pump.state)
        elif self.kind and pump.engine.stops != self._stops:
            # stopped and started again between two passes (a refill begun and confirmed, a stop
            # and a start): the budget was cut, not spent
            self._cancel_budget("stopped")
        if self._budget_done():
            self._finish_budget()
        if self.prog is None or pump.state not in (RUNNING, SUSPENDED):
            return
        if pump.state != RUNNING:
            return
        if self._bridge is not None and not self.kind:
            old, steps, conc = self._bridge
            self._bridge = None
            self._run_budget("bridge", old, steps, pump.basal, {"steps": steps, "conc": conc, "rate": old})
        if self._trial is not None:
            self._trial_step(pump)
        rate = self._scheduled()
        if rate != self._applied:
            self._applied = rate
            if self.kind:
                # a boundary inside a bolus: the bolus goes on, riding on the new basal (a bridge
                # keeps the old volume rate); the new basal follows it
                eng = pump.engine
                pump.basal = rate
                top = rate + self._timed[1] if self._timed is not None else eng.rate()
                eng.set_rate(top, steps=self._budget_now(rate), then=rate)
            else:
                pump.set_basal(rate, pump.mode)

    # ---- status, persistence ----------------------------------------------

    def status(self, pump, d):
        return report.status(self, pump, d)

    def prescription(self):
        return report.prescription(self)

    def worst_case_rate(self):
        """Fastest rate (steps/day) the program or a bolus in flight could run: the reset worst case."""
        return self.max_rate()

    def worst_case_basal_rate(self):
        """Fastest basal (steps/day) the program runs: what follows a step budget after a reset."""
        return self.prog.max_rate() if self.prog is not None else 0

    def worst_case_steps(self, ms):
        """Most steps the pump could have made in `ms` at that rate (rounded up)."""
        return (self.max_rate() * ms + DAY_MS - 1) // DAY_MS

    def on_reset(self, assumed_steps):
        """After a reset: count `assumed_steps` against the cap (never zero), drop what was in flight."""
        if assumed_steps > 0:
            self.pump.ledger.assume(assumed_steps, self.pump.pump_ms())
            if self.pump.governor is not None:
                self.pump.governor.assume(assumed_steps)
        self._after_reset(assumed_steps)

    def after_restore(self, pump, info):
        # recovery has already counted the worst case (worst_case_rate) in the ledger
        self._after_reset(info.get("assumed_steps", 0))

    def _after_reset(self, assumed):
        now = self.pump.pump_ms()
        if assumed > 0:
            self._doubt_until = now + cap.WINDOW_MS
        self._cancel_budget("reset")
        # a bridge is not a bolus: the old drug is still in the line, so it goes on from the
        # steps the last record had left (a cut lost at most some of them: the old volume rate
        # then runs a little long, the safe side; the governor values the line either way)
        b = self._saved_bridge
        self._saved_bridge = None
        self._bridge = (b[0], b[1], b[2]) if b else None
        if b:
            self.pump.event("bridge_resumed", steps=b[1], rate=b[0])
        self.pending = None
        self.pending_spm = 0
        self._applied = -1
        t = self._trial
        if t is not None and t[3] and self.prog is not None and self.prog.t_kind != "continuous":
            t[0] = now + self.prog.t_every * 1000  # an injection in flight is never repeated
        if self.prog is not None:
            self.pump.mode = self.prog.name()
            self.pump.basal = self._scheduled()
        self.pump.event("therapy_reset", assumed=assumed)

    def snapshot(self):
        return state.snapshot(self)

    def restore(self, d):
        state.restore(self, d)
