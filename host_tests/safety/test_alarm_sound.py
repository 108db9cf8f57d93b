"""Alarm signals tick by tick on the fake PWM and Pin; ack, silence and re-sound timing."""

import fakeclock
import machine
from safetykit import SKit

from drivers.buzzer import Buzzer
from drivers.led import Led
from firmware.safety.alarms import HIGH, LOW, MEDIUM
from firmware.safety.sound import TICK_MS, Annunciator


def play(priority, ms):
    """Run the annunciator 1 ms at a time; returns (pwm, led pin) with their logged edges."""
    clk = fakeclock.clock
    clk.now_us = 0
    pwm = machine.PWM(machine.Pin(16), freq=2000, duty_u16=0)
    led = machine.Pin(25, machine.Pin.OUT, value=0)
    a = Annunciator(Buzzer(pwm), Led(led))
    for t in range(ms):
        a.update(t, priority, priority)
        clk.advance_us(1000)
    return pwm, led


def bursts(pwm, gap_ms=1500):
    """Group tone-on edges into bursts separated by at least gap_ms of silence."""
    ons = [t // 1000 for t, d in pwm.changes if d]
    out = []
    for t in ons:
        if out and t - out[-1][-1] < gap_ms:
            out[-1].append(t)
        else:
            out.append([t])
    return out


def longest_on(pwm):
    best = 0
    on_at = None
    for t, d in pwm.changes:
        if d and on_at is None:
            on_at = t
        elif not d and on_at is not None:
            best = max(best, (t - on_at) // 1000)
            on_at = None
    return best


def test_high_is_bursts_of_ten_pulses_and_fast_flashing():
    pwm, led = play(HIGH, 30000)
    b = [len(x) for x in bursts(pwm, gap_ms=3000)]
    assert b == [10, 10, 10], b
    assert longest_on(pwm) <= 200  # IEC pulse 75-200 ms: never a continuous tone
    # 2 Hz LED: 60 rising edges in 30 s
    assert led.rising_edges() == 60


def test_medium_is_three_pulses_and_slow_flashing():
    pwm, led = play(MEDIUM, 45000)
    assert [len(x) for x in bursts(pwm)] == [3, 3, 3]
    assert longest_on(pwm) <= 200
    assert led.rising_edges() == 23  # 0.5 Hz over 45 s, first edge at 0


def test_low_is_one_pulse_and_a_steady_light():
    pwm, led = play(LOW, 65000)
    assert [len(x) for x in bursts(pwm)] == [1, 1, 1]
    assert led.rising_edges() == 1 and led.value() == 1


def test_ack_silences_and_a_new_alarm_sounds():
    k = SKit(rate="1")
    al = k.pump.alarms
    al.ack()  # the factory-PIN alarm
    k.run(60000)
    assert al.top() is None and k.sim.board.buzzer.duty_u16() == 0
    al.raise_alarm("SENSOR_FAULT", "test")
    assert al.top() == MEDIUM
    al.ack()
    assert al.top() is None
    assert [f["code"] for f in k.named("ack")] == ["DEFAULT_PIN", "SENSOR_FAULT"]
    a = al.get("SENSOR_FAULT")
    assert a is not None and a.acked and a.active  # listed until its condition clears
    al.clear("SENSOR_FAULT")
    assert al.get("SENSOR_FAULT") is None


def test_silence_holds_sound_for_its_time_then_resounds():
    k = SKit(rate="1")
    k.ok("ack")
    k.pump.alarms.raise_alarm("BATTERY_LOW", "test")
    d = k.ok("silence 10m")
    assert d["silenced_s"] == 600
    assert k.pump.alarms.top() is None and k.pump.alarms.top(audible=False) == MEDIUM
    k.run(9 * 60000)
    assert k.pump.alarms.top() is None
    k.run(60000 + 30000)
    assert k.pump.alarms.top() == MEDIUM
    assert k.named("silence")[0]["ms"] == 600000
    assert [f["why"] for f in k.named("resound")] == ["timeout"]


def test_silence_is_bounded_and_a_new_alarm_ends_it():
    k = SKit(rate="1")
    assert k.js("silence 121m")["code"] == "E_RANGE"
    assert k.js("silence 3d")["code"] == "E_RANGE"
    assert k.js("silence soon")["code"] == "E_SYNTAX"
    assert k.named("silence") == []
    k.ok("silence 2h")
    k.pump.alarms.raise_alarm("SENSOR_FAULT", "new")
    assert k.pump.alarms.top() == MEDIUM
    assert [f["why"] for f in k.named("resound")] == ["new_alarm"]


def test_ack_by_id_and_unknown_id():
    k = SKit(rate="1")
    k.pump.alarms.raise_alarm("SENSOR_FAULT", "x")
    ids = [a["id"] for a in k.ok("alarms")["alarms"]]
    assert len(ids) == 2
    assert k.js("ack 999")["code"] == "E_RANGE"
    assert k.js("ack x")["code"] == "E_SYNTAX"
    d = k.ok("ack %d" % ids[1])
    assert d["acked"] == [ids[1]]
    acked = {a["id"]: a["acked"] for a in k.ok("alarms")["alarms"]}
    assert acked == {ids[0]: False, ids[1]: True}


def test_stopped_reminder_after_30_min_then_every_15():
    k = SKit(rate="1")
    k.ok("ack")
    k.ok("stop")
    k.run(29 * 60000)
    assert k.alarm("STOPPED") is None
    k.run(2 * 60000)
    a = k.alarm("STOPPED")
    assert a is not None and not a.acked and a.priority == MEDIUM
    k.ok("ack")
    k.run(14 * 60000)
    assert k.alarm("STOPPED").acked
    k.run(2 * 60000)
    assert not k.alarm("STOPPED").acked  # sounding again
    assert len(k.alarm_events("STOPPED")) == 2
    k.login()
    k.ok("start")
    a = k.alarm("STOPPED")
    assert a is not None and not a.active  # latched until acknowledged
    k.ok("ack")
    assert k.alarm("STOPPED") is None


def test_patterns_reach_the_board_buzzer_in_the_simulator():
    k = SKit(rate="1")
    k.pump.alarms.raise_alarm("OCCLUSION", "test")
    b = k.sim.board
    cap = b.step_cap_ms
    b.step_cap_ms = 10
    k.run(10000)
    b.step_cap_ms = cap
    # 10 pulses: 20 duty changes in one 10 s period, and the LED flashing
    assert b.buzzer.changes == 20, b.buzzer.changes
    assert b.led.edges >= 30


class CountingPWM:
    """A PWM with the board's duty_u16 signature that counts tone starts without allocating
    (the shared fake logs each change), so the timer callback can run under heap_lock."""

    def __init__(self):
        self.duty = 0
        self.starts = 0

    def duty_u16(self, value=None):
        if value is None:
            return self.duty
        if value and not self.duty:
            self.starts += 1
        self.duty = value
        return None


def test_timer_callback_allocates_nothing_under_heap_lock():
    import micropython

    pwm = CountingPWM()
    led = machine.Pin(25, machine.Pin.OUT, value=0)
    led.log_edges = False
    a = Annunciator(Buzzer(pwm), Led(led))
    a.timed = True
    timer = machine.Timer(-1)
    timer.init(mode=machine.Timer.PERIODIC, period=TICK_MS, callback=a.on_tick, hard=True)
    a.update(0, HIGH, HIGH)
    a.beep(0, 100)
    micropython.heap_lock()
    try:
        for _ in range(1000):  # 10 s: one whole high burst, the beep, the flashing
            timer.fire()
    finally:
        micropython.heap_unlock()
    assert pwm.starts == 10, pwm.starts
    assert led.rising_edges() == 20, led.rising_edges()
    a.update(0, MEDIUM, None)  # the main loop changes priority; the callback plays the new table
    micropython.heap_lock()
    try:
        for _ in range(1500):
            timer.fire()
    finally:
        micropython.heap_unlock()
    assert pwm.starts == 13, pwm.starts
    assert led.value() == 0


def test_timer_plays_exact_pulses_while_the_main_loop_stalls():
    clk = fakeclock.clock
    clk.now_us = 0
    pwm = machine.PWM(machine.Pin(16), freq=2000, duty_u16=0)
    led = machine.Pin(25, machine.Pin.OUT, value=0)
    a = Annunciator(Buzzer(pwm), Led(led))
    a.timed = True
    timer = machine.Timer(-1)
    timer.init(mode=machine.Timer.PERIODIC, period=TICK_MS, callback=a.on_tick, hard=True)
    for t in range(0, 30000, TICK_MS):
        if t % 430 == 0:  # the main loop gets a pass in only every 430 ms (GC, flash erase)
            a.update(t, HIGH, HIGH)
        timer.fire()
        clk.advance_us(TICK_MS * 1000)
    assert [len(x) for x in bursts(pwm, gap_ms=3000)] == [10, 10, 10]
    widths = pulse_widths(pwm)
    assert len(widths) == 30 and min(widths) == 150 and max(widths) == 150, widths
    assert led.rising_edges() == 60


def pulse_widths(pwm):
    out = []
    on_at = None
    for t, d in pwm.changes:
        if d and on_at is None:
            on_at = t
        elif not d and on_at is not None:
            out.append((t - on_at) // 1000)
            on_at = None
    return out


def test_supervisor_hands_the_pattern_to_a_board_timer():
    k = SKit(rate="1")
    b = k.sim.board
    timers = []
    b.start_sound = lambda cb, period_ms: timers.append((cb, period_ms))
    from firmware.safety.supervisor import Supervisor

    s = Supervisor(k.pump)
    assert timers == [(s.sound.on_tick, TICK_MS)] and s.sound.timed
    k.pump.alarms.raise_alarm("OCCLUSION", "test")
    changes = b.buzzer.changes
    s.service(k.pump)  # the main loop says what sounds, but plays nothing itself
    assert b.buzzer.changes == changes
    timers[0][0](None)
    assert b.buzzer.changes == changes + 1
    del b.start_sound
