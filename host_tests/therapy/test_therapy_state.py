"""The therapy's saved state, calibration and clock changes through the shell."""

import json

from therapy_kit import DAY_MS, TKit

H = 3600000


def test_snapshot_is_plain_and_restores_the_prescription():
    k = TKit()
    k.ok("rx limit max_daily=8mg max_bolus=0.3mg")
    k.ok("rx catheter 0.25")
    k.ok("rx patient bench rig 7")
    k.ok("ptm set dose=0.1mg lockout=2h max=4")
    k.ok("program flex 08:00=4mg 20:00=1mg")
    k.ok("program confirm")
    snap = json.loads(json.dumps(k.t.snapshot()))  # ints, strs and lists only
    rx = k.ok("rx")["prescription"]
    k2 = TKit(drug=None)
    k2.t.restore(snap)
    assert k2.ok("rx")["prescription"] == rx
    assert k2.pump.mode == "flex" and k2.pump.basal == k.pump.basal


def test_acct_snapshot_keeps_the_cap_records():
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    k.ok("ptm set dose=0.2mg lockout=1h max=2")
    k.ok("ptm")
    acct = [s for s in k.pump.services if getattr(s, "persist_key", "") == "therapy_acct"][0]
    d = json.loads(json.dumps(acct.snapshot()))
    assert len(d["ptm"]) == 1 and d["boluses"][0][1] == 400


def test_calibration_takes_effect_on_confirm():
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    assert k.code("calibrate measured 1") == "E_SYNTAX"  # begin first
    assert k.code("calibrate begin 20000") == "E_STATE"  # a drug is loaded
    k.ok("calibrate begin 20000 disconnected")
    k.run(60000)
    assert k.steps() == 20000 and not k.pump.engine.running()
    assert k.code("calibrate measured 0.8") == "E_CONFIRM"  # 1.25x the nominal: a slip?
    d = k.ok("calibrate measured 0.8 confirm")  # the pump moved 0.8 mL: 25,000 steps per mL
    assert d["pending"] and d["steps_per_ml"] == 25000
    assert k.pump.steps_per_ml == 20000  # not before confirm
    k.ok("program confirm")
    assert k.pump.steps_per_ml == 25000 and k.pump.basal == 5000
    k.ok("start")
    s0 = k.steps()
    k.run(DAY_MS)
    assert abs(k.steps() - s0 - 5000) <= 1


def test_time_set_moves_a_flex_program():
    k = TKit()
    if "time" not in k.sh.commands:
        return  # the persistence issue's command; the schedule itself is tested with set_wall
    k.ok("program flex 08:00=8mg 20:00=0mg")
    k.ok("program confirm")
    k.ok("start")
    k.run(H)
    assert k.pump.basal == 0
    k.ok("time set 2026-01-01T07:59:00")
    k.run(60000)
    assert k.pump.basal == 16000
    k.ok("time set 2026-01-01T21:00:00")
    k.run(1000)
    assert k.pump.basal == 0


def test_bad_input_changes_nothing():
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    before = json.dumps(k.t.snapshot())
    for line in (
        "rx drug",
        "rx drug morphine",
        "rx drug morphine 10mg/mL extra",
        "rx limit max_daily=1e3mg",
        "rx limit max_daily=nanmg",
        "rx limit bogus=1mg",
        "rx catheter 5",
        "program",
        "program continuous",
        "program continuous 2",
        "program continuous 2kg",
        "program flex 25:00=1mg",
        "program flex 08:00=1mg 08:00=2mg",
        "program periodic 08:00=1mg",
        "program periodic 08:00=0.1mg/1h 08:30=0.1mg/1h",
        "program trial multi 0.1mg/15m every=5m count=2",
        "program confirm now",
        "bolus",
        "bolus 0.1mg over=1",
        "ptm set dose=0.1mg",
        "prime -1",
        "calibrate begin 10",
    ):
        d = k.js(line)
        assert not d["ok"] and d["code"] in ("E_SYNTAX", "E_RANGE", "E_UNIT", "E_STATE", "E_LIMIT"), (line, d)
    assert json.dumps(k.t.snapshot()) == before
    assert k.t.pending is None


def test_refused_concentration_change_stops_the_pump():
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    for bad in ("50mg/mL", (30000000, "mg")):
        try:
            k.t.check_concentration(bad)
            raise AssertionError("accepted %r" % (bad,))
        except Exception as e:
            assert getattr(e, "code", None) == "E_LIMIT", e
    assert k.pump.state == "running"  # asking changes nothing
    try:
        k.t.concentration_changed("25mg/mL")
        raise AssertionError("accepted 25 mg/mL morphine")
    except Exception as e:
        assert getattr(e, "code", None) == "E_LIMIT", e
    assert k.pump.state == "stopped" and k.t.conc == 10000000
