"""Raspberry Pi Pico (RP2040): the fixed wiring of SPEC 2 and its board parameters.

The only file that names Pico pin numbers. rp2 has virtual timers only
(`Timer(-1)`) and they can run hard callbacks.
"""

import machine
from machine import ADC, PWM, Pin, Timer

from drivers.stepper import Stepper

name = "pico"
TICK_HZ = 1000
DEFAULT_STEPS_PER_ML = 20000
HAS_BATTERY = True
BATTERY_MAH = 2500  # one 18650 Li-ion cell
LOAD_IDLE_MA = 25  # the board running MicroPython, radio off
LOAD_MOTOR_MA = 250  # the stepper driver enabled (holding current at the cell)
SAMPLE_MS = 250

PIN_STEP = 2
PIN_DIR = 3
PIN_EN = 4
PIN_DIAG = 5
PIN_PRESSURE = 26  # ADC0: 0.33 V = 0 kPa .. 2.97 V = 300 kPa
PIN_RESERVOIR = 27  # ADC1: 0.33 V = empty .. 2.97 V = full
PIN_BATTERY = 28  # ADC2: 1:2 divider
PIN_BUTTON = 14  # active low, pull-up
PIN_SAFE = 15  # active low, pull-up: held low at boot skips the application
PIN_BUZZER = 16
PIN_LED = 25
STEPCOUNT_SM = 0  # PIO0's first state machine counts STEP edges (drivers/stepcount_pio.py)
WATCHDOG_CTRL = 0x40058000
WATCHDOG_ENABLE = 1 << 30


def safe_mode_requested():
    return Pin(PIN_SAFE, Pin.IN, Pin.PULL_UP).value() == 0


class Board:
    name = name
    tick_hz = TICK_HZ
    int_limit = (1 << 30) - 1
    default_steps_per_ml = DEFAULT_STEPS_PER_ML
    has_battery = HAS_BATTERY
    # the battery block's estimate (firmware/safety/power.py): no current sensor, so stated
    # figures; measure them on the rig
    battery_mah = BATTERY_MAH
    load_idle_ma = LOAD_IDLE_MA
    load_motor_ma = LOAD_MOTOR_MA
    sample_ms = SAMPLE_MS
    vref_mv = 3300

    def __init__(self):
        import time

        self.clock = time
        self.stepper = Stepper(
            Pin(PIN_STEP, Pin.OUT, value=0),
            Pin(PIN_DIR, Pin.OUT, value=0),
            Pin(PIN_EN, Pin.OUT, value=1),
            diag=Pin(PIN_DIAG, Pin.IN, Pin.PULL_DOWN),
        )
        self.adc_pressure = ADC(PIN_PRESSURE)
        self.adc_reservoir = ADC(PIN_RESERVOIR)
        self.adc_battery = ADC(PIN_BATTERY)
        self.button = Pin(PIN_BUTTON, Pin.IN, Pin.PULL_UP)
        self.buzzer = PWM(Pin(PIN_BUZZER), freq=2000, duty_u16=0)
        self.led = Pin(PIN_LED, Pin.OUT, value=0)
        # the independent step count: PIO reads the STEP and DIR pads the CPU drives
        from drivers.stepcount_pio import PioStepCount

        self.stepcount = PioStepCount(STEPCOUNT_SM, self.stepper.step, self.stepper.dir)
        self._timer = None
        self._sound_timer = None
        self._wdt = None

    def start_ticks(self, callback):
        # keep the Timer (and the bound callback, held by the engine) referenced for life
        self._timer = Timer(-1)
        self._timer.init(mode=Timer.PERIODIC, freq=self.tick_hz, callback=callback, hard=True)

    def start_sound(self, callback, period_ms):
        """Play the alarm pattern from a hard timer, independent of the main loop."""
        self._sound_timer = Timer(-1)  # referenced for life, as is the callback (bound once by its owner)
        self._sound_timer.init(mode=Timer.PERIODIC, period=period_ms, callback=callback, hard=True)

    def stop_ticks(self):
        if self._timer is not None:
            self._timer.deinit()
        if self._sound_timer is not None:
            # back at the REPL: no alarm pattern, and never a tone left on mid-pulse
            self._sound_timer.deinit()
            self.buzzer.duty_u16(0)

    def start_watchdog(self, timeout_ms=8000):
        self._wdt = machine.WDT(timeout=timeout_ms)

    def feed_watchdog(self):
        if self._wdt is not None:
            self._wdt.feed()

    def watchdog_armed(self):
        """The self-test's question, asked of the hardware: WATCHDOG CTRL.ENABLE set."""
        return self._wdt is not None and bool(machine.mem32[WATCHDOG_CTRL] & WATCHDOG_ENABLE)

    def stop_watchdog(self):
        # machine.WDT has no stop; clear WATCHDOG CTRL.ENABLE so the REPL stays usable
        machine.mem32[WATCHDOG_CTRL] &= ~WATCHDOG_ENABLE
        self._wdt = None

    def reset_cause(self):
        return "watchdog" if machine.reset_cause() == machine.WDT_RESET else "power"
