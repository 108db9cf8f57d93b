# cpython-only: starts background simulators through pumpctl and stops them again.
"""`pumpctl --state DIR`: one simulated pump that stays alive between calls (issue 17).

The first call starts a background simulator for DIR (tools/sim/serve.py) and
every later call reaches it on the `socket://` URL in `DIR/.simserve`, as it
would reach a board. So a refill's bridge bolus goes on into the next call,
calls add no entries of their own to the log (no boot, no shutdown), the log's
times never go backwards, virtual time stands still between calls, two calls
at once take turns on a lock, and a stale URL file (a dead process, an earlier
boot of the host, a pid now someone else's) is replaced by a fresh start from
DIR. conftest stops every simulator a test leaves running.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest
import simservers

from tools.pumpctl import cli, simserver
from tools.sim import serve

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RX = os.path.join(ROOT, "docs", "examples", "rx-morphine.toml")  # morphine 10 mg/mL, 2 mg/day


@pytest.fixture(autouse=True)
def _simulator(monkeypatch):
    monkeypatch.setenv("PUMPCTL_PORT", "sim")  # never a Pico plugged into the test machine
    monkeypatch.delenv("PUMPCTL_PIN", raising=False)


def fresh():
    return os.path.join(tempfile.mkdtemp(prefix="pumpctl-serve-"), "pump")


def run(capsys, state, *argv):
    rc = cli.main(["--state", state] + list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def ok(capsys, state, *argv):
    rc, out, err = run(capsys, state, *argv)
    assert rc == 0, err
    return out


def status(capsys, state):
    return json.loads(ok(capsys, state, "status", "--json"))


def log(capsys, state):
    return [json.loads(x) for x in ok(capsys, state, "log").splitlines()]


def server_pid(state):
    d = simserver.info(state)
    assert d is not None, "no background simulator for %s" % state
    return d["pid"]


def gone(pid, within=30.0):
    limit = time.monotonic() + within
    while time.monotonic() < limit:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def times_never_go_back(entries):
    times = [e["time"] for e in entries]
    return all(a <= b for a, b in zip(times, times[1:])), times


def test_one_process_serves_every_call_and_calls_log_nothing(capsys):
    state = fresh()
    first = status(capsys, state)
    assert first["state"] == "stopped" and first["clock"] == "2026-01-01T00:00:00"
    pid = server_pid(state)
    boot = log(capsys, state)
    assert [e["event"] for e in boot].count("reset") == 1  # the one boot, at the first call
    for _ in range(4):
        status(capsys, state)
        ok(capsys, state, "send", "rx")
    ok(capsys, state, "send", "sim run 1h")
    again = log(capsys, state)
    assert server_pid(state) == pid  # the same simulated pump, not a new one per call
    # ten calls later, only what the pump itself did in its hour (none of it a reset or shutdown)
    assert again[: len(boot)] == boot
    new = again[len(boot) :]
    assert not [e for e in new if e["event"] in ("reset", "shutdown", "therapy_reset")], new
    ok_, times = times_never_go_back(again)
    assert ok_, times
    assert status(capsys, state)["clock"] == "2026-01-01T01:00:00"


def test_a_refills_bridge_bolus_goes_on_into_the_next_calls(capsys):
    state = fresh()
    ok(capsys, state, "program", RX, "--yes", "--pin", "1234", "--start")
    ok(capsys, state, "send", "sim run 1d")
    before = status(capsys, state)
    assert before["state"] == "running" and abs(before["delivered_total_steps"] - 4000) <= 1
    # the syringe at the port, then the refill workflow at twice the concentration: a bridge bolus
    left = before["reservoir_ml"]
    ok(capsys, state, "send", "sim withdraw %s" % left)
    ok(capsys, state, "send", "sim refill 18")
    out = ok(
        capsys,
        state,
        "refill",
        "--withdrawn",
        "%smL" % left,
        "--add",
        "18mL",
        "--conc",
        "20mg/mL",
        "--pin",
        "1234",
        "--yes",
    )
    assert '"bridge": true' in out
    # the next call sees the same bolus running (a new simulator per call would have dropped it)
    st = status(capsys, state)
    assert st["bolus"] == "bridge" and st["state"] == "running"
    ok(capsys, state, "send", "sim run 1h")
    st = status(capsys, state)
    assert st["bolus"] == "bridge"
    ok(capsys, state, "send", "sim run 2d")
    after = status(capsys, state)
    assert after["bolus"] is None and after["state"] == "running", after
    # the bridge pushes the catheter's 0.2 mL of the old drug at the old volume rate, 0.2 mL/day
    # (4000 steps in its day), then 2 mg/day at 20 mg/mL is 0.1 mL/day (2000 steps a day) for the
    # 25 h left: 6083 steps over three calls. Had the bridge been lost at the next call, the new
    # rate all along would have given 2000 * 49 / 24 = 4083.
    delivered = after["delivered_total_steps"] - before["delivered_total_steps"]
    assert abs(delivered - (4000 + 2000 * 25 // 24)) <= 2, delivered
    entries = log(capsys, state)
    events = [e["event"] for e in entries]
    assert events.count("reset") == 1 and "shutdown" not in events
    assert events.count("bridge") == 1
    ok_, times = times_never_go_back(entries)
    assert ok_, times


def test_virtual_time_stands_still_between_calls_and_a_login_lasts(capsys):
    state = fresh()
    ok(capsys, state, "login", "--pin", "1234")
    c0 = status(capsys, state)["clock"]
    time.sleep(1.5)
    assert status(capsys, state)["clock"] == c0  # only `sim run` moves it (SPEC 10, piped)
    # the session goes on as on a board, until ten idle minutes of the pump's time: `passwd`
    # with no words is a usage error for a clinician, a role error for the patient
    assert run(capsys, state, "send", "passwd")[2].startswith("E_SYNTAX: ")
    ok(capsys, state, "send", "sim run 11m")
    assert run(capsys, state, "send", "passwd")[2].startswith("E_AUTH: ")


def test_sim_stop_shuts_down_cleanly_and_the_next_call_goes_on(capsys):
    state = fresh()
    ok(capsys, state, "program", RX, "--yes", "--pin", "1234", "--start")
    ok(capsys, state, "send", "sim run 2h")
    pid = server_pid(state)
    out = ok(capsys, state, "sim", "status")
    assert "running: socket://127.0.0.1:" in out and "pid %d" % pid in out
    out = ok(capsys, state, "sim", "stop")
    assert "stopped the simulator" in out and gone(pid)
    assert not os.path.exists(os.path.join(state, serve.INFO))
    assert "no simulator running" in ok(capsys, state, "sim", "stop")
    assert "not running" in ok(capsys, state, "sim", "status")
    st = status(capsys, state)  # a new simulator, from DIR as the clean shutdown left it
    assert server_pid(state) != pid
    assert st["state"] == "running" and st["clock"] == "2026-01-01T02:00:00"
    assert "UNEXPECTED_RESET" not in [a["code"] for a in st["alarms"]]
    resets = [e for e in log(capsys, state) if e["event"] == "reset"]
    assert len(resets) == 2 and resets[-1]["detail"]["clean"] is True


def test_sim_status_and_stop_need_a_state_dir(capsys):
    rc = cli.main(["sim", "stop"])
    out, err = capsys.readouterr()
    assert rc == 1 and err.startswith("E_SYNTAX: ") and len(err.splitlines()) == 1


def test_a_host_that_lost_power_comes_back_as_a_pump_after_a_power_cut(capsys):
    state = fresh()
    ok(capsys, state, "program", RX, "--yes", "--pin", "1234", "--start")
    ok(capsys, state, "send", "sim run 1d")
    before = status(capsys, state)
    d = simserver.info(state)
    assert d is not None
    # power gone: both processes killed outright, no clean shutdown; the URL file stays behind
    for sig in (signal.SIGSTOP, signal.SIGKILL):  # frozen first: neither sees the other go
        os.kill(d["pid"], sig)
        os.kill(d["sim_pid"], sig)
    assert gone(d["pid"]) and os.path.exists(os.path.join(state, serve.INFO))
    # after `sim save` at the end of the last call DIR holds what that call saw
    st = status(capsys, state)
    assert server_pid(state) != d["pid"]
    assert st["state"] == "running" and st["mode"] == "continuous"
    assert abs(st["delivered_total_steps"] - before["delivered_total_steps"]) <= 20  # one checkpoint
    assert "UNEXPECTED_RESET" in [a["code"] for a in st["alarms"]]  # as a board after a cut


def test_a_host_shutting_down_in_order_stops_it_cleanly(capsys):
    state = fresh()
    ok(capsys, state, "program", RX, "--yes", "--pin", "1234", "--start")
    ok(capsys, state, "send", "sim run 1h")
    d = simserver.info(state)
    assert d is not None
    # SIGTERM to every process at once, as a host's shutdown sends it
    os.kill(d["sim_pid"], signal.SIGTERM)
    os.kill(d["pid"], signal.SIGTERM)
    assert gone(d["pid"]) and gone(d["sim_pid"])
    assert not os.path.exists(os.path.join(state, serve.INFO))
    st = status(capsys, state)
    assert st["state"] == "running" and st["clock"] == "2026-01-01T01:00:00"
    assert "UNEXPECTED_RESET" not in [a["code"] for a in st["alarms"]]


@pytest.mark.parametrize("why", ["dead pid", "earlier boot", "pid reused"])
def test_a_stale_url_file_is_replaced_by_a_fresh_start(capsys, why):
    state = fresh()
    os.makedirs(state)
    info = {"url": "socket://127.0.0.1:9", "pid": 0, "sim_pid": 0, "boot_id": serve.boot_id()}
    if why == "dead pid":
        p = subprocess.Popen(["true"])
        p.wait()
        info["pid"] = p.pid
    elif why == "earlier boot":
        info["pid"] = os.getpid()
        info["boot_id"] = "not-this-boot"
    else:
        info["pid"] = os.getpid()  # alive, but not a background simulator
    with open(os.path.join(state, serve.INFO), "w") as f:
        f.write(json.dumps(info))
    st = status(capsys, state)
    assert st["state"] == "stopped"
    assert simserver.info(state)["url"] != "socket://127.0.0.1:9"


def test_a_url_file_of_another_user_is_one_line(capsys, monkeypatch):
    state = fresh()
    status(capsys, state)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(state).st_uid + 1)
    rc, out, err = run(capsys, state, "status")
    assert rc == 1 and err.startswith("E_SIM: ") and "another user" in err and len(err.splitlines()) == 1


def pumpctl(*argv):
    return subprocess.Popen(
        [sys.executable, "-m", "tools.pumpctl.cli"] + list(argv),
        cwd=ROOT,
        env=dict(os.environ, PUMPCTL_PORT="sim"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_calls_at_once_take_turns(capsys):
    state = fresh()
    # both find no simulator: the lock lets one start it and the other use it
    calls = [pumpctl("--state", state, "send", "sim run 1h") for _ in range(3)]
    for p in calls:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert json.loads(out.splitlines()[-1])["ran_ms"] == 3600000
    assert len(simservers.running(os.environ[simservers.MARK])) == 1
    st = status(capsys, state)
    assert st["clock"] == "2026-01-01T03:00:00"  # each hour run once, none lost or doubled
    entries = log(capsys, state)
    assert [e["event"] for e in entries].count("reset") == 1


def test_a_call_that_cannot_get_its_turn_is_one_line(capsys):
    state = fresh()
    fd = simserver.lock(state, 1.0)
    try:
        rc, out, err = run(capsys, state, "--timeout", "1s", "status")
    finally:
        simserver.unlock(fd)
    assert rc == 1 and err.splitlines()[-1].startswith("E_BUSY: ")
    assert "waiting for another pumpctl" in err or len(err.splitlines()) == 1


def test_make_sim_on_a_served_dir_is_refused(capsys):
    state = fresh()
    status(capsys, state)
    p = subprocess.run(
        [sys.executable, "-m", "tools.sim.launch", "--state", state],
        cwd=ROOT,
        input=b"status\n",
        capture_output=True,
        timeout=60,
    )
    err = p.stderr.decode()
    assert p.returncode == 1 and err.startswith("E_SIM: ") and "sim stop" in err
    assert len(err.splitlines()) == 1
    ok(capsys, state, "sim", "stop")
    p = subprocess.run(
        [sys.executable, "-m", "tools.sim.launch", "--state", state],
        cwd=ROOT,
        input=b"json on\nstatus\n",
        capture_output=True,
        timeout=60,
    )
    assert p.returncode == 0 and b'"state": "stopped"' in p.stdout  # stopped: make sim has DIR
