"""The dose governor's parts: the handler's hold at the allowance (under heap_lock), the plug-flow
line, and an allowance changed behind the governor's back. Both interpreters."""

from rig import Rig
from therapy_kit import TKit

from firmware.safety.governor import Line

D = 86400000


def test_the_handler_holds_at_the_allowance_under_heap_lock():
    import micropython

    r = Rig(log_edges=False)
    r.engine.set_rate(D)  # a step due on every tick
    r.engine.start()
    r.run_ticks(3)
    r.engine.arm(25)
    held0 = r.engine.held()
    fwd0 = r.engine.counters()[1]
    cb = r.engine.on_tick
    clock = r.clock
    timer = r.timer
    micropython.heap_lock()
    try:
        for i in range(400):
            clock.advance_us(1000 if i % 40 else 30000)  # on time and late: both paths hold
            cb(timer)
    finally:
        micropython.heap_unlock()
    assert r.engine.counters()[1] - fwd0 == 25  # exactly the allowance, whatever was due
    assert r.engine.held() - held0 > 300
    assert r.engine.allowance() == 0
    r.engine.arm(3)  # re-armed: the owed steps go on, one a tick, never a burst
    r.run_ticks(10)
    assert r.engine.counters()[1] - fwd0 == 28


def test_the_closed_form_holds_at_the_allowance_too():
    r = Rig(log_edges=False)
    r.engine.set_rate(D // 10, steps=500, then=0)  # a budget the allowance cuts short
    r.engine.start()
    r.engine.arm(120)
    r.engine.advance(60000)
    assert r.engine.counters()[1] == 120 and r.engine.budget() == 380


def test_the_line_puts_out_the_old_drug_first():
    line = Line(1000, 20)  # 1000 nL of 20 ng/mL
    assert line.push(400, 10) == 400 * 20
    assert line.push(800, 10) == 600 * 20 + 200 * 10
    assert line.push(5000, 10) == 5000 * 10  # past the line's volume: the new drug straight through
    u = Line(1000, 10)
    assert u.push(100, 30, unknown=True) == 100 * 30  # volume unknown: the stronger drug may be out


def test_an_allowance_changed_behind_the_governor_stops_the_pump():
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    k.run(60000)
    eng = k.pump.engine
    eng.arm(1 << 27)  # a stray write: not the governor's figure
    s0 = k.steps()
    k.run(1000)
    assert "STEP_MISMATCH" in k.pump.alarms.codes()
    assert k.pump.state == "alarm" and not eng.running()
    assert k.pump.board.pins["en"].level == 1  # the driver disabled (EN active low)
    k.run(60000)
    assert k.steps() - s0 <= 1
