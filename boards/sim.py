"""The host simulator's board: a virtual clock, simulated pins and the pump model.

Runs on the MicroPython unix port. There is no timer interrupt: the simulator
moves the virtual clock and advances the dose engine by whole ticks in closed
form, the same arithmetic the interrupt uses for a late tick.

The sensors are ADC-like objects with `read_u16()` fed by the physical model
(tools/sim/model.py), so the firmware reads them through the same drivers as
on a Pico. The model catches up lazily: any sensor or DIAG read first moves
it to the virtual clock's now with the steps the engine made meanwhile.

Step length (`sample_ms`) is adaptive, so 30 days run in seconds: at most
MAX_STEP_MS, and short enough that the pump pushes at most STEP_VOLUME_STEPS
motor steps (0.2 uL) per step, so the occlusion detector sees the pressure
rise in small volume increments at any rate; never below MIN_STEP_MS (the
boards' sampling period). docs/sim_model.md explains the choice.
"""

from boards.vclock import VirtualClock
from drivers.stepper import Stepper

name = "sim"
TICK_HZ = 1000
DEFAULT_STEPS_PER_ML = 20000
HAS_BATTERY = True
MIN_STEP_MS = 250  # the boards sample every 250 ms
MAX_STEP_MS = 30000
STEP_VOLUME_STEPS = 4  # 0.2 uL: the back-off's fit needs a few samples per uL, as a board has
MODEL_FILE = "sim_model.json"  # beside the flash files in --state DIR (not a flash file itself)
IMAGE_BYTES = 8192  # the stand-in application image the self-test hashes (a board's is ~100 KB)
HASH_CHUNK = 2048  # so its periodic re-check spans passes, as the Pico's 4 KB chunks do


def step_ms(rate, cap=MAX_STEP_MS):
    """The step while pumping forward at `rate` steps/day: STEP_VOLUME_STEPS a step, within the bounds."""
    ms = STEP_VOLUME_STEPS * 86400000 // rate if rate else MAX_STEP_MS
    if ms > cap:
        ms = cap
    return ms if ms > MIN_STEP_MS or cap < MIN_STEP_MS else MIN_STEP_MS


class SimPin:
    """A pin the simulator reads and writes; no electrical behaviour but a stuck line
    (`stuck`: the level it reads whatever is written, `sim fault enable stuck`)."""

    def __init__(self, level=0):
        self.level = level
        self.edges = 0
        self.stuck = None

    def __call__(self, x=None):
        if x is None:
            return self.level if self.stuck is None else self.stuck
        v = 1 if x else 0
        if v != self.level:
            self.edges += 1
        self.level = v
        return None

    def value(self, x=None):
        return self(x)


STEP_MODULUS = 1 << 30


class SimStepPin(SimPin):
    """The STEP pin, counting its own rising edges split by DIR's level at the edge.

    The independent step count of the sim board: it sees what the pin did, not
    what the engine counted (a fault in the engine's state shows as a mismatch).
    Integer-only and allocation-free, as it runs inside the tick handler.
    """

    def __init__(self, dir_pin, forward_level=1):
        super().__init__(0)
        self._dir = dir_pin
        self._fwd_level = forward_level
        self.fwd = 0
        self.rev = 0

    def __call__(self, x=None):
        if x is None:
            return self.level
        v = 1 if x else 0
        if v != self.level:
            self.edges += 1
            if v:
                if self._dir.level == self._fwd_level:
                    self.fwd = (self.fwd + 1) % STEP_MODULUS
                else:
                    self.rev = (self.rev + 1) % STEP_MODULUS
        self.level = v
        return None


class SimStepCount:
    """The sim board's counter, read as the PIO's and the PCNT's are (drivers/stepcount_*.py).

    It counts only the edges the tick handler makes: the simulator's closed-form
    jumps (`DoseEngine.advance`) move no pin, so a Board made for the simulator
    has none (`stepcount` None) and the check counts from the engine.
    """

    name = "sim"
    modulus = STEP_MODULUS

    def __init__(self, step_pin):
        self._pin = step_pin

    def counts(self):
        return (self._pin.fwd, self._pin.rev)


class SimDiag(SimPin):
    """The driver's DIAG output: high while the model's motor is stalled."""

    def __init__(self, board):
        super().__init__(0)
        self._board = board

    def __call__(self, x=None):
        if x is None:
            return self._board.sync().diag()
        return None


class SimADC:
    """An ADC channel reading the model (12 bits stretched to 16, as rp2 reports)."""

    def __init__(self, board, which):
        self._board = board
        self._which = which

    def read_u16(self):
        return self._board.sync().read(self._which)


class SimPWM:
    def __init__(self, freq=2000):
        self._freq = freq
        self._duty = 0
        self.changes = 0

    def freq(self, value=None):
        if value is None:
            return self._freq
        self._freq = value
        return None

    def duty_u16(self, value=None):
        if value is None:
            return self._duty
        if value != self._duty:
            self.changes += 1
        self._duty = value
        return None


