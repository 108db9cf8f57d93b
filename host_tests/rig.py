"""Shared test rig: an engine on fake pins and a virtual clock. Runs on both interpreters."""

import fakeclock
import machine

from drivers.stepper import Stepper
from firmware.dose import ALLOW_MAX, DoseEngine, wrap_delta


class Lcg:
    """Same random sequence on CPython and MicroPython."""

    def __init__(self, seed=1):
        self.s = seed & 0x7FFFFFFF

    def below(self, n):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.s >> 8) % n


class Rig:
    def __init__(self, start_us=0, tick_hz=1000, log_edges=True, int_limit=(1 << 30) - 1):
        self.clock = fakeclock.clock
        self.clock.now_us = start_us
        self.step = machine.Pin(2, machine.Pin.OUT, value=0)
        self.dir = machine.Pin(3, machine.Pin.OUT, value=0)
        self.en = machine.Pin(4, machine.Pin.OUT, value=1)
        for p in (self.step, self.dir, self.en):
            p.log_edges = log_edges
        self.stepper = Stepper(self.step, self.dir, self.en)
        self.engine = DoseEngine(self.stepper, self.clock, tick_hz=tick_hz, int_limit=int_limit)
        self.engine.arm(ALLOW_MAX)  # the engine alone: no governor, an allowance no test reaches
        self.timer = machine.Timer(-1)
        self.timer.init(mode=machine.Timer.PERIODIC, freq=tick_hz, callback=self.engine.on_tick, hard=True)
        self.period = 1000000 // tick_hz
        self._last = self.engine.counters()
        self.fwd = 0
        self.rev = 0
        self.ticks = 0
        self.drop_ticks = 0
        self.drop_steps = 0

    def fire_at(self, dt_us):
        self.clock.advance_us(dt_us)
        self.timer.fire()

    def run_ticks(self, n):
        for _ in range(n):
            self.fire_at(self.period)

    def advance(self, ticks):
        """The closed form over any span: a day at a time, folded (and re-armed) in between."""
        while ticks > 0:
            n = ticks if ticks < 86400000 else 86400000
            self.engine.advance(n)
            self.fold()
            ticks -= n

    def fold(self):
        c = self.engine.counters()
        o = self._last
        self.ticks += wrap_delta(c[0], o[0])
        self.fwd += wrap_delta(c[1], o[1])
        self.rev += wrap_delta(c[2], o[2])
        self.drop_ticks += wrap_delta(c[3], o[3])
        self.drop_steps += wrap_delta(c[4], o[4])
        self._last = c
        self.engine.arm(ALLOW_MAX)
        return self.fwd


def expected(ticks, rate, ticks_per_day):
    return ticks * rate // ticks_per_day
