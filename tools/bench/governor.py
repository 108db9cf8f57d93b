"""Figures of the dose governor (issue 15), for `make bench`:

- the worst trailing-24 h dose out of the tip, as a ratio of the hard limit, over random sessions
  of 30 simulated days of every command that moves or changes drug (the test's own plug-flow
  reference, host_tests/tipkit.Tip, over the engine's step record);
- one simulated year of valid therapy (refills every 30 days, program changes, boluses, power
  cuts): steps delivered against steps programmed;
- the governor's cost per main-loop pass on the micropython unix port.

The sessions are the ops of the state-machine test (host_tests/governor_ops.py), run through the
whole firmware on the simulator with its main loop stepped every 10 simulated minutes (rate
changes, bolus ends and checkpoints still land exactly): the dose accounting is in closed form,
so a coarser step only makes the governor's view coarser (more conservative), never the count.

    python -m tools.bench.governor [--quick]
"""

import json
import multiprocessing
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "host_tests")
STEP_MS = 600000
DAY_MIN = 1440


def _kits():
    for p in (TESTS, os.path.join(TESTS, "fakes")):
        if p not in sys.path:
            sys.path.insert(0, p)


def _coarse(sim):
    # the main loop every 10 simulated minutes, and a checkpoint as often: a cut then loses up to
    # that much accounting, which recovery counts as delivered (more conservative, never less)
    sim.step_ms = lambda: STEP_MS
    boot = sim.boot

    def coarse_boot(cause):
        boot(cause)
        sim.pump.store.interval_ms = STEP_MS

    sim.boot = coarse_boot
    sim.pump.store.interval_ms = STEP_MS


def session(seed, days=30):
    """One random session; returns (worst ng in a trailing 24 h, hard limit ng, ops run)."""
    _kits()
    from governor_ops import HARD, Session
    from rig import Lcg

    r = Lcg(seed)
    s = Session(most=days * 144 + 400)
    _coarse(s.k.sim)
    left = days * DAY_MIN
    while left > 0:
        # waits of up to 12 h, the last one cut to the session's end
        left -= s.random_op(r, 14, 180, lambda a, most=left: min(10 * (1 + a % 72), most))
    return s.check(), HARD, s.ops


def sessions(n, days=30, procs=2):
    t0 = time.perf_counter()
    args = [(i, days) for i in range(1, n + 1)]
    if n > 1 and procs > 1:
        with multiprocessing.Pool(procs) as pool:
            got = pool.starmap(session, args)
    else:
        got = [session(i, d) for i, d in args]
    worst = max(got, key=lambda g: g[0])
    return {
        "sessions": n,
        "days_each": days,
        "worst_24h_ng": worst[0],
        "hard_limit_ng": worst[1],
        "worst_ratio": round(worst[0] / worst[1], 6),
        "ops_total": sum(g[2] for g in got),
        "wall_s": round(time.perf_counter() - t0, 1),
    }


def year(days=365):
    """Valid therapy for `days`: programs changed weekly, a bolus a week, a refill every 30 days,
    a power cut every 45 days. Steps delivered (the engine's record) against steps programmed."""
    _kits()
    from therapy_kit import TKit
    from tipkit import MIN, Tip, refill

    k = TKit()  # the simulator's own step (the sensors' sampling): a year of supervision too
    k.ok("rx catheter 0.2")
    tip = Tip(k, 10 * 1000000, catheter_nl=200000, dt=DAY_MIN * MIN, most=days + 40)
    expected = 0
    cuts = 0
    rates = (3, 4, 5, 6, 4)  # mg/day at 10 mg/mL: 6,000 .. 12,000 steps a day
    k.ok("program continuous 3mg")
    k.ok("program confirm")
    k.ok("start")
    for day in range(days):
        mg = rates[(day // 7) % len(rates)]
        if day % 7 == 0 and day:
            k.ok("program continuous %dmg" % mg)
            k.ok("program confirm")
        if day % 30 == 29:
            # before the day's bolus: a refill stops the pump, and a bolus in flight is cancelled.
            # The refill visit changes the battery too: the sim's cell drains to critical (and
            # stops the pump) in about six months
            k.ok("sim battery 4.1")
            refill(k, tip, "18")
            if k.ok("status")["state"] != "running":
                k.ok("start")
        if day % 45 == 44:
            # before the day's bolus too: a bolus in flight at a cut is dropped, never repeated
            tip.power_cut(0)
            cuts += 1
            k.ok("ack")
            if k.ok("status")["state"] != "running":
                k.ok("start")
        if day % 7 == 3:
            d = k.ok("bolus 0.5mg over=15m")
            expected += d["steps"]
        expected += mg * 2000  # mg/day x 20,000 steps/mL / 10 mg/mL
        tip.run(DAY_MIN * MIN)
    got = tip.net()
    return {
        "days": days,
        "programmed_steps": expected,
        "delivered_steps": got,
        "difference_steps": got - expected,
        "power_cuts": cuts,
        "dose_cap_raised": k.counts.get("dose_cap", 0),
    }


def pass_cost(quick):
    """The governor's own service() per main-loop pass on the micropython unix port (us)."""
    from tools import bench

    return bench.micropython("governor_mp.py", ["200" if quick else "5000"], timeout=600)


def measure(quick=False):
    parts = (
        ("random_sessions", lambda: sessions(2 if quick else 1000, days=2 if quick else 30)),
        ("year", lambda: year(20 if quick else 365)),
        ("pass_cost", lambda: pass_cost(quick)),
    )
    out = {}
    for name, fn in parts:
        try:
            out[name] = fn()
        except Exception as e:  # one part's failure must not lose the half hour of the others
            out[name] = {"error": "%s: %s" % (type(e).__name__, e)}
    return out


if __name__ == "__main__":
    print(json.dumps(measure("--quick" in sys.argv), indent=1))
