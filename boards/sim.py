"""The host simulator's board: a virtual clock, simulated pins and the pump model.

Runs on the MicroPython unix port. There is no timer interrupt: the simulator
moves the virtual clock and advances the dose engine by whole ticks in closed
form, the same arithmetic the interrupt uses for a late tick.
"""

from boards.vclock import VirtualClock
from drivers.stepper import Stepper

name = "sim"
TICK_HZ = 1000
DEFAULT_STEPS_PER_ML = 20000
HAS_BATTERY = True
SAMPLE_MS = 1000  # how often the supervisor samples on this board


class SimPin:
    """A pin the simulator reads and writes; no electrical behaviour."""

    def __init__(self, level=0):
        self.level = level

    def __call__(self, x=None):
        if x is None:
            return self.level
        self.level = 1 if x else 0
        return None

    def value(self, x=None):
        return self(x)


class Board:
    name = name
    tick_hz = TICK_HZ
    # the unix port's small ints are 62-bit; the engine's chunking may use them
    int_limit = (1 << 62) - 1
    default_steps_per_ml = DEFAULT_STEPS_PER_ML
    has_battery = HAS_BATTERY
    sample_ms = SAMPLE_MS

    def __init__(self, start_us=0):
        self.clock = VirtualClock(start_us)
        self.pins = {n: SimPin() for n in ("step", "dir", "en", "diag")}
        self.pins["en"].level = 1
        self.stepper = Stepper(self.pins["step"], self.pins["dir"], self.pins["en"], diag=self.pins["diag"])

    def start_ticks(self, callback):
        """No interrupt in the simulator: `advance` drives the engine."""
        self._callback = callback

    def stop_ticks(self):
        self._callback = None
