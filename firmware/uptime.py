"""Monotonic milliseconds since boot, folded from the wrapping ticks_ms.

ticks_diff is only right for spans below 2**29 ms (6.2 days), so the main
loop folds often; the total is an ordinary int that may grow past 2**30
(outside any interrupt handler, where a long int is allowed).
"""


class Uptime:
    def __init__(self, clock):
        self._clock = clock
        self._last = clock.ticks_ms()
        self.ms = 0

    def update(self):
        now = self._clock.ticks_ms()
        d = self._clock.ticks_diff(now, self._last)
        if d > 0:
            self.ms += d
            self._last = now
        return self.ms
