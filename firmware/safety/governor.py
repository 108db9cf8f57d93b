"""The dose governor: no trailing 24 h of the pump's own time holds more drug out of the catheter
tip than the limit, whatever moved it (SPEC 4 as amended: docs/therapy.md, "The dose governor").

It knows nothing of programs or boluses. Each main-loop pass it takes the forward steps counted
since the last pass (the independent step count where the board has one, else the engine's),
values them at the concentration leaving the tip (`Line`, a plug-flow model of the catheter),
adds them to the cumulative dose curve `F` (fg: nL x ng/mL) and arms the engine with the steps
that can still go out before the limit would be crossed. The handler stops there by itself, so a
late, hung or wrong main loop cannot overrun it.

The curve is kept as vertices of a piecewise-linear fit (a swinging door: every observation
within one step of its segment's chord), so the dose that left before the window's start is
known to within a step: a basal at exactly the limit runs, never held a step a day. A bound is
only ever rounded towards counting more.

Limit: the drug's hard daily limit, and the therapy's active cap (the larger of the soft
max_daily and the programs of the window) where it is lower. No drug set: nothing is limited.
"""

from firmware.dose import ALLOW_MAX, WRAP
from firmware.safety.curve import Curve
from firmware.safety.line import UNKNOWN_LINE_NL, Intake, Line

DAY_MS = 86400000
NL_PER_ML = 1000000
FG_PER_NG = 1000000
# steps a hold may drop before DOSE_CAP: the bound's slop at the window's edge (a step of
# tolerance and what the widest gap between passes hides) is a step or two, and a program at
# exactly the limit should lose those silently (at most 0.5 uL), not be suspended at its peak
HOLD_DROPPED = 10
RESUME_MS = 600000  # resume once the window frees ten minutes of the basal (no flapping)


