# cpython-only: drives the simulator as a subprocess through pumpctl.
"""pumpctl end to end against the simulator: program from TOML, status, log CSV, plot, errors."""

import csv
import json
import os
import re
import tempfile

import pytest

from tools.analysis import plot
from tools.pumpctl import cli, conn

RX = """
[prescription]
drug = "morphine"
concentration = "10mg/mL"
catheter_ml = "0.2"
patient = "P-001"

[limits]
max_daily = "5mg"

[program]
mode = "continuous"
daily = "2mg"
"""


@pytest.fixture(autouse=True)
def _simulator(monkeypatch):
    # a call without --port would use a Pico plugged into the machine running the tests
    monkeypatch.setenv("PUMPCTL_PORT", "sim")


def tmpdir():
    return tempfile.mkdtemp(prefix="pumpctl-")


def write(d, name, text):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def run(capsys, *argv):
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def status(capsys, state):
    rc, out, _err = run(capsys, "--state", state, "status", "--json")
    assert rc == 0
    return json.loads(out)


def test_program_from_toml_status_log_csv_and_plot(capsys):
    d = tmpdir()
    state = os.path.join(d, "pump")
    rx = write(d, "rx.toml", RX)
    rc, out, err = run(capsys, "--state", state, "program", rx, "--yes", "--pin", "1234", "--start")
    assert rc == 0, err
    # shown back before sending: the firmware's own daily dose and volume for 2 mg at 10 mg/mL
    assert re.search(r"\* daily dose +- +2 mg\n", out) and re.search(r"\* daily volume +- +0.2 mL\n", out)
    assert "days to empty" in out and "state: running" in out
    st = status(capsys, state)
    assert st["state"] == "running" and st["mode"] == "continuous"
    assert st["rate_ml_day"] == 0.2 and st["dose_unit"] == "mg"
    rc, out, err = run(capsys, "--state", state, "send", "sim run 1d")
    assert rc == 0, err
    st = status(capsys, state)
    # 0.2 mL/day at 20,000 steps/mL: 4000 steps in the day, within one step
    assert abs(st["delivered_total_steps"] - 4000) <= 1
    log = os.path.join(d, "log.csv")
    rc, out, err = run(capsys, "--state", state, "log", "--csv", log)
    assert rc == 0, err
    with open(log, newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and list(rows[0])[:3] == ["seq", "time", "event"]
    events = [r["event"] for r in rows]
    assert any("program" in e or "confirm" in e for e in events), events
    assert all(r["time"].startswith("2026-01-0") for r in rows)
    png = os.path.join(d, "trend.png")
    rc, out, err = run(capsys, "--state", state, "plot", png)
    assert rc == 0, err
    assert os.path.getsize(png) > 5000
    summary = plot.png_summary(png)
    # one sample a minute over the day just run, every series drawn
    assert summary["samples"] >= 1440
    assert set(summary["series"]) == {"rate_ml_day", "cumulative_ml", "pressure_kpa", "reservoir_ml"}
    assert summary["series"]["cumulative_ml"] == summary["samples"]
    assert summary["series"]["rate_ml_day"] == summary["samples"]


def test_plot_with_no_history_still_draws_and_says_so(capsys):
    d = tmpdir()
    png = os.path.join(d, "empty.png")
    rc, out, err = run(capsys, "plot", png)
    assert rc == 0, err
    assert "no history yet" in out
    s = plot.png_summary(png)
    assert s["samples"] == 0 and "no history yet" in s["note"]
    assert set(s["series"]) == {"rate_ml_day", "cumulative_ml", "pressure_kpa", "reservoir_ml"}


def firmware_says(lines):
    """What the firmware itself answers to these lines on a fresh simulated pump (code, message)."""
    pump = conn.connect("sim")
    try:
        pump.call("login clinician 1234")
        for line in lines:
            r = pump.call(line, check=False)
            if not r["ok"]:
                return r["code"], r["error"]
    finally:
        pump.close()
    return None


def test_over_limit_toml_is_refused_with_the_firmwares_message_and_nothing_sent(capsys):
    d = tmpdir()
    state = os.path.join(d, "pump")
    rx = write(d, "over.toml", RX.replace('daily = "2mg"', 'daily = "50mg"'))
    code, msg = firmware_says(["rx drug morphine 10mg/mL", "program continuous 50mg"])
    assert code == "E_LIMIT"
    rc, out, err = run(capsys, "--state", state, "program", rx, "--yes", "--pin", "1234")
    assert rc == 1
    assert ("E_LIMIT: " + msg) in err
    st = status(capsys, state)
    assert st["mode"] == "none" and st["state"] == "stopped"


def test_program_is_not_sent_without_a_yes(capsys):
    d = tmpdir()
    state = os.path.join(d, "pump")
    rx = write(d, "rx.toml", RX)
    rc, out, err = run(capsys, "--state", state, "program", rx, "--pin", "1234")
    assert rc == 1 and "nothing sent" in out
    assert status(capsys, state)["mode"] == "none"


def test_a_bad_toml_is_refused_before_the_pump(capsys):
    d = tmpdir()
    rx = write(d, "bad.toml", RX.replace('mode = "continuous"', 'mode = "sometimes"'))
    rc, out, err = run(capsys, "program", rx, "--yes", "--pin", "1234")
    assert rc == 1 and err.startswith("E_SYNTAX: program.mode")


def test_pump_errors_come_back_as_code_and_message_with_nonzero_exit(capsys):
    rc, out, err = run(capsys, "send", "frobnicate")
    assert rc == 1
    assert err.strip() == "E_UNKNOWN: unknown command 'frobnicate'; try help"
    assert json.loads(out)["code"] == "E_UNKNOWN"
    rc, out, err = run(capsys, "send", "program", "continuous", "1mg")
    assert rc == 1 and err.startswith("E_AUTH: ")


def test_login_reports_role_and_alarms(capsys):
    rc, out, err = run(capsys, "login", "1234")
    assert rc == 0, err
    assert out.startswith("role: clinician") and "DEFAULT_PIN" in out
    rc, out, err = run(capsys, "login", "--pin", "9999")
    assert rc == 1 and err.startswith("E_AUTH")


def test_status_watch_advances_the_simulator_between_reads(capsys):
    d = tmpdir()
    state = os.path.join(d, "pump")
    rc, out, err = run(
        capsys, "--state", state, "status", "--watch", "--count", "3", "--advance", "1h", "--json"
    )
    assert rc == 0, err
    clocks = [json.loads(line)["clock"] for line in out.splitlines()]
    assert clocks == ["2026-01-01T00:00:00", "2026-01-01T01:00:00", "2026-01-01T02:00:00"]


def test_a_long_sim_run_in_slices_equals_one_run(capsys):
    d = tmpdir()
    a, b = os.path.join(d, "a"), os.path.join(d, "b")
    rx = write(d, "rx.toml", RX)
    for s in (a, b):
        assert run(capsys, "--state", s, "program", rx, "--yes", "--pin", "1234", "--start")[0] == 0
    assert run(capsys, "--state", a, "send", "sim run 3d")[0] == 0  # sliced by pumpctl, with a bar
    pump = conn.connect("sim", state=b)
    try:
        pump.call("sim run 3d")  # one call straight to the simulator
    finally:
        pump.close()
    sa, sb = status(capsys, a), status(capsys, b)
    assert sa["delivered_total_steps"] == sb["delivered_total_steps"] > 0
    assert sa["clock"] == sb["clock"] == "2026-01-04T00:00:00"


def test_state_only_with_the_simulator(capsys):
    rc, out, err = run(capsys, "--port", "socket://127.0.0.1:9", "--state", "/tmp/x", "status")
    assert rc == 1 and err.startswith("E_SYNTAX")


def test_connection_options_go_before_or_after_the_command():
    p = cli.parser()
    before = p.parse_args(["--state", "d", "--pin", "1", "trumpet", "--pump", "--png", "x.png"])
    after = p.parse_args(["trumpet", "--pump", "--state", "d", "--pin", "1", "--png", "x.png"])
    assert (
        (before.state, before.pin, before.png) == (after.state, after.pin, after.png) == ("d", "1", "x.png")
    )
    a = p.parse_args(["deploy", "--port", "/dev/ttyACM0", "--no-reset"])
    assert a.port == "/dev/ttyACM0" and a.no_reset
    # given on both sides, the one after the command is the one used
    assert p.parse_args(["--port", "sim", "status", "--port", "socket://h:1"]).port == "socket://h:1"


def test_refill_confirms_or_cancels_leaving_the_pump_running(capsys):
    d = tmpdir()
    state = os.path.join(d, "pump")
    rx = write(d, "rx.toml", RX)
    assert run(capsys, "--state", state, "program", rx, "--yes", "--pin", "1234", "--start")[0] == 0
    assert run(capsys, "--state", state, "send", "sim run 1d")[0] == 0
    before = status(capsys, state)
    # more than the reservoir holds: the pump's own refusal, the refill cancelled, nothing changed
    # (what is withdrawn matches the pump's figure: a discrepancy would be asked about first)
    same = str(before["reservoir_ml"])
    rc, out, err = run(
        capsys,
        "--state",
        state,
        "refill",
        "--withdrawn",
        same + "mL",
        "--add",
        "40mL",
        "--pin",
        "1234",
        "--yes",
    )
    assert rc == 1 and err.startswith("E_RANGE")
    after = status(capsys, state)
    assert after["state"] == "running" and after["reservoir_ml"] == before["reservoir_ml"]
    # empty what is there, add 15 mL: the reservoir holds what was left over plus 15
    left = before["reservoir_ml"]
    rc, out, err = run(
        capsys,
        "--state",
        state,
        "refill",
        "--withdrawn",
        "%smL" % left,
        "--add",
        "15mL",
        "--pin",
        "1234",
        "--yes",
    )
    assert rc == 0, err
    after = status(capsys, state)
    assert after["state"] == "running"
    assert abs(after["reservoir_ml"] - 15.0) < 0.001
    # pumpctl did the syringe's part on the simulator: its reservoir holds the same 15 mL, so a day
    # of cross-checks against the sensor finds no mismatch (before, the model kept the old level)
    pump = conn.connect("sim", state=state)
    try:
        assert abs(pump.call("sim model")["model"]["reservoir_ul"] - 15000) < 1
        pump.call("sim run 1d")
        codes = [a["code"] for a in pump.call("status")["alarms"]]
    finally:
        pump.close()
    assert "RESERVOIR_MISMATCH" not in codes, codes


def test_prime_follows_the_bolus_to_its_end(capsys):
    d = tmpdir()
    state = os.path.join(d, "pump")
    assert run(capsys, "--state", state, "--pin", "1234", "send", "rx", "drug", "morphine", "10mg/mL")[0] == 0
    assert run(capsys, "--state", state, "--pin", "1234", "send", "rx", "catheter", "0.2")[0] == 0
    rc, out, err = run(capsys, "--state", state, "prime", "0.2mL", "--pin", "1234")
    assert rc == 0, err
    assert "primed 0.2 mL (4000 steps)" in out and "priming [####" in err
    st = status(capsys, state)
    assert st["delivered_total_steps"] == 4000 and st["state"] == "stopped"


def test_above_a_soft_limit_needs_override(capsys):
    d = tmpdir()
    state = os.path.join(d, "pump")
    rx = write(d, "soft.toml", RX.replace('daily = "2mg"', 'daily = "7mg"'))  # soft max_daily is 5mg
    rc, out, err = run(capsys, "--state", state, "program", rx, "--yes", "--pin", "1234")
    assert rc == 1 and "\nE_CONFIRM: above a soft limit: daily dose 7.0 mg" in err
    assert status(capsys, state)["mode"] == "none"
    rc, out, err = run(
        capsys, "--state", state, "program", rx, "--yes", "--pin", "1234", "--override", "--start"
    )
    assert rc == 0, err
    assert "warning         daily dose 7.0 mg is above the soft max_daily 5.0 mg" in out
    assert status(capsys, state)["rate_ml_day"] == 0.7
