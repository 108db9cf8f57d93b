"""The dose governor's plug-flow model of the catheter (docs/therapy.md, "The dose governor"):
what sits in the line tip first (`Line`), and what went into it (`Intake`), from which a line of
a corrected volume is rebuilt and the drug that already left re-valued. Volumes in nL,
concentrations in ng/mL, doses in fg (nL x ng/mL)."""

DAY_MS = 86400000
UNKNOWN_LINE_NL = 1000000  # no catheter volume set: the most `rx catheter` accepts (1 mL)


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

    def scale(self, num, den):
        for p in self.parcels:
            p[1] = (p[1] * num + den - 1) // den

    def top(self, conc):
        m = conc
        for p in self.parcels:
            if p[1] > m:
                m = p[1]
        return m


class Intake:
    """What went into the line: the reservoir's drug from a point on (the last few records) and
    the volume pushed in since. A record is [pump_ms, ng/mL, nL pushed in before it, pump_ms by
    which 1 mL more had gone in (-1: not yet), the line volume its arrival at the tip was first
    counted at (-1: unknown, counted at the stronger), fg a corrected volume has added for it]."""

    def __init__(self):
        self.recs = []
        self.nl_in = 0  # nL pushed into the line, cumulative

    def note(self, conc, now, basis):
        cs = self.recs
        if cs and cs[-1][2] == self.nl_in:
            # nothing went in under the last record: that drug never entered the line (a typo put
            # right, a drug set before anything moved); the new one takes its place
            if cs[-1][1] != conc:
                cs[-1][1] = conc
                if len(cs) > 1 and cs[-2][1] == conc:
                    cs.pop()
            return
        if not cs or cs[-1][1] != conc:
            cs.append([now, conc, self.nl_in, -1, basis, 0])
            if len(cs) > 8:
                # the oldest two become one, at the stronger drug: still counted, never less
                a, b = cs[0], cs[1]
                b[1] = a[1] if a[1] > b[1] else b[1]
                b[2] = a[2]
                b[5] += a[5]
                cs.pop(0)

    def pushed(self, nl, now):
        # a change's drug has all left any line (at most 1 mL) once 1 mL more has gone in
        self.nl_in += nl
        for r in self.recs:
            if r[3] < 0 and self.nl_in - r[2] >= UNKNOWN_LINE_NL:
                r[3] = now

    def line(self, vol):
        """A line of `vol` nL holding the last `vol` nL pushed in, as recorded; what lies beyond the
        oldest record counts at the strongest drug recorded."""
        cs = self.recs
        ps = []
        need = vol
        end = self.nl_in
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

    def revalue(self, new, now):
        """fg that left the tip beyond what was counted, now that the line is known to hold `new`
        nL: each recent change of drug reached the tip that much later (or sooner) than the
        volume it was counted at, and the volume between went out at the drug on the other side
        of it. What an earlier correction already added for a change is not added again (a
        volume typed back and forth counts once). Counted as having left now (the window holds
        it for another day: on the side of counting more)."""
        cs = self.recs
        fg = 0
        for i in range(1, len(cs)):
            r = cs[i]
            old = r[4]
            if old < 0:
                r[4] = new  # counted at the stronger until now; from here on at this volume
                continue
            if r[3] >= 0 and now - r[3] > DAY_MS:
                continue  # all of it out, and more than a day ago
            p = self.nl_in - r[2]
            a = (p if p < new else new) - (p if p < old else old)
            dc = cs[i - 1][1] - r[1] if a > 0 else r[1] - cs[i - 1][1]
            want = (a if a > 0 else -a) * dc if dc > 0 else 0
            if want > r[5]:
                fg += want - r[5]
                r[5] = want
        return fg

    def scale(self, num, den):
        for r in self.recs:
            r[1] = (r[1] * num + den - 1) // den
            r[5] = (r[5] * num + den - 1) // den

    def snapshot(self):
        return [list(r) for r in self.recs], self.nl_in

    def restore(self, recs, nl_in):
        self.nl_in = nl_in
        # a record from before the volumes were kept: each change taken as all out long ago
        self.recs = [(list(r) + [nl_in - UNKNOWN_LINE_NL, r[0], -1, 0][len(r) - 2 :])[:6] for r in recs]
