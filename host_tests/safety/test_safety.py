"""Faults injected through the sim model: each gives its alarm, its action on delivery, its log event."""

from safetykit import HOUR_MS, SKit


def kit(rate="1"):
    k = SKit(rate=rate)
    k.ok("ack")
    k.run(60000)
    return k


def test_stall_on_diag_stops_delivery():
    k = kit()
    k.ok("sim stall on")
    k.run(90000)  # two samples with DIAG high
    a = k.alarm("STALL")
    assert a is not None and a.priority == "high"
    assert k.pump.state == "alarm" and not k.pump.engine.running()
    assert len(k.alarm_events("STALL")) == 1
    assert "DIAG" in a.detail
    k.ok("sim stall off")
    k.ok("ack")
    k.login()
    k.ok("start")
    k.run(HOUR_MS)
    assert k.pump.state == "running" and k.alarm("STALL") is None


def test_no_motion_is_a_stall():
    k = kit("10")
    # the engine says running at its rate but its arithmetic makes no step
    k.pump.engine.steps_due = lambda n: 0
    k.run(HOUR_MS)
    a = k.alarm("STALL")
    assert a is not None and "no step" in a.detail and k.pump.state == "alarm"


def test_sensor_open_is_a_fault_and_delivery_continues():
    # the battery line has its own alarm (issue 16 item 11): host_tests/safety/test_battery_status.py
    for name in ("pressure", "reservoir"):
        k = kit()
        k.ok("sim fault %s open" % name)
        k.run(5000)
        a = k.alarm("SENSOR_FAULT")
        assert a is not None and a.priority == "medium", name
        assert name + " rail" in a.detail
        assert k.pump.state == "running" and k.pump.engine.running()
        # a rail is never a reading: no empty reservoir, no dead battery, no occlusion
        for code in ("RESERVOIR_EMPTY", "BATTERY_CRITICAL", "BATTERY_LOW", "OCCLUSION"):
            assert k.alarm(code) is None, (name, code)
        assert k.named("sensor_fault")[0]["faults"] == [name + " rail"]
        k.ok("sim fault %s ok" % name)
        k.run(4 * 30000)  # four good samples
        assert not k.alarm("SENSOR_FAULT").active


def test_stuck_sensor_is_frozen_within_15_minutes_while_running():
    k = kit()
    k.ok("sim fault pressure stuck")
    t = k.run_until(lambda: k.alarm("SENSOR_FAULT") is not None, 20 * 60000, step_ms=30000)
    assert t is not None and 10 * 60000 <= t <= 15 * 60000, t
    assert "pressure frozen" in k.alarm("SENSOR_FAULT").detail
    assert k.pump.state == "running"


def test_stuck_sensor_not_judged_while_stopped():
    k = kit()
    k.ok("stop")
    k.ok("sim fault reservoir stuck")
    k.run(30 * 60000)
    assert k.alarm("SENSOR_FAULT") is None


def test_battery_low_warns_and_critical_stops():
    k = kit()
    k.ok("sim battery 3.45")
    k.run(2000)
    assert k.alarm("BATTERY_LOW") is not None and k.pump.state == "running"
    k.ok("sim battery 3.25")
    k.run(2000)
    a = k.alarm("BATTERY_CRITICAL")
    assert a is not None and a.priority == "high" and k.pump.state == "alarm"
    assert "cell 32" in a.detail
    k.ok("sim battery 3.9")
    k.run(2000)
    assert not k.alarm("BATTERY_LOW").active and not k.alarm("BATTERY_CRITICAL").active


def test_board_without_battery_skips_the_checks():
    k = SKit(rate="1")
    k.ok("ack")
    k.pump.safety.sensors.battery = None
    k.ok("sim battery 3.0")
    k.run(5000)
    assert k.alarm("BATTERY_CRITICAL") is None and k.alarm("SENSOR_FAULT") is None
    assert k.ok("sensors")["sensors"]["battery"] == {"present": False}


def test_dose_loop_stopping_alarms_stops_and_starves_the_watchdog():
    k = kit()
    b = k.sim.board
    feeds = k.pump.safety.feeds
    k.run(5000)
    assert k.pump.safety.feeds > feeds
    # the tick interrupt dies: the clock moves, the engine does not
    for _ in range(10):
        b.clock.advance_ms(250)
        k.pump.service()
    a = k.alarm("DOSE_LOOP")
    assert a is not None and a.priority == "high"
    assert k.pump.state == "alarm" and not k.pump.engine.running()
    feeds = k.pump.safety.feeds
    for _ in range(10):
        b.clock.advance_ms(250)
        k.pump.service()
    assert k.pump.safety.feeds == feeds  # starved: the hardware resets the board
    assert not k.pump.safety.watchdog_ok


def test_a_faulty_reading_does_not_starve_the_watchdog():
    k = kit()
    k.ok("sim fault pressure open")
    feeds = k.pump.safety.feeds
    k.run(20000)
    assert k.alarm("SENSOR_FAULT") is not None
    assert k.pump.safety.feeds > feeds and k.pump.safety.watchdog_ok


