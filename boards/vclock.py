"""A virtual clock with the board's tick arithmetic (ticks wrap at 2**30).

The simulator and the host tests drive time by hand through it: days pass in
one call, and wraparound comes when the tests want it, not after 12 days.
"""

PERIOD = 1 << 30
_MASK = PERIOD - 1
_HALF = PERIOD >> 1


class VirtualClock:
    def __init__(self, start_us=0):
        self.now_us = start_us

    def advance_us(self, us):
        self.now_us += us

    def advance_ms(self, ms):
        self.now_us += ms * 1000

    def ticks_us(self):
        return self.now_us & _MASK

    def ticks_ms(self):
        return (self.now_us // 1000) & _MASK

    def ticks_add(self, ticks, delta):
        return (ticks + delta) & _MASK

    def ticks_diff(self, new, old):
        return ((new - old + _HALF) & _MASK) - _HALF

    def sleep_ms(self, ms):
        self.advance_ms(ms)

    def sleep_us(self, us):
        self.advance_us(us)
