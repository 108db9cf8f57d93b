"""Clock arithmetic, uptime folding, ISO time and the 24 h ledger (both interpreters)."""

from rig import Rig

from boards.vclock import PERIOD, VirtualClock
from firmware import isotime
from firmware.ledger import BIN_MS, Ledger
from firmware.pump import Uptime

D = 86400000


def test_vclock_wraps_like_a_board():
    c = VirtualClock(PERIOD - 5000)
    a = c.ticks_us()
    c.advance_us(10000)
    b = c.ticks_us()
    assert b < a  # wrapped
    assert c.ticks_diff(b, a) == 10000
    assert c.ticks_diff(a, b) == -10000
    assert c.ticks_add(a, 10000) == b


def test_uptime_folds_past_ms_wrap():
    # ticks_ms wraps at 2**30 ms (12.4 days); uptime keeps counting past it
    c = VirtualClock((PERIOD - 1000) * 1000)
    u = Uptime(c)
    total = 0
    for _ in range(40):
        c.advance_ms(86400000 // 2)  # half a day: below the 2**29 ms validity span
        total += 86400000 // 2
        assert u.update() == total
    assert u.ms > PERIOD


def test_isotime_round_trip_and_refusals():
    for s in ("2026-01-01T00:00:00", "2028-02-29T23:59:59", "2099-12-31T12:00:00"):
        assert isotime.fmt(isotime.parse(s)) == s
    assert isotime.parse("2026-01-01T00:00:00") == 1767225600
    assert isotime.parse("2026-01-01T08:30Z") == 1767225600 + 8 * 3600 + 1800
    for bad in ("2026-02-30T00:00:00", "2026-13-01T00:00:00", "2026-01-01T24:00:00", "x", "2026-1-1T0:0:0"):
        try:
            isotime.parse(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_ledger_24h_window_in_bins():
    r = Rig(log_edges=False)
    led = Ledger(r.engine)
    rate = D // 100  # 864,000 steps/day
    r.engine.set_rate(rate)
    r.engine.start()
    t = 0
    for _ in range(48 * 6):  # two days in 10-minute steps
        r.engine.advance(BIN_MS)
        t += BIN_MS
        led.fold(t)
    assert led.total_steps == 2 * rate
    # the window holds the current bin and 144 before it: 24 h to 24 h 10 min
    w = led.delivered_24h(t)
    assert rate <= w <= rate + rate // 144 + 1
    # a day later with nothing delivered, it is all out of the window
    r.engine.stop()
    assert led.delivered_24h(t + D + BIN_MS) == 0
    assert led.total_steps == 2 * rate


def test_ledger_assumed_counts_against_cap_not_delivery():
    r = Rig(log_edges=False)
    led = Ledger(r.engine)
    led.assume(500, 1000)
    assert led.delivered_24h(2000) == 0
    assert led.counted_24h(2000) == 500
    snap = led.snapshot()
    led2 = Ledger(r.engine)
    led2.restore(snap)
    assert led2.counted_24h(2000) == 500
    assert led2.counted_24h(2000 + D + BIN_MS) == 0


def test_ledger_counts_back_off_as_negative():
    r = Rig(log_edges=False)
    led = Ledger(r.engine)
    r.engine.set_rate(D // 2)
    r.engine.start()
    r.engine.advance(1000)
    led.fold(1000)
    r.engine.back_off(100)
    r.engine.advance(1000)
    led.fold(2000)
    assert led.fwd == 500 and led.rev == 100
    assert led.total_steps == 400
    assert led.delivered_24h(2000) == 400
