"""A push button with debounce, polled from the main loop.

Active low with the pull-up by default. A press counts once, after the pin
has read pressed for `debounce_ms`; the next press needs a release first.
"""


class Button:
    def __init__(self, pin, active_low=True, debounce_ms=30):
        self._pin = pin
        self._on = 0 if active_low else 1
        self._debounce = debounce_ms
        self._down_ms = 0
        self._latched = False

    def pressed_now(self):
        return self._pin() == self._on

    def poll(self, dt_ms):
        """Call every pass with the ms since the last call; True once per debounced press."""
        if self._pin() != self._on:
            self._down_ms = 0
            self._latched = False
            return False
        self._down_ms += dt_ms
        if not self._latched and self._down_ms >= self._debounce:
            self._latched = True
            return True
        return False
