"""Battery voltage through a divider on an ADC pin, in cell millivolts.

A pin at a rail is a wiring fault, never a dead battery: `health` says which
(the rail check works on the pin's own voltage, before the divider ratio).
"""

from drivers.analog import Analog


class Battery(Analog):
    def __init__(self, adc, ratio_num=2, ratio_den=1, vref_mv=3300):
        # pin mV -> cell mV: linear through 0
        super().__init__(adc, 0, 1000, 0, 1000 * ratio_num // ratio_den, vref_mv=vref_mv)

    @property
    def cell_mv(self):
        return self.value

    @property
    def pin_mv(self):
        return self.mv
