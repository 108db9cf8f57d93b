"""Reservoir tracking against the sim model: fresh fill from the sensor, low, empty, mismatch."""

from safetykit import DAY_MS, HOUR_MS, SKit

from firmware.safety.reservoir import Reservoir


def kit(rate):
    k = SKit(rate=rate)
    k.ok("ack")
    k.run(60000)
    return k


def set_volume(k, nl):
    """Fill both the model's reservoir and the pump's record (as a refill would)."""
    k.model.reservoir_ul = nl / 1000.0
    k.pump.reservoir.set_fill(nl, "test_fill")


def test_fresh_pump_takes_the_sensor_volume_and_logs_it():
    k = kit("1")
    ev = k.named("reservoir_init")
    r = k.pump.reservoir
    assert len(ev) == 1 and ev[0]["source"] == "sensor" and ev[0]["volume_nl"] == r.fill_nl
    assert abs(r.fill_nl - 20000000) <= 100000  # sensor offset and noise around the 20 mL fill
    k.run(HOUR_MS)
    assert len(k.named("reservoir_init")) == 1  # once


def test_tracked_volume_and_days_to_empty():
    k = kit("1")
    v0 = k.pump.reservoir.volume_nl()
    k.run(DAY_MS)
    v1 = k.pump.reservoir.volume_nl()
    assert abs((v0 - v1) - 1000000) <= 100  # 1 mL a day, from the steps
    st = k.ok("status")
    assert abs(st["reservoir_ml"] * 1000000 - v1) <= 100
    assert st["days_to_empty"] == (v1 - 1000000) * 10 // 1000000 / 10  # counted to the 1 mL residual
    k.ok("stop")
    assert k.ok("status")["days_to_empty"] is None  # nothing delivering


def test_low_by_days_to_empty():
    k = kit("10")  # 20 mL at 10 mL/day: under 7 days
    a = k.alarm("RESERVOIR_LOW")
    assert a is not None and a.priority == "medium" and k.pump.state == "running"


def test_low_by_volume():
    k = kit("0.1")
    set_volume(k, 2050000)
    k.run(HOUR_MS)
    assert k.alarm("RESERVOIR_LOW") is None  # 10 days left, above 2 mL
    k.run(DAY_MS)
    assert k.alarm("RESERVOIR_LOW") is not None


def test_empty_stops_at_the_residual():
    k = kit("1")
    set_volume(k, 1100000)
    t = k.run_until(lambda: k.alarm("RESERVOIR_EMPTY") is not None, 6 * HOUR_MS)
    assert t is not None and 2 * HOUR_MS <= t <= 3 * HOUR_MS  # 0.1 mL at 1 mL/day: 2.4 h
    assert k.pump.state == "alarm" and not k.pump.engine.running()
    v = k.pump.reservoir.volume_nl()
    assert 990000 <= v <= 1000000
    assert len(k.alarm_events("RESERVOIR_EMPTY")) == 1
    # ack and start: still empty, so it is raised again and stops again
    k.ok("ack")
    k.login()
    k.ok("start")
    k.run(60000)
    assert k.pump.state == "alarm" and len(k.alarm_events("RESERVOIR_EMPTY")) == 2


def test_leak_raises_mismatch_and_delivery_continues():
    k = kit("1")
    k.ok("sim leak 5")
    t = k.run_until(lambda: k.alarm("RESERVOIR_MISMATCH") is not None, DAY_MS, step_ms=600000)
    assert t is not None and t <= 8 * HOUR_MS  # 1 mL lost to the leak takes 4.8 h
    a = k.alarm("RESERVOIR_MISMATCH")
    assert a.priority == "high" and k.pump.state == "running"
    assert "sensor" in a.detail and "tracked" in a.detail


def test_sensor_fault_is_not_an_empty_reservoir():
    k = kit("1")
    k.ok("sim fault reservoir open")
    k.run(HOUR_MS)
    assert k.alarm("RESERVOIR_EMPTY") is None and k.alarm("RESERVOIR_MISMATCH") is None
    assert k.alarm("SENSOR_FAULT") is not None and k.pump.state == "running"


def test_snapshot_and_restore():
    k = kit("1")
    k.run(HOUR_MS)
    snap = k.pump.reservoir.snapshot()
    r = Reservoir(k.pump)
    assert r.volume_nl() is None
    r.restore(snap)
    assert r.volume_nl() == k.pump.reservoir.volume_nl()
    a = k.pump.alarms
    a.raise_alarm("SENSOR_FAULT", "x")
    s = a.snapshot()
    a.items = []
    a.restore(s)
    assert a.get("SENSOR_FAULT") is not None and a.get("SENSOR_FAULT").detail == "x"


def test_fresh_pump_in_small_steps_waits_for_a_real_reading():
    # an interactive simulator (or a board) runs the services every few ms: the
    # reservoir must not take the unread sensor's 0 as an empty reservoir
    k = SKit(rate="1")
    for _ in range(30):
        k.run(100)
    r = k.pump.reservoir
    assert r.fill_nl is not None and abs(r.fill_nl - 20000000) <= 100000, r.fill_nl
    assert k.alarm("RESERVOIR_EMPTY") is None and k.alarm("RESERVOIR_MISMATCH") is None
    assert k.pump.state == "running"
