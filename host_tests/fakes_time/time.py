"""Fake `time` on the virtual clock, for MicroPython runs only (MICROPYPATH).

On CPython it would shadow the standard library, so it lives apart.

Offers what the frozen asyncio and the firmware use. `clock` is the shared
VirtualClock: tests move it with `clock.advance_us(...)`.
"""

from fakeclock import clock

EPOCH_2000 = 946684800


def ticks_us():
    return clock.ticks_us()


def ticks_ms():
    return clock.ticks_ms()


def ticks_cpu():
    return clock.ticks_us()


def ticks_add(ticks, delta):
    return clock.ticks_add(ticks, delta)


def ticks_diff(new, old):
    return clock.ticks_diff(new, old)


def sleep_ms(ms):
    clock.advance_ms(ms)


def sleep_us(us):
    clock.advance_us(us)


def sleep(s):
    clock.advance_us(int(s * 1000000))


def time():
    return clock.now_us // 1000000


def time_ns():
    return clock.now_us * 1000
