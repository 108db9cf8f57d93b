"""Dose engine exactness: runs under CPython (pytest) and the micropython unix port."""

from rig import Lcg, Rig, expected

ML = 20000  # steps per mL, the uncalibrated default
D = 86400000


def per_day(ml_per_day_x100):
    return ml_per_day_x100 * ML // 100


def test_closed_form_exact_30_days_at_several_rates():
    # 0.05 mL/day up to the 3 mL/min priming rate, 30 days in 10-minute jumps,
    # with the tick counter crossing its 2**29 wrap many times.
    for rate in (per_day(5), per_day(10), per_day(100), per_day(2400), D):
        r = Rig()
        r.engine.set_rate(rate)
        r.engine.start()
        done = 0
        step = 600000
        total = 30 * D if rate < D else D // 24
        while done < total:
            r.engine.advance(step)
            done += step
            got = r.fold()
            want = expected(done, rate, D)
            assert got == want, (rate, done, got, want)
        assert r.ticks == done


def test_every_window_within_one_step():
    r = Rig()
    rate = per_day(137)  # an awkward rate: 27,400 steps/day
    r.engine.set_rate(rate)
    r.engine.start()
    lcg = Lcg(7)
    prev_t = 0
    prev_s = 0
    t = 0
    for _ in range(400):
        n = 1 + lcg.below(200000)
        r.engine.advance(n)
        t += n
        s = r.fold()
        # any window [prev, now]: programmed volume rounded either way
        lo = (t - prev_t) * rate // D
        assert lo <= s - prev_s <= lo + 1, (s - prev_s, lo)
        if lcg.below(3) == 0:
            prev_t, prev_s = t, s


def test_handler_on_time_matches_closed_form():
    r = Rig()
    rate = per_day(2400)  # 24 mL/day: a step every 180 ticks
    r.engine.set_rate(rate)
    r.engine.start()
    r.run_ticks(5000)
    assert r.fold() == expected(5000, rate, D)
    assert r.step.rising_edges() == r.fwd
    assert r.ticks == 5000


