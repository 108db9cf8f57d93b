"""Sensor drivers on the fake machine: Pico scaling, rails, frozen, implausible, HX711, button."""

import machine

from drivers.analog import FROZEN, IMPLAUSIBLE, OK, RAIL, Analog
from drivers.battery import Battery
from drivers.button import Button
from drivers.hx711 import HX711, TIMEOUT


def pressure(adc):
    # SPEC 2 Pico table: 0.33 V = 0 kPa .. 2.97 V = 300 kPa, in Pa
    return Analog(adc, 330, 2970, 0, 300000, max_step=100000)


def test_pressure_scaling_follows_the_pico_table():
    adc = machine.ADC(26)
    for mv, kpa in ((330, 0), (2970, 300), (1650, 150), (418, 10)):
        s = pressure(adc)  # fresh: jumps across the range would be implausible
        adc.set_volts(mv)
        assert s.sample() == OK
        # one 16-bit count of 3.3 V is 0.05 mV: within 20 Pa
        assert abs(s.value - kpa * 1000) <= 20, (mv, s.value)


def test_a_rail_is_a_fault_never_a_reading():
    adc = machine.ADC(26)
    s = pressure(adc)
    adc.set_volts(1000)
    s.sample()
    good = s.value
    for mv in (0, 99, 3201, 3300):
        adc.set_volts(mv)
        assert s.sample() == RAIL, mv
        assert s.value == good  # the last good value stands; the rail is never taken as pressure
    adc.set_volts(101)
    assert s.sample() == OK


def test_frozen_only_counts_while_watched():
    adc = machine.ADC(26)
    s = pressure(adc)
    adc.set_volts(500)
    for _ in range(40):  # 40 x 30 s stopped: not watched, never frozen
        assert s.sample(30000, watched=False) == OK
    n = 0
    while s.sample(30000, watched=True) == OK:
        n += 1
        assert n < 100
    assert s.health == FROZEN
    assert 600000 <= (n + 1) * 30000 <= 900000  # SPEC 2: within 15 min of 10 min frozen
    adc.raw += 16  # one 12-bit count of noise: alive again
    assert s.sample(30000, watched=True) == OK


def test_repeated_jumps_are_implausible_but_one_step_is_not():
    adc = machine.ADC(26)
    s = pressure(adc)
    adc.set_volts(500)
    s.sample()
    adc.set_volts(2500)  # one real step (e.g. a reconnected line)
    assert s.sample() == OK
    for _ in range(5):
        assert s.sample() == OK
    health = []
    for i in range(6):
        adc.set_volts(500 if i % 2 else 2500)
        health.append(s.sample())
    assert IMPLAUSIBLE in health


def test_battery_divider_and_rail():
    adc = machine.ADC(28)
    b = Battery(adc)
    adc.set_volts(1850)  # SPEC 2: 1.85 V on the pin = 3.70 V cell
    assert b.sample() == OK
    assert abs(b.cell_mv - 3700) <= 2
    adc.set_volts(20)  # open divider: a fault, not a dead battery
    assert b.sample() == RAIL
    assert abs(b.cell_mv - 3700) <= 2


class FakeHX711:
    """DOUT and SCK pins of an HX711 holding one 24-bit conversion."""

    def __init__(self, value, ready=True):
        self.value = value & 0xFFFFFF
        self.ready = ready
        self.bit = 0
        self.sck_level = 0
        self.pulses = 0

    def dout(self, x=None):
        if not self.ready:
            return 1
        if self.bit == 0 or self.bit > 24:
            return 0
        return (self.value >> (24 - self.bit)) & 1

    def sck(self, x=None):
        if x is None:
            return self.sck_level
        if x and not self.sck_level:
            self.bit += 1
            self.pulses += 1
        if not x and self.bit >= 25:
            self.bit = 0  # the 25th pulse ends the read: the next conversion is ready
        self.sck_level = 1 if x else 0
        return None


def test_hx711_reads_signed_24_bits_and_times_out():
    f = FakeHX711(-1234)
    h = HX711(f.dout, f.sck, zero=-2000, per_unit=2)
    assert h.sample(100) == OK
    assert h.raw == -1234 and h.value == (-1234 + 2000) // 2
    assert f.pulses == 25  # 24 bits and one to select channel A gain 128
    f.ready = False
    states = [h.sample(100) for _ in range(10)]
    assert states[-1] == TIMEOUT and states[0] == OK


def test_button_debounces_and_counts_one_press():
    pin = machine.Pin(14, machine.Pin.IN, machine.Pin.PULL_UP)
    b = Button(pin, debounce_ms=30)
    assert not b.poll(10)
    pin.driven = 0
    got = [b.poll(10) for _ in range(10)]
    assert got.count(True) == 1 and got.index(True) == 2  # after 30 ms held
    pin.driven = 1
    assert not b.poll(10)
    pin.driven = 0
    assert not b.poll(10)  # a 10 ms bounce is not a press
    pin.driven = 1
    b.poll(10)
    assert pin.value() == 1


class LoadCellPins:
    """A Pin class for boards.esp32.reservoir_load_cell: DOUT and SCK on one FakeHX711."""

    IN = 1
    OUT = 2
    cell = None

    def __init__(self, id, mode, value=None):
        c = LoadCellPins.cell
        self._fn = c.dout if mode == LoadCellPins.IN else c.sck
        if value is not None:
            self._fn(value)

    def __call__(self, x=None):
        return self._fn(x)


class LoadCellBoard:
    vref_mv = 3300

    def __init__(self, sensor):
        self.reservoir_sensor = sensor
        self.adc_reservoir = None


def test_a_load_cell_reservoir_reads_ppm_of_capacity_and_times_out():
    from boards.esp32 import reservoir_load_cell
    from firmware.safety.sensing import Sensors

    LoadCellPins.cell = f = FakeHX711(81200 + (412900 - 81200) * 3 // 4)
    s = Sensors(LoadCellBoard(reservoir_load_cell(LoadCellPins, (16, 17, 81200, 412900))))
    assert s.sample(250, True) == []
    assert abs(s.reservoir_ppm() - 750000) <= 1
    f.value = 81200 + (412900 - 81200) // 4  # a quarter less between two samples is a refill, not a
    s.sample(250, True, refill=True)  # fault, when a refill is open
    assert abs(s.reservoir_ppm() - 250000) <= 1
    f.ready = False  # unplugged: the chip never signals a conversion
    faults = [s.sample(250, True) for _ in range(4)]
    assert faults[-1] == ["reservoir timeout"] and s.reservoir_ppm() is None
