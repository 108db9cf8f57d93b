"""STEP/DIR/EN stepper driver (A4988, DRV8825, TMC2209 in step/dir mode).

Pins are made by the board file and passed in. The dose engine drives STEP
from its interrupt: it raises STEP on one tick and lowers it on the next, so
a pulse is high for a whole tick (1 ms at 1 kHz) and low for at least the
handler's own run time between the two writes, well above the drivers'
minimums (A4988 1 us high / 1 us low, DRV8825 1.9 us / 1.9 us, TMC2209
100 ns). DIR is only changed while the engine is not stepping forward, which
gives the 200 ns (A4988) / 650 ns (DRV8825) set-up time with room to spare.
"""


class Stepper:
    def __init__(self, step, dir, en, diag=None, en_active_low=True, forward_level=1):
        self.step = step
        self.dir = dir
        self.en = en
        self.diag = diag
        self.en_on = 0 if en_active_low else 1
        self.en_off = 1 - self.en_on
        self._fwd = forward_level
        step(0)
        en(self.en_off)
        dir(forward_level)

    def enable(self):
        self.en(self.en_on)

    def disable(self):
        self.en(self.en_off)

    def enabled(self):
        return self.en() == self.en_on

    def forward(self):
        self.dir(self._fwd)

    def reverse(self):
        self.dir(1 - self._fwd)

    def stalled(self):
        """DIAG high means the driver saw a stall (TMC2209); False with no DIAG wire."""
        return bool(self.diag is not None and self.diag())
