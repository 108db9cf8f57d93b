"""Random therapy sessions and the 24 h cap property, shared by the hypothesis and the seeded tests.

An op is a tuple: ("program", tenths of mg/day), ("bolus", tenths of mg), ("ptm",), ("stop",),
("start",), ("reset",) (the worst case of one checkpoint interval assumed), ("wait", minutes).
The pump is sampled every 5 minutes; every window of at most 24 h must hold no more than the cap
in force at its end, nor the drug's hard maximum, and the basal is never held (`suspended`) but
within a day of a reset.
"""

from therapy_kit import DAY_MS, TKit

SAMPLE_MS = 300000


def session(ops):
    """Run the ops; returns the largest window total seen (asserting each one as it goes)."""
    k = TKit()
    k.ok("ptm set dose=0.2mg lockout=30m max=6")
    hard = k.t.drug.max_daily * k.pump.steps_per_ml // k.t.conc
    win = Window(hard)
    win.add(k.pump.pump_ms(), k.steps(), hard)
    last_reset = -2 * DAY_MS
    for op in ops:
        _apply(k, op)
        if op[0] == "reset":
            last_reset = k.pump.pump_ms()
        # a bolus runs 15 min: the next op comes after it, so boluses can add up
        ms = op[1] * 60000 if op[0] == "wait" else 960000 if op[0] in ("bolus", "ptm") else 60000
        while ms > 0:
            dt = SAMPLE_MS if ms > SAMPLE_MS else ms
            k.run(dt)
            ms -= dt
            # the basal is held only for a reset's assumed steps: never because a bolus was let in
            if k.pump.state == "suspended":
                assert k.pump.pump_ms() - last_reset < DAY_MS + 600000, (
                    "suspended with no reset in the window"
                )
            c = k.t.cap_steps() if k.t.prog is not None else hard
            win.add(k.pump.pump_ms(), k.steps(), c)
    return win.worst


class Window:
    """Samples of the last 24 h in a fixed ring (a growing list fragments micropython's heap)."""

    N = 512

    def __init__(self, hard):
        self.hard = hard
        self.ts = [0] * self.N
        self.ss = [0] * self.N
        self.head = 0  # oldest sample
        self.n = 0
        self.worst = 0

    def add(self, t, s, c):
        assert self.n < self.N, "more samples in 24 h than the ring holds"
        i = (self.head + self.n) % self.N
        self.ts[i] = t
        self.ss[i] = s
        self.n += 1
        while t - self.ts[self.head] > DAY_MS:
            self.head = (self.head + 1) % self.N
            self.n -= 1
        d = s - self.ss[self.head]
        assert d <= c, "window ending %d ms holds %d steps, cap %d" % (t, d, c)
        assert d <= self.hard, "window ending %d ms holds %d steps, hard %d" % (t, d, self.hard)
        self.worst = d if d > self.worst else self.worst


def _apply(k, op):
    kind = op[0]
    if kind == "program":
        if k.js("program continuous %d.%dmg" % (op[1] // 10, op[1] % 10))["ok"]:
            k.js("program confirm override")
    elif kind == "bolus":
        k.js("bolus 0.%dmg override" % op[1])
    elif kind == "ptm":
        k.js("ptm")
    elif kind in ("stop", "start"):
        k.js(kind)
    elif kind == "reset":
        k.t.on_reset(k.t.worst_case_steps(60000))


def check(hist, hard):
    """Every window of (time, steps, cap) samples; returns the largest total."""
    w = Window(hard)
    for t, st, c in hist:
        w.add(t, st, c)
    return w.worst


# a day at a high basal first, so the boluses that follow meet a full window
PREFIX = [("program", 140), ("start",), ("wait", 1440)]


def lcg_ops(rng, n):
    ops = []
    for _ in range(n):
        r = rng.below(9)
        if r == 8:
            ops.append(("bolus", 1 + rng.below(5)))
        elif r == 0:
            ops.append(("program", 100 + rng.below(51)))
        elif r == 1:
            ops.append(("bolus", 1 + rng.below(5)))
        elif r == 2:
            ops.append(("ptm",))
        elif r == 3:
            ops.append(("stop",) if rng.below(3) == 0 else ("start",))
        elif r == 4:
            ops.append(("reset",))
        else:
            ops.append(("wait", 1 + rng.below(600)))
    return ops
