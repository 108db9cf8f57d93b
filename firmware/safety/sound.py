"""Alarm signals after IEC 60601-1-8: buzzer pulse bursts and LED flashing per priority.

High: a burst of 10 pulses (3, 2, pause, 3, 2) every 10 s, LED flashing at
2 Hz. Medium: 3 pulses every 15 s, LED flashing at 0.5 Hz. Low: one pulse
every 30 s, LED steady. Never a continuous tone. Tables of (start, length)
in ms within one period; `update` is called every main-loop pass and only
writes on a change, so the edges on the pins are the pattern itself.
"""

from firmware.alarms import HIGH, LOW, MEDIUM

# IEC 60601-1-8 table 3: pulse 75-200 ms; spacing 50-125 ms (high), 125-250 ms (medium);
# high burst repeat 2.5-15 s, medium 2.5-30 s; low: 1-2 pulses, repeat >= 15 s or none
_HIGH = ((0, 150), (250, 150), (500, 150), (1000, 150), (1250, 150),
         (2000, 150), (2250, 150), (2500, 150), (3000, 150), (3250, 150))  # fmt: skip
_MEDIUM = ((0, 200), (400, 200), (800, 200))
_LOW = ((0, 200),)
SOUND = {HIGH: (_HIGH, 10000), MEDIUM: (_MEDIUM, 15000), LOW: (_LOW, 30000)}
# visual: high flashes 1.4-2.8 Hz, medium 0.4-0.8 Hz, low steady: (on ms, period ms)
LIGHT = {HIGH: (250, 500), MEDIUM: (1000, 2000), LOW: (1, 0)}


def tone_on(priority, t_ms):
    """Is the buzzer on `t_ms` after this priority began sounding?"""
    pulses, period = SOUND[priority]
    t = t_ms % period
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
        self._tone = None  # priority sounding, and since when
        self._tone_t0 = 0
        self._light = None
        self._light_t0 = 0
        self.test_until = None  # a self-test beep in progress (ms)

    def update(self, now_ms, tone_priority, light_priority):
        if tone_priority != self._tone:
            self._tone = tone_priority
            self._tone_t0 = now_ms
        if light_priority != self._light:
            self._light = light_priority
            self._light_t0 = now_ms
        on = False
        if self.test_until is not None:
            if now_ms < self.test_until:
                on = True
            else:
                self.test_until = None
        if tone_priority is not None and tone_on(tone_priority, now_ms - self._tone_t0):
            on = True
        if self._buzzer is not None:
            self._buzzer.set(on)
        if self._led is not None:
            self._led.set(light_priority is not None and light_on(light_priority, now_ms - self._light_t0))

    def beep(self, now_ms, ms=200):
        self.test_until = now_ms + ms
