"""HX711 24-bit load-cell ADC, bit-banged on two pins (DOUT in, SCK out).

DOUT goes low when a conversion is ready; 24 clocks shift it out MSB first
and 1 more selects channel A gain 128 for the next one. Not ready for
`timeout_ms` means a disconnected or unpowered chip: health `timeout`. The
read is short (25 clock pulses, well under the 60 us that would power it
down) and never waits: `sample` is called once per sampling period.
"""

from drivers.analog import IMPLAUSIBLE, OK, TIMEOUT, Jumps

TIMEOUT_MS = 1000  # 10 SPS default: 100 ms per conversion, so 10 missed in a row
FULL = 0x7FFFFF


class HX711(Jumps):
    def __init__(
        self, dout, sck, zero=0, per_unit=1, max_step=0, timeout_ms=TIMEOUT_MS, span=None, span_unit=1
    ):
        self._dout = dout
        self._sck = sck
        self.zero = zero  # raw count at zero load (tare)
        self.per_unit = per_unit  # raw counts per unit (calibration)
        # or, where a unit is finer than a count (a reservoir in ppm of its capacity), the raw
        # counts from zero to `span_unit` units; the product is a long int, outside any interrupt
        self.span = span
        self.span_unit = span_unit
        self._max_step = max_step
        self._timeout = timeout_ms
        self._wait_ms = 0
        self.raw = 0
        self.value = 0
        self.health = OK
        self._jumps = 0
        self._prev = None
        sck(0)

    def ready(self):
        return self._dout() == 0

    def _shift(self):
        v = 0
        sck = self._sck
        dout = self._dout
        for _ in range(24):
            sck(1)
            sck(0)
            v = (v << 1) | dout()
        sck(1)  # 25th pulse: channel A, gain 128 next
        sck(0)
        if v & 0x800000:
            v -= 0x1000000
        return v

    def sample(self, dt_ms=0, watched=False):
        if not self.ready():
            self._wait_ms += dt_ms
            if self._wait_ms >= self._timeout:
                self.health = TIMEOUT
            return self.health
        self._wait_ms = 0
        raw = self._shift()
        self.raw = raw
        if raw >= FULL or raw <= -FULL:
            # a saturated bridge reads like a broken one
            self.health = IMPLAUSIBLE
            return self.health
        if self.span:
            v = (raw - self.zero) * self.span_unit // self.span
        else:
            v = (raw - self.zero) // self.per_unit
        if self._jumpy(v):
            self.health = IMPLAUSIBLE
        else:
            self.health = OK
            self.value = v
        return self.health

    def ok(self):
        return self.health == OK

    def reset_watch(self):
        """Forget the last value: a refill moves the load as fast as the syringe."""
        self._prev = None
        self._jumps = 0
