"""Alarm signals after IEC 60601-1-8: buzzer pulse bursts and LED flashing per priority.

High: a burst of 10 pulses (3, 2, pause, 3, 2) every 10 s, LED flashing at
2 Hz. Medium: 3 pulses every 15 s, LED flashing at 0.5 Hz. Low: one pulse
every 30 s, LED steady. Never a continuous tone. Tables of (start, length)
in ms within one period.

The main loop only says which priority sounds (`update`); the pattern's
timing is played by `advance`, which on a board runs from a periodic timer
callback (`on_tick`, every TICK_MS) so a main loop stalled by GC, a flash
erase or a long service pass cannot stretch a pulse. Without a timer (the
simulator, tests) `update` advances it by the elapsed time. `advance` is the
interrupt handler (HOUSE_RULES 1): integers only, no allocation, no raise.
"""

from firmware import ctrlc
from firmware.safety.alarms import HIGH, LOW, MEDIUM

TICK_MS = 10  # the sound timer's period: pulses are 150-200 ms, so 10 ms is fine-grained enough

# IEC 60601-1-8 table 3: pulse 75-200 ms; spacing 50-125 ms (high), 125-250 ms (medium);
# high burst repeat 2.5-15 s, medium 2.5-30 s; low: 1-2 pulses, repeat >= 15 s or none
_HIGH = ((0, 150), (250, 150), (500, 150), (1000, 150), (1250, 150),
         (2000, 150), (2250, 150), (2500, 150), (3000, 150), (3250, 150))  # fmt: skip
_MEDIUM = ((0, 200), (400, 200), (800, 200))
_LOW = ((0, 200),)
SOUND = {HIGH: (_HIGH, 10000), MEDIUM: (_MEDIUM, 15000), LOW: (_LOW, 30000)}
# visual: high flashes 1.4-2.8 Hz, medium 0.4-0.8 Hz, low steady: (on ms, period ms)
LIGHT = {HIGH: (250, 500), MEDIUM: (1000, 2000), LOW: (1, 0)}
_NONE = ((), 1)  # no tone: no pulses (period 1 keeps the modulo integer-safe)


def tone_on(priority, t_ms):
    """Is the buzzer on `t_ms` after this priority began sounding?"""
    pulses, period = SOUND[priority]
    return _in_pulse(pulses, t_ms % period)


def _in_pulse(pulses, t):
    for start, length in pulses:
        if start <= t < start + length:
            return True
    return False


def light_on(priority, t_ms):
    on, period = LIGHT[priority]
    if not period:
        return True
    return t_ms % period < on


class Annunciator:
    def __init__(self, buzzer, led):
        self._buzzer = buzzer
        self._led = led
        self._tone = None  # priority sounding (set by the main loop)
        self._pulses, self._period = _NONE  # its table, read by the callback
        self._t = 0  # ms into the tone's period, kept below the period
        self._light = None
        self._light_on = 0  # LED on ms and period; period 0 = steady
        self._light_period = 0
        self._lt = 0
        self._test_ms = 0  # a self-test beep's remaining ms
        self._last_ms = None  # the previous `update` (when no timer drives `advance`)
        self.timed = False  # True once a board timer calls `on_tick`: `update` then only sets priorities
        self.on_tick = self._on_tick  # bound once: the Timer callback must not allocate

    def update(self, now_ms, tone_priority, light_priority):
        """Main loop: which priorities sound and show now; plays the pattern if no timer does."""
        timed = self.timed
        if not timed:
            if self._last_ms is None:
                self._last_ms = now_ms
            self._step(now_ms - self._last_ms)
            self._last_ms = now_ms
        if tone_priority != self._tone:
            # table first, then restart: a tick in between plays at most one tick of the old table
            self._pulses, self._period = SOUND[tone_priority] if tone_priority is not None else _NONE
            self._t = 0
            self._tone = tone_priority
        if light_priority != self._light:
            if light_priority is None:
                self._light_on, self._light_period = 0, 1
            else:
                self._light_on, self._light_period = LIGHT[light_priority]
            self._lt = 0
            self._light = light_priority
        if not timed:
            self._show()

    def _on_tick(self, _timer):
        """The board timer's callback: show the pattern's state now, then move on one tick."""
        try:
            self._show()
            self._step(TICK_MS)
        except KeyboardInterrupt:
            # a Ctrl-C raised here, not in the main loop, would stop this timer and the
            # application would never hear it (firmware/ctrlc.py): hand it on
            ctrlc.caught()

    def _step(self, dt):
        """Move the pattern on by `dt` ms; allocation-free, never raises."""
        if self._test_ms > 0:
            self._test_ms -= dt
        t = self._t + dt
        if t >= self._period:
            t %= self._period
        self._t = t
        lp = self._light_period
        if lp:
            lt = self._lt + dt
            if lt >= lp:
                lt %= lp
            self._lt = lt

    def _show(self):
        """Write the buzzer and LED for where the pattern stands; allocation-free, never raises."""
        test = self._test_ms > 0
        on = test or (self._tone is not None and _in_pulse(self._pulses, self._t))
        lit = test or (self._light is not None and (self._light_period == 0 or self._lt < self._light_on))
        if self._buzzer is not None:
            self._buzzer.set(on)
        if self._led is not None:
            self._led.set(lit)

    def beep(self, now_ms, ms=200):
        """A self-test beep of `ms` (the timer or the next `update` plays it)."""
        self._test_ms = ms

    def test_pulse(self, ms):
        """The self-test's pulse: buzzer and LED on now for `ms`, each output read back; 'ok' or
        what failed (the timer, or the next `update`, ends the pulse)."""
        self._test_ms = ms
        self._show()
        bad = []
        if self._buzzer is not None and not self._buzzer.readback():
            bad.append("buzzer")
        if self._led is not None and not self._led.readback():
            bad.append("led")
        if self._buzzer is None and self._led is None:
            return "absent"
        return "ok" if not bad else " ".join(bad) + " reads back wrong"
