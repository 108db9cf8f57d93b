"""Run on the MicroPython unix port by tools/bench: the tick handler's cost and allocation.

Prints one JSON line. The handler runs on a virtual clock that moves one tick
per call (so every call does a tick's full work, a step falling due at the
chosen rate); the empty handler is a bound method with the same signature
that reads the same clock, and a loop that only moves the clock is timed
too and subtracted from both.
"""

import gc
import sys
import time

import micropython

from boards.sim import SimPin
from boards.vclock import VirtualClock
from drivers.stepper import Stepper
from firmware.dose import DoseEngine


class Empty:
    def __init__(self, clock):
        self._ticks_us = clock.ticks_us
        self.on_tick = self._on_tick

    def _on_tick(self, _timer):
        self._ticks_us()


def engine(clock, rate):
    st = Stepper(SimPin(), SimPin(), SimPin(1))
    e = DoseEngine(st, clock, tick_hz=1000, int_limit=(1 << 30) - 1)
    e.arm(1 << 26)  # the allowance check runs on every step, as under the governor
    e.set_rate(rate)
    e.start()
    return e


def timed(fn, clock, n):
    adv = clock.advance_us
    t0 = time.ticks_us()
    for _ in range(n):
        adv(1000)
        fn(None)
    return time.ticks_diff(time.ticks_us(), t0)


def baseline(clock, n):
    adv = clock.advance_us
    t0 = time.ticks_us()
    for _ in range(n):
        adv(1000)
    return time.ticks_diff(time.ticks_us(), t0)


def alloc_per_tick(fn, clock, n):
    """Bytes allocated over n calls, divided by n (gc off, so nothing is collected meanwhile)."""
    adv = clock.advance_us
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    for _ in range(n):
        adv(1000)
        fn(None)
    after = gc.mem_alloc()
    gc.enable()
    # the loop itself (adv, range) allocates nothing on the unix port; measured with the empty handler
    return (after - before) / n


def locked_ok(fn, clock, n):
    """The handler under heap_lock: a MemoryError would be a bug on the board."""
    adv = clock.advance_us
    micropython.heap_lock()
    try:
        for _ in range(n):
            adv(1000)
            fn(None)
        ok = True
    except MemoryError:
        ok = False
    micropython.heap_unlock()
    return ok


def main(n, rate):
    clock = VirtualClock()
    e = engine(clock, rate)
    h = e.on_tick
    empty = Empty(clock).on_tick
    timed(h, clock, n // 10 + 1)  # warm up
    th = te = 1 << 60
    for _ in range(3):  # best of three each: the machine is shared
        b = baseline(clock, n)
        th = min(th, timed(h, clock, n) - b)
        te = min(te, timed(empty, clock, n) - b)
    out = {
        "ticks": n,
        "rate_steps_per_day": rate,
        "handler_us_per_tick": th / n,
        "empty_us_per_tick": te / n,
        "ratio": th / te if te > 0 else None,
        "alloc_bytes_per_tick": alloc_per_tick(h, clock, n),
        "alloc_bytes_per_tick_empty": alloc_per_tick(empty, clock, n),
        "heap_lock_ok": locked_ok(h, clock, n),
    }
    import json

    print(json.dumps(out))


main(int(sys.argv[1]) if len(sys.argv) > 1 else 100000, int(sys.argv[2]) if len(sys.argv) > 2 else 43200000)
