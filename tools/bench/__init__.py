"""`make bench`: measure every figure the issues ask for, print them, write bench/results.json.

A figure is measured here, never asserted in a test. Foundation figures
(issue 3) and the memory budget (issue 8) are measured here; the other
areas' figures come from their own `measure()` functions (tools/bench/*.py),
called when the module exists and recorded as unavailable when it does not.

    python -m tools.bench [--quick] [--out PATH]

`--quick` is a tiny run for tests of the bench's structure, not a figure.
"""

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from typing import Any

from tools.pumpctl import conn
from tools.sim import launch

ROOT = launch.ROOT
OTHERS = (
    ("occlusion", "tools.bench.occlusion"),
    ("backoff", "tools.bench.backoff"),
    ("persistence", "tools.bench.persist"),
    ("shell", "tools.bench.shell"),
    ("board", "tools.bench.board"),
    ("board_cuts", "tools.bench.board_cuts"),
    ("board_soak", "tools.bench.board_soak"),
    ("board_profile", "tools.bench.board_profile"),
    ("governor", "tools.bench.governor"),
    ("logcap", "tools.bench.logcap"),
)
SIM_TARGET_S = 26  # SPEC 10: 30 simulated days in at most 26 s
HEAP_BUDGET = "256K"  # issue 8: the firmware must run in 256 KB on the 64-bit unix port


