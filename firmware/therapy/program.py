"""A program parsed from its words into exact step rates (no float).

Time-of-day modes become a schedule: points (second of day, steps per day),
each rate holding until the next point and the last wrapping over midnight.
Periodic boluses ride on the basal inside their window at a rate that gives
the bolus to within a fraction of a step; whole-dose sums are kept as exact
numerators (steps x seconds) so `program show` can say what rounding did.
"""

from firmware.errors import E_RANGE, E_SYNTAX, PumpError
from firmware.parse import duration_s, hhmm, integer, keyvals
from firmware.therapy.units import ng_of, steps_of

DAY = 86400
MODES = ("continuous", "flex", "periodic", "trial")


def _amount(text, what):
    from firmware.therapy.units import parse_amount

    return parse_amount(text, what)


def _dose_dur(text):
    dose, slash, dur = text.partition("/")
    if not slash or not dose or not dur:
        raise PumpError(E_SYNTAX, "expected DOSE/DURATION, e.g. 0.5mg/15m")
    return _amount(dose, "dose"), duration_s(dur, 60, DAY - 60, "bolus duration")


class Program:
    """Fields: mode, words, points [(sod, rate)], boluses [(sod, dur_s, steps, rate)],
    daily_num (steps*s per day, exact), req_ng_num (ng*s per day asked for), and trial
    fields (t_kind, t_steps, t_dur, t_every, t_count, t_days)."""

    def __init__(self, mode, words):
        self.mode = mode
        self.words = list(words)
        self.points = []
        self.boluses = []
        self.daily_num = 0
        self.req_ng_num = 0
        self.bolus_ng = []  # the dose asked for each bolus (periodic, trial), ng
        self.t_kind = ""
        self.t_steps = 0
        self.t_dur = 0
        self.t_every = 0
        self.t_count = 0
        self.t_days = 0
        # (what, is_rate) of each figure asked for above zero that rounds to no step: the
        # program is refused (limits.check_resolution), never run as a silent under-infusion
        self.nil = []

    def name(self):
        return "trial_" + self.t_kind if self.mode == "trial" else self.mode

    def daily_steps(self):
        """Whole steps a day may hold: the exact daily figure rounded up (for the cap)."""
        if self.mode == "trial" and self.t_kind != "continuous":
            return self.t_steps * self.per_day()
        return (self.daily_num + DAY - 1) // DAY

    def per_day(self):
        """Most trial injections any 24 h window can hold."""
        if self.t_kind == "single":
            return 1
        n = DAY // self.t_every + 1
        return n if n < self.t_count else self.t_count

    def max_rate(self):
        r = 0
        for _, v in self.points:
            r = v if v > r else r
        if self.mode == "trial" and self.t_kind != "continuous":
            r = bolus_rate(self.t_steps, self.t_dur)
        return r

    def rate_at(self, sod):
        """Steps per day the schedule asks for at second-of-day `sod`."""
        pts = self.points
        if not pts:
            return 0
        r = pts[-1][1]  # before the first point: the last one, wrapped over midnight
        for t, v in pts:
            if t <= sod:
                r = v
            else:
                break
        return r

    def next_change_s(self, sod):
        """Seconds from `sod` to the next point of the schedule; None if the rate never changes."""
        pts = self.points
        if len(pts) < 2:
            return None
        for t, _ in pts:
            if t > sod:
                return t - sod
        return DAY - sod + pts[0][0]


def bolus_rate(steps, dur_s):
    """Steps per day that give `steps` over `dur_s`, rounded up so a step budget ends in time."""
    return (steps * DAY + dur_s - 1) // dur_s


def _flat(points):
    """Drop points that do not change the rate; keep at least one."""
    out = []
    for t, v in points:
        if out and out[-1][1] == v:
            continue
        out.append((t, v))
    return out


def _continuous(p, text, what, conc, spm):
    # one rate all day: continuous, and the continuous trial
    kind, v = _amount(text, "daily dose")
    if v <= 0:
        raise PumpError(E_RANGE, "daily dose must be above 0")
    r = steps_of(kind, v, conc, spm)
    if r == 0:
        p.nil.append((what, True))
    p.points = [(0, r)]
    p.daily_num = r * DAY
    p.req_ng_num = ng_of(kind, v, conc) * DAY


def build(words, conc, spm):
    """Parse `program ...` words into a Program; PumpError (nothing changed) if malformed."""
    if not words or words[0] not in MODES:
        raise PumpError(E_SYNTAX, "usage: program continuous|flex|periodic|trial ...")
    mode = words[0]
    args = words[1:]
    p = Program(mode, words)
    if mode == "continuous":
        if len(args) != 1:
            raise PumpError(E_SYNTAX, "usage: program continuous DAILY")
        _continuous(p, args[0], "daily dose", conc, spm)
    elif mode == "flex":
        _flex(p, args, conc, spm)
    elif mode == "periodic":
        _periodic(p, args, conc, spm)
    else:
        _trial(p, args, conc, spm)
    return p


