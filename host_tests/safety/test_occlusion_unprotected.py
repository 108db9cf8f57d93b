"""Issue 16 item 5: occlusion protection lost to a pressure sensor fault (SPEC 6, docs/safety.md).

Delivery goes on; `status` says `occlusion_protection: false` for as long as it lasts, and after
4 h of delivery without it the high-priority OCCLUSION_UNPROTECTED escalates the medium SENSOR_FAULT.
"""

from safetykit import HOUR_MS, SKit


def kit():
    k = SKit(rate="1")
    k.ok("ack")
    k.run(60000)
    return k


def test_an_open_pressure_sensor_escalates_after_4_h_and_delivery_goes_on():
    k = kit()
    st = k.ok("status")
    assert st["occlusion_protection"] is True and st["occlusion_protection_lost_since"] is None
    k.ok("sim fault pressure open")
    k.run(5000)
    st = k.ok("status")
    assert st["occlusion_protection"] is False
    assert "2026-01-01T00:01:00" <= st["occlusion_protection_lost_since"] <= st["clock"]
    assert k.alarm("SENSOR_FAULT").priority == "medium"
    k.ok("ack")  # the medium alarm acknowledged and forgotten: the escalation must not depend on it
    k.run(4 * HOUR_MS - 60000)
    assert k.alarm("OCCLUSION_UNPROTECTED") is None
    k.run(60000)
    a = k.alarm("OCCLUSION_UNPROTECTED")
    assert a is not None and a.priority == "high" and not a.acked
    assert "4 h" in a.detail and "pressure rail" in a.detail
    assert k.pump.state == "running" and k.pump.engine.running()  # withdrawal is the greater risk
    codes = [x["code"] for x in k.ok("status")["alarms"]]
    assert "OCCLUSION_UNPROTECTED" in codes
    assert k.pump.alarms.top(True) == "high"  # it sounds the high pattern
    # the sensor back: protection is shown at once, the alarm clears (latched until acked)
    k.ok("sim fault pressure ok")
    k.run(5000)
    st = k.ok("status")
    assert st["occlusion_protection"] is True and st["occlusion_protection_lost_since"] is None
    assert not k.alarm("OCCLUSION_UNPROTECTED").active
    k.ok("ack")
    assert k.alarm("OCCLUSION_UNPROTECTED") is None
    ev = k.named("occlusion_protection")
    assert [e["lost"] for e in ev] == [True, False] and ev[0]["why"] == "pressure rail"


def test_a_frozen_pressure_sensor_counts_too():
    k = kit()
    k.ok("sim fault pressure stuck")
    k.run_until(lambda: k.alarm("SENSOR_FAULT") is not None, HOUR_MS, step_ms=30000)
    assert k.ok("status")["occlusion_protection"] is False
    k.run(4 * HOUR_MS)
    a = k.alarm("OCCLUSION_UNPROTECTED")
    assert a is not None and "pressure frozen" in a.detail


def test_only_delivery_time_counts():
    k = kit()
    k.login()
    k.ok("sim fault pressure open")
    k.run(HOUR_MS)
    k.ok("stop")
    k.run(6 * HOUR_MS)  # stopped: nothing is pushed, no occlusion can build
    assert k.ok("status")["occlusion_protection"] is False
    assert k.alarm("OCCLUSION_UNPROTECTED") is None
    k.login()
    k.ok("start")
    k.run(3 * HOUR_MS - 60000)
    assert k.alarm("OCCLUSION_UNPROTECTED") is None
    k.run(2 * 60000)
    assert k.alarm("OCCLUSION_UNPROTECTED") is not None


def test_a_flapping_wire_does_not_restart_the_count():
    k = kit()
    for _ in range(4):
        k.ok("sim fault pressure open")
        k.run(HOUR_MS)
        k.ok("sim fault pressure ok")
        k.run(60000)  # a minute of good readings: not long enough to trust the wire again
        assert k.ok("status")["occlusion_protection"] is True
    k.ok("sim fault pressure open")
    k.run(5 * 60000)
    assert k.alarm("OCCLUSION_UNPROTECTED") is not None
