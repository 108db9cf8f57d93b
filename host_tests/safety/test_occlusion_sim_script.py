# cpython-only: pipes a script through `make -s sim` (a subprocess).
"""An occlusion caught, acknowledged, cleared and delivery resumed, through the piped simulator."""

import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = """json on
login clinician 1234
rx drug baclofen 2000mcg/mL
program continuous 200mcg
program confirm
start
sim run 6h
sim occlude on
sim run 1d
status
alarms
sim model
login clinician 1234
start
ack
sim occlude off
start
sim run 6h
status
"""


def run():
    res = subprocess.run(
        ["make", "-s", "sim", "SIM_ARGS=--seed 4"],
        input=SCRIPT,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    out = []
    for line in res.stdout.splitlines():
        while line.startswith("pump> "):
            line = line[6:]
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_occlusion_caught_acked_cleared_and_resumed():
    r = run()
    assert len(r) == 19, r
    assert all(d["ok"] for d in r[:12]), r[:12]
    st = r[9]
    assert st["state"] == "alarm"
    occl = [a for a in st["alarms"] if a["code"] == "OCCLUSION"]
    assert len(occl) == 1 and occl[0]["priority"] == "high" and not occl[0]["acked"]
    model = r[11]["model"]
    assert model["pushed_at_stop_ul"] is not None and float(model["pushed_at_stop_ul"]) <= 20
    assert r[13]["ok"] is False and r[13]["code"] == "E_STATE"  # start refused before ack
    assert r[14]["ok"] and occl[0]["id"] in r[14]["acked"]
    assert r[15]["ok"] and float(r[15]["released_ul"]) <= 2  # no bolus when it clears
    assert r[16]["ok"] and r[16]["state"] == "running"
    end = r[18]
    assert end["state"] == "running"
    assert "OCCLUSION" not in [a["code"] for a in end["alarms"]]
    assert end["delivered_total_steps"] > st["delivered_total_steps"]
