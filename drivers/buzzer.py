"""Piezo buzzer on a PWM pin: a tone on or off, never anything else.

The PWM is made by the board (frequency set there); on/off is the duty only,
so there is no frequency change to glitch the output.
"""

DUTY_ON = 32768  # 50 %: loudest for a piezo


class Buzzer:
    def __init__(self, pwm, duty=DUTY_ON):
        self._pwm = pwm
        self._duty = duty
        self.on = False
        pwm.duty_u16(0)

    def set(self, on):
        if on != self.on:
            self._pwm.duty_u16(self._duty if on else 0)
            self.on = on

    def readback(self):
        """True if the PWM holds the duty last set (a board fault or a lost setting shows)."""
        return self._pwm.duty_u16() == (self._duty if self.on else 0)
