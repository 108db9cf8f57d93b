# cpython-only: drives the simulator through pumpctl.
"""`pumpctl program` on a running pump: only what differs is sent, shown side by side, checked first."""

import json
import os
import re
import tempfile

import pytest

from tools.pumpctl import cli, rxdiff, rxfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "docs", "examples", "rx-ptm.toml")  # hydromorphone 2 mg/mL, 1 mg/day, ptm


@pytest.fixture
def pump(capsys):
    """A pump running the example for a day, and a way to call pumpctl on it."""
    state = tempfile.mkdtemp(prefix="pumpctl-prog-")

    def call(*argv):
        rc = cli.main(["--port", "sim", "--state", state, "--pin", "1234"] + list(argv))
        out, err = capsys.readouterr()
        return rc, out, err

    assert call("program", EXAMPLE, "--yes", "--start")[0] == 0
    assert call("send", "sim run 1d")[0] == 0
    return call


def variant(**changes):
    with open(EXAMPLE) as f:
        text = f.read()
    for old, new in changes.values():
        assert old in text
        text = text.replace(old, new)
    fd, path = tempfile.mkstemp(suffix=".toml")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def status(call):
    rc, out, err = call("status", "--json")
    assert rc == 0, err
    return json.loads(out)


def events(call):
    rc, out, err = call("log")
    return [json.loads(line)["event"] for line in out.splitlines()]


def test_halving_the_dose_of_a_running_pump_goes_through_without_a_stop(pump):
    before = status(pump)
    assert before["state"] == "running" and before["rate_ml_day"] == 0.5
    n_before = len(events(pump))
    half = variant(daily=('daily = "1mg"', 'daily = "0.5mg"'))
    rc, out, err = pump("program", half, "--yes")
    assert rc == 0, err
    # only the program is sent: no rx drug (which a running pump refuses), no unchanged settings
    assert out.split("to send:\n", 1)[1].startswith("  program continuous 0.5mg\n  program confirm\n")
    assert "rx drug" not in out and "ptm set" not in out
    # shown side by side before sending, the changed rows marked
    assert re.search(r"\* daily dose +1 mg +0.5 mg\n", out), out
    assert re.search(r"\* daily volume +0.5 mL +0.25 mL\n", out), out
    assert re.search(r"  drug +hydromorphone 2 mg/mL +hydromorphone 2 mg/mL\n", out)
    assert re.search(r"  patient bolus +0.05 mg, lockout 4h, at most 3 a day +0.05 mg, lockout 4h", out)
    assert re.search(r"\* days to empty +\S+ .* +\S+", out)
    after = status(pump)
    assert after["state"] == "running" and after["rate_ml_day"] == 0.25
    assert "stop" not in events(pump)[n_before:]
    assert pump("send", "sim run 1d")[0] == 0
    # the second day at the new rate: 0.25 mL = 5000 steps more, within a step
    assert abs(status(pump)["delivered_total_steps"] - after["delivered_total_steps"] - 5000) <= 1


def test_the_same_file_again_sends_nothing_and_equal_values_in_other_units_count_as_same(pump):
    same = variant(dose=('dose = "0.05mg"', 'dose = "50mcg"'), lockout=('lockout = "4h"', 'lockout = "240m"'))
    rc, out, err = pump("program", same, "--yes")
    assert rc == 0, err
    assert "nothing to send" in out and "\nto send:" not in out


def test_a_new_drug_on_a_running_pump_is_refused_and_nothing_is_sent(pump):
    before = status(pump)
    other = variant(conc=('concentration = "2mg/mL"', 'concentration = "4mg/mL"'))
    rc, out, err = pump("program", other, "--yes")
    assert rc == 1 and err.strip().splitlines()[-1].startswith(
        "E_STATE: the file changes the drug or concentration"
    )
    after = status(pump)
    assert after["rate_ml_day"] == before["rate_ml_day"] and after["state"] == "running"


def test_the_check_uses_the_pumps_own_limits(pump):
    # a soft limit set on the pump itself, not in the file: the file's new dose is above it
    assert pump("send", "rx limit max_daily=1.5mg")[0] == 0
    no_limits = variant(
        limits=('max_daily = "2mg"\nmax_bolus = "0.1mg"\n', ""), daily=('daily = "1mg"', 'daily = "1.8mg"')
    )
    with open(no_limits) as f:
        assert "max_daily" not in f.read()
    rc, out, err = pump("program", no_limits, "--yes")
    assert rc == 1 and "E_CONFIRM: above a soft limit: daily dose 1.8 mg" in err, err
    assert status(pump)["rate_ml_day"] == 0.5


def test_only_changed_settings_are_planned():
    doc = rxfile.read(EXAMPLE)
    cur = {
        "drug": "hydromorphone",
        "concentration": 2.0,
        "concentration_unit": "mg/mL",
        "dose_unit": "mg",
        "catheter_ml": 0.2,
        "patient": "BENCH-03",
        "limits": {"max_daily": 2.0, "max_bolus": 0.1, "hard_max_daily": 10.0, "hard_max_bolus": 0.1},
        "ptm": {"dose": 0.05, "lockout_s": 14400, "max": 3},
        "program": "continuous 0.8mg",
    }
    assert rxdiff.changes(doc, cur, "running") == ["program continuous 1mg"]
    cur["ptm"]["max"] = 2
    cur["patient"] = "OTHER"
    assert rxdiff.changes(doc, cur, "running") == [
        "rx patient BENCH-03",
        "ptm set dose=0.05mg lockout=4h max=3",
        "program continuous 1mg",
    ]
    # a stopped pump with another drug gets the whole file, drug first
    cur["drug"] = "morphine"
    assert rxdiff.changes(doc, cur, "stopped") == rxfile.lines_from(doc)
