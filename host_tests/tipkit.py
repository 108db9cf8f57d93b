"""The reference the governor tests check against: net motor steps sampled on the virtual clock,
valued by a plug-flow model of the catheter (after a concentration change the first catheter
volume out is the old drug), and shell helpers. Both interpreters."""

import json

from firmware.dose import wrap_delta

MIN = 60000
H = 3600000
DAY_MS = 86400000
SPM = 20000  # the sim board's nominal (and physical) steps per mL
MG = 1000000  # ng
MORPHINE_LIMIT = 15 * MG  # the drug library's hard daily limit
IGNORED_ALARMS = ("CLOCK", "DEFAULT_PIN")  # say nothing about delivery


class Tip:
    """The reference: net motor steps over virtual time, and the drug each step puts out of the tip.

    `conc` is the drug in the reservoir (and in the whole line) at the start, ng/mL;
    `catheter_nl` the line's volume. Steps are counted from the dose engine's own counters
    (plus those of earlier boots), sampled every `dt` ms of the board's virtual clock.
    """

    def __init__(self, k, conc, catheter_nl=0, dt=MIN, most=1000):
        self.k = k
        self.dt = dt
        self.cath = catheter_nl * SPM // 1000000  # steps the line holds
        self.segs = [[None, conc]]  # [steps pushed when the reservoir took this drug, ng/mL]
        self.base = 0  # net steps of earlier boots
        # made whole at the start: lists growing over a day of samples fragmented the 512 KB heap
        self.t = [0] * most
        self.s = [0] * most
        self.n = 0
        self.hold_seen = False  # a DOSE_CAP hold seen in `status`
        self.watch_hold = False
        self.sample()

    def now_ms(self):
        return self.k.sim.board.clock.now_us // 1000

    def net(self):
        c = self.k.pump.engine.counters()
        return self.base + wrap_delta(c[1], 0) - wrap_delta(c[2], 0)

    def sample(self):
        assert self.n < len(self.t), "more samples than the Tip was made for"
        self.t[self.n] = self.now_ms()
        self.s[self.n] = self.net()
        self.n += 1
        if self.watch_hold and not self.hold_seen and self.k.pump.state != "running":
            st = self.k.js("status")
            if st["state"] == "suspended" and "DOSE_CAP" in [a["code"] for a in st["alarms"]]:
                self.hold_seen = True

    def run(self, ms):
        while ms > 0:
            d = self.dt if ms > self.dt else ms
            self.k.run(d)
            ms -= d
            self.sample()

    def refilled(self, conc):
        """The reservoir now holds `conc` (ng/mL): every step from here pushes it into the line."""
        self.segs.append([self.net(), conc])

    def power_cut(self, ms=0):
        self.base = self.net()
        self.k.power_cut(ms)
        self.sample()

    def mass_num(self, n):
        """Drug (ng x steps/mL) out of the tip over the first `n` net steps: step j out of the tip
        is the step pushed `cath` steps before it."""
        m = 0
        for i, (a, c) in enumerate(self.segs):
            b = self.segs[i + 1][0] if i + 1 < len(self.segs) else None
            lo = 0 if a is None else a + self.cath
            lo = lo if lo > 0 else 0
            hi = n if b is None else min(n, b + self.cath)
            if hi > lo:
                m += (hi - lo) * c
        return m

    def mass_ng(self, s0, s1):
        return (self.mass_num(s1) - self.mass_num(s0)) // SPM

    def worst_24h(self):
        """(ng, start ms, end ms) of the heaviest window of at most 24 h between two samples."""
        best = (0, 0, 0)
        j = 0
        for i in range(self.n):
            while self.t[i] - self.t[j] > DAY_MS:
                j += 1
            m = self.mass_ng(self.s[j], self.s[i])
            if m > best[0]:
                best = (m, self.t[j] - self.t[0], self.t[i] - self.t[0])
        return best

    def last_24h(self):
        """Tip dose (ng) from the sample exactly 24 h before the last one to the last one."""
        end = self.t[self.n - 1]
        for j in range(self.n):
            if self.t[j] == end - DAY_MS:
                return self.mass_ng(self.s[j], self.s[self.n - 1])
        raise AssertionError("no sample 24 h before the last")


