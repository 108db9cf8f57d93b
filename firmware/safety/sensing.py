"""The pump's sensors built from the board's ADC objects, sampled together.

Scaling is SPEC 2's Pico table: pressure 0.33 V = 0 kPa to 2.97 V = 300 kPa
(kept in Pa), reservoir 0.33 V = empty to 2.97 V = full (kept in parts per
million of the capacity, or a board's own `reservoir_sensor`, such as a load
cell on an HX711), battery through a 1:2 divider (cell mV). A board
without an object simply has no such sensor; one without a battery says so
(`has_battery = False`) and its battery checks are skipped.
"""

from drivers.analog import OK, Analog
from drivers.battery import Battery

PRESSURE_MAX_STEP_PA = 100000  # faster than any blocked line rises in one sample
RESERVOIR_MAX_STEP_PPM = 250000  # a quarter of the reservoir between two samples


class Sensors:
    def __init__(self, board):
        vref = getattr(board, "vref_mv", 3300)
        adc = getattr(board, "adc_pressure", None)
        self.pressure = None
        if adc is not None:
            self.pressure = Analog(adc, 330, 2970, 0, 300000, vref_mv=vref, max_step=PRESSURE_MAX_STEP_PA)
        adc = getattr(board, "adc_reservoir", None)
        # a board may give a ready reservoir sensor instead (a load cell on an HX711, in ppm)
        self.reservoir = getattr(board, "reservoir_sensor", None)
        if self.reservoir is None and adc is not None:
            self.reservoir = Analog(adc, 330, 2970, 0, 1000000, vref_mv=vref, max_step=RESERVOIR_MAX_STEP_PPM)
        adc = getattr(board, "adc_battery", None)
        self.battery = None
        if adc is not None and getattr(board, "has_battery", False):
            self.battery = Battery(adc, vref_mv=vref)

    def named(self):
        return (("pressure", self.pressure), ("reservoir", self.reservoir), ("battery", self.battery))

    def sample(self, dt_ms, watched, refill=False):
        """Sample every sensor; returns the list of 'name health' faults (empty: all ok)."""
        faults = []
        for name, s in self.named():
            if s is None:
                continue
            if name == "reservoir" and refill:
                s.reset_watch()  # a refill moves the level as fast as the syringe
            h = s.sample(dt_ms, watched)
            if h != OK:
                faults.append(name + " " + h)
        return faults

    def pressure_pa(self):
        p = self.pressure
        return p.value if p is not None and p.ok() else None

    def pressure_mean_pa(self, n):
        """The mean of `n` fresh pressure reads (Pa), or None while the sensor is not healthy."""
        p = self.pressure
        return p.read_mean(n) if p is not None and p.ok() else None

    def reservoir_ppm(self):
        r = self.reservoir
        return r.value if r is not None and r.ok() else None

    def battery_mv(self):
        b = self.battery
        return b.cell_mv if b is not None and b.ok() else None
