"""Small watchers the supervisor runs each sample: stall, the dose loop, the battery.

Each returns None when all is well, or a one-line detail for its alarm.
"""

from firmware.dose import MODE_RUN, MODE_STOP

BATTERY_LOW_MV = 3500  # SPEC 2, Li-ion cell
BATTERY_CRITICAL_MV = 3300
BATTERY_HYST_MV = 50  # clears only this far above, so noise does not flap it
LOOP_STALL_MS = 1000  # no tick for this long: the dose loop has stopped
LATE_WINDOW_MS = 600000
LATE_REPEATS = 3  # ticks dropped in this many samples within the window: "keeps happening"
NO_MOTION_STEPS = 20  # steps expected with none made: the motor is not moving


class Stall:
    """DIAG high while the motor is energised, or steps expected and none made."""

    def __init__(self):
        self._diag = 0
        self._expect = 0  # steps due since the last forward step, x ticks per day
        self._mode = MODE_STOP  # the engine's mode at the last sample
        self._held = None  # the engine's held-step count at the last sample

    def reset(self):
        self._diag = 0
        self._expect = 0

    def check(self, stepper, mode, rate, ticks_per_day, dt_ticks, fwd_made, held=0):
        if mode != MODE_STOP and stepper.stalled():
            self._diag += 1
            if self._diag >= 2:  # two samples: not one noise spike on the line
                return "driver DIAG: motor stalled"
        else:
            self._diag = 0
        # steps the dose governor held back were the engine's choice, not a motor that does not
        # turn; and an interval that began stopped owed nothing before the start
        kept = self._held is not None and held != self._held
        self._held = held
        was = self._mode
        self._mode = mode
        if mode == MODE_RUN and rate > 0:
            if fwd_made or kept or was != MODE_RUN:
                self._expect = 0
            else:
                self._expect += rate * dt_ticks
                if self._expect >= NO_MOTION_STEPS * ticks_per_day:
                    return "no step made while %d were due" % NO_MOTION_STEPS
        else:
            self._expect = 0
        return None


class DoseLoop:
    """The tick counter must advance; drops that keep happening are an alarm too."""

    def __init__(self):
        self.armed = False  # armed by the first tick seen: before the timer starts nothing ticks
        self.still_ms = 0
        self._late = []

    def check(self, now_ms, dt_ms, dticks, ddropped):
        if dticks:
            self.armed = True
            self.still_ms = 0
        elif self.armed:
            self.still_ms += dt_ms
            if self.still_ms >= LOOP_STALL_MS:
                return "tick counter stopped for %d ms" % self.still_ms
        if ddropped:
            self._late.append(now_ms)
        while self._late and now_ms - self._late[0] > LATE_WINDOW_MS:
            self._late.pop(0)
        if len(self._late) >= LATE_REPEATS:
            return "ticks dropped %d times in 10 min" % len(self._late)
        return None

    def healthy(self):
        return not self.armed or self.still_ms < LOOP_STALL_MS


def battery_level(cell_mv, low_on, critical_on):
    """-> (low, critical) with hysteresis on the way back up."""
    crit = cell_mv < BATTERY_CRITICAL_MV + (BATTERY_HYST_MV if critical_on else 0)
    low = cell_mv < BATTERY_LOW_MV + (BATTERY_HYST_MV if low_on else 0)
    return low, crit
