"""Hand-written fake of `machine` with the rp2/esp32 signatures (see stubcheck.py).

Strict on purpose: no **kwargs catch-alls, so a call the board would reject
fails here too. Outputs log (time_us, level) edges on the virtual clock.
"""

import fakeclock as _time

PWRON_RESET = 1
WDT_RESET = 3
HARD_RESET = 2
SOFT_RESET = 5

_reset_cause = PWRON_RESET
_irq_disabled = 0


def reset_cause():
    return _reset_cause


def set_reset_cause(cause):
    global _reset_cause
    _reset_cause = cause


class ResetRequested(Exception):
    pass


def reset():
    raise ResetRequested()


def soft_reset():
    raise ResetRequested()


def unique_id():
    return b"\x01\x02\x03\x04\x05\x06\x07\x08"


def freq(hz=None):
    return 125000000


def idle():
    pass


def disable_irq():
    global _irq_disabled
    _irq_disabled += 1
    return _irq_disabled - 1


def enable_irq(state):
    global _irq_disabled
    _irq_disabled = state


class _Mem:
    def __init__(self):
        self.words = {}

    def __getitem__(self, addr):
        return self.words.get(addr, 0)

    def __setitem__(self, addr, value):
        self.words[addr] = value & 0xFFFFFFFF


mem32 = _Mem()


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8

    def __init__(self, id, mode=-1, pull=-1, *, value=None):
        self.id = id
        self.mode = mode
        self.pull = pull
        self._level = 1 if pull == Pin.PULL_UP else 0
        self.driven = None  # a level forced from outside (a button, a DIAG line)
        self.edges = []
        self.rises = 0  # counted always: long tests turn the edge log off, not the count
        self.log_edges = True
        if value is not None:
            self._set(value)

    def init(self, mode=-1, pull=-1, *, value=None):
        if mode != -1:
            self.mode = mode
        if pull != -1:
            self.pull = pull
        if value is not None:
            self._set(value)

    def _set(self, v):
        v = 1 if v else 0
        if v and not self._level:
            self.rises += 1
        if v != self._level and self.log_edges:
            self.edges.append((_time.clock.now_us, v))
        self._level = v

    def value(self, x=None):
        if x is None:
            if self.driven is not None:
                return self.driven
            if self.mode == Pin.IN and self.pull == Pin.PULL_UP:
                return 1
            return self._level
        self._set(x)
        return None

    def __call__(self, x=None):
        return self.value(x)

    def on(self):
        self._set(1)

    def off(self):
        self._set(0)

    def irq(self, handler=None, trigger=12, *, hard=False):
        self.handler = handler
        return None

    def rising_edges(self):
        return self.rises


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, *, mode=PERIODIC, freq=-1, period=-1, callback=None, hard=True):
        self.id = id
        self.callback = None
        self.hard = hard
        self.freq = 0
        if callback is not None:
            self.init(mode=mode, freq=freq, period=period, callback=callback, hard=hard)

    def init(self, *, mode=PERIODIC, freq=-1, period=-1, callback=None, hard=True):
        self.mode = mode
        self.freq = freq if freq > 0 else (1000 // period if period > 0 else 0)
        self.callback = callback
        self.hard = hard

    def deinit(self):
        self.callback = None

    def fire(self):
        """Test hook: run the callback once, as the timer interrupt would."""
        if self.callback is not None:
            self.callback(self)


class ADC:
    ATTN_0DB = 0
    ATTN_11DB = 3

    def __init__(self, id, *, atten=-1):
        self.id = id
        self.atten = atten
        self.raw = 0

    def read_u16(self):
        return self.raw

    def set_volts(self, volts_mv, vref_mv=3300):
        """Test hook: the pin voltage in millivolts."""
        v = volts_mv * 65535 // vref_mv
        self.raw = 0 if v < 0 else (65535 if v > 65535 else v)


class PWM:
    def __init__(self, dest, *, freq=0, duty_u16=0):
        self.pin = dest
        self._freq = freq
        self._duty = duty_u16
        self.changes = []

    def freq(self, value=None):
        if value is None:
            return self._freq
        self._freq = value
        return None

    def duty_u16(self, value=None):
        if value is None:
            return self._duty
        if value != self._duty:
            self.changes.append((_time.clock.now_us, value))
        self._duty = value
        return None

    def deinit(self):
        self.duty_u16(0)


class WDT:
    def __init__(self, *, id=0, timeout=5000):
        self.timeout = timeout
        self.feeds = 0

    def feed(self):
        self.feeds += 1
