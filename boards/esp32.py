"""ESP32 DevKitC: its own wiring (input-capable, boot-safe GPIOs) and parameters.

esp32 timers are hardware ids 0-3 with soft callbacks only (`hard=True`
raises ValueError since 1.27), so ticks can arrive late or bunched: the dose
engine accounts for elapsed time. ADC inputs use 11 dB attenuation (0-3.3 V).
"""

import machine
from machine import ADC, PWM, Pin, Timer

from drivers.stepper import Stepper

name = "esp32"
TICK_HZ = 1000
DEFAULT_STEPS_PER_ML = 20000
HAS_BATTERY = True
BATTERY_MAH = 2500  # one 18650 Li-ion cell
LOAD_IDLE_MA = 50  # the board running MicroPython, radio off
LOAD_MOTOR_MA = 250  # the stepper driver enabled (holding current at the cell)
SAMPLE_MS = 250

PIN_STEP = 25
PIN_DIR = 26
PIN_EN = 27
PIN_DIAG = 14
PIN_PRESSURE = 34  # ADC1_CH6, input only
PIN_RESERVOIR = 35  # ADC1_CH7, input only
PIN_BATTERY = 32  # ADC1_CH4
PIN_BUTTON = 33
PIN_SAFE = 13
PIN_BUZZER = 18
PIN_LED = 2  # the DevKitC's on-board LED on many modules
# a reservoir load cell on an HX711 instead of the analog level: (DOUT pin, SCK pin, raw count
# with the reservoir empty, raw count full), from weighing it empty and full; None: analog level
RESERVOIR_HX711 = None  # for example (16, 17, 81200, 412900)
TIMER_ID = 0
WDT_FEED_TIMER_ID = 1
SOUND_TIMER_ID = 2
STEPCOUNT_UNITS = (0, 1)  # PCNT units counting forward and reverse STEP edges (drivers/stepcount_pcnt.py)


def reservoir_load_cell(pin, cfg):
    """The HX711 reading the reservoir in ppm of its capacity, as the analog level does."""
    from drivers.hx711 import HX711

    dout, sck, empty, full = cfg
    return HX711(
        pin(dout, pin.IN),
        pin(sck, pin.OUT, value=0),
        zero=empty,
        span=full - empty,
        span_unit=1000000,
        max_step=250000,  # a quarter of the reservoir between samples, as for the analog level
    )


def step_counter(stepper):
    """The independent step count on two PCNT units, or None on a build without esp32.PCNT
    (the step check then counts from the engine)."""
    try:
        from esp32 import PCNT
    except ImportError:
        return None
    from drivers.stepcount_pcnt import PcntStepCount

    f, r = STEPCOUNT_UNITS
    ctr = PcntStepCount(PCNT(f), PCNT(r), stepper.step, stepper.dir)
    # a PCNT channel takes its pins as inputs (ESP-IDF's legacy driver even turned their output
    # off): STEP and DIR are outputs again, with their input path still routed to the counters
    stepper.step.init(Pin.OUT)
    stepper.dir.init(Pin.OUT)
    return ctr


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
        self.adc_pressure = ADC(Pin(PIN_PRESSURE), atten=ADC.ATTN_11DB)
        self.adc_reservoir = None
        self.reservoir_sensor = None
        if RESERVOIR_HX711 is None:
            self.adc_reservoir = ADC(Pin(PIN_RESERVOIR), atten=ADC.ATTN_11DB)
        else:
            self.reservoir_sensor = reservoir_load_cell(Pin, RESERVOIR_HX711)
        self.adc_battery = ADC(Pin(PIN_BATTERY), atten=ADC.ATTN_11DB)
        self.button = Pin(PIN_BUTTON, Pin.IN, Pin.PULL_UP)
        self.buzzer = PWM(Pin(PIN_BUZZER), freq=2000, duty_u16=0)
        self.led = Pin(PIN_LED, Pin.OUT, value=0)
        self.stepcount = step_counter(self.stepper)
        self._timer = None
        self._sound_timer = None
        self._wdt = None
        self._wdt_feeder = None

    def start_ticks(self, callback):
        self._timer = Timer(TIMER_ID)
        try:
            self._timer.init(mode=Timer.PERIODIC, freq=self.tick_hz, callback=callback, hard=True)
        except (TypeError, ValueError):
            self._timer.init(mode=Timer.PERIODIC, freq=self.tick_hz, callback=callback)

    def start_sound(self, callback, period_ms):
        """Play the alarm pattern from a timer, independent of the main loop (soft callbacks on esp32)."""
        self._sound_timer = Timer(SOUND_TIMER_ID)  # referenced for life, as is the bound callback
        try:
            self._sound_timer.init(mode=Timer.PERIODIC, period=period_ms, callback=callback, hard=True)
        except (TypeError, ValueError):
            self._sound_timer.init(mode=Timer.PERIODIC, period=period_ms, callback=callback)

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
        """The self-test's question: esp32 has no register to read back, so the WDT object."""
        return self._wdt is not None

    def stop_watchdog(self):
        # esp32's WDT cannot be stopped: a timer keeps feeding it for the REPL
        wdt = self._wdt
        if wdt is None:
            return
        self._wdt_feeder = Timer(WDT_FEED_TIMER_ID)
        self._wdt_feeder.init(mode=Timer.PERIODIC, period=1000, callback=lambda _t: wdt.feed())

    def reset_cause(self):
        return "watchdog" if machine.reset_cause() == machine.WDT_RESET else "power"
