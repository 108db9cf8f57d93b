"""Every machine call the tests' fakes accept, written once.

pyright checks this file against the rp2 and the esp32 stubs (make lint), and
test_stubcheck runs it against the fakes: a call that one side accepts and the
other does not fails the build, so the fakes cannot drift from the boards.
"""

import machine


def exercise():
    p = machine.Pin(2, machine.Pin.OUT, value=0)
    p.value(1)
    p(0)
    p.on()
    p.off()
    p.init(machine.Pin.OUT, value=0)
    b = machine.Pin(14, machine.Pin.IN, machine.Pin.PULL_UP)
    level = b.value() + b()
    t = machine.Timer(-1)
    t.init(mode=machine.Timer.PERIODIC, freq=1000, callback=lambda _t: None)
    t.deinit()
    a = machine.ADC(26)
    raw = a.read_u16()
    pwm = machine.PWM(machine.Pin(16), freq=2000, duty_u16=0)
    pwm.freq(2500)
    pwm.duty_u16(32768)
    pwm.deinit()
    w = machine.WDT(timeout=8000)
    w.feed()
    s = machine.disable_irq()
    machine.enable_irq(s)
    cause = machine.reset_cause() in (machine.PWRON_RESET, machine.WDT_RESET)
    uid = machine.unique_id()
    return level, raw, cause, uid