def test_handler_jitter_bunching_and_missed_ticks_lose_nothing():
    lcg = Lcg(3)
    for rate in (per_day(2400), D // 3, D):
        r = Rig(log_edges=False)
        r.engine.set_rate(rate)
        r.engine.start()
        t = 0
        for _ in range(6000):
            k = lcg.below(20)
            if k == 0:
                dt = 1000 * (2 + lcg.below(20))  # missed ticks: up to 20 late
            elif k == 1:
                dt = 50  # bunched callbacks
            else:
                dt = 1000 + lcg.below(401) - 200  # jitter of +-200 us
            r.fire_at(dt)
            t += dt
        r.fold()
        elapsed = r.ticks
        assert abs(elapsed - (t + 500) // 1000) <= 1
        owed = r.engine.owed()
        want = expected(elapsed, rate, D)
        # every step that fell due was made or is still owed: none lost, none extra
        # (at the maximum rate, one step a tick, owed steps can never catch up:
        # past the 1 s bound they are dropped and counted as under-delivery)
        assert r.fwd + owed + r.drop_steps == want, (rate, r.fwd, owed, want)
        assert r.drop_ticks == 0
        if rate < D:
            assert r.drop_steps == 0 and owed <= 1
        assert r.step.rising_edges() == r.fwd
        # never more than one step per callback: STEP goes high at most once a callback
        assert r.step.rising_edges() <= 6000


def test_owed_steps_spread_not_burst():
    r = Rig()
    rate = D // 4
    r.engine.set_rate(rate)
    r.engine.start()
    r.run_ticks(10)
    r.fire_at(200 * 1000)  # a 200 ms late callback (an rp2 flash write)
    r.fold()
    assert r.engine.owed() > 40
    before = r.fwd
    r.fire_at(1000)
    r.fold()
    assert r.fwd - before == 1
    r.run_ticks(200)
    r.fold()
    assert r.engine.owed() <= 1
    assert r.fwd == expected(r.ticks, rate, D)


def test_long_stall_drops_excess_and_resumes_at_rate():
    r = Rig()
    rate = per_day(2400)
    r.engine.set_rate(rate)
    r.engine.start()
    r.run_ticks(1000)
    r.fold()
    base = r.fwd
    r.fire_at(10 * 1000000)  # a 10 s stall
    r.fold()
    assert r.drop_ticks == 10000 - 1000
    burst = r.fwd - base
    assert burst <= 1
    r.run_ticks(20000)
    r.fold()
    delivered = r.fwd - base
    # the 1 s bound is made up (spread), the other 9 s are not
    want = expected(r.ticks - r.drop_ticks, rate, D) - expected(1000, rate, D)
    assert abs(delivered - want) <= 1, (delivered, want)
    assert r.step.rising_edges() == r.fwd


def test_wraparound_of_tick_clock():
    # start 3 s before ticks_us wraps at 2**30
    r = Rig(start_us=(1 << 30) - 3000000)
    rate = D // 7
    r.engine.set_rate(rate)
    r.engine.start()
    r.run_ticks(7000)
    assert r.fold() == expected(7000, rate, D)
    assert r.drop_ticks == 0


def test_stop_within_one_tick_and_disables_driver():
    r = Rig()
    r.engine.set_rate(D)
    r.engine.start()
    r.run_ticks(100)
    assert r.en() == 0  # enabled, active low
    r.engine.stop()
    assert r.en() == 1
    edges = r.step.rising_edges()
    r.run_ticks(1)
    assert r.step() == 0  # the last pulse ends on the next tick
    r.run_ticks(1000)
    assert r.step.rising_edges() == edges
    r.fold()
    assert r.fwd == edges


def test_stopped_time_is_never_made_up():
    r = Rig()
    rate = D // 10
    r.engine.set_rate(rate)
    r.engine.start()
    r.run_ticks(1000)
    r.engine.stop()
    r.run_ticks(5000)
    r.clock.advance_us(60 * 1000000)
    r.engine.start()
    r.run_ticks(1000)
    r.fold()
    assert abs(r.fwd - 200) <= 1


def test_rate_change_at_tick_boundary():
    r = Rig()
    r.engine.set_rate(D // 10)
    r.engine.start()
    r.run_ticks(1000)
    r.fold()
    assert r.fwd == 100
    r.engine.set_rate(D // 2)
    assert r.engine.rate() == D // 2
    r.run_ticks(1000)
    r.fold()
    assert abs(r.fwd - 600) <= 1


def test_back_off_runs_reverse_then_disables():
    r = Rig()
    r.engine.set_rate(D // 2)
    r.engine.start()
    r.run_ticks(100)
    r.fold()
    fwd = r.fwd
    r.engine.back_off(30)
    assert r.dir() == 0  # reversed
    r.run_ticks(100)
    r.fold()
    assert r.fwd == fwd and r.rev == 30
    assert r.en() == 1
    assert not r.engine.running()


def test_rate_bounds_are_refused():
    r = Rig()
    for bad in (-1, D + 1):
        try:
            r.engine.set_rate(bad)
        except ValueError:
            continue
        raise AssertionError("accepted %d" % bad)


def test_budget_beyond_the_state_slots_is_refused_and_changes_nothing():
    # the handler keeps its state in 32-bit slots below 2**30: a budget that
    # could not be held there is refused before anything changes
    r = Rig()
    r.engine.set_rate(D // 10)
    try:
        r.engine.set_rate(D, steps=1 << 29)
    except ValueError:
        assert r.engine.rate() == D // 10 and r.engine.budget() == 0
        return
    raise AssertionError("accepted a budget of 2**29 steps")


def test_handler_allocates_nothing_under_heap_lock():
    import micropython

    r = Rig(log_edges=False)
    r.engine.set_rate(D)
    r.engine.start()
    r.run_ticks(3)
    cb = r.engine.on_tick
    clock = r.clock
    timer = r.timer
    micropython.heap_lock()
    try:
        for i in range(3000):
            # on time, late, bunched and a long stall: every path of the handler
            clock.advance_us(1000 if i % 50 else 1500000)
            cb(timer)
            if i == 1000:
                r.engine.stop()
            if i == 1200:
                r.engine.back_off(50)
    finally:
        micropython.heap_unlock()
    r.fold()
    assert r.fwd > 900
    assert r.rev == 50


def test_budget_gives_an_exact_bolus_then_basal():
    basal = D // 1000
    for use_handler in (False, True):
        r = Rig(log_edges=False)
        r.engine.set_rate(D // 5, steps=37, then=basal)
        r.engine.start()
        if use_handler:
            r.run_ticks(37 * 5 + 10)
        else:
            r.engine.advance(37 * 5 + 10)
        r.fold()
        assert r.fwd == 37, r.fwd
        assert r.engine.rate() == basal and r.engine.budget() == 0
        if use_handler:
            r.run_ticks(10000)
        else:
            r.engine.advance(10000)
        r.fold()
        assert 37 + 9 <= r.fwd <= 37 + 11


def test_budget_crossing_inside_one_closed_form_jump():
    r = Rig()
    rate = D // 3
    r.engine.set_rate(rate, steps=1000, then=0)
    r.engine.start()
    r.engine.advance(10 * D)
    r.fold()
    assert r.fwd == 1000


def test_host_int_limit_far_above_the_state_slots():
    # the simulator's boards allow 62-bit ints: its chunks must still fit the
    # engine's 32-bit state, and a 10-day jump stay exact
    r = Rig(int_limit=(1 << 62) - 1)
    for rate in (1, D // 3, D):
        r.engine.set_rate(rate)
        r.engine.start()
        r.fold()
        before = r.fwd
        r.engine.advance(D)
        r.fold()
        assert r.fwd - before == rate, (rate, r.fwd - before)
        r.engine.stop()
