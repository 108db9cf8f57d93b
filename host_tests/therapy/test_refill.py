"""Refill workflow: pause, withdrawn, add, confirm with and without a new concentration, cancel."""

from safetykit import HOUR_MS, SKit


def kit():
    k = SKit(rate=None)
    k.ok("ack")
    k.login()
    k.ok("rx drug morphine 10mg/mL")
    k.ok("rx catheter 0.2")  # the old drug in the line is what the bridge delivers first
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    k.run(HOUR_MS)
    k.login()
    return k


def test_refill_pauses_and_resumes_delivery():
    k = kit()
    before = k.pump.reservoir.volume_nl()
    d = k.ok("refill begin")
    assert d["state"] == "refill" and not k.pump.engine.running()
    k.run(600000)
    assert k.pump.reservoir.volume_nl() == before  # nothing delivered while open
    k.login()  # the clinician session ended after 10 min idle
    w = k.ok("refill withdrawn 19.9")
    assert w["matches"] is True and abs(w["difference_ml"] * 1000000 - (19900000 - before)) <= 100
    a = k.ok("refill add 19.9")
    assert abs(a["reservoir_ml"] * 1000000 - (before - 19900000 + 19900000)) <= 100
    k.ok("sim refill 19.9")
    c = k.ok("refill confirm")
    assert c["state"] == "running" and k.pump.engine.running()
    ev = k.named("refill")[0]
    assert ev["added_nl"] == 19900000 and ev["withdrawn_nl"] == 19900000
    assert ev["volume_nl"] == before
    assert k.named("concentration") == []  # same drug: no bridge


def test_withdrawn_differs_from_tracked():
    k = kit()
    k.ok("refill begin")
    w = k.ok("refill withdrawn 15 confirm")
    assert w["matches"] is False and w["difference_ml"] < -4
    assert k.named("refill_withdrawn")[0]["withdrawn_nl"] == 15000000


def test_new_concentration_starts_the_bridge():
    k = kit()
    old_rate = k.pump.basal
    k.ok("refill begin")
    k.ok("refill withdrawn 19.9")
    k.ok("refill add 19.9 conc=5mg/mL")
    k.ok("refill confirm")
    ev = k.named("concentration")
    assert len(ev) == 1 and ev[0]["bridge"] is True
    assert k.pump.therapy.conc == 5000000
    k.run(60000)
    assert k.pump.basal == 2 * old_rate  # half the strength: twice the volume for the same dose
    assert k.named("bridge_cancelled") == []


def test_new_concentration_nobridge_is_logged():
    k = kit()
    k.ok("refill begin")
    k.ok("refill withdrawn 10 confirm")
    k.ok("refill add 10 conc=20mg/mL")
    d = k.ok("refill confirm nobridge")
    assert d["bridge"] is False
    assert [e["why"] for e in k.named("bridge_cancelled")] == ["nobridge"]
    assert k.named("concentration")[0]["bridge"] is False


def test_cancel_changes_nothing():
    k = kit()
    v = k.pump.reservoir.volume_nl()
    k.ok("refill begin")
    k.ok("refill withdrawn 19")
    k.ok("refill add 19 conc=5mg/mL")
    d = k.ok("refill cancel")
    assert d["state"] == "running"
    assert k.pump.reservoir.volume_nl() == v and k.pump.therapy.conc == 10000000
    assert len(k.named("refill_cancel")) == 1


def test_bad_refill_input_changes_nothing():
    k = kit()
    assert k.js("refill add 5")["code"] == "E_STATE"  # not begun
    assert k.js("refill confirm")["code"] == "E_STATE"
    assert k.js("refill")["code"] == "E_SYNTAX"
    assert k.js("refill sideways")["code"] == "E_SYNTAX"
    k.ok("refill begin")
    assert k.js("refill begin")["code"] == "E_STATE"
    assert k.js("refill confirm")["code"] == "E_STATE"  # nothing added
    k.ok("refill withdrawn 18")
    assert k.js("refill add 50")["code"] == "E_RANGE"  # above the 20 mL reservoir
    assert k.js("refill add 1e3")["code"] == "E_SYNTAX"
    assert k.js("refill add 5 conc=5")["code"] == "E_UNIT"
    assert k.js("refill add 5 dose=5mg/mL")["code"] == "E_SYNTAX"
    assert k.js("refill add 5 conc=5000mg/mL")["code"] == "E_LIMIT"  # above the drug's hard limit
    assert k.js("refill confirm maybe")["code"] == "E_SYNTAX"
    assert k.pump.reservoir.refill["added"] is None
    assert k.pump.state == "refill"
    k.ok("logout")
    assert k.js("refill cancel")["code"] == "E_AUTH"


def test_refill_clears_an_empty_reservoir():
    k = kit()
    k.model.reservoir_ul = 1100.0
    k.pump.reservoir.set_fill(1100000, "test_fill")
    k.run_until(lambda: k.alarm("RESERVOIR_EMPTY") is not None, 24 * HOUR_MS, step_ms=HOUR_MS)
    assert k.pump.state == "alarm"
    k.ok("ack")
    k.login()
    k.ok("refill begin")
    k.ok("refill add 18")
    k.ok("sim refill 18")
    d = k.ok("refill confirm")
    assert k.alarm("RESERVOIR_EMPTY") is None
    assert d["state"] == "stopped"  # it had stopped on the alarm: a clinician starts it
    k.ok("start")
    k.run(HOUR_MS)
    assert k.pump.state == "running" and k.alarm("RESERVOIR_EMPTY") is None


def test_stopping_alarm_during_refill_is_not_overridden_by_confirm():
    # a critical battery while the refill is open: confirming the refill must
    # leave the pump in `alarm` until the alarm is acknowledged and started
    k = kit()
    k.ok("refill begin")
    k.ok("sim battery 3.2")
    k.run(120000)
    assert k.alarm("BATTERY_CRITICAL") is not None
    k.login()
    k.ok("refill withdrawn 1 confirm")
    k.ok("refill add 0.5")
    c = k.ok("refill confirm")
    assert c["state"] == "alarm", c
    steps = k.pump.ledger.total_steps
    k.run(600000)
    assert k.pump.state == "alarm" and not k.pump.engine.running()
    assert k.pump.ledger.total_steps == steps


def test_motor_restarted_by_any_path_stops_on_an_unacked_stopping_alarm():
    k = kit()
    k.ok("sim battery 3.2")
    k.run(120000)
    assert k.pump.state == "alarm"
    k.pump.state = "running"  # a path that forgets the alarm (the defect this guards)
    k.pump.engine.start()
    k.run(10000)
    assert k.pump.state == "alarm" and not k.pump.engine.running()
