"""Exact dose engine: a phase accumulator (DDA) stepped by a timer interrupt.

A rate is N steps per day against D ticks per day. Every tick adds N to an
accumulator below D and a step falls due each time it wraps, so by tick t the
engine has made floor((acc0 + t*N) / D) steps: any window differs from the
programmed volume by less than one step, with no drift.

The handler (`on_tick`) is integer-only and allocation-free. It reads the
clock and accounts for the ticks that really elapsed, so late, bunched or
missing callbacks (esp32 soft timers, rp2 flash writes) neither lose steps nor
burst them: steps that fell due while a callback was late are owed and go out
one per tick. Beyond `late_bound` ticks the excess is dropped and counted.

Counters the main loop reads wrap below 2**29 (compare before add), so the
handler never makes an integer the RP2040 cannot hold as a small int; the
main loop takes differences modulo WRAP (`fold`).
"""

from firmware.compat import const

WRAP = const(1 << 29)
_SMALL = const((1 << 30) - 1)

STOPPED = const(0)
RUNNING = const(1)
BACKOFF = const(2)


class DoseEngine:
    def __init__(self, stepper, clock, tick_hz=1000, late_bound_s=1, int_limit=_SMALL):
        if 1000000 % tick_hz:
            raise ValueError("tick_hz must divide 1e6")
        self._stepper = stepper
        self._step = stepper.step
        self._en = stepper.en
        self._en_off = stepper.en_off
        self._ticks_us = clock.ticks_us
        self._ticks_diff = clock.ticks_diff
        self._ticks_add = clock.ticks_add
        self.tick_hz = tick_hz
        self.ticks_per_day = tick_hz * 86400
        self._d = self.ticks_per_day
        self._period = 1000000 // tick_hz
        self._half = self._period // 2
        self._bound = late_bound_s * tick_hz
        self._limit = int_limit
        self._n = 0
        self._chunk = 1
        self._acc = 0
        self._owed = 0
        self._backoff = 0
        self._mode = STOPPED
        self._resync = 1
        self._last = 0
        self._pulse = 0
        self._pend = 0
        self._pn = 0
        self._pc = 1
        # a step budget: after `_budget` more forward steps, switch to `_then`
        self._budget = 0
        self._pb = 0
        self._then = 0
        self._thenc = 1
        # wrapping counters, read by fold()
        self._ticks = 0
        self._fwd = 0
        self._rev = 0
        self._drop_ticks = 0
        self._drop_steps = 0
        # bound once: a bound method made per callback would allocate
        self.on_tick = self._on_tick

    # ---- main-loop side -------------------------------------------------

    def max_rate(self):
        """Highest rate in steps per day: one step per tick."""
        return self._d

    def chunk_for(self, n):
        if n <= 0:
            return self._limit
        return (self._limit - self._d) // n

    def set_rate(self, steps_per_day, steps=0, then=0):
        """Queue a new rate; the handler takes it at the next tick boundary.

        With `steps` > 0 the rate holds for exactly that many forward steps
        and then `then` takes over at the next tick: a bolus of an exact size.
        """
        for r in (steps_per_day, then):
            if r < 0 or r > self._d:
                raise ValueError("rate out of range")
        if steps < 0:
            raise ValueError("negative step budget")
        self._pend = 0
        self._pn = steps_per_day
        self._pc = self.chunk_for(steps_per_day)
        self._pb = steps
        self._then = then
        self._thenc = self.chunk_for(then)
        self._pend = 1

    def rate(self):
        return self._pn if self._pend else self._n

    def budget(self):
        """Forward steps left before the `then` rate takes over (0: none set)."""
        return self._pb if self._pend else self._budget

    def start(self):
        """Deliver from the next tick on; time spent stopped is never made up."""
        if self._mode == RUNNING:
            return
        self._mode = STOPPED
        self._owed = 0
        self._backoff = 0
        self._stepper.forward()
        self._stepper.enable()
        self._resync = 1
        self._mode = RUNNING

    def stop(self):
        """No new step after this call; the driver is disabled at once."""
        self._mode = STOPPED
        self._owed = 0
        self._backoff = 0
        self._stepper.disable()

    def back_off(self, steps):
        """Stop forward delivery at once and run `steps` steps in reverse."""
        self._mode = STOPPED
        self._owed = 0
        if steps <= 0:
            self._stepper.disable()
            return
        self._stepper.reverse()
        self._stepper.enable()
        self._backoff = steps
        self._resync = 1
        self._mode = BACKOFF

    def running(self):
        return self._mode == RUNNING

    def mode(self):
        return self._mode

    def owed(self):
        return self._owed

    def counters(self):
        """Raw wrapping counters: ticks, forward, reverse, dropped ticks, dropped steps."""
        return (self._ticks, self._fwd, self._rev, self._drop_ticks, self._drop_steps)

    def steps_due(self, n):
        """Advance the accumulator by n ticks in closed form; return the steps that fell due."""
        rate = self._n
        if rate == 0 or n <= 0:
            return 0
        d = self._d
        acc = self._acc
        c = self._chunk
        k = 0
        while n > 0:
            m = n if n < c else c
            a = acc + m * rate
            q = a // d
            acc = a - q * d
            k += q
            n -= m
        self._acc = acc
        return k

    def advance(self, n):
        """Run n whole ticks at once, on schedule (the simulator's clock).

        Pending steps owed from late ticks go out one per tick as in the
        handler; callers fold at least every 2**28 steps.
        """
        if n <= 0:
            return
        if self._pend:
            self._take_pending()
        self._ticks = (self._ticks + n) % WRAP
        if self._mode == BACKOFF:
            k = self._backoff if self._backoff < n else n
            self._backoff -= k
            self._rev = (self._rev + k) % WRAP
            if not self._backoff:
                self._mode = STOPPED
                self._en(self._en_off)
            return
        if self._mode != RUNNING:
            return
        while self._budget and self._n:
            # the tick on which the budget's last step falls due, in closed form
            need = self._budget - self._owed
            t = (need * self._d - self._acc + self._n - 1) // self._n if need > 0 else 0
            if t > n:
                break
            self.steps_due(t)
            self._fwd = (self._fwd + self._budget) % WRAP
            self._owed = 0
            self._budget = 0
            self._switch()
            n -= t
        due = self.steps_due(n) + self._owed
        k = due if due < n else n
        self._owed = due - k
        self._fwd = (self._fwd + k) % WRAP
        if self._budget:
            self._budget -= k

    def sync(self):
        """Make the next tick count from now (the simulator after a jump)."""
        self._resync = 1

    def _take_pending(self):
        self._n = self._pn
        self._chunk = self._pc
        self._budget = self._pb
        if self._acc >= self._d:
            self._acc = 0
        self._pend = 0

    def _switch(self):
        # the budget is spent: steps still owed were due at the old rate after
        # its end, so they are dropped (counted) rather than given late
        self._n = self._then
        self._chunk = self._thenc
        if self._owed:
            x = self._owed
            c = self._drop_steps
            if c >= WRAP - x:
                c -= WRAP
            self._drop_steps = c + x
            self._owed = 0

    # ---- interrupt side ---------------------------------------------------

    def _on_tick(self, _timer):
        now = self._ticks_us()
        if self._pulse:
            self._step(0)
            self._pulse = 0
        if self._resync:
            self._last = now
            self._resync = 0
            n = 1
        else:
            n = (self._ticks_diff(now, self._last) + self._half) // self._period
            if n <= 0:
                if n < 0:
                    self._last = now
                return
            self._last = self._ticks_add(self._last, n * self._period)
        c = self._ticks
        if c >= WRAP - n:
            c -= WRAP
        self._ticks = c + n
        if n > self._bound:
            c = self._drop_ticks
            x = n - self._bound
            if c >= WRAP - x:
                c -= WRAP
            self._drop_ticks = c + x
            n = self._bound
        if self._pend:
            self._take_pending()
        mode = self._mode
        if mode == RUNNING:
            if n == 1:
                a = self._acc + self._n
                if a >= self._d:
                    a -= self._d
                    self._owed += 1
                self._acc = a
            else:
                self._owed += self.steps_due(n)
            owed = self._owed
            if owed:
                if owed > self._bound:
                    x = owed - self._bound
                    c = self._drop_steps
                    if c >= WRAP - x:
                        c -= WRAP
                    self._drop_steps = c + x
                    owed = self._bound
                self._owed = owed - 1
                self._step(1)
                self._pulse = 1
                c = self._fwd + 1
                self._fwd = 0 if c >= WRAP else c
                if self._budget:
                    self._budget -= 1
                    if not self._budget:
                        self._switch()
        elif mode == BACKOFF:
            if self._backoff > 0:
                self._backoff -= 1
                self._step(1)
                self._pulse = 1
                c = self._rev + 1
                self._rev = 0 if c >= WRAP else c
            else:
                self._mode = STOPPED
                self._en(self._en_off)


def wrap_delta(new, old):
    """Difference of two wrapping counters (the main loop reads them often enough)."""
    return (new - old) % WRAP
