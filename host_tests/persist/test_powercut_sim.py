# cpython-only: runs the simulator (micropython) twice on the same --state directory.
"""`--state DIR`, `sim power-cut [DURATION]` and the clean shutdown at end of input, as a user drives them."""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from tools.sim import launch  # noqa: E402

PROGRAM = "login clinician 1234\nrx drug morphine 10mg/mL\nprogram continuous 10mg\nprogram confirm\nstart\n"


def _json(script, args):
    res = subprocess.run(
        launch.command(list(args)),
        input=("json on\n" + script).encode(),
        env=launch.env(),
        cwd=ROOT,
        capture_output=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr.decode()[-2000:]
    lines = [ln.replace("pump> ", "") for ln in res.stdout.decode().splitlines()]
    return [json.loads(ln) if ln.startswith("{") else ln for ln in lines if ln.strip()]


def test_state_dir_goes_on_where_it_stopped_without_unexpected_reset():
    with tempfile.TemporaryDirectory() as d:
        out = _json(PROGRAM + "sim run 2h\nstatus\n", ["--state", d])
        before = out[-1]
        assert before["state"] == "running" and before["delivered_total_steps"] == 1666
        assert sorted(n for n in os.listdir(d) if n.startswith(("acct", "rx", "bins"))) == [
            "acct.0",
            "acct.1",
            "bins.0",
            "bins.1",
            "rx.0",
            "rx.1",
        ]
        after = _json("status\nsim run 1h\nstatus\n", ["--state", d])
        s0, s1 = after[1], after[-1]
        codes = [a["code"] for a in s0["alarms"]]
        assert "UNEXPECTED_RESET" not in codes and "CLOCK" not in codes
        assert s0["clock"] == "2026-01-01T02:00:00" and s0["clock_uncertain"] is False
        assert s0["delivered_total_steps"] == 1666 and s0["state"] == "running"
        assert s1["delivered_total_steps"] - 1666 in (833, 834)  # the program goes on


def test_power_cut_restarts_plain_logged_out_with_uncertain_clock():
    with tempfile.TemporaryDirectory() as d:
        out = _json(
            PROGRAM + "sim run 30m\nsim power-cut 10m\nstatus\nprogram show\nsim run 1h\n", ["--state", d]
        )
        cut = [x for x in out if isinstance(x, dict) and "power_cut_ms" in x]
        assert len(cut) == 1 and cut[0]["ok"] and cut[0]["power_cut_ms"] == 600000
        status = "\n".join(x for x in out if isinstance(x, str))
        assert "UNEXPECTED_RESET" in status and "CLOCK" in status  # plain text: not JSON any more
        assert "clock_uncertain: True" in status and "state: running" in status
        # restored from the last checkpoint (at most a minute old), not 00:40 of the virtual clock
        assert "clock: 2026-01-01T00:29:" in status or "clock: 2026-01-01T00:30:00" in status
        assert "E_AUTH" in status  # logged out
        log = _json("log 30\n", ["--state", d])[-1]
        events = [e["event"] for e in log["entries"]]
        assert "reset" in events and "shutdown" in events
        cuts = [
            e["detail"]
            for e in log["entries"]
            if e["event"] == "reset" and e["detail"]["cause"] == "power-cut"
        ]
        assert len(cuts) == 1 and cuts[0]["assumed_steps"] == 14 and cuts[0]["clean"] is False
        last = [e["detail"] for e in log["entries"] if e["event"] == "reset"][-1]
        assert last["cause"] == "power-on" and last["clean"] is True  # the piped run ended cleanly


def test_power_cut_argument_errors_change_nothing():
    out = _json("sim power-cut 5x\nsim power-cut 1m 2m\nsim power-cut -1m\nstatus\n", [])
    assert [r["code"] for r in out[1:4]] == ["E_SYNTAX", "E_SYNTAX", "E_SYNTAX"]
    assert out[4]["ok"] and "UNEXPECTED_RESET" not in [a["code"] for a in out[4]["alarms"]]
