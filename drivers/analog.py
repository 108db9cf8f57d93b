"""An analog sensor on an ADC pin: millivolts, a linear scale, and the pin's health.

Health is judged on the pin, before any scaling, so a broken wire is never
read as a real value: below 0.10 V or above 3.20 V is a rail (open or short),
a raw reading that has not moved by a single count for `frozen_ms` of
watched time is frozen (real ADCs always show a few counts of noise), and a
jump larger than `max_step` units between two samples, repeated, is
implausible. Everything is an integer: millivolts and the caller's unit.
"""

OK = "ok"
RAIL = "rail"
FROZEN = "frozen"
IMPLAUSIBLE = "implausible"
TIMEOUT = "timeout"

RAIL_LO_MV = 100
RAIL_HI_MV = 3200
FROZEN_MS = 600000  # SPEC 2: no change for 10 minutes while the pump runs


def _at_rail(mv):
    return mv < RAIL_LO_MV or mv > RAIL_HI_MV


class Jumps:
    """The rate check both sensor drivers share: `_max_step` (0: none), `_prev`, `_jumps`."""

    _max_step = 0
    _prev = None  # type: int | None
    _jumps = 0

    def _jumpy(self, v):
        # a step beyond `_max_step` from the last value adds 4 to a count that each good sample
        # takes 1 from: 9 is three jumps close together, not one glitch or one real step
        if self._max_step and self._prev is not None:
            step = v - self._prev
            if step > self._max_step or -step > self._max_step:
                self._jumps += 4
            elif self._jumps:
                self._jumps -= 1
        self._prev = v
        return self._jumps >= 9


class Analog(Jumps):
    """`adc` has read_u16(); the value is lo_unit at lo_mv and hi_unit at hi_mv, linear."""

    def __init__(self, adc, lo_mv, hi_mv, lo_unit, hi_unit, vref_mv=3300, max_step=0, frozen_ms=FROZEN_MS):
        self._adc = adc
        self._lo_mv = lo_mv
        self._span_mv = hi_mv - lo_mv
        self._lo_unit = lo_unit
        self._span_unit = hi_unit - lo_unit
        self._vref = vref_mv
        self._max_step = max_step  # 0: no rate check
        self._frozen_ms = frozen_ms
        self.raw = -1
        self.mv = 0
        self.value = 0
        self.health = OK
        self._still_ms = 0  # watched time with the raw reading unchanged
        self._jumps = 0  # recent implausible jumps, decaying with good samples
        self._prev = None

    def _mv(self, raw):
        return (raw * self._vref + 32767) // 65535

    def to_unit(self, mv, n=1):
        """Millivolts (the sum of `n` reads) to the sensor's unit, rounded to nearest (integers only)."""
        num = (mv - n * self._lo_mv) * self._span_unit
        d = n * self._span_mv
        q = (2 * num + d) // (2 * d) if num >= 0 else -((-2 * num + d) // (2 * d))
        return self._lo_unit + q

    def sample(self, dt_ms=0, watched=False):
        """Read once. `dt_ms` since the last sample counts toward frozen only when `watched`."""
        raw = self._adc.read_u16()
        mv = self._mv(raw)
        if raw == self.raw:
            if watched:
                self._still_ms += dt_ms
        else:
            self._still_ms = 0
        self.raw = raw
        self.mv = mv
        if _at_rail(mv):
            self.health = RAIL
            self._prev = None
            return self.health
        v = self.to_unit(mv)
        jumpy = self._jumpy(v)
        if self._still_ms >= self._frozen_ms:
            self.health = FROZEN
        elif jumpy:
            self.health = IMPLAUSIBLE
        else:
            self.health = OK
            self.value = v
        return self.health

    def read_mean(self, n):
        """The mean of `n` fresh reads in the unit, or None if any is at a rail; health is left
        as the last `sample` judged it (a burst of reads is not a watched interval)."""
        total = 0
        for _ in range(n):
            mv = self._mv(self._adc.read_u16())
            if _at_rail(mv):
                return None
            total += mv
        return self.to_unit(total, n)  # the mean millivolts are not rounded first

    def ok(self):
        # a sensor never read has no value yet: 0 would pass for an empty reservoir
        return self.health == OK and self.raw >= 0

    def reset_watch(self):
        self._still_ms = 0
        self._jumps = 0