class Governor:
    persist_key = "governor"
    persist_class = "acct"

    def __init__(self, pump):
        self.pump = pump
        self.F = 0  # fg out of the tip, cumulative
        self._seen = None  # forward steps of the source at the last pass
        self._vrem = 0  # volume carry, nL x steps/mL
        self._spm = 0
        self._conc = 0
        self._line = None  # type: Line | None
        self._line_nl = -1
        self._curve = Curve()
        self._assumed = []  # [pump_ms, fg] counted after a reset, not known to have gone out
        self._intake = Intake()
        self._line_known = False  # the line's volume was typed, not the unknown 1 mL
        self._extra = 0  # fg found by a re-valuation this pass
        self._hard = 0  # the hard daily limit (ng) the curve is valued in: the drug's
        self.capped = False
        self._held = 0
        self._dropped = 0
        self._restored = False
        self._armed = None  # the allowance end it wrote last: nothing else may change it
        self.limit_fg = None  # type: int | None

    # ---- the source and the drug --------------------------------------------

    def _source(self):
        sc = getattr(self.pump, "stepcheck", None)
        if sc is not None:
            return sc.fwd_total()
        return self.pump.ledger.fwd

    def _drug(self):
        """(reservoir ng/mL, line nL, hard daily ng, active cap ng, line volume unknown) or None
        with no drug."""
        t = self.pump.therapy
        if t is None or getattr(t, "drug", None) is None or not t.conc:
            return None
        c = t.conc
        x = getattr(t, "suspect_conc", 0)  # a refill's drug never confirmed: it may be in there
        if x > c:
            c = x
        return c, t.catheter_nl or UNKNOWN_LINE_NL, t.drug.max_daily, t.cap_ng(), not t.catheter_nl

    def step_fg(self, d=None):
        """The most fg one forward step can carry out of the tip now (rounded up)."""
        spm = self.pump.steps_per_ml
        if d is None:
            d = self._drug()
        if d is None:
            return 0
        c = self._line.top(d[0]) if self._line is not None else d[0]
        return (c * NL_PER_ML + spm - 1) // spm

    # ---- the line -------------------------------------------------------------

    def _take(self, steps, d):
        spm = self.pump.steps_per_ml
        if spm != self._spm:
            if self._vrem:
                self._vrem = spm  # a calibration change: the carry rounds up to one nL
            self._spm = spm
        if d is None:
            # no drug set: steps still move the line (water, saline), worth no dose
            conc, vol = 0, self._line_nl if self._line_nl > 0 else 0
        else:
            conc, vol = d[0], d[1]
        known = d is not None and not d[4]
        self._intake.note(conc, self.pump.pump_ms(), self._line_nl if self._line_known else -1)
        if self._line is None:
            self._line = Line(vol, conc)
        elif vol != self._line_nl:
            if known:
                self._extra += _events().revalue(self, vol)
            self._line = self._intake.line(vol)
        self._line_nl = vol
        self._line_known = known
        if steps <= 0:
            return 0
        num = steps * NL_PER_ML + self._vrem
        nl = num // spm
        self._vrem = num - nl * spm
        self._intake.pushed(nl, self.pump.pump_ms())
        return self._line.push(nl, conc, d is not None and d[4])

    def window_fg(self):
        """Drug out of the tip in the trailing 24 h of pump time, fg, at most this much."""
        now = self.pump.pump_ms()
        return self.F - self._curve.lower(now - DAY_MS)

    def delivered_ng(self):
        """What the window holds less a reset's worst case: the drug known to have left (status)."""
        now = self.pump.pump_ms()
        a = self._assumed
        while a and now - a[0][0] >= DAY_MS:
            a.pop(0)
        x = self.F - self._curve.lower(now - DAY_MS, True)
        for r in a:
            x -= r[1]
        return (x + FG_PER_NG - 1) // FG_PER_NG if x > 0 else 0

    # ---- the limit and the allowance -----------------------------------------

    def _limit(self, d):
        hard, cap = d[2], d[3]
        lim = hard if cap is None or cap > hard else cap
        return lim * FG_PER_NG

    def room_steps(self, d=None):
        """Forward steps that may still leave before the limit (ALLOW_MAX: no drug, no limit)."""
        if d is None:
            d = self._drug()
        if d is None:
            self.limit_fg = None
            return ALLOW_MAX
        lim = self._limit(d)
        self.limit_fg = lim
        # the hard limit on the bound (never under-read); the therapy's own lower cap on the
        # chord itself, exact to the step a pass can hide: a basal at exactly that cap runs
        room = d[2] * FG_PER_NG - self.window_fg()
        if lim < d[2] * FG_PER_NG:
            r = lim - self.F + self._curve.lower(self.pump.pump_ms() - DAY_MS, True)
            room = r if r < room else room
        if room <= 0:
            return 0
        per = self.step_fg(d)
        n = room // per if per else ALLOW_MAX
        return n if n < ALLOW_MAX else ALLOW_MAX

    def service(self, pump):
        now = pump.pump_ms()
        src = self._source()
        if self._seen is None:
            self._seen = src
        d = self._drug()
        if d is not None:
            if self._hard and d[2] != self._hard:
                _events().rescale(self, d[2], self._hard, now)
            self._hard = d[2]
        n = src - self._seen
        fg = self._take(n, d)
        self.F += fg
        self._seen = src
        if self._extra:
            # drug found to have left unseen: counted as a step up in the curve now
            self.F += self._extra
            self._extra = 0
            self._curve.jump(now, self.F)
        else:
            q = (fg // n if fg == (fg // n) * n else 0) if n > 0 else -1
            self._curve.observe(now, self.F, self.step_fg(d) if d is not None else 0, q)
        room = self.room_steps(d)
        eng = pump.engine
        if self._armed is not None and eng.allow_end() != self._armed:
            _events().tampered(self, pump, eng)
            room = 0
        eng.arm_from(pump.ledger.engine_fwd(), room)
        self._armed = eng.allow_end()
        self._watch(pump, room, d)

    def _watch(self, pump, room, d):
        from firmware.pump import STOPPED, SUSPENDED  # pump imports this module

        eng = pump.engine
        h = eng.held()
        dh = (h - self._held) % WRAP
        self._held = h
        if dh:
            self._dropped += dh
        elif room > 0:
            self._dropped = 0
        # steps dropped with no room now: the window is full (one step waiting on the boundary,
        # or a hold under a stale allowance before the first pass armed it, is not)
        if self._dropped >= HOLD_DROPPED and room == 0 and not self.capped:
            _events().cap(self, pump)
        elif self.capped and pump.state == SUSPENDED and self._resumable(pump, room):
            self.capped = False
            pump.state = STOPPED
            pump.start()
            if pump.alarms is not None:
                pump.alarms.clear("DOSE_CAP")
            pump.event("dose_cap_resume", room_steps=room)
        elif self.capped and pump.state not in (SUSPENDED,):
            # a person stopped it, an alarm or a refill took over: the hold is theirs now
            self.capped = False
            if pump.alarms is not None:
                pump.alarms.clear("DOSE_CAP")

    def _resumable(self, pump, room):
        need = (pump.basal * RESUME_MS + DAY_MS - 1) // DAY_MS
        return room > (need if need > 1 else 1)

    # ---- reset and persistence -------------------------------------------------

    def assume(self, steps):
        """Count `steps` that may have gone out unseen (a reset's worst case) as delivered now."""
        if steps > 0:
            fg = steps * self.step_fg()
            d = self._drug()
            if self._line is not None and d is not None:
                spm = self.pump.steps_per_ml
                self._line.smear((steps * NL_PER_ML + spm - 1) // spm, d[0])
            self.F += fg
            self._assumed.append([self.pump.pump_ms(), fg])
            self._curve.jump(self.pump.pump_ms(), self.F)

    def snapshot(self):
        recs, nl_in = self._intake.snapshot()
        d = {
            "v": 1,
            "F": self.F,
            "seen": self._seen if self._seen is not None else self.pump.ledger.fwd,
            "vrem": self._vrem,
            "spm": self._spm,
            "line": [self._line_nl, [list(p) for p in self._line.parcels]] if self._line is not None else [],
            "capped": 1 if self.capped else 0,
            "assumed": [list(r) for r in self._assumed],
            "concs": recs,
            "nlin": nl_in,
            "known": 1 if self._line_known else 0,
            "hard": self._hard,
        }
        self._curve.snapshot(d)
        return d

    def restore(self, d):
        self.F = d["F"]
        # the count restarts with the board: the first pass (before anything moves) is the
        # baseline. "seen" stays in the record for the format
        self._seen = None
        self._vrem = d["vrem"]
        self._spm = d["spm"]
        self._curve.restore(d)
        ln = d["line"]
        if ln:
            self._line_nl = ln[0]
            self._line = Line(0, 0)
            self._line.volume = ln[0]
            self._line.parcels = [list(p) for p in ln[1]]
        self.capped = bool(d["capped"])
        self._assumed = [list(r) for r in d.get("assumed", [])]
        self._line_known = bool(d.get("known", 0))
        self._hard = d.get("hard", 0)
        self._intake.restore(d.get("concs", []), d.get("nlin", 0))
        self._restored = True

    def after_restore(self, pump, info):
        now = pump.pump_ms()
        if not self._restored:
            # a record from before the governor: the last 24 h as the ledger counted it, all of
            # it taken to have left just now at today's concentration (counted for a whole day)
            d = self._drug()
            steps = pump.ledger.counted_24h(now)
            self.F = steps * self.step_fg() if d is not None else 0
            self._curve.jump(now, self.F)
            return
        # the interval the checkpoint missed: the steps the ledger now holds beyond our record
        # come in at the next pass; the worst case recovery counts goes in now, as delivered
        self.assume(info.get("assumed_steps", 0))
        self._curve.jump(now, self.F)


def _events():
    # the rare turns (another drug, another line volume, a changed allowance, the limit
    # reached): imported at the first, not at boot
    from firmware.safety import govevents

    return govevents