def _flex(p, args, conc, spm):
    if not 1 <= len(args) <= 24:
        raise PumpError(E_SYNTAX, "usage: program flex HH:MM=DAILY_RATE ... (1 to 24 steps)")
    pts = {}
    req = {}
    for a in args:
        t, eq, rate = a.partition("=")
        if not eq or not rate:
            raise PumpError(E_SYNTAX, "flex step '%s' is not HH:MM=DAILY_RATE" % a[:30])
        s = hhmm(t) * 60
        if s in pts:
            raise PumpError(E_SYNTAX, "flex time %s given twice" % t)
        kind, v = _amount(rate, "daily rate")
        pts[s] = steps_of(kind, v, conc, spm)
        req[s] = ng_of(kind, v, conc)
        if v > 0 and pts[s] == 0:  # a step set to 0 is a stated pause; one that rounds to 0 is not
            p.nil.append(("flex rate at %s" % t, True))
    times = sorted(pts)
    p.points = [(s, pts[s]) for s in times]
    for i, s in enumerate(times):
        nxt = times[i + 1] if i + 1 < len(times) else times[0] + DAY
        span = nxt - s if len(times) > 1 else DAY
        p.daily_num += pts[s] * span
        p.req_ng_num += req[s] * span
    if p.daily_num == 0:
        raise PumpError(E_RANGE, "a flex program must deliver something")


def _periodic(p, args, conc, spm):
    basal = 0
    basal_ng = 0
    wins = []
    for a in args:
        if a.startswith("basal="):
            if basal or basal_ng:
                raise PumpError(E_SYNTAX, "basal given twice")
            kind, v = _amount(a[6:], "basal")
            basal = steps_of(kind, v, conc, spm)
            basal_ng = ng_of(kind, v, conc)
            if v > 0 and basal == 0:
                p.nil.append(("basal", True))
            continue
        t, eq, rest = a.partition("=")
        if not eq or not rest:
            raise PumpError(E_SYNTAX, "periodic bolus '%s' is not HH:MM=DOSE/DURATION" % a[:30])
        s = hhmm(t) * 60
        (kind, v), dur = _dose_dur(rest)
        if v <= 0:
            raise PumpError(E_RANGE, "bolus dose must be above 0")
        k = steps_of(kind, v, conc, spm)
        if k == 0:
            p.nil.append(("periodic bolus at %s" % t, False))
        wins.append((s, dur, k, ng_of(kind, v, conc)))
    if not 1 <= len(wins) <= 24:
        raise PumpError(E_SYNTAX, "usage: program periodic HH:MM=DOSE/DURATION ... [basal=DAILY] (1 to 24)")
    wins.sort()
    for i, w in enumerate(wins):
        nxt = wins[i + 1][0] if i + 1 < len(wins) else wins[0][0] + DAY
        if w[0] + w[1] > nxt:
            raise PumpError(
                E_RANGE, "periodic boluses overlap at %02d:%02d" % (w[0] // 3600, w[0] // 60 % 60)
            )
    pts = {}
    for s, dur, _, _ in wins:
        pts[(s + dur) % DAY] = basal
    for s, dur, k, _ in wins:
        pts[s] = basal + win_rate(k, dur)
    if 0 not in pts:
        pts[0] = None  # filled below: the rate that wraps over midnight
    times = sorted(pts)
    wrap = pts[times[-1]]
    p.points = [(s, wrap if pts[s] is None else pts[s]) for s in times]
    p.points = _flat(p.points)
    p.boluses = [(s, dur, k, win_rate(k, dur)) for s, dur, k, _ in wins]
    p.bolus_ng = [g for _, _, _, g in wins]
    p.daily_num = basal * DAY + sum(r * d for _, d, _, r in p.boluses)
    p.req_ng_num = basal_ng * DAY + sum(g for g in p.bolus_ng) * DAY


def win_rate(steps, dur_s):
    """Nearest steps per day that gives `steps` over the window (periodic: no budget)."""
    return (steps * DAY * 2 + dur_s) // (2 * dur_s)


def _trial(p, args, conc, spm):
    if not args or args[0] not in ("single", "multi", "continuous"):
        raise PumpError(E_SYNTAX, "usage: program trial single|multi|continuous ...")
    p.t_kind = args[0]
    rest = args[1:]
    if p.t_kind == "continuous":
        if len(rest) != 2:
            raise PumpError(E_SYNTAX, "usage: program trial continuous DAILY days=N")
        kv = keyvals(rest[1:], ("days",))
        if "days" not in kv:
            raise PumpError(E_SYNTAX, "usage: program trial continuous DAILY days=N")
        p.t_days = integer(kv["days"], 1, 60, "days")
        _continuous(p, rest[0], "trial daily dose", conc, spm)
        return
    if not rest:
        raise PumpError(E_SYNTAX, "usage: program trial %s DOSE/DURATION ..." % p.t_kind)
    (kind, v), dur = _dose_dur(rest[0])
    if v <= 0:
        raise PumpError(E_RANGE, "bolus dose must be above 0")
    p.t_steps = steps_of(kind, v, conc, spm)
    if p.t_steps == 0:
        p.nil.append(("trial dose", False))
    p.t_dur = dur
    p.bolus_ng = [ng_of(kind, v, conc)]
    p.t_count = 1
    if p.t_kind == "multi":
        kv = keyvals(rest[1:], ("every", "count"))
        if "every" not in kv or "count" not in kv:
            raise PumpError(E_SYNTAX, "usage: program trial multi DOSE/DURATION every=DURATION count=N")
        p.t_every = duration_s(kv["every"], 60, 30 * DAY, "every")
        p.t_count = integer(kv["count"], 1, 30, "count")
        if p.t_every < dur:
            raise PumpError(E_RANGE, "injections would overlap: every= is shorter than the duration")
    elif len(rest) != 1:
        raise PumpError(E_SYNTAX, "usage: program trial single DOSE/DURATION")
    p.daily_num = p.t_steps * p.per_day() * DAY
    p.req_ng_num = p.bolus_ng[0] * p.per_day() * DAY
