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

DAY_MS = 86400000
NL_PER_ML = 1000000
FG_PER_NG = 1000000
MAXV = 48  # vertices kept; past that the oldest segment is merged flat (counted at its end)
UNKNOWN_LINE_NL = 1000000  # no catheter volume set: the most `rx catheter` accepts (1 mL)
# steps a hold may drop before DOSE_CAP: the bound's slop at the window's edge (a step of
# tolerance and what the widest gap between passes hides) is a step or two, and a program at
# exactly the limit should lose those silently (at most 0.5 uL), not be suspended at its peak
HOLD_DROPPED = 10
RESUME_MS = 600000  # resume once the window frees ten minutes of the basal (no flapping)


class Line:
    """What sits in the catheter, tip first: [nL, ng/mL] parcels summing to its volume."""

    def __init__(self, volume_nl, conc):
        self.volume = volume_nl
        self.parcels = [[volume_nl, conc]] if volume_nl else []

    def push(self, nl, conc, unknown=False):
        """`nl` in at the pump end at `conc`; returns the fg that left the tip. With the line's
        volume `unknown`, the new drug may already be at the tip: each parcel counts at the
        stronger of its drug and the new one."""
        out = 0
        left = nl
        ps = self.parcels
        if unknown:
            for p in ps:
                if p[1] < conc:
                    p[1] = conc
        while left and ps:
            p = ps[0]
            take = p[0] if p[0] < left else left
            out += take * p[1]
            p[0] -= take
            left -= take
            if not p[0]:
                ps.pop(0)
        out += left * conc  # more than the line holds: the rest went straight through
        if self.volume:
            v = nl if nl < self.volume else self.volume
            if ps and ps[-1][1] == conc:
                ps[-1][0] += v
            else:
                ps.append([v, conc])
        return out

    def smear(self, nl, conc):
        """Up to `nl` more may have gone through unseen (a reset's interval): each point of the
        line may hold what lay up to `nl` behind it (`conc` beyond the pump end): each parcel
        counts at the strongest of those."""
        if not self.volume or nl <= 0:
            return
        segs = []
        d = 0
        for p in self.parcels:
            segs.append((d, d + p[0], p[1]))
            d += p[0]
        segs.append((d, d + nl, conc))
        cuts = [0, self.volume]
        for a, b, _c in segs:
            for x in (a - nl, a, b - nl, b):
                if 0 < x < self.volume and x not in cuts:
                    cuts.append(x)
        cuts.sort()
        ps = []
        for i in range(len(cuts) - 1):
            y0, y1 = cuts[i], cuts[i + 1]
            m = 0
            for a, b, c in segs:
                if a < y1 + nl and b > y0 and c > m:
                    m = c
            if ps and ps[-1][1] == m:
                ps[-1][0] += y1 - y0
            else:
                ps.append([y1 - y0, m])
        self.parcels = ps

    def top(self, conc):
        m = conc
        for p in self.parcels:
            if p[1] > m:
                m = p[1]
        return m


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
        # vertices [pump_ms, F, tolerance fg (-1: flat), widest gap ms, grid fg], oldest first;
        # the open segment runs from the last one to the latest observation `_obs`. The grid is
        # the fg of every step of the segment where all were worth the same (else 0): the dose
        # of the segment up to any instant is then a whole number of them
        self._verts = [[0, 0, -1, 0, 0]]
        self._obs = [0, 0]
        self._k = None  # slope bounds of the open segment from its vertex: [lo num, den, hi num, den]
        self._gap = 0
        self._tol = 0
        self._qseg = -1  # the open segment's grid: -1 no step yet, 0 mixed
        self._assumed = []  # [pump_ms, fg] counted after a reset, not known to have gone out
        # the reservoir's drug from a point on (the last few): [pump_ms, ng/mL, nL pushed in
        # before it, pump_ms by which 1 mL more had gone in (-1: not yet), the line volume its
        # arrival at the tip was first counted at (-1: unknown, counted at the stronger), fg a
        # corrected volume has added for it since]
        self._concs = []
        self._nl_in = 0  # nL pushed into the line, cumulative
        self._line_known = False  # the line's volume was typed, not the unknown 1 mL
        self._extra = 0  # fg found by a re-valuation this pass
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

    # ---- the curve ----------------------------------------------------------

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
        self._note_conc(conc)
        known = d is not None and not d[4]
        if self._line is None:
            self._line = Line(vol, conc)
        elif vol != self._line_nl:
            if known:
                self._extra += self._revalue(vol)
            self._line = self._refilled_line(vol)
        self._line_nl = vol
        self._line_known = known
        if steps <= 0:
            return 0
        num = steps * NL_PER_ML + self._vrem
        nl = num // spm
        self._vrem = num - nl * spm
        self._nl_in += nl
        self._settle()
        return self._line.push(nl, conc, d is not None and d[4])

    def _note_conc(self, conc):
        cs = self._concs
        if cs and cs[-1][2] == self._nl_in:
            # nothing went in under the last record: that drug never entered the line (a typo put
            # right, a drug set before anything moved); the new one takes its place
            if cs[-1][1] != conc:
                cs[-1][1] = conc
                if len(cs) > 1 and cs[-2][1] == conc:
                    cs.pop()
            return
        if not cs or cs[-1][1] != conc:
            basis = self._line_nl if self._line_known else -1
            cs.append([self.pump.pump_ms(), conc, self._nl_in, -1, basis, 0])
            if len(cs) > 8:
                # the oldest two become one, at the stronger drug: still counted, never less
                a, b = cs[0], cs[1]
                b[1] = a[1] if a[1] > b[1] else b[1]
                b[2] = a[2]
                b[5] += a[5]
                cs.pop(0)

    def _settle(self):
        # a change's drug has all left any line (at most 1 mL) once 1 mL more has gone in
        now = self.pump.pump_ms()
        for r in self._concs:
            if r[3] < 0 and self._nl_in - r[2] >= UNKNOWN_LINE_NL:
                r[3] = now

    def _refilled_line(self, vol):
        """A line of `vol` nL holding the last `vol` nL pushed in, as recorded; what lies beyond the
        oldest record counts at the strongest drug recorded."""
        cs = self._concs
        ps = []
        need = vol
        end = self._nl_in
        top = 0
        for r in cs:
            top = r[1] if r[1] > top else top
        for i in range(len(cs) - 1, -1, -1):
            if not need:
                break
            take = end - cs[i][2]
            take = take if take < need else need
            if take > 0:
                ps.insert(0, [take, cs[i][1]])
                need -= take
            end = cs[i][2]
        if need:
            ps.insert(0, [need, top])
        ln = Line(0, 0)
        ln.volume = vol
        ln.parcels = ps if vol else []
        return ln

    def _revalue(self, new):
        """fg that left the tip beyond what was counted, now that the line is known to hold `new`
        nL: each recent change of drug reached the tip that much later (or sooner) than the
        volume it was counted at, and the volume between went out at the drug on the other side
        of it. What an earlier correction already added for a change is not added again (a
        volume typed back and forth counts once). Counted as having left now (the window holds
        it for another day: on the side of counting more)."""
        now = self.pump.pump_ms()
        cs = self._concs
        fg = 0
        for i in range(1, len(cs)):
            r = cs[i]
            old = r[4]
            if old < 0:
                r[4] = new  # counted at the stronger until now; from here on at this volume
                continue
            if r[3] >= 0 and now - r[3] > DAY_MS:
                continue  # all of it out, and more than a day ago
            p = self._nl_in - r[2]
            a = (p if p < new else new) - (p if p < old else old)
            dc = cs[i - 1][1] - r[1] if a > 0 else r[1] - cs[i - 1][1]
            want = (a if a > 0 else -a) * dc if dc > 0 else 0
            if want > r[5]:
                fg += want - r[5]
                r[5] = want
        if fg:
            self.pump.event("line_revalued", new_nl=new, ng=(fg + FG_PER_NG - 1) // FG_PER_NG)
        return fg

    def _observe(self, now, F, per, q=-1):
        # one more point of the curve: it extends the open segment while every point since its
        # vertex lies within `_tol` of the chord (slope bounds `_k`, as fractions), else the
        # segment closes at the last point that fitted and a new one starts there
        v = self._verts[-1]
        o = self._obs
        if now <= o[0]:
            if F != o[1]:
                self._jump(o[0])  # steps within one ms: no slope to fit, a step up in the curve
            return
        gap = now - o[0]
        dt = now - v[0]
        rise = F - v[1]
        k = self._k
        if k is not None and k[0] * dt <= rise * k[1] and rise * k[3] <= k[2] * dt:
            tol = self._tol
            if k[0] * dt < (rise - tol) * k[1]:
                k[0] = rise - tol
                k[1] = dt
            if (rise + tol) * k[3] < k[2] * dt:
                k[2] = rise + tol
                k[3] = dt
            if gap > self._gap:
                self._gap = gap
            if q >= 0 and q != self._qseg:
                self._qseg = q if self._qseg < 0 else 0
        else:
            if o[0] > v[0]:
                v[2] = self._tol if k is not None else -1
                v[3] = self._gap
                v[4] = self._qseg if self._qseg > 0 else 0
                self._verts.append([o[0], o[1], -1, 0, 0])
                v = self._verts[-1]
                dt = now - v[0]
                rise = F - v[1]
                self._prune(now - DAY_MS)
                if len(self._verts) > MAXV:
                    self._merge()
            self._tol = per
            self._k = [rise - per, dt, rise + per, dt]
            self._gap = gap
            self._qseg = q
        o[0] = now
        o[1] = F

    def _merge(self):
        # drop the vertex whose removal moves the curve least. Where the dropped vertex lay
        # below the new chord, the merged segment's tolerance grows by that much (rounded up), so
        # its lower bound stays a lower bound. The newest vertex anchors the open segment and
        # stays; a flat segment (nothing known inside it) merges only when nothing else can
        vs = self._verts
        best = 0
        cost = 0
        grow = 0
        for i in range(1, len(vs) - 1):
            a, m, c = vs[i - 1], vs[i], vs[i + 1]
            if a[2] < 0 or m[2] < 0 or c[0] <= a[0]:
                continue
            x = m[1] - a[1] - (c[1] - a[1]) * (m[0] - a[0]) // (c[0] - a[0])
            d = x if x >= 0 else -x
            if not best or d < cost:
                best, cost, grow = i, d, (1 - x if x < 0 else 0)
        a = vs[best - 1] if best else vs[0]
        if not best:
            best = 1
            a[2] = -1  # the oldest two become one flat segment: all its dose from its start
        else:
            m = vs[best]
            a[2] = (a[2] if a[2] > m[2] else m[2]) + grow
            a[3] = a[3] if a[3] > m[3] else m[3]
            a[4] = a[4] if a[4] == m[4] else 0
        vs.pop(best)

    def _prune(self, s):
        vs = self._verts
        while len(vs) > 2 and vs[1][0] <= s:
            vs.pop(0)

    def _lower(self, s, estimate=False):
        """A lower bound of F at pump ms `s` (what had left the tip by then); with `estimate`,
        the chord itself (status: the figure a person reads, not the bound the limit needs)."""
        vs = self._verts
        while len(vs) > 1 and vs[1][0] <= s:
            vs.pop(0)
        a = vs[0]
        if s <= a[0]:
            return a[1]
        if len(vs) > 1:
            b = vs[1]
            tol, gap, q = a[2], a[3], a[4]
        else:
            b = self._obs
            tol, gap, q = self._tol, self._gap, self._qseg
        if tol < 0 or b[0] <= a[0]:
            return a[1]
        span = b[0] - a[0]
        rise = b[1] - a[1]
        if estimate:
            return a[1] + (rise * (s - a[0])) // span
        # the chord less one step, less what the widest unobserved gap could hide
        x = a[1] + (rise * (s - a[0] - gap)) // span - tol
        if x <= a[1]:
            return a[1]
        if q > 0:
            # on the segment's grid: whole steps of it, so up to the next one
            x = a[1] + (x - a[1] + q - 1) // q * q
        return x

    def window_fg(self):
        """Drug out of the tip in the trailing 24 h of pump time, fg, at most this much."""
        now = self.pump.pump_ms()
        return self.F - self._lower(now - DAY_MS)

    def delivered_ng(self):
        """What the window holds less a reset's worst case: the drug known to have left (status)."""
        now = self.pump.pump_ms()
        a = self._assumed
        while a and now - a[0][0] >= DAY_MS:
            a.pop(0)
        x = self.F - self._lower(now - DAY_MS, True)
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
            r = lim - self.F + self._lower(self.pump.pump_ms() - DAY_MS, True)
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
        n = src - self._seen
        fg = self._take(n, d)
        self.F += fg
        self._seen = src
        if self._extra:
            # drug found to have left unseen: counted as a step up in the curve now
            self.F += self._extra
            self._extra = 0
            self._jump(now)
        else:
            q = (fg // n if fg == (fg // n) * n else 0) if n > 0 else -1
            self._observe(now, self.F, self.step_fg(d) if d is not None else 0, q)
        room = self.room_steps(d)
        eng = pump.engine
        if self._armed is not None and eng.allow_end() != self._armed:
            self._tampered(pump, eng)
            room = 0
        eng.arm_from(pump.ledger.engine_fwd(), room)
        self._armed = eng.allow_end()
        self._watch(pump, room, d)

    def _tampered(self, pump, eng):
        # only this service writes the allowance: a changed one is a fault in the engine's state
        # (a stray write, a test hook), not a figure to trust for another pass
        eng.stop()
        pump.event("allowance_fault", found=eng.allow_end(), armed=self._armed)
        if pump.alarms is not None:
            pump.alarms.raise_alarm(
                "STEP_MISMATCH", "the engine's dose allowance changed behind the governor"
            )

    def _watch(self, pump, room, d):
        from firmware.pump import RUNNING, STOPPED, SUSPENDED  # pump imports this module

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
            self._cap(pump, RUNNING, SUSPENDED)
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

    def _cap(self, pump, RUNNING, SUSPENDED):
        lim = self.limit_fg
        if pump.state == RUNNING:
            pump.stop("dose_cap", state=SUSPENDED)
            self.capped = True
        else:
            pump.engine.stop()  # a priming or calibration run: ends here, pump stays as it was
            pump.event("dose_cap", state=pump.state)
        if pump.alarms is not None:
            pump.alarms.raise_alarm(
                "DOSE_CAP",
                "24 h dose reached the limit %s; delivery held" % _mg(lim),
            )

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
            self._jump(self.pump.pump_ms())

    def snapshot(self):
        return {
            "v": 1,
            "F": self.F,
            "seen": self._seen if self._seen is not None else self.pump.ledger.fwd,
            "vrem": self._vrem,
            "spm": self._spm,
            "verts": [list(v) for v in self._verts],
            "obs": list(self._obs),
            "tol": self._tol,
            "gap": self._gap,
            "q": self._qseg,
            "k": list(self._k) if self._k is not None else [],
            "line": [self._line_nl, [list(p) for p in self._line.parcels]] if self._line is not None else [],
            "capped": 1 if self.capped else 0,
            "assumed": [list(r) for r in self._assumed],
            "concs": [list(r) for r in self._concs],
            "nlin": self._nl_in,
            "known": 1 if self._line_known else 0,
        }

    def restore(self, d):
        self.F = d["F"]
        # the count restarts with the board: the first pass (before anything moves) is the
        # baseline. "seen" stays in the record for the format
        self._seen = None
        self._vrem = d["vrem"]
        self._spm = d["spm"]
        self._verts = [(list(v) + [0])[:5] for v in d["verts"]]
        self._obs = list(d["obs"])
        self._tol = d["tol"]
        self._gap = d["gap"]
        self._qseg = d.get("q", 0)
        k = d["k"]
        self._k = list(k) if len(k) == 4 else None
        ln = d["line"]
        if ln:
            self._line_nl = ln[0]
            self._line = Line(0, 0)
            self._line.volume = ln[0]
            self._line.parcels = [list(p) for p in ln[1]]
        self.capped = bool(d["capped"])
        self._assumed = [list(r) for r in d.get("assumed", [])]
        self._nl_in = d.get("nlin", 0)
        self._line_known = bool(d.get("known", 0))
        # a record from before the volumes were kept: each change taken as all out long ago
        self._concs = [
            (list(r) + [self._nl_in - UNKNOWN_LINE_NL, r[0], -1, 0][len(r) - 2 :])[:6]
            for r in d.get("concs", [])
        ]
        self._restored = True

    def after_restore(self, pump, info):
        now = pump.pump_ms()
        if not self._restored:
            # a record from before the governor: the last 24 h as the ledger counted it, all of
            # it taken to have left just now at today's concentration (counted for a whole day)
            d = self._drug()
            steps = pump.ledger.counted_24h(now)
            self.F = steps * self.step_fg() if d is not None else 0
            self._jump(now)
            return
        # the interval the checkpoint missed: the steps the ledger now holds beyond our record
        # come in at the next pass; the worst case recovery counts goes in now, as delivered
        self.assume(info.get("assumed_steps", 0))
        self._jump(now)

    def _jump(self, now):
        # nothing is known of how the dose went between the last record and now: flat, then on
        v = self._verts[-1]
        o = self._obs
        if o[0] > v[0]:
            # the open segment ends at the last observation, as fitted
            v[2] = self._tol if self._k is not None else -1
            v[3] = self._gap
            v[4] = self._qseg if self._qseg > 0 else 0
            self._verts.append([o[0], o[1], -1, 0, 0])
        t = now if now > self._obs[0] else self._obs[0]
        self._verts.append([t, self.F, -1, 0, 0])
        self._qseg = -1
        self._obs = [t, self.F]
        self._k = None
        self._gap = 0
        self._prune(t - DAY_MS)
        if len(self._verts) > MAXV:
            self._merge()


def _mg(fg):
    if fg is None:
        return "?"
    ng = fg // FG_PER_NG
    return "%d.%03d mg" % (ng // 1000000, (ng // 1000) % 1000)
