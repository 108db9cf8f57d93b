"""The dose governor's cumulative dose curve, kept as vertices of a piecewise-linear fit (a
swinging door: every observation within one step of its segment's chord), so the dose that left
before a window's start is known to within a step; a bound is only ever rounded towards counting
more (docs/therapy.md, "The dose governor")."""

DAY_MS = 86400000
MAXV = 48  # vertices kept; past that the oldest segment is merged flat (counted at its end)


class Curve:
    def __init__(self):
        # vertices [pump_ms, F, tolerance fg (-1: flat), widest gap ms, grid fg], oldest first;
        # the open segment runs from the last one to the latest observation `obs`. The grid is
        # the fg of every step of the segment where all were worth the same (else 0): the dose
        # of the segment up to any instant is then a whole number of them
        self.verts = [[0, 0, -1, 0, 0]]
        self.obs = [0, 0]
        self._k = None  # slope bounds of the open segment from its vertex: [lo num, den, hi num, den]
        self._gap = 0
        self._tol = 0
        self._qseg = -1  # the open segment's grid: -1 no step yet, 0 mixed

    def observe(self, now, F, per, q=-1):
        # one more point of the curve: it extends the open segment while every point since its
        # vertex lies within `_tol` of the chord (slope bounds `_k`, as fractions), else the
        # segment closes at the last point that fitted and a new one starts there
        v = self.verts[-1]
        o = self.obs
        if now <= o[0]:
            if F != o[1]:
                self.jump(o[0], F)  # steps within one ms: no slope to fit, a step up in the curve
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
                self.verts.append([o[0], o[1], -1, 0, 0])
                v = self.verts[-1]
                dt = now - v[0]
                rise = F - v[1]
                self._prune(now - DAY_MS)
                if len(self.verts) > MAXV:
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
        vs = self.verts
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
        vs = self.verts
        while len(vs) > 2 and vs[1][0] <= s:
            vs.pop(0)

    def lower(self, s, estimate=False):
        """A lower bound of F at pump ms `s` (what had left the tip by then); with `estimate`,
        the chord itself (status: the figure a person reads, not the bound the limit needs)."""
        vs = self.verts
        while len(vs) > 1 and vs[1][0] <= s:
            vs.pop(0)
        a = vs[0]
        if s <= a[0]:
            return a[1]
        if len(vs) > 1:
            b = vs[1]
            tol, gap, q = a[2], a[3], a[4]
        else:
            b = self.obs
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

    def jump(self, now, F):
        # nothing is known of how the dose went between the last record and now: flat, then on
        v = self.verts[-1]
        o = self.obs
        if o[0] > v[0]:
            # the open segment ends at the last observation, as fitted
            v[2] = self._tol if self._k is not None else -1
            v[3] = self._gap
            v[4] = self._qseg if self._qseg > 0 else 0
            self.verts.append([o[0], o[1], -1, 0, 0])
        t = now if now > self.obs[0] else self.obs[0]
        self.verts.append([t, F, -1, 0, 0])
        self._qseg = -1
        self.obs = [t, F]
        self._k = None
        self._gap = 0
        self._prune(t - DAY_MS)
        if len(self.verts) > MAXV:
            self._merge()

    def scale(self, num, den):
        """Every dose figure times num/den (a change of drug, valued in the new drug's limit):
        the past read as lower bounds rounds down, the tolerances up; the open segment's slope
        is dropped, so the next point starts afresh."""
        for v in self.verts:
            v[1] = v[1] * num // den
            if v[2] > 0:
                v[2] = (v[2] * num + den - 1) // den
            v[4] = 0
        self.obs[1] = self.obs[1] * num // den
        self._tol = (self._tol * num + den - 1) // den
        self._k = None
        self._qseg = 0

    def snapshot(self, d):
        d["verts"] = [list(v) for v in self.verts]
        d["obs"] = list(self.obs)
        d["tol"] = self._tol
        d["gap"] = self._gap
        d["q"] = self._qseg
        d["k"] = list(self._k) if self._k is not None else []

    def restore(self, d):
        self.verts = [(list(v) + [0])[:5] for v in d["verts"]]
        self.obs = list(d["obs"])
        self._tol = d["tol"]
        self._gap = d["gap"]
        self._qseg = d.get("q", 0)
        k = d["k"]
        self._k = list(k) if len(k) == 4 else None
