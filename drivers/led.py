"""The alarm LED on a digital pin; writes only on a change."""


class Led:
    def __init__(self, pin, active_high=True):
        self._pin = pin
        self._on_level = 1 if active_high else 0
        self.on = False
        pin(1 - self._on_level)

    def set(self, on):
        if on != self.on:
            self._pin(self._on_level if on else 1 - self._on_level)
            self.on = on

    def readback(self):
        """True if the pin reads the level last written."""
        return self._pin() == (self._on_level if self.on else 1 - self._on_level)
