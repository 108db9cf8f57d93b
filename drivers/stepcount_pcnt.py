"""An independent STEP count on the ESP32: two pulse counter (PCNT) units count STEP's rising edges.

Each unit counts rising edges of STEP and uses DIR as its mode pin: the
forward unit holds while DIR is at the reverse level, the reverse unit while
DIR is at the forward level, so the hardware splits the count by direction at
each edge, with no CPU involved. (`machine.Counter` on esp32 offers only a
fixed direction, not a direction pin, so `esp32.PCNT` is used directly.)

A PCNT counter is 16 bits: with `max` set it goes back to 0 when it reaches
`max` (esp32 resets to zero rather than wrapping to the other limit), so the
values read are counts modulo MODULUS. The main loop reads them every pass and
differences them modulo MODULUS: 32,000 steps is 32 s at one step per 1 ms
tick, far longer than any pass (the watchdog resets after 8 s).

The board makes the two `esp32.PCNT` units and the pins and passes them in
(boards/esp32.py).
"""

MODULUS = 32000


class PcntStepCount:
    name = "pcnt"
    modulus = MODULUS

    def __init__(self, fwd_unit, rev_unit, step_pin, dir_pin, forward_level=1):
        self._units = (fwd_unit, rev_unit)
        inc = fwd_unit.INCREMENT
        hold = fwd_unit.HOLD
        normal = fwd_unit.NORMAL
        for unit, counting_level in ((fwd_unit, forward_level), (rev_unit, 1 - forward_level)):
            held_low = hold if counting_level == 1 else normal
            held_high = normal if counting_level == 1 else hold
            unit.init(
                channel=0,
                pin=step_pin,
                rising=inc,
                falling=unit.IGNORE,
                mode_pin=dir_pin,
                mode_low=held_low,
                mode_high=held_high,
            )
            # no glitch filter: the low time between two pulses can be a few us (the engine
            # lowers STEP and raises it again in one tick), shorter than a useful filter
            unit.init(filter=0)
            unit.init(max=MODULUS)  # implies value=0
            unit.start()

    def counts(self):
        """(forward, reverse) rising STEP edges since start, each modulo MODULUS."""
        f, r = self._units
        return (f.value(), r.value())

    def deinit(self):
        for u in self._units:
            u.deinit()
