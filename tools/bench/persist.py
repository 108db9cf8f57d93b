"""Persistence figures for `make bench`: worst accounting loss over >= 1,000 injected
power cuts, and the restart time.

The cuts run in-process (the arithmetic is the same on both interpreters and
CPython is faster): every write step of a therapy scenario, the same again
with the boot after the cut also cut, then cuts at random steps landing at
random points inside writes, until at least `cuts` have been made. The
restart time and checkpoint cost are measured on the MicroPython unix port.
"""

import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOST_TESTS = os.path.join(ROOT, "host_tests")
CHECKPOINTS_30_DAYS = 30 * 1440


def _paths():
    for p in (os.path.join(HOST_TESTS, "fakes"), HOST_TESTS, ROOT):
        if p not in sys.path:
            sys.path.insert(0, p)


def time_cuts(n, seed=2027):
    """Cuts at random instants of steady delivery (10 mg/day): the loss a real cut causes.

    Loss per cut: the ledger's total just before the cut (folded) minus what the
    boot restored; it must stay within what recovery counted as worst case.
    """
    _paths()
    import rig  # pyright: ignore[reportMissingImports]  (host_tests, put on sys.path above)
    from faultfs import FaultFs  # pyright: ignore[reportMissingImports]
    from persistkit import World  # pyright: ignore[reportMissingImports]

    g = rig.Lcg(seed)
    w = World(FaultFs())
    for line in ("login clinician 1234", "rx drug morphine 10mg/mL", "program continuous 10mg"):
        w.cmd(line)
    w.cmd("program confirm")
    w.cmd("start")
    worst_steps = worst_ms = 0
    short = 0
    for _ in range(n):
        w.run(1 + g.below(600000))  # anywhere in the next 10 minutes, to the millisecond
        p = w.pump
        pm = p.pump_ms()
        p.ledger.fold(pm)
        live = p.ledger.total_steps
        delivering = p.engine.running()
        w.reboot()
        p = w.pump
        loss = live - p.ledger.total_steps
        if loss > p.store.boot_info.get("assumed_steps", 0) or loss < 0:
            short += 1
        worst_steps = max(worst_steps, loss)
        if delivering:
            worst_ms = max(worst_ms, pm - p.pump_ms())
    return {"cuts": n, "worst_loss_steps": worst_steps, "worst_lost_ms": worst_ms, "not_covered": short}


def cut_campaign(cuts=1000):
    _paths()
    import rig  # pyright: ignore[reportMissingImports]  (host_tests, put on sys.path above)
    from faultfs import FaultFs
    from persistkit import World, cut_and_check, scenario  # pyright: ignore[reportMissingImports]

    fs = FaultFs()
    w = World(fs)
    fs.power_on()
    scenario(w, lambda name: None)
    steps = fs.steps
    w = None
    plan = [(c, None) for c in range(1, steps + 1)]
    plan += [(c, 1 + c % 9) for c in range(1, steps + 1)]
    g = rig.Lcg(2026)
    for _ in range(max(0, cuts // 5 - len(plan))):
        plan.append((1 + g.below(steps), None))
    worst = {"loss_steps": 0, "lost_ms": 0}
    failures = []
    bound = assumed_max = 0
    for cut, boot_cut in plan:
        bad, loss, mark, _, facts = cut_and_check(cut, rng=g, cut_boot_at=boot_cut)
        if bad:
            failures.append({"cut": cut, "boot_cut": boot_cut, "mark": mark, "problems": bad})
        worst["loss_steps"] = max(worst["loss_steps"], loss)
        worst["lost_ms"] = max(worst["lost_ms"], facts["lost_ms"])
        bound = facts["bound"]
        assumed_max = max(assumed_max, facts["assumed"])
    tc = time_cuts(max(cuts - len(plan), 0))
    loss = max(worst["loss_steps"], tc["worst_loss_steps"])
    return {
        "cuts": len(plan) + tc["cuts"],
        "cuts_at_write_steps": len(plan),
        "cuts_at_random_instants": tc["cuts"],
        "write_steps_in_scenario": steps,
        "worst_loss_steps": loss,
        "worst_loss_ul": "%.2f" % (loss * 0.05),  # 20,000 steps/mL: 0.05 uL a step
        # pump time between the last checkpoint and a cut while delivering
        "worst_lost_pump_time_s": max(worst["lost_ms"], tc["worst_lost_ms"]) / 1000,
        "losses_not_covered_by_worst_case": tc["not_covered"],
        "checkpoint_interval_s": 60,
        "bound_steps_one_interval_at_top_rate": bound,
        "worst_assumed_steps": assumed_max,
        "failures": len(failures),
        "first_failures": failures[:3],
    }


def mp_figures(boots=20, checkpoints=500):
    mp = os.path.join(ROOT, ".venv", "bin", "micropython")
    env = dict(
        os.environ,
        MICROPYPATH=os.pathsep.join([os.path.join(HOST_TESTS, "fakes"), HOST_TESTS, ROOT, ".frozen"]),
    )
    with tempfile.TemporaryDirectory() as d:
        res = subprocess.run(
            [
                mp,
                "-X",
                "heapsize=1M",
                os.path.join(ROOT, "tools", "bench", "persist_mp.py"),
                d,
                str(boots),
                str(checkpoints),
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
    lines = res.stdout.strip().splitlines()
    if res.returncode != 0 or not lines:
        raise RuntimeError("bench_persist_mp failed: " + (res.stdout + res.stderr)[-800:])
    out = json.loads(lines[-1])
    out["restart_worst_ms"] = round(out["restart_worst_us"] / 1000, 2)
    out["restart_target_ms"] = 2000
    out["checkpoints_per_30_days"] = CHECKPOINTS_30_DAYS
    out["checkpoint_s_per_30_days_ram"] = round(out["checkpoint_us_ram"] * CHECKPOINTS_30_DAYS / 1e6, 2)
    out["checkpoint_s_per_30_days_host_dir"] = round(
        out["checkpoint_us_host_dir"] * CHECKPOINTS_30_DAYS / 1e6, 2
    )
    out["checkpoint_s_per_30_days_sim_state_dir"] = round(
        out["checkpoint_us_sim_state_dir"] * CHECKPOINTS_30_DAYS / 1e6, 2
    )
    return out


def measure(quick=False):
    out = cut_campaign(120 if quick else 1000)
    out.update(mp_figures(3 if quick else 20, 50 if quick else 500))
    return out


if __name__ == "__main__":
    print(json.dumps(measure("--quick" in sys.argv), indent=1))