class Board:
    name = name
    tick_hz = TICK_HZ
    # the unix port's small ints are 62-bit; the engine's chunking may use them
    int_limit = (1 << 62) - 1
    default_steps_per_ml = DEFAULT_STEPS_PER_ML
    has_battery = HAS_BATTERY
    vref_mv = 3300
    sample_floor_ms = MIN_STEP_MS  # the supervisor samples on every step at least this long
    hash_chunk = HASH_CHUNK

    def __init__(self, start_us=0, seed=1, compliance=1.0, step_counter=False):
        from tools.sim.model import Model

        self.clock = VirtualClock(start_us)
        self.model = Model(seed=seed, steps_per_ml=DEFAULT_STEPS_PER_ML, compliance=compliance)
        self.pins = {n: SimPin() for n in ("dir", "en", "button", "led")}
        self.pins["step"] = SimStepPin(self.pins["dir"])
        self.pins["en"].level = 1
        self.pins["button"].level = 1  # active low, pulled up
        self.pins["diag"] = SimDiag(self)
        self.stepper = Stepper(self.pins["step"], self.pins["dir"], self.pins["en"], diag=self.pins["diag"])
        # with step_counter (tests that drive the tick handler) the pins' count is the independent one
        self.stepcount = SimStepCount(self.pins["step"]) if step_counter else None
        self.adc_pressure = SimADC(self, "pressure")
        self.adc_reservoir = SimADC(self, "reservoir")
        self.adc_battery = SimADC(self, "battery")
        self.button = self.pins["button"]
        self.buzzer = SimPWM()
        self.led = self.pins["led"]
        self.step_cap_ms = MAX_STEP_MS
        self.watchdog_feeds = 0
        self._wdt_on = False
        # the application image and the SHA-256 deploy would record with it (`sim fault image`)
        import hashlib

        self.image = bytearray(i * 7 & 0xFF for i in range(IMAGE_BYTES))
        self.image_bad = False
        self.image_sha = "".join("%02x" % b for b in hashlib.sha256(self.image).digest())
        self._engine = None
        self._counts = None
        self._synced_us = start_us
        self._callback = None

    def load_model(self, state_dir):
        """With --state DIR the physical pump persists too: its reservoir, battery, faults."""
        if not state_dir:
            return
        import json

        try:
            with open(state_dir + "/" + MODEL_FILE) as f:
                self.model.restore(json.loads(f.read()))
        except (OSError, ValueError):
            pass  # a fresh state directory: a fresh pump

    def save_model(self, state_dir):
        if not state_dir:
            return
        import json

        self.sync()
        with open(state_dir + "/" + MODEL_FILE, "w") as f:
            f.write(json.dumps(self.model.snapshot()))

    def attach_engine(self, engine):
        """The model learns the motor's steps from the engine's counters (no STEP pin edges here)."""
        if self._engine is not None:
            self.sync()  # a reboot: the model lives on through the power cut
        self._engine = engine
        self._counts = engine.counters()
        self._synced_us = self.clock.now_us

    def sync(self):
        """Bring the model to the clock's now; returns the model."""
        m = self.model
        now = self.clock.now_us
        if now == self._synced_us or self._engine is None:
            return m
        from firmware.dose import wrap_delta

        c = self._engine.counters()
        o = self._counts or c
        self._counts = c
        m.step(
            (now - self._synced_us) // 1000,
            wrap_delta(c[1], o[1]),
            wrap_delta(c[2], o[2]),
            self._engine.running(),
        )
        self._synced_us = now
        return m

    @property
    def sample_ms(self):
        e = self._engine
        cap = self.step_cap_ms
        if e is None or e.mode() == 0:  # stopped: nothing moves but the clock
            return cap if cap < MAX_STEP_MS else MAX_STEP_MS
        if e.mode() == 2:  # backing off at one step a tick
            return MIN_STEP_MS if MIN_STEP_MS < cap else cap
        return step_ms(e.rate(), cap)

    def start_ticks(self, callback):
        """No interrupt in the simulator: `advance` drives the engine."""
        self._callback = callback

    def stop_ticks(self):
        self._callback = None

    def start_watchdog(self, timeout_ms=8000):
        self._wdt_on = True

    def feed_watchdog(self):
        self.watchdog_feeds += 1

    def stop_watchdog(self):
        self._wdt_on = False

    def watchdog_armed(self):
        return self._wdt_on

    def app_image(self):
        """(buffer, length, recorded SHA-256, checked at this boot) as boardsel.image_view: no
        loader hashed it before the firmware ran, so the boot's self-test does."""
        return memoryview(self.image), len(self.image), self.image_sha, False

    def corrupt_image(self, on):
        """Flip one byte of the image (or put it back): flash that lost a bit."""
        if on != self.image_bad:
            self.image[100] ^= 0x10
            self.image_bad = on