def dec_ng(reply, key):
    """A `Dec` field of a raw JSON reply, in ng when the dose unit is mg (exact: no float)."""
    i = reply.index('"%s": ' % key) + len(key) + 4
    j = i
    while j < len(reply) and (reply[j].isdigit() or reply[j] in ".-"):
        j += 1
    whole, _, frac = reply[i:j].partition(".")
    frac = (frac + "000000")[:6]
    return int(whole) * MG + int(frac)


def status_raw(k):
    r = k.sh.handle(b"status")
    assert json.loads(r)["ok"], r
    return r


def log_events(k):
    return [(e["event"], e["detail"]) for e in k.ok("log 500")["entries"]]


def mentions(v, word):
    if isinstance(v, dict):
        return any(mentions(a, word) or mentions(b, word) for a, b in v.items())
    if isinstance(v, (list, tuple)):
        return any(mentions(x, word) for x in v)
    return isinstance(v, str) and word in v


def refill(k, tip, add_ml, conc_text=None, conc_ng=None, confirm="refill confirm", add_extra=""):
    """Draw the reservoir empty and fill it, through the shell and the sim's syringe.

    `conc_text` (and `conc_ng` for the reference): a new drug. `confirm` None stops with the drug
    in the reservoir and the refill still open (a cut or a cancel comes next). `add_extra` ends
    the `refill add` line (" confirm" for a change of more than 2x)."""
    k.ok("refill begin")
    rml = k.ok("status")["reservoir_ml"]
    k.ok("refill withdrawn %s" % rml)
    k.ok("sim withdraw %s" % rml)
    conc = " conc=%s" % conc_text if conc_text else ""
    k.ok("refill add %s%s%s" % (add_ml, conc, add_extra))
    k.ok("sim refill %s" % add_ml)
    d = k.ok(confirm) if confirm else None
    if conc_ng is not None:
        tip.refilled(conc_ng)
    return d


def program(k, words, start=False):
    """`program WORDS`, confirmed (and the pump started)."""
    k.ok("program " + words)
    k.ok("program confirm")
    if start:
        k.ok("start")


def line_kit(conc_text, conc_ng, typed_ml, true_nl, daily=None, dt=10 * MIN, most=600):
    """A pump of `conc_text` told `rx catheter TYPED_ML` where its line holds `true_nl`, the
    reference beside it, and with `daily` a continuous program of that dose running."""
    from therapy_kit import TKit

    k = TKit(conc=conc_text)
    k.ok("rx catheter %s" % typed_ml)
    k.run(1000)
    tip = Tip(k, conc_ng, true_nl, dt=dt, most=most)
    if daily:
        program(k, "continuous " + daily, start=True)
    return k, tip


def periodic_front(start_h, start_m, n=11, basal="9.5mg"):
    """A periodic program of 15 mg/day (n x 0.5 mg over 1 min, 2 min apart, plus the basal)."""
    words = []
    m = start_h * 60 + start_m
    for i in range(n):
        t = (m + 2 * i) % 1440
        words.append("%02d:%02d=0.5mg/1m" % (t // 60, t % 60))
    line = "program periodic %s basal=%s" % (" ".join(words), basal)
    assert len(line) <= 200, line
    return line


def within_limit(worst, limit, conc):
    # one step's worth of drug at the strongest concentration in play: the phase of the step train
    assert worst[0] <= limit + conc // SPM, "%d ng in the window %d..%d ms, limit %d ng" % (
        worst[0],
        worst[1],
        worst[2],
        limit,
    )


# ---- defect 1: switching time-of-day programs ----------------------------------------------------
