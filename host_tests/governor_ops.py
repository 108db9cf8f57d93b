"""Every shell command that moves or changes drug, as ops on one simulated pump, with the
invariant of the dose governor checked after each against the test's own reference (tipkit.Tip:
the engine's step record valued by plug flow). Shared by the hypothesis state machine
(test_governor_machine.py) and the seeded run on micropython (test_governor_lcg.py).

Ops take small integers so that both drivers can pick them: hypothesis draws them, the seeded
run takes them from rig.Lcg. A refused line is fine (the pump decides); only the invariant and
the one-reply contract are asserted.
"""

from therapy_kit import TKit
from tipkit import MG, MIN, SPM, Tip, periodic_front

HARD = 15 * MG  # morphine's hard daily limit (drug library)
CATHETER_NL = 200000
CONCS = (
    ("5mg/mL", 5 * MG),
    ("10mg/mL", 10 * MG),
    ("20mg/mL", 20 * MG),
    ("10mcg/mL", 10000),  # the unit slip: only with confirm
)
START = "2026-01-01T00:00:00"


class Session:
    def __init__(self, most=6000):
        self.k = TKit(start=START)
        self.k.ok("rx catheter 0.2")
        self.k.ok("ptm set dose=0.2mg lockout=30m max=6")
        self.tip = Tip(self.k, 10 * MG, catheter_nl=CATHETER_NL, dt=10 * MIN, most=most)
        self.top = 10 * MG  # the strongest drug in play, for the one-step tolerance
        self.ops = 0

    # ---- the invariant ----------------------------------------------------------------------

    def check(self):
        worst = self.tip.worst_24h()
        assert worst[0] <= HARD + self.top // SPM, "%d ng in a 24 h window (%d..%d ms) against %d" % (
            worst[0],
            worst[1],
            worst[2],
            HARD,
        )
        return worst[0]

    # ---- ops -------------------------------------------------------------------------------

    def random_op(self, r, kinds, cut_most, wait_of):
        """One op drawn from `r` (rig.Lcg): the first 11 kinds, else a wait of `wait_of(a)`
        minutes; returns the minutes waited (0 for any other op)."""
        op = r.below(kinds)
        a, b = r.below(1000), r.below(1000)
        if op == 0:
            self.program(a % 4, a, b, b % 2 == 0)
        elif op == 1:
            self.start()
        elif op == 2:
            self.stop()
        elif op == 3:
            self.bolus(a, b)
        elif op == 4:
            self.ptm()
        elif op == 5:
            self.button()
        elif op == 6:
            self.prime(a)
        elif op == 7:
            self.calibrate(a)
        elif op == 8:
            self.refill(a, b % 2 == 0, b)
        elif op == 9:
            self.time_set(a)
        elif op == 10:
            self.power_cut(a % cut_most)
        else:
            m = wait_of(a)
            self.wait(m)
            return m
        return 0

    def line(self, text):
        d = self.k.js(text)
        assert "ok" in d, (text, d)
        self.ops += 1
        return d

    def wait(self, minutes):
        self.tip.run(minutes * MIN)

    def program(self, kind, a, b, override):
        mg = 1 + a % 15  # 1..15 mg/day
        if kind == 0:
            text = "program continuous %dmg" % mg
        elif kind == 1:
            text = "program flex 00:00=%dmg %02d:00=%dmg" % (mg, 1 + b % 23, 1 + b % 15)
        elif kind == 2:
            # front-loaded: up to 15 mg/day with its boluses in the next minutes, the way a switch
            # from one such program to the next doubled the day's dose before the governor
            n = 1 + a % 11
            m = self._minute_of_day() + 2 + b % 30
            text = periodic_front(m // 60 % 24, m % 60, n, "%d.%dmg" % ((30 - n) // 2, 5 * ((30 - n) % 2)))
        else:
            text = "program trial single %d.%dmg/15m" % (a % 1, 1 + b % 5)
        if self.line(text)["ok"]:
            self.line("program confirm override" if override else "program confirm")

    def _minute_of_day(self):
        from firmware import isotime

        return isotime.seconds_of_day(isotime.parse(self.k.ok("time")["clock"])) // 60

    def bolus(self, a, b):
        self.line("bolus 0.%dmg over=%dm" % (1 + a % 5, 1 + b % 30))

    def ptm(self):
        self.line("ptm")

    def button(self):
        self.line("sim button")

    def prime(self, a):
        self.line("prime 0.%02d" % (1 + a % 30))

    def calibrate(self, a):
        steps = 1000 * (1 + a % 20)
        if self.line("calibrate begin %d disconnected" % steps)["ok"]:
            self.tip.run(MIN)
            # what really moved: the sim's pump head is the board's nominal 20,000 steps/mL
            ml = steps * 1000000 // SPM
            self.line("calibrate measured %d.%06d" % (ml // 1000000, ml % 1000000))
            self.line("program confirm")

    def refill(self, c, nobridge, add):
        text, ng = CONCS[c % len(CONCS)]
        if not self.line("refill begin")["ok"]:
            return
        rml = self.k.ok("status")["reservoir_ml"]
        if rml is not None:  # unknown after some faults: the refill goes on without it
            self.line("refill withdrawn %s" % rml)
            self.k.ok("sim withdraw %s" % rml)
        ml = 5 + add % 15
        d = self.line("refill add %d conc=%s" % (ml, text))
        if not d["ok"] and d["code"] == "E_CONFIRM":
            d = self.line("refill add %d conc=%s confirm" % (ml, text))
        if not d["ok"]:
            self.line("refill cancel")
            return
        self.k.ok("sim refill %d" % ml)
        r = self.line("refill confirm nobridge" if nobridge else "refill confirm")
        if r["ok"]:
            self.tip.refilled(ng)
            if ng > self.top:
                self.top = ng

    def time_set(self, a):
        # the wall clock moved by -12..+12 h, in half hours, from where it reads
        st = self.k.ok("time")
        from firmware import isotime

        now = isotime.parse(st["clock"])
        self.line("time set %s" % isotime.fmt(now + (a % 49 - 24) * 1800))

    def stop(self):
        self.line("stop")

    def start(self):
        self.line("ack")
        self.line("start")

    def power_cut(self, minutes):
        self.tip.power_cut(minutes * MIN)
        self.k.login()
