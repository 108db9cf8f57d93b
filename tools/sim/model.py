"""The simulated pump's physics: stroke, catheter, patient, reservoir, battery, sensors.

Runs inside the simulator on the MicroPython unix port (floats are doubles
there and on CPython, so a seed gives the same run on both). Units: uL, kPa,
seconds. Each parameter and its source is in docs/sim_model.md. The model is
advanced once per simulator step in closed form, so a step of any length
costs the same few operations: that is what lets 30 days run in seconds.

Line: the pump pushes volume into a compliant line (compliance C uL/kPa)
that drains into the intrathecal space through the catheter resistance R
(kPa s/uL); the excess volume x stored in the line sets the pressure
P = P_it + x / C and relaxes with time constant R*C. An occlusion multiplies
R (partial) or stops the outflow (complete).
"""

import math

VREF_MV = 3300
P_LO_MV = 330  # SPEC 2: 0.33 V = 0 kPa
P_MV_PER_KPA = 2640.0 / 300.0  # 2.97 V = 300 kPa
R_LO_MV = 330  # 0.33 V = empty, 2.97 V = full
R_SPAN_MV = 2640.0

OPEN = "open"
STUCK = "stuck"
FAULT_OK = "ok"


class Lcg:
    """A seeded generator with the same sequence on CPython and MicroPython."""

    def __init__(self, seed):
        self.s = (seed * 2654435761 + 1) & 0x7FFFFFFF

    def uniform(self):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.s >> 7) / 16777216.0

    def gauss(self):
        # Irwin-Hall with 4 uniforms: mean 2, variance 1/3; scaled to unit variance
        u = self.uniform() + self.uniform() + self.uniform() + self.uniform()
        return (u - 2.0) * 1.7320508


