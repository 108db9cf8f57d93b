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

Forward steps go out only within an allowance the dose governor arms
(`arm`): when it is spent, due steps wait (owed, never a burst beyond the
late bound) and each tick held is counted, whatever the rate slots say. The
engine starts with none: nothing moves until the governor has armed it.

Counters the main loop reads wrap below 2**29 (compare before add), so the
handler never makes an integer the RP2040 cannot hold as a small int; the
main loop takes differences modulo WRAP (`fold`).
"""

from array import array

from firmware.compat import const, micropython, ptr32

WRAP = const(1 << 29)
_SMALL = const((1 << 30) - 1)
# The handler does the clock's ticks_diff/ticks_add itself, modulo 2**30:
# every port's ticks_us wraps at a power of two of at least 2**30 (2**30 on
# rp2 and esp32, 2**62 on the 64-bit unix port, 2**30 on the virtual clock),
# so the residues agree for spans below 2**29 us, the clock's own limit.
_TMASK = const((1 << 30) - 1)
_THALF = const(1 << 29)

MODE_STOP = const(0)
MODE_RUN = const(1)
MODE_BACKOFF = const(2)

# slots of the engine's state array: the viper handler reads them through a
# ptr32 as machine words, with no attribute lookup per field
_ACC = const(0)
_N = const(1)
_D = const(2)
_CHUNK = const(3)
_OWED = const(4)
_BACKOFF = const(5)
_MODE = const(6)
_RESYNC = const(7)
_LAST = const(8)
_PULSE = const(9)
_PEND = const(10)
_PN = const(11)
_PC = const(12)
_BUDGET = const(13)
_PB = const(14)
_THEN = const(15)
_THENC = const(16)
_TICKS = const(17)
_FWD = const(18)
_REV = const(19)
_DTICKS = const(20)
_DSTEPS = const(21)
_PERIOD = const(22)
_HALF = const(23)
_BOUND = const(24)
_ALLOW = const(25)
_HELD = const(26)
_SLOTS = const(27)
# the allowance is an end point on the wrapping forward counter: steps left =
# (end - fwd) modulo WRAP, read as signed; the governor keeps it below ALLOW_MAX
_WMASK = const((1 << 29) - 1)
_WHALF = const(1 << 28)
ALLOW_MAX = const((1 << 28) - 1)


class DoseEngine:
    def __init__(self, stepper, clock, tick_hz=1000, late_bound_s=1, int_limit=_SMALL):
        if 1000000 % tick_hz:
            raise ValueError("tick_hz must divide 1e6")
        self._stepper = stepper
        self._en = stepper.en
        self._en_off = stepper.en_off
        self._ticks_us = clock.ticks_us
        self.tick_hz = tick_hz
        self.ticks_per_day = tick_hz * 86400
        self.stops = 0
        self._d = self.ticks_per_day
        self._limit = int_limit
        # every value below 2**30 (the last tick's time is kept modulo 2**30),
        # so 32-bit slots hold them on any port
        s = array("i", bytes(4 * _SLOTS))
        s[_D] = self._d
        s[_CHUNK] = 1
        s[_RESYNC] = 1
        s[_PC] = 1
        s[_THENC] = 1
        s[_PERIOD] = 1000000 // tick_hz
        s[_HALF] = s[_PERIOD] // 2
        s[_BOUND] = late_bound_s * tick_hz
        # a step budget: after `_BUDGET` more forward steps, switch to `_THEN`;
        # the counters (`_TICKS` to `_DSTEPS`) wrap and are read by fold()
        self._s = s
        # what set_rate last wrote: (rate, chunk, budget, then, then_chunk), the slots _PN, _PC,
        # _PB, _THEN, _THENC; firmware/safety/stepcheck.py checks the live slots against it
        self.shadow = (0, 1, 0, 0, 1)
        # made once: the Timer holds this closure for the life of the program
        self.on_tick = _handler(self, s, stepper.step)

    # the dropped-tick counter, writable so tests can stage a late tick
    @property
    def _drop_ticks(self):
        return self._s[_DTICKS]

    @_drop_ticks.setter
    def _drop_ticks(self, v):
        self._s[_DTICKS] = v % WRAP

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
        if steps >= WRAP:
            raise ValueError("step budget too large")
        s = self._s
        s[_PEND] = 0
        s[_PN] = steps_per_day
        # a host's int_limit is far above 2**30: the slot holds a chunk below
        # it, which only splits a long closed-form jump into more pieces
        s[_PC] = min(self.chunk_for(steps_per_day), _SMALL)
        s[_PB] = steps
        s[_THEN] = then
        s[_THENC] = min(self.chunk_for(then), _SMALL)
        s[_PEND] = 1
        self.shadow = (steps_per_day, s[_PC], steps, then, s[_THENC])

    def arm(self, steps):
        """Allow `steps` more forward steps from the count now (the governor's allowance).

        Only this call writes the end point and only the handler advances the
        count, so a step taken between the read and the write makes the
        allowance one step smaller, never larger."""
        if steps < 0:
            steps = 0
        elif steps > ALLOW_MAX:
            steps = ALLOW_MAX
        s = self._s
        s[_ALLOW] = (s[_FWD] + steps) % WRAP

    def arm_from(self, fwd, steps):
        """Allow `steps` forward steps beyond the wrapping forward count `fwd` (read earlier)."""
        if steps < 0:
            steps = 0
        elif steps > ALLOW_MAX:
            steps = ALLOW_MAX
        self._s[_ALLOW] = (fwd + steps) % WRAP

    def allowance(self):
        """Forward steps the handler may still make (0 or less: it holds)."""
        s = self._s
        return ((s[_ALLOW] - s[_FWD] + _WHALF) & _WMASK) - _WHALF

    def allow_end(self):
        return self._s[_ALLOW]

    def held(self):
        """Wrapping count of steps dropped while held for want of allowance (one more waits)."""
        return self._s[_HELD]

    def rate(self):
        s = self._s
        return s[_PN] if s[_PEND] else s[_N]

    def budget(self):
        """Forward steps left before the `then` rate takes over (0: none set)."""
        s = self._s
        return s[_PB] if s[_PEND] else s[_BUDGET]

    def start(self):
        """Deliver from the next tick on; time spent stopped is never made up."""
        s = self._s
        if s[_MODE] == MODE_RUN:
            return
        s[_MODE] = MODE_STOP
        s[_OWED] = 0
        s[_BACKOFF] = 0
        self._stepper.forward()
        self._stepper.enable()
        s[_RESYNC] = 1
        s[_MODE] = MODE_RUN

    def stop(self):
        """No new step after this call; the driver is disabled at once."""
        s = self._s
        s[_MODE] = MODE_STOP
        s[_OWED] = 0
        s[_BACKOFF] = 0
        self._stepper.disable()
        self.stops += 1  # a step budget running across this was cut short, not spent

    def back_off(self, steps):
        """Stop forward delivery at once and run `steps` steps in reverse."""
        s = self._s
        s[_MODE] = MODE_STOP
        s[_OWED] = 0
        if steps <= 0:
            self._stepper.disable()
            return
        self._stepper.reverse()
        self._stepper.enable()
        s[_BACKOFF] = steps if steps < WRAP else WRAP - 1
        s[_RESYNC] = 1
        s[_MODE] = MODE_BACKOFF

    def running(self):
        return self._s[_MODE] == MODE_RUN

    def mode(self):
        return self._s[_MODE]

    def owed(self):
        return self._s[_OWED]

    def counters(self):
        """Raw wrapping counters: ticks, forward, reverse, dropped ticks, dropped steps."""
        s = self._s
        return (s[_TICKS], s[_FWD], s[_REV], s[_DTICKS], s[_DSTEPS])

    @micropython.viper
    def steps_due(self, n: int) -> int:
        """Advance the accumulator by n ticks in closed form; return the steps that fell due."""
        s = ptr32(self._s)
        rate = s[_N]
        if rate == 0 or n <= 0:
            return 0
        d = s[_D]
        acc = s[_ACC]
        c = s[_CHUNK]
        k = 0
        while n > 0:
            m = n if n < c else c
            a = acc + m * rate
            q = a // d
            acc = a - q * d
            k += q
            n -= m
        s[_ACC] = acc
        return k

    def advance(self, n):
        """Run n whole ticks at once, on schedule (the simulator's clock).

        Pending steps owed from late ticks go out one per tick as in the
        handler; callers fold at least every 2**28 steps.
        """
        if n <= 0:
            return
        s = self._s
        if s[_PEND]:
            self._take_pending()
        s[_TICKS] = (s[_TICKS] + n) % WRAP
        if s[_MODE] == MODE_BACKOFF:
            b = s[_BACKOFF]
            k = b if b < n else n
            s[_BACKOFF] = b - k
            s[_REV] = (s[_REV] + k) % WRAP
            if not s[_BACKOFF]:
                s[_MODE] = MODE_STOP
                self._en(self._en_off)
            return
        if s[_MODE] != MODE_RUN:
            return
        while s[_BUDGET] and s[_N]:
            # the tick on which the budget's last step falls due, in closed form
            rate = s[_N]
            need = s[_BUDGET] - s[_OWED]
            t = (need * s[_D] - s[_ACC] + rate - 1) // rate if need > 0 else 0
            if t > n or s[_BUDGET] > self.allowance():
                break
            self.steps_due(t)
            s[_FWD] = (s[_FWD] + s[_BUDGET]) % WRAP
            s[_OWED] = 0
            s[_BUDGET] = 0
            self._switch()
            n -= t
        due = self.steps_due(n) + s[_OWED]
        k = due if due < n else n
        room = self.allowance()
        owed = due - k
        if k > room:
            # held as the handler holds: one step waits, the rest that fell due are dropped
            k = room if room > 0 else 0
            owed = due - k
            if owed > 1:
                s[_HELD] = (s[_HELD] + owed - 1) % WRAP
                owed = 1
        s[_OWED] = owed
        s[_FWD] = (s[_FWD] + k) % WRAP
        if s[_BUDGET]:
            s[_BUDGET] -= k

    def sync(self):
        """Make the next tick count from now (the simulator after a jump)."""
        self._s[_RESYNC] = 1

    @micropython.viper
    def _take_pending(self):
        s = ptr32(self._s)
        s[_N] = s[_PN]
        s[_CHUNK] = s[_PC]
        s[_BUDGET] = s[_PB]
        if s[_ACC] >= s[_D]:
            s[_ACC] = 0
        s[_PEND] = 0

    @micropython.viper
    def _switch(self):
        # the budget is spent: steps still owed were due at the old rate after
        # its end, so they are dropped (counted) rather than given late
        s = ptr32(self._s)
        s[_N] = s[_THEN]
        s[_CHUNK] = s[_THENC]
        x = s[_OWED]
        if x:
            c = s[_DSTEPS]
            if c >= WRAP - x:
                c -= WRAP
            s[_DSTEPS] = c + x
            s[_OWED] = 0


def _handler(eng, state, step):
    """The tick handler: a viper closure over the engine, its state array and the STEP pin.

    Viper gives machine-word ints and direct loads/stores in the state array;
    closing over the array and the pin spares a bound-method call and the
    attribute lookups per tick. Only the clock and pin calls (and the rare
    late-tick path) go through the runtime. Every value stays below 2**30 as
    on bytecode. Keep it to at most 4 closed-over names: a closure call with
    more than 5 values (closed ones plus the timer) allocates its arguments.
    """

    @micropython.viper
    def on_tick(_timer):
        s = ptr32(state)
        now = int(eng._ticks_us()) & _TMASK
        if s[_PULSE]:
            step(0)
            s[_PULSE] = 0
        if s[_RESYNC]:
            s[_LAST] = now
            s[_RESYNC] = 0
            n = 1
        else:
            per = s[_PERIOD]
            # ticks_diff(now, last) + half, in the clock's arithmetic modulo 2**30
            e = ((now - s[_LAST] + _THALF) & _TMASK) - _THALF + s[_HALF]
            if e < per:
                if e < 0:
                    s[_LAST] = now
                return
            n = 1 if e < per + per else e // per
            s[_LAST] = (s[_LAST] + n * per) & _TMASK
        c = s[_TICKS]
        if c >= WRAP - n:
            c -= WRAP
        s[_TICKS] = c + n
        bound = s[_BOUND]
        if n > bound:
            c = s[_DTICKS]
            x = n - bound
            if c >= WRAP - x:
                c -= WRAP
            s[_DTICKS] = c + x
            n = bound
        if s[_PEND]:
            # _take_pending, inlined: a method call costs more than these lines
            s[_N] = s[_PN]
            s[_CHUNK] = s[_PC]
            s[_BUDGET] = s[_PB]
            if s[_ACC] >= s[_D]:
                s[_ACC] = 0
            s[_PEND] = 0
        mode = s[_MODE]
        if mode == MODE_RUN:
            if n == 1:
                a = s[_ACC] + s[_N]
                if a >= s[_D]:
                    a -= s[_D]
                    s[_OWED] += 1
                s[_ACC] = a
            else:
                s[_OWED] += int(eng.steps_due(n))
            owed = s[_OWED]
            if owed:
                if owed > bound:
                    x = owed - bound
                    c = s[_DSTEPS]
                    if c >= WRAP - x:
                        c -= WRAP
                    s[_DSTEPS] = c + x
                    owed = bound
                s[_OWED] = owed
                # the governor's allowance, checked here so no main loop can overrun it. Held, one
                # step waits (a step on the window's boundary goes at the next arming); any more
                # that fall due are dropped and counted, never given later in a burst
                if ((s[_ALLOW] - s[_FWD] + _WHALF) & _WMASK) - _WHALF <= 0:
                    if owed > 1:
                        c = s[_HELD]
                        x = owed - 1
                        if c >= WRAP - x:
                            c -= WRAP
                        s[_HELD] = c + x
                        s[_OWED] = 1
                    return
                s[_OWED] = owed - 1
                step(1)
                s[_PULSE] = 1
                c = s[_FWD] + 1
                s[_FWD] = 0 if c >= WRAP else c
                if s[_BUDGET]:
                    s[_BUDGET] -= 1
                    if not s[_BUDGET]:
                        # _switch, inlined: the bolus's last tick is as short as any other
                        s[_N] = s[_THEN]
                        s[_CHUNK] = s[_THENC]
                        x = s[_OWED]
                        if x:
                            c = s[_DSTEPS]
                            if c >= WRAP - x:
                                c -= WRAP
                            s[_DSTEPS] = c + x
                            s[_OWED] = 0
        elif mode == MODE_BACKOFF:
            if s[_BACKOFF] > 0:
                s[_BACKOFF] -= 1
                step(1)
                s[_PULSE] = 1
                c = s[_REV] + 1
                s[_REV] = 0 if c >= WRAP else c
            else:
                s[_MODE] = MODE_STOP
                eng._en(eng._en_off)

    return on_tick


def wrap_delta(new, old):
    """Difference of two wrapping counters (the main loop reads them often enough)."""
    return (new - old) % WRAP