def micropython(script, args, heap="1M", timeout=1800) -> dict[str, Any]:
    res = subprocess.run(
        [launch.micropython_path(), "-X", "heapsize=" + heap, os.path.join(ROOT, "tools", "bench", script)]
        + args,
        env=launch.env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = res.stdout.strip().splitlines()
    if res.returncode != 0 or not lines:
        raise RuntimeError("%s failed: %s" % (script, (res.stdout + res.stderr)[-800:]))
    return json.loads(lines[-1])


def tick_figures(quick):
    n = "20000" if quick else "300000"
    out = {}
    # a clinical rate (1 mL/day at 20,000 steps/mL) and the most work a tick can do (a step every tick)
    for name, rate in (("clinical_1ml_day", 20000), ("max_step_every_tick", 86400000)):
        out[name] = micropython("tick_mp.py", [n, str(rate)])
    return out


def sim_speed(quick):
    """Wall seconds for `sim run` of 30 days with a continuous program, piped.

    0.5 mL/day: 15 mL in 30 days, so the 20 mL reservoir never reaches its
    residual and the pump delivers (and is supervised) the whole time.
    """
    days = 1 if quick else 30
    link = conn.SimLink(extra=["--rate", "0.5"], timeout=3600)
    pump = conn.Pump(link)
    try:
        c0 = cpu_s(link.pid())
        t0 = time.perf_counter()
        pump.call("sim run %dd" % days)
        wall = time.perf_counter() - t0
        c1 = cpu_s(link.pid())
        st = pump.call("status")
    finally:
        pump.close()
    sim_s = days * 86400
    cpu = round(c1 - c0, 3) if c0 is not None and c1 is not None else None
    return {
        "days": days,
        "wall_s": round(wall, 3),
        # the machine is shared: the simulator's own CPU time is what "on one core" means
        "cpu_s": cpu,
        "sim_s_per_cpu_s": round(sim_s / cpu) if cpu else None,
        "sim_s_per_wall_s": round(sim_s / wall),
        "wall_s_per_30_days": round(wall * 30 / days, 2),
        "cpu_s_per_30_days": round(cpu * 30 / days, 2) if cpu else None,
        "target_wall_s_per_30_days": SIM_TARGET_S,
        "delivered_total_steps": st.get("delivered_total_steps"),
        "expected_steps": 10000 * days,
    }


def _mem_run(days, heap) -> dict[str, Any]:
    try:
        return micropython("mem_mp.py", [str(days), "1"], heap=heap)
    except RuntimeError as e:
        # the firmware did not even boot in this heap
        return {"error": str(e).splitlines()[-1][:300]}


def cpu_s(pid):
    """User plus system CPU seconds of a process (Linux /proc), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def firmware_modules():
    out = []
    for top in ("firmware", "drivers"):
        for dirpath, _dirs, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith(".py"):
                    rel = os.path.relpath(os.path.join(dirpath, f), ROOT)[:-3].replace(os.sep, ".")
                    out.append(rel[: -len(".__init__")] if rel.endswith(".__init__") else rel)
    return sorted(out)


def code_bytes(quick):
    """Heap each firmware module takes once imported (its code and module-level data), largest first."""
    mods = firmware_modules()
    if quick:
        mods = [m for m in mods if m in ("firmware.dose", "firmware.trend", "firmware.shell.cmd_trend")]
    alone = {}
    for m in mods:
        try:
            alone[m] = micropython("modmem_mp.py", ["one", m], heap="2M")
        except RuntimeError:
            alone[m] = None
    order = sorted((m for m in mods if alone[m] is not None), key=lambda m: alone[m])
    own = micropython("modmem_mp.py", ["each"] + order, heap="2M")
    top = sorted(own.items(), key=lambda kv: -kv[1])
    return {
        "total": sum(own.values()),
        "largest": dict(top[:12]),
        "failed_to_import": sorted(m for m in mods if alone[m] is None),
    }


def memory(quick):
    """The firmware in the 256 KB budget; if it does not fit, the smallest heap that runs a day."""
    days = 1 if quick else 7
    out = _mem_run(days, HEAP_BUDGET)
    out["heap"] = HEAP_BUDGET
    out["fits"] = not out.get("error")
    if out["fits"]:
        out["free_fraction_after_boot"] = round(out["free_after_boot"] / out["heap_total"], 3)
        out["lowest_free_fraction"] = round(out["lowest_free_live"] / out["heap_total"], 3)
        return out
    lo, hi = 256, 2048  # KB: 256 failed; find the smallest multiple of 16 KB that runs a simulated day
    if _mem_run(1, "%dK" % hi).get("error"):
        out["min_heap_kb"] = None
        return out
    while hi - lo > 16:
        mid = (lo + hi) // 32 * 16
        if _mem_run(1, "%dK" % mid).get("error"):
            lo = mid
        else:
            hi = mid
    out["min_heap_kb"] = hi
    at = _mem_run(days, "%dK" % (2 * hi))
    at["heap"] = "%dK" % (2 * hi)
    out["at_twice_min_heap"] = at
    return out


def others(quick, areas=OTHERS):
    got = {}
    missing = []
    for name, mod in areas:
        try:
            m = importlib.import_module(mod)
        except ImportError:
            missing.append(name)
            continue
        try:
            fn = m.measure
            got[name] = fn(quick=quick) if _takes_quick(fn) else fn()
        except Exception as e:  # one area's failure must not hide the others' figures
            got[name] = {"error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()[-1500:]}
    return got, missing


def _takes_quick(fn):
    import inspect

    try:
        return "quick" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


OWN = ("tick", "sim_speed", "memory", "code_bytes")


def run(quick=False, areas=OTHERS, only=None):
    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "quick": quick,
        "host": {"machine": platform.machine(), "python": platform.python_version()},
        "figures": {},
        "unavailable": [],
        "errors": {},
    }
    own = (("tick", tick_figures), ("sim_speed", sim_speed), ("memory", memory), ("code_bytes", code_bytes))
    for name, fn in own:
        if only is not None and name not in only:
            continue
        t0 = time.perf_counter()
        try:
            results["figures"][name] = fn(quick)
        except Exception as e:
            results["errors"][name] = "%s: %s" % (type(e).__name__, e)
        _progress(name, time.perf_counter() - t0)
    if only is not None:
        areas = tuple(a for a in areas if a[0] in only)
    got, missing = others(quick, areas)
    results["figures"].update(got)
    results["unavailable"] = missing
    results["measured"] = {name: results["when"] for name in results["figures"]}
    return results


def merge(old, new):
    """`new` (some areas, `--only`) laid over an earlier full run: each figure keeps the time it
    was measured at, in `measured`."""
    if old.get("quick") != new["quick"]:
        raise SystemExit(
            "bench: --only over a %s run: run the whole bench" % ("quick" if old.get("quick") else "full")
        )
    out = dict(old)
    out["figures"] = dict(old.get("figures", {}), **new["figures"])
    when = {n: old.get("when") for n in old.get("figures", {})}
    when.update(old.get("measured", {}))
    when.update(new["measured"])
    out["measured"] = when
    errs = {k: v for k, v in old.get("errors", {}).items() if k not in new["figures"]}
    errs.update(new["errors"])
    out["errors"] = errs
    return out


def _progress(name, s):
    print("  measured %-10s in %.1f s" % (name, s), file=sys.stderr)


def _fmt(v):
    if isinstance(v, float):
        return "%.4g" % v
    return str(v)


def table(results):
    lines = []
    for group, figs in results["figures"].items():
        lines += _rows(group, figs)
    for name in results["unavailable"]:
        lines.append("%-60s %s" % (name, "unavailable (module not there yet)"))
    for name, err in results["errors"].items():
        lines.append("%-60s %s" % (name, "ERROR " + err))
    return "\n".join(lines)


def _rows(prefix, v):
    if isinstance(v, dict):
        out = []
        for k in sorted(v):
            if k != "trace":
                out += _rows(prefix + "." + k, v[k])
        return out
    return ["%-60s %s" % (prefix, _fmt(v))]


def main(argv=None):
    p = argparse.ArgumentParser(prog="bench")
    p.add_argument("--quick", action="store_true", help="tiny run (structure only, not figures)")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results.json"))
    p.add_argument("--only-own", action="store_true", help="skip the other areas' measure()")
    names = OWN + tuple(a[0] for a in OTHERS)
    p.add_argument(
        "--only",
        action="append",
        choices=names,
        metavar="AREA",
        help="measure only this area (repeatable) and merge it into the --out file: %s" % ", ".join(names),
    )
    args = p.parse_args(argv)
    results = run(quick=args.quick, areas=() if args.only_own else OTHERS, only=args.only)
    if args.only and os.path.exists(args.out):
        with open(args.out) as f:
            results = merge(json.load(f), results)
    print(table(results))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    print("written to %s" % args.out)
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