class Model:
    def __init__(self, seed=1, steps_per_ml=20000, capacity_ul=20000.0, fill_ul=20000.0, compliance=1.0):
        self.rng = Lcg(seed)
        self.ul_per_step = 1000.0 / steps_per_ml
        self.compliance = compliance  # uL/kPa, 0.5-2 for pump tubing plus catheter
        self.resistance = 0.33  # kPa s/uL: 0.53 mm ID, 0.9 m catheter, water at 37 C
        self.partial_factor = 2000.0
        self.eff_zero_kpa = 600.0  # stroke efficiency falls linearly to 0 at this back-pressure
        self.p_it_mean = 1.35  # kPa; 0.8-1.9 over the day
        self.p_it_swing = 0.55
        self.spike_every_s = 600.0  # coughs, posture, strain: about 6 an hour
        self.spike_kpa = (1.0, 4.0)
        self.spike_s = (1.0, 10.0)
        self.noise_kpa = 0.4  # sigma: about +-1 kPa peak
        self.offset_kpa = (self.rng.uniform() - 0.5) * 1.0
        self.res_noise_mv = 3.0
        self.res_offset_mv = (self.rng.uniform() - 0.5) * 6.0
        self.bat_noise_mv = 3.0
        self.capacity_ul = capacity_ul
        self.reservoir_ul = fill_ul
        self.battery_v = 4.05
        self.discharge_v_day = 0.004
        self.leak_ul_s = 0.0
        self.occlusion = None  # None, "complete" or "partial"
        self.stall = False
        self.faults = {"pressure": FAULT_OK, "reservoir": FAULT_OK, "battery": FAULT_OK}
        self._last_raw = {"pressure": 0, "reservoir": 0, "battery": 0}
        self.t = 0.0
        self.x = 0.0  # uL stored in the line above the patient's pressure
        self.delivered_ul = 0.0  # into the patient
        self.pushed_ul = 0.0  # forward volume into the line, ever
        self._spike_next = self._interval()
        self._spike_end = -1.0
        self._spike_amp = 0.0
        # occlusion bookkeeping for the bench
        self.occl_pushed_ul = 0.0  # pushed since the occlusion began
        self.pushed_at_stop = None  # pushed into the blockage when the motor first stopped
        self.released_ul = None  # stored volume released when the occlusion cleared
        self.drawn_back_ul = None  # volume the line draws back from the patient when it cleared
        self.peak_kpa = 0.0

    def _interval(self):
        u = self.rng.uniform()
        return -self.spike_every_s * math.log(1.0 - u * 0.999999)

    def p_it(self):
        """The intrathecal pressure now, spikes included."""
        while self._spike_next <= self.t:
            start = self._spike_next
            lo, hi = self.spike_s
            self._spike_end = start + lo + (hi - lo) * self.rng.uniform()
            lo, hi = self.spike_kpa
            self._spike_amp = lo + (hi - lo) * self.rng.uniform()
            self._spike_next = start + self._interval()
        p = self.p_it_mean + self.p_it_swing * math.sin(self.t * (6.2831853 / 86400.0))
        if self.t < self._spike_end:
            p += self._spike_amp
        return p

    def line_kpa(self):
        return self.p_it() + self.x / self.compliance

    def efficiency(self):
        p = self.x / self.compliance
        e = 1.0 - p / self.eff_zero_kpa
        return 0.0 if e < 0.0 else (1.0 if e > 1.0 else e)

    def step(self, dt_ms, fwd, rev, running):
        """Advance dt_ms with fwd/rev motor steps commanded over it."""
        dt = dt_ms / 1000.0
        vin = 0.0
        if not self.stall:
            vin = (fwd * self.efficiency() - rev) * self.ul_per_step
            if vin > self.reservoir_ul:
                vin = self.reservoir_ul
            self.reservoir_ul -= vin
            if fwd:
                self.pushed_ul += fwd * self.efficiency() * self.ul_per_step
        if self.occlusion is not None and vin > 0:
            self.occl_pushed_ul += vin
        if self.occlusion is not None and not running and self.pushed_at_stop is None:
            self.pushed_at_stop = self.occl_pushed_ul
        x0 = self.x
        if self.occlusion == "complete":
            self.x = x0 + vin
        else:
            r = self.resistance * (self.partial_factor if self.occlusion == "partial" else 1.0)
            tau = r * self.compliance
            if dt > 0:
                q = vin / dt
                self.x = q * tau + (x0 - q * tau) * math.exp(-dt / tau)
            else:
                self.x = x0 + vin
            self.delivered_ul += x0 + vin - self.x
        if self.leak_ul_s > 0.0:
            leak = self.leak_ul_s * dt
            self.reservoir_ul = self.reservoir_ul - leak if self.reservoir_ul > leak else 0.0
        self.battery_v -= self.discharge_v_day * dt / 86400.0
        self.t += dt
        p = self.x / self.compliance
        if p > self.peak_kpa:
            self.peak_kpa = p

    _SAVED = ("t", "x", "reservoir_ul", "battery_v", "leak_ul_s", "occlusion", "stall")
    _SAVED += ("compliance", "faults")

    def snapshot(self):
        return {k: getattr(self, k) for k in self._SAVED}

    def restore(self, d):
        for k in self._SAVED:
            if k in d:
                setattr(self, k, d[k])
        self._spike_next = self.t + self._interval()

    def occlude(self, kind):
        if kind is None:
            if self.occlusion is not None:
                self.released_ul = self.x if self.x > 0 else 0.0
                self.drawn_back_ul = -self.x if self.x < 0 else 0.0
            self.occlusion = None
            return
        if self.occlusion is None:
            self.occl_pushed_ul = 0.0
            self.pushed_at_stop = None
            self.released_ul = None
            self.drawn_back_ul = None
            self.peak_kpa = 0.0
        self.occlusion = kind

    # ---- sensors: pin voltages as an RP2040 ADC reports them (12 bits in read_u16) ----

    def _u16(self, name, mv):
        f = self.faults[name]
        if f == STUCK:
            return self._last_raw[name]
        if f == OPEN:
            raw = 0  # an open input pulled to ground: below the 0.10 V rail
        else:
            c = int(mv * 4095.0 / VREF_MV + 0.5)
            c = 0 if c < 0 else (4095 if c > 4095 else c)
            raw = (c << 4) | (c >> 8)  # how read_u16 stretches 12 bits to 16
        self._last_raw[name] = raw
        return raw

    def read(self, name):
        g = self.rng.gauss
        if name == "pressure":
            kpa = self.line_kpa() + self.offset_kpa + self.noise_kpa * g()
            return self._u16(name, P_LO_MV + kpa * P_MV_PER_KPA)
        if name == "reservoir":
            frac = self.reservoir_ul / self.capacity_ul
            return self._u16(name, R_LO_MV + R_SPAN_MV * frac + self.res_offset_mv + self.res_noise_mv * g())
        return self._u16(name, self.battery_v * 500.0 + self.bat_noise_mv * g())

    def diag(self):
        return 1 if self.stall else 0

    def fields(self):
        from firmware.jsonout import Dec

        def r(v):
            return None if v is None else Dec(round(v * 1000), 3)

        return {
            "line_kpa": r(self.x / self.compliance),
            "stored_ul": r(self.x),
            "delivered_ul": r(self.delivered_ul),
            "reservoir_ul": r(self.reservoir_ul),
            "battery_v": r(self.battery_v),
            "occlusion": self.occlusion,
            "occl_pushed_ul": r(self.occl_pushed_ul),
            "pushed_at_stop_ul": r(self.pushed_at_stop),
            "released_ul": r(self.released_ul),
            "drawn_back_ul": r(self.drawn_back_ul),
            "peak_kpa": r(self.peak_kpa),
            "compliance": r(self.compliance),
            "stall": self.stall,
            "t_s": int(self.t),
        }
