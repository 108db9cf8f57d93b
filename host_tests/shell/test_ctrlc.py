"""A Ctrl-C raised inside the alarm sound's timer callback reaches the console loop. Both interpreters.

On the board a Ctrl-C that arrives while the main loop is in a long C call
is raised in the next bytecode that runs: the sound timer's hard callback
(firmware/ctrlc.py says what was measured). Here the buzzer raises it, as
the VM would, in the middle of the callback.
"""

import machine
from consolekit import FakeIn, FakePoll
from shellkit import Kit

from drivers.buzzer import Buzzer
from drivers.led import Led
from firmware import ctrlc
from firmware.safety.alarms import HIGH
from firmware.safety.sound import TICK_MS, Annunciator
from firmware.shell import console


class InterruptedPWM:
    """A PWM whose next tone change raises KeyboardInterrupt `arm` times, then counts tone starts."""

    def __init__(self):
        self.duty = 0
        self.starts = 0
        self.arm = 0

    def duty_u16(self, value=None):
        if value is None:
            return self.duty
        if self.arm:
            self.arm -= 1
            raise KeyboardInterrupt
        if value and not self.duty:
            self.starts += 1
        self.duty = value
        return None


def test_the_sound_callback_hands_a_ctrl_c_on_and_keeps_playing():
    import micropython

    ctrlc.take()  # nothing left over from another test
    pwm = InterruptedPWM()
    led = machine.Pin(25, machine.Pin.OUT, value=0)
    led.log_edges = False
    a = Annunciator(Buzzer(pwm), Led(led))
    a.timed = True
    timer = machine.Timer(-1)
    timer.init(mode=machine.Timer.PERIODIC, period=TICK_MS, callback=a.on_tick, hard=True)
    a.update(0, HIGH, HIGH)
    pwm.arm = 1
    micropython.heap_lock()
    try:
        timer.fire()  # the KeyboardInterrupt is raised in the buzzer, inside the callback
        caught = ctrlc.take()
        again = ctrlc.take()
        for _ in range(999):
            timer.fire()
    finally:
        micropython.heap_unlock()
    assert caught and not again  # handed on once, taken once
    assert pwm.starts == 10, pwm.starts  # the burst still plays: the callback did not die


class Calls:
    def __init__(self, board):
        self.board = board
        self.calls = []

    def start_ticks(self, cb):
        self.board.start_ticks(cb)

    def stop_ticks(self):
        self.calls.append("stop_ticks")
        self.board.stop_ticks()

    def start_watchdog(self):
        pass

    def feed_watchdog(self):
        pass

    def stop_watchdog(self):
        self.calls.append("stop_watchdog")


def test_the_console_loop_stops_safely_on_a_ctrl_c_a_callback_caught():
    ctrlc.take()
    k = Kit(json_mode=False)
    k.pump.set_basal(20000, "continuous")
    k.pump.start()
    passes = [0]

    class Callback:
        # stands in for the sound timer: it catches the Ctrl-C on the third pass
        def service(self, pump):
            passes[0] += 1
            if passes[0] == 3:
                ctrlc.caught()

    k.pump.services.append(Callback())
    inp = FakeIn(b"")
    out = []
    b = Calls(k.board)
    stopped = []
    console.serve(
        k.pump,
        k.sh,
        b,
        inp=inp,
        write=out.append,
        poll=FakePoll(inp, k, limit=50, stop=RuntimeError("the loop never stopped")),
        on_stop=lambda: stopped.append(1),
    )
    assert passes[0] == 3  # it stopped on the pass the flag was set, not later
    assert not k.pump.engine.running()
    assert b.calls == ["stop_ticks", "stop_watchdog"] and stopped == [1]
    assert "".join(out).rstrip().endswith("pump stopped; REPL free")
    assert not ctrlc.take()
