"""Occlusion figures on the simulator (issue 6), for `make bench` (tools/bench calls measure()).

Each run is the real firmware on the MicroPython unix port with the sim
board's physical model, driven by a piped script:

- detection: at 0.1, 1 and 10 mL/day, for each seed and each line
  compliance 0.5, 1 and 2 uL/kPa, a complete blockage after 2 h of normal
  delivery; the figure is the volume pushed into the blockage before the
  motor stopped (target <= 20 uL), then the volume the line releases as a
  bolus when the blockage clears after the back-off (target <= 2 uL), the
  volume drawn back from the patient then (SPEC 6: none), and that ack +
  start resumes delivery;
- false alarms: 30 days of normal delivery at each rate and seed (noise,
  offsets, cough and posture spikes), refilled daily at the higher rates so
  the reservoir never empties; the figure is the number of days on which an
  OCCLUSION alarm was seen (target 0).
"""

import json
import subprocess

from tools.sim import launch

RATES = ("0.1", "1", "10")
SEEDS = (1, 2, 3, 4, 5)
COMPLIANCES = ("0.5", "1", "2")
TARGET_PUSHED_UL = 20
TARGET_BOLUS_UL = 2


def run_script(lines, rate, seed, timeout=900):
    """Pipe `lines` into the simulator; returns the JSON replies in order."""
    res = subprocess.run(
        launch.command(["--rate", rate, "--seed", str(seed)]),
        input="\n".join(["json on"] + list(lines)) + "\n",
        env=launch.env(),
        cwd=launch.ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    out = []
    for line in res.stdout.splitlines():
        while line.startswith("pump> "):
            line = line[6:]
        if line.startswith("{"):
            out.append(json.loads(line))
    if res.returncode != 0:
        raise RuntimeError("simulator failed: " + (res.stdout + res.stderr)[-600:])
    return out


def _codes(status):
    return [a["code"] for a in status.get("alarms", [])]


def detection(rate, seed, compliance):
    # long enough to push 60 uL at this rate, so a missed blockage shows as a large figure
    hours = int(60 * 24 / (float(rate) * 1000)) + 1
    r = run_script(
        [
            "sim model compliance=" + compliance,
            "sim run 2h",
            "sim occlude on",
            "sim run %dh" % hours,
            "status",
            "sim model",
            "sim occlude off",
            "ack",
            "login clinician 1234",
            "start",
            "sim run 1h",
            "status",
        ],
        rate,
        seed,
    )
    st, model, cleared, start, after = r[5], r[6]["model"], r[7], r[10], r[12]
    pushed = model["pushed_at_stop_ul"]
    return {
        "compliance_ul_kpa": float(compliance),
        "declared": "OCCLUSION" in _codes(st) and st["state"] == "alarm",
        "pushed_ul": None if pushed is None else float(pushed),
        "peak_kpa": float(model["peak_kpa"]),
        "bolus_on_clear_ul": None if cleared.get("released_ul") is None else float(cleared["released_ul"]),
        "drawn_back_on_clear_ul": None
        if cleared.get("drawn_back_ul") is None
        else float(cleared["drawn_back_ul"]),
        "resumed": start.get("ok") is True
        and after["state"] == "running"
        and "OCCLUSION" not in _codes(after),
    }


def false_alarms(rate, seed, days):
    lines = []
    daily = float(rate) >= 1
    # a day's refill tops up a little less than a day's delivery: a full day's worth can pass
    # the reservoir's capacity, refused (E_RANGE), which left the pump in refill, not delivering
    add = "%.3f" % (float(rate) * 0.99)
    for _ in range(days):
        lines += ["sim run 1d", "status", "login clinician 1234"]
        if daily:
            lines += ["refill begin", "refill add " + add, "sim refill " + add, "refill confirm"]
        lines += ["ack", "start"]
    r = run_script(lines, rate, seed, timeout=1800)
    seen = 0
    states = []
    for d in r:
        if "state" in d and "alarms" in d and "mode" in d:
            states.append(d["state"])
            if "OCCLUSION" in _codes(d):
                seen += 1
    refused = sum(1 for d in r if d.get("ok") is False)
    return {
        "days": days,
        "occlusion_days": seen,
        "states": sorted(set(states)),
        "days_delivering": states.count("running"),  # a run that was not delivering proves nothing
        "refused_commands": refused,
    }


def measure(quick=False):
    seeds = SEEDS[:1] if quick else SEEDS
    days = 2 if quick else 30
    out = {}  # type: dict
    out["targets"] = {
        "pushed_ul": TARGET_PUSHED_UL,
        "bolus_ul": TARGET_BOLUS_UL,
        "drawn_back_ul": 0,
        "false_alarms": 0,
    }
    worst_pushed = 0.0
    worst_bolus = 0.0
    worst_drawn = 0.0
    false_total = 0
    all_ok = True
    delivering = True
    for rate in RATES:
        per = {}
        for seed in seeds:
            det = [detection(rate, seed, c) for c in COMPLIANCES]
            fa = false_alarms(rate, seed, days)
            for d in det:
                p = d["pushed_ul"] if d["pushed_ul"] is not None else 1e9
                b = d["bolus_on_clear_ul"] if d["bolus_on_clear_ul"] is not None else 1e9
                worst_pushed = max(worst_pushed, p)
                worst_bolus = max(worst_bolus, b)
                dr = d["drawn_back_on_clear_ul"]
                worst_drawn = max(worst_drawn, 1e9 if dr is None else dr)
                all_ok = all_ok and d["declared"] and d["resumed"]
            false_total += fa["occlusion_days"]
            delivering = delivering and fa["days_delivering"] == days and fa["refused_commands"] == 0
            per["seed_%d" % seed] = {"detection": det, "false_alarms": fa}
        out["rate_%s_ml_day" % rate] = per
    out["worst_pushed_ul"] = round(worst_pushed, 3)
    out["worst_bolus_ul"] = round(worst_bolus, 3)
    out["worst_drawn_back_ul"] = round(worst_drawn, 3)  # SPEC 6: nothing drawn back
    out["false_alarm_days"] = false_total
    out["days_per_false_alarm_run"] = days
    out["all_declared_and_resumed"] = all_ok
    out["false_alarm_runs_delivered_every_day"] = delivering
    out["meets_targets"] = (
        all_ok
        and delivering
        and worst_pushed <= TARGET_PUSHED_UL
        and worst_bolus <= TARGET_BOLUS_UL
        and worst_drawn == 0
        and false_total == 0
    )
    return out


if __name__ == "__main__":
    import sys

    q = "--quick" in sys.argv
    print(json.dumps(measure(quick=q), indent=1, sort_keys=True))
