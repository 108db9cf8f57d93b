"""The battery in `status`, and a battery line fault that names the battery (issue 16 item 11;
docs/safety.md, SPEC 2 and 7).

The supervisor hands each sample's faults to `on_sample`: a battery one raises
BATTERY_FAULT (medium, delivery continues: the pump can no longer warn of a
low cell) instead of the generic SENSOR_FAULT. The `battery` block shows volts,
percent and hours left at the present load. The pump has no current sensor, so
the load is the board's stated figures (`load_idle_ma`, plus `load_motor_ma`
while the driver is enabled) against its stated `battery_mah`.
"""

from firmware.jsonout import Dec

CLEAR_SAMPLES = 4  # good samples in a row before BATTERY_FAULT clears (as SENSOR_FAULT)
HYST_MV = 20  # `status` must not change with noise (SPEC 9): the shown volts move by this at least
# Li-ion rest voltage against charge left, cell mV: 0 % at BATTERY_CRITICAL, where delivery stops
CURVE = (
    (3300, 0),
    (3400, 6),
    (3500, 15),
    (3600, 30),
    (3700, 45),
    (3800, 58),
    (3900, 70),
    (4000, 80),
    (4100, 90),
    (4200, 100),
)
DEFAULT_MAH = 2500  # one 18650 cell
DEFAULT_IDLE_MA = 25
DEFAULT_MOTOR_MA = 250


def percent(cell_mv):
    lo_mv, lo_pct = CURVE[0]
    if cell_mv <= lo_mv:
        return 0
    for hi_mv, hi_pct in CURVE[1:]:
        if cell_mv <= hi_mv:
            return lo_pct + (cell_mv - lo_mv) * (hi_pct - lo_pct) // (hi_mv - lo_mv)
        lo_mv, lo_pct = hi_mv, hi_pct
    return 100


class Power:
    def __init__(self, pump):
        b = pump.board
        self.mah = getattr(b, "battery_mah", DEFAULT_MAH)
        self.idle_ma = getattr(b, "load_idle_ma", DEFAULT_IDLE_MA)
        self.motor_ma = getattr(b, "load_motor_ma", DEFAULT_MOTOR_MA)
        self._acc = None  # cell mV x 16, smoothed over samples
        self.shown_mv = None
        self._good = 0
        self.fault = None

    def on_sample(self, pump, faults):
        """The sample's faults without the battery's, which this answers for itself."""
        s = pump.safety.sensors.battery
        if s is None:
            return faults
        mv = s.cell_mv if s.ok() else None
        if mv is not None:
            self._acc = mv * 16 if self._acc is None else self._acc + mv - self._acc // 16
            m = self._acc // 16
            if self.shown_mv is None or m - self.shown_mv >= HYST_MV or self.shown_mv - m >= HYST_MV:
                self.shown_mv = m
        bat = None
        rest = faults
        if faults:
            rest = []
            for f in faults:
                if f.startswith("battery "):
                    bat = f
                else:
                    rest.append(f)
        self._health(pump, s, bat)
        return rest

    def _health(self, pump, s, fault):
        al = pump.alarms
        if fault is not None:
            self._good = 0
            if fault != self.fault:
                self.fault = fault
                self._acc = self.shown_mv = None  # the old figures are no longer known
                pump.event("battery_fault", fault=fault, pin_mv=s.mv)
            al.raise_alarm("BATTERY_FAULT", "%s: pin %d mV; battery level unknown" % (fault, s.mv))
        elif self.fault is not None:
            self._good += 1
            if self._good >= CLEAR_SAMPLES:
                self.fault = None
                al.clear("BATTERY_FAULT")

    def load_ma(self, pump):
        return self.idle_ma + (self.motor_ma if pump.board.stepper.enabled() else 0)

    def service(self, pump):
        pass

    def status(self, pump, d):
        s = pump.safety.sensors.battery
        if s is None:
            d["battery"] = None  # a bench supply: the board says it has no battery (SPEC 2)
            return
        mv = self.shown_mv
        load = self.load_ma(pump)
        out = {"health": s.health, "load_ma": load, "volts": None, "percent": None, "hours_left": None}
        if mv is not None and self.fault is None:
            pct = percent(mv)
            out["volts"] = Dec((mv + 5) // 10, 2)
            out["percent"] = pct
            out["hours_left"] = Dec(self.mah * pct * 10 // (100 * load), 1)
        d["battery"] = out
