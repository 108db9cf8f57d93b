# cpython-only: tomllib (the host side of pumpctl).
"""TOML prescription files to shell lines: every mode, and one clear error for a bad file."""

import os
import tempfile

from tools.pumpctl import rxfile

RX = {"prescription": {"drug": "baclofen", "concentration": "2000mcg/mL"}}


def lines(**program):
    d = dict(RX, program=program)
    return rxfile.lines_from(d)


def test_every_mode_becomes_its_command():
    assert lines(mode="continuous", daily="400mcg")[-1] == "program continuous 400mcg"
    assert lines(mode="flex", steps={"18:00": "600mcg", "06:00": "300mcg"})[-1] == (
        "program flex 06:00=300mcg 18:00=600mcg"
    )
    assert lines(mode="periodic", boluses={"08:00": "50mcg/15m"}, basal="300mcg")[-1] == (
        "program periodic 08:00=50mcg/15m basal=300mcg"
    )
    assert lines(mode="trial-single", dose="50mcg/1h")[-1] == "program trial single 50mcg/1h"
    assert lines(mode="trial-multi", dose="50mcg/1h", every="1d", count=3)[-1] == (
        "program trial multi 50mcg/1h every=1d count=3"
    )
    assert (
        lines(mode="trial-continuous", daily="100mcg", days=3)[-1] == "program trial continuous 100mcg days=3"
    )


def test_prescription_limits_and_ptm_come_before_the_program():
    doc = {
        "prescription": {
            "drug": "morphine",
            "concentration": "10mg/mL",
            "catheter_ml": 0.25,
            "patient": "P-7",
        },
        "limits": {"max_daily": "5mg", "max_bolus": "0.5mg"},
        "ptm": {"dose": "0.1mg", "lockout": "2h", "max": 4},
        "program": {"mode": "continuous", "daily": "2mg"},
    }
    assert rxfile.lines_from(doc) == [
        "rx drug morphine 10mg/mL",
        "rx catheter 0.25",
        "rx patient P-7",
        "rx limit max_daily=5mg max_bolus=0.5mg",
        "ptm set dose=0.1mg lockout=2h max=4",
        "program continuous 2mg",
    ]


def refused(doc):
    try:
        rxfile.lines_from(doc)
    except rxfile.RxError as e:
        return str(e)
    raise AssertionError("accepted: %r" % doc)


def test_bad_files_are_refused_with_where_and_what():
    assert "missing [prescription]" in refused({"program": {"mode": "continuous", "daily": "1mg"}})
    assert "missing [program]" in refused(dict(RX))
    assert "program.mode" in refused(dict(RX, program={"mode": "bolus"}))
    assert "missing 'daily'" in refused(dict(RX, program={"mode": "continuous"}))
    assert "unknown table 'extra'" in refused(
        dict(RX, extra={}, program={"mode": "continuous", "daily": "1mg"})
    )
    # a word with a space would become two shell words
    assert "one word" in refused(dict(RX, program={"mode": "continuous", "daily": "1 mg"}))
    assert "expected a value" in refused(dict(RX, program={"mode": "continuous", "daily": True}))
    assert "HH:MM" in refused(dict(RX, program={"mode": "flex", "steps": {}}))


def test_load_reports_toml_syntax_and_missing_files():
    d = tempfile.mkdtemp()
    p = os.path.join(d, "bad.toml")
    with open(p, "w") as f:
        f.write("[prescription\n")
    for path in (p, os.path.join(d, "none.toml")):
        try:
            rxfile.load(path)
            raise AssertionError("loaded")
        except rxfile.RxError as e:
            assert path in str(e)
