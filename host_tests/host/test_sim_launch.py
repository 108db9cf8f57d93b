# cpython-only: runs the simulator (micropython) as a user would, piped and on a terminal.
"""`make sim` piped and interactive: the firmware on the unix port against the sim board."""

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from ttykit import Tty  # noqa: E402

from tools.sim import launch  # noqa: E402


def run_piped(script, args=()):
    res = subprocess.run(
        launch.command(list(args)),
        input=script.encode(),
        env=launch.env(),
        cwd=ROOT,
        capture_output=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr.decode()[-2000:]
    return [ln.replace("pump> ", "") for ln in res.stdout.decode().splitlines() if ln.replace("pump> ", "")]


def test_piped_day_delivers_programmed_steps():
    out = run_piped("json on\nstatus\nsim run 1d\nstatus\nsim run 5d\nstatus\n", ["--rate", "1.3"])
    replies = [json.loads(x) for x in out]
    assert replies[0] == {"ok": True, "json": True}
    s0, s1, s2 = replies[1], replies[3], replies[5]
    assert s0["state"] == "running" and s0["delivered_total_steps"] == 0
    per_day = 26000  # 1.3 mL/day at 20,000 steps/mL
    assert abs(s1["delivered_total_steps"] - per_day) <= 1
    assert abs(s2["delivered_total_steps"] - 6 * per_day) <= 1
    assert s1["clock"] == "2026-01-02T00:00:00" and s2["clock"] == "2026-01-07T00:00:00"


def test_piped_is_deterministic_and_answers_each_line():
    script = "status\nsim run 2h\nbogus\n\n   \nstatus\n"
    a = run_piped(script, ["--rate", "2"])
    b = run_piped(script, ["--rate", "2"])
    assert a == b
    assert any("E_UNKNOWN" in x for x in a)


def test_make_sim_piped_through_make():
    res = subprocess.run(
        ["make", "-s", "sim", "SIM_ARGS=--rate 1"],
        input=b"json on\nsim run 1d\nstatus\n",
        cwd=ROOT,
        capture_output=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr.decode()[-2000:]
    last = json.loads(res.stdout.decode().splitlines()[-2].replace("pump> ", ""))
    assert abs(last["delivered_total_steps"] - 20000) <= 1


def test_interactive_on_a_terminal():
    t = Tty(["--rate", "1"])
    try:
        assert t.read_until(b"pump> ")
        t.send(b"json on\n")
        assert t.read_until(b'"json": true')
        time.sleep(1.5)  # interactively, virtual time follows wall time
        t.send(b"status\n")
        assert t.read_until(b'"state": "running"')
        line = [x for x in t.buf.split(b"\n") if b'"state": "running"' in x][-1]
        status = json.loads(line[line.index(b"{") :])
        assert status["delivered_total_steps"] >= 0
        assert status["clock"] != "2026-01-01T00:00:00"
        t.send(b"\x04")  # end of input on a terminal: Ctrl-D on an empty line
        assert t.p.wait(timeout=60) == 0
    finally:
        t.close()
