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

from firmware.errors import E_CONFIRM, E_STATE, PumpError
from firmware.pump import RUNNING, STOPPED, SUSPENDED
from firmware.therapy import cap, druglib_module, limits_module, report, state
from firmware.therapy.program import DAY, build, win_rate
from firmware.therapy.units import dose_dec, ml_dec, parse_conc, steps_ng, steps_nl, steps_of

DAY_MS = 86400000
PROPOSAL_MS = 600000  # an unconfirmed proposal lasts 10 min at most, and never past its session
TIMED = ("bolus", "ptm", "trial")  # ride on the basal for a set time; the others run a step budget


def _boluses():
    # imported at the first bolus, refill or calibration, not at boot: the pump must
    # answer `status` within 2 s of power-on (SPEC 8) and each import costs the Pico
    # tens of ms. Called from the shell and the main loop only, never an interrupt.
    from firmware.therapy import boluses

    return boluses


class Therapy:
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

    # ---- prescription ---------------------------------------------------

    def stamp(self, who):
        self.changed_by = who
        self.changed_at = self.pump.wall()

    def set_drug(self, name, conc_text, who, confirm=False):
        drug = druglib_module().load(name)
        conc, unit = parse_conc(conc_text)
        limits_module().check_conc(drug, conc, unit)
        if self.pump.state not in (STOPPED,):
            raise PumpError(
                E_STATE, "stop the pump before changing the drug (a refill changes concentration)"
            )
        if self.drug is not None and self.drug.name == drug.name:
            _boluses().conc_slip(self, conc, unit, confirm)
        if self.drug is not None and self.conc != conc:
            self.note_conc(conc)
        self.drug, self.conc, self.unit = drug, conc, unit
        self.soft_daily, self.soft_bolus = drug.max_daily, drug.max_bolus
        self.ptm_dose = 0
        self.clear_pending("drug")
        self._drop_program("drug changed")
        self.stamp(who)
        self.pump.event("rx_drug", drug=name, conc=conc, unit=unit)

    def _drop_program(self, why):
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

    def need_drug(self):
        if self.drug is None:
            raise PumpError(E_STATE, "no drug set; rx drug NAME CONC first")

    # ---- programs -------------------------------------------------------

    def propose(self, words):
        self.need_drug()
        p = build(words, self.conc, self.pump.steps_per_ml)
        warn = limits_module().check_program(
            p,
            self.drug,
            self.pl,
            self.soft_daily,
            self.soft_bolus,
            self.conc,
            self.unit,
            self.pump.steps_per_ml,
        )
        self.pending = p
        self.pending_warn = warn
        self.pending_ms = self.pump.pump_ms()
        return self.show()

    def propose_spm(self, spm):
        self.pending_spm = spm
        self.spm_ms = self.pump.pump_ms()
        return self.show()

    def session_ended(self, why):
        """The clinician session ended (auth: logout, idle, a new login): what it proposed goes."""
        self._expire(self.pending is not None, bool(self.pending_spm), why)

    def _expire_stale(self):
        now = self.pump.pump_ms()
        prog = self.pending is not None and now - self.pending_ms >= PROPOSAL_MS
        spm = bool(self.pending_spm) and now - self.spm_ms >= PROPOSAL_MS
        self._expire(prog, spm, "timeout")

    def _expire(self, prog, spm, why):
        # a proposal is confirmed by the person who saw it, while what it was checked against
        # still holds: never picked up later by another session (issue 16 item 7)
        if not prog and not spm:
            return
        words = " ".join(self.pending.words) if prog else None
        if prog:
            self.pending = None
            self.pending_warn = []
        if spm:
            self.pending_spm = 0
        self.pump.event("proposal_expired", why=why, program=words, calibration=spm)

    def show(self):
        self._expire_stale()
        return report.show(self)

    def confirm(self, override):
        self._expire_stale()
        if self.pending is None and not self.pending_spm:
            raise PumpError(E_STATE, "nothing pending to confirm")
        spm = self.pending_spm or self.pump.steps_per_ml
        p = self.pending if self.pending is not None else self.prog
        warn = self.pending_warn if self.pending is not None else []
        if p is not None and (self.pending_spm or self.pending is None):
            p = build(p.words, self.conc, spm)
            warn = limits_module().check_program(
                p, self.drug, self.pl, self.soft_daily, self.soft_bolus, self.conc, self.unit, spm
            )
        if warn and not override:
            raise PumpError(E_CONFIRM, warn[0] + "; program confirm override to accept")
        if p is not None:
            self._check_window(p, spm)
        if self.pending_spm:
            self.pump.account()  # the steps so far at the old figure
            self.pump.event("calibration", old=self.pump.steps_per_ml, new=spm)
            self.pump.steps_per_ml = spm
        self.pending = None
        self.pending_spm = 0
        self.pending_warn = []
        if p is not None:
            self._take(p, override)
        return self.status_line()

    def _retire(self, now):
        # the program being replaced still counts for the cap while its delivery is in the window
        if self.prog is not None:
            self.cap_hist.append([now, self.prog.daily_steps(), self.prog.max_rate()])

    def _check_window(self, p, spm):
        return cap.check_window(self, p, spm)

    def _used(self, now, daily):
        return cap.used(self, now, daily)

    def _take(self, p, override):
        pump = self.pump
        now = pump.pump_ms()
        bridge = self._bridge_left()
        if bridge is None:
            self._cancel_budget("program_change")
        self._retire(now)
        self.prog = p
        self._applied = -1
        self._trial = None
        self.trial_report = None
        if p.mode == "trial":
            self._trial = [now, p.t_count, 0, 0, 0]
        pump.mode = p.name()
        rate = self._scheduled()
        if bridge is not None:
            self._rebridge(p, rate, bridge)
        else:
            pump.set_basal(rate, pump.mode)
        self._applied = rate
        pump.event(
            "program", mode=pump.mode, words=" ".join(p.words), override=override, daily_steps=p.daily_steps()
        )

    def _bridge_left(self):
        """(steps of old drug still in the line, its ng/mL) while a bridge runs or waits; else None."""
        if self.kind == "bridge":
            return self.pump.engine.budget(), self.kind_info.get("conc", 0)
        if self._bridge is not None:
            return self._bridge[1], self._bridge[2]
        return None

    def _rebridge(self, p, rate, bridge):
        # a program confirmed during a bridge: the old drug still in the line goes at the new
        # program's rate worked out at the old concentration, then the new rate starts
        steps, old = bridge
        pump = self.pump
        r = build(p.words, old, pump.steps_per_ml).rate_at(pump.wall() % DAY) if old else rate
        pump.basal = rate
        if self.kind == "bridge":
            self.kind_info["rate"] = r
            pump.engine.set_rate(r, steps=steps, then=rate)
        else:
            self._bridge = (r, steps, old)
        pump.event("bridge_kept", steps=steps, rate=r)

    def status_line(self):
        return report.status_line(self)

    def cancel(self):
        had = self.pending is not None or bool(self.pending_spm)
        self.pending = None
        self.pending_spm = 0
        self.pending_warn = []
        return {"cancelled": had}

    # ---- the schedule -----------------------------------------------------

    def _scheduled(self):
        p = self.prog
        if p is None:
            return 0
        if p.mode == "trial" and p.t_kind != "continuous":
            return 0
        return p.rate_at(self.pump.wall() % DAY)

    def next_event_ms(self):
        """Milliseconds to the next rate change this service makes on its own (None: none due).

        The simulator steps to it so time-of-day boundaries fall exactly on a step."""
        p = self.prog
        if p is None:
            return None
        best = None
        s = p.next_change_s(self.pump.wall() % DAY)
        if s is not None:
            # to the wall second the change is due at, not a whole number of seconds from a
            # moment inside one: a step landed there would run the old rate up to 1 s too long
            best = s * 1000 - self.pump.wall_frac_ms()
        now = self.pump.pump_ms()
        if self._timed is not None and self._timed[0] > now:
            d = self._timed[0] - now
            best = d if best is None or d < best else best
        t = self._trial
        if t is not None:
            for due in (t[0] if t[1] > 0 else 0, t[2]):
                if due > now and (best is None or due - now < best):
                    best = due - now
        return best

    def program_daily_nl(self):
        """The daily volume of a time-of-day program (flex, periodic: the whole day's schedule,
        periodic boluses included), nearest nL; None for the others, whose rate now is their day."""
        p = self.prog
        if p is None or p.mode not in ("flex", "periodic"):
            return None
        den = self.pump.steps_per_ml * DAY
        return (p.daily_num * 2000000 + den) // (2 * den)

    def ptm_daily_nl(self):
        """The volume of every patient bolus the settings allow a day: the daily maximum, or as
        many as the lockout lets through in 24 h if fewer (Prometra's refill date counts it so)."""
        if not self.ptm_dose or not self.ptm_max or not self.conc:
            return 0
        n = (DAY + self.ptm_lockout - 1) // self.ptm_lockout if self.ptm_lockout else self.ptm_max
        n = n if n < self.ptm_max else self.ptm_max
        spm = self.pump.steps_per_ml
        return steps_nl(steps_of("ng", self.ptm_dose, self.conc, spm) * n, spm)

    def max_rate(self):
        r = self.prog.max_rate() if self.prog is not None else 0
        b = self.pump.engine.rate()
        return r if r > b else b

    # ---- the step budget (boluses, bridge, priming, calibration) -----------

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
        """A refill was confirmed: priming may fill the line again. The reservoir holds what the
        refill added (`conc`, None: the same drug) and what the withdrawal left (`left_nl`) of
        the drug before it, or of a cancelled refill's: where that was stronger, the mixture is
        what the governor values from here (the line still by what went in)."""
        self.primed_nl = 0
        old = self.conc if self.conc > self.suspect_conc else self.suspect_conc
        new = conc if conc is not None else self.conc
        mix = 0
        n = left_nl + added_nl
        if left_nl > 0 and old > new:
            mix = (left_nl * old + added_nl * new + n - 1) // n
        self.suspect_conc = mix if mix > new else 0
        if self.suspect_conc:
            self.pump.event("refill_mixed", left_nl=left_nl, conc=self.suspect_conc)

    def stage_conc(self, conc):
        """`refill add` took a drug of `conc`: until a refill is confirmed, it may be in there."""
        if conc > self.suspect_conc and conc != self.conc:
            self.suspect_conc = conc

    def set_catheter(self, nl, who):
        if nl != self.catheter_nl:
            self.primed_nl = 0  # a new catheter volume is primed anew; the same one typed again is not
        self.catheter_nl = nl
        self.stamp(who)
        self.pump.event("rx_catheter", nl=nl)

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