def test_dropped_ticks_that_keep_happening_are_a_dose_loop_alarm():
    k = kit()
    for _ in range(3):
        k.pump.engine._drop_ticks += 500  # as the handler counts a late tick beyond its bound
        k.run(1000)
    assert k.alarm("DOSE_LOOP") is not None and "dropped" in k.alarm("DOSE_LOOP").detail
    assert [f["ticks"] for f in k.named("ticks_dropped")] == [500, 500, 500]
    assert k.pump.state == "alarm" and not k.pump.engine.running()


class FakeTherapy:
    def __init__(self):
        self.boluses = []
        self.refuse = False

    def patient_bolus(self, source):
        from firmware.errors import PumpError

        if self.refuse:
            raise PumpError("E_LIMIT", "lockout")
        self.boluses.append(source)


def test_button_press_asks_therapy_for_a_patient_bolus():
    k = kit()
    t = FakeTherapy()
    k.pump.therapy = t
    k.ok("sim button")
    assert t.boluses == ["button"]
    assert len(k.named("button")) == 1
    t.refuse = True
    k.ok("sim button")
    assert k.named("button_refused")[0]["code"] == "E_LIMIT"
    assert t.boluses == ["button"]


def test_sensors_command_reports_raw_scaled_and_health():
    k = kit()
    s = k.ok("sensors")["sensors"]
    assert s["pressure"]["health"] == "ok" and 0 < s["pressure"]["pa"] < 5000
    assert s["reservoir"]["health"] == "ok" and s["reservoir"]["fill_ppm"] > 900000
    assert 3900 < s["battery"]["cell_mv"] < 4200
    assert s["button"] == "released" and s["diag"] == 0
    assert k.js("sensors now")["code"] == "E_SYNTAX"


def test_selftest_reports_each_part():
    k = kit()
    assert k.js("selftest")["code"] == "E_AUTH"
    k.login()
    st = k.ok("selftest")["selftest"]
    assert st["passed"] is True
    assert st["pressure"] == "ok" and st["watchdog"] == "fed" and st["buzzer"] == "beeped"
    k.ok("sim fault battery open")
    k.run(2000)
    st = k.ok("selftest")["selftest"]
    assert st["passed"] is False and st["battery"] == "rail"
    assert k.named("selftest")[-1]["failed"] == ["battery"]


def test_a_second_sensor_fault_sounds_again_after_an_ack():
    k = kit()
    k.ok("sim fault pressure open")
    k.run(60000)
    k.ok("ack")
    k.run(60000)
    assert k.alarm("SENSOR_FAULT").acked
    k.ok("sim fault reservoir open")
    k.run(60000)
    a = k.alarm("SENSOR_FAULT")
    assert not a.acked and "reservoir rail" in a.detail and "pressure rail" in a.detail
    assert len(k.alarm_events("SENSOR_FAULT")) == 2


class _In:
    data = b""
    i = 0

    def read(self, n):
        return b""


class _Poll:
    """Each wait moves the clock 250 ms (the tick timer is dead: the engine never advances)."""

    def __init__(self, kit, waits):
        self.kit = kit
        self.left = waits

    def poll(self, timeout):
        self.left -= 1
        if self.left < 0:
            raise KeyboardInterrupt
        self.kit.sim.board.clock.advance_ms(250)
        return []


class _Board:
    def __init__(self, board):
        self.board = board
        self.feeds = 0

    def start_ticks(self, cb):
        pass

    def stop_ticks(self):
        pass

    def start_watchdog(self):
        pass

    def feed_watchdog(self):
        self.feeds += 1

    def stop_watchdog(self):
        pass


def test_the_console_loop_stops_feeding_when_the_dose_loop_dies():
    from firmware.shell import console

    k = kit()
    k.pump.engine.advance(1000)  # ticks seen: the dose-loop watch is armed
    k.pump.service()
    b = _Board(k.sim.board)
    console.serve(k.pump, k.sh, b, inp=_In(), write=lambda s: None, poll=_Poll(k, 40))
    # fed while the last ticks were fresh, then never again: 10 s with no tick
    assert 1 <= b.feeds <= 12, b.feeds
    assert k.alarm("DOSE_LOOP") is not None


class _Still:
    def stalled(self):
        return False


def test_a_start_after_a_long_stop_owes_no_steps_from_before_it():
    # the simulator samples every 30 s while a pump is suspended (a DOSE_CAP hold); at 3 mL/day
    # (60,000 steps/day) the first sample after the resume saw 30 s of the rate due and none made
    from firmware.dose import MODE_RUN, MODE_STOP
    from firmware.safety.checks import Stall

    st = Stall()
    tpd = 86400000
    assert st.check(_Still(), MODE_STOP, 0, tpd, 30000, 0) is None
    assert st.check(_Still(), MODE_RUN, 60000, tpd, 30000, 0) is None
    # running throughout, with nothing made: that is a stall
    assert "no step" in st.check(_Still(), MODE_RUN, 60000, tpd, 30000, 0)


def test_steps_the_governor_held_are_not_a_stall():
    from firmware.dose import MODE_RUN
    from firmware.safety.checks import Stall

    st = Stall()
    tpd = 86400000
    st.check(_Still(), MODE_RUN, 60000, tpd, 1000, 1, held=0)
    for i in range(1, 5):
        assert st.check(_Still(), MODE_RUN, 60000, tpd, 30000, 0, held=i) is None
    assert "no step" in st.check(_Still(), MODE_RUN, 60000, tpd, 30000, 0, held=4)
