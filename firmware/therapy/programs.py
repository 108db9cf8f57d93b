"""The programs of the therapy service (a mixin of `Therapy`, therapy/service.py): a proposal,
its expiry and its confirmation, the change of program (a bridge kept across it) and the
schedule's rate now and next."""

try:
    from typing import Any  # noqa: F401  (type comments below; absent on the boards)
except ImportError:
    pass

from firmware.errors import E_CONFIRM, E_STATE, PumpError
from firmware.therapy import cap, limits_module, report
from firmware.therapy.budgets import Budgets
from firmware.therapy.program import DAY, build
from firmware.therapy.units import steps_nl, steps_of

DAY_MS = 86400000
PROPOSAL_MS = 600000  # an unconfirmed proposal lasts 10 min at most, and never past its session


class Programs(Budgets):
    # fields of `Therapy` these use, set in its __init__ (declared here for the type checker)
    drug = None  # type: Any
    pl = None  # type: Any
    soft_daily = 0
    soft_bolus = 0
    ptm_dose = 0
    ptm_lockout = 0
    ptm_max = 0
    cap_hist = None  # type: Any
    pending = None  # type: Any

    def need_drug(self):
        if self.drug is None:
            raise PumpError(E_STATE, "no drug set; rx drug NAME CONC first")

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
