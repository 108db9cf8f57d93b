"""A timed bolus across a rise of the basal (a flex boundary) is given whole."""

from therapy_kit import DAY_MS, TKit


def test_bolus_across_a_basal_rise_is_given_whole():
    k = TKit()
    k.ok("program flex 00:00=1mg 00:10=14mg")  # 2,000 then 28,000 steps/day
    k.ok("program confirm")
    k.ok("start")
    k.run(300000)
    s0 = k.steps()
    d = k.ok("bolus 0.5mg over=15m")
    assert d["steps"] == 1000
    k.run(1200000)  # the bolus ends at 00:20, well inside this
    basal = 2000 * 300000 // DAY_MS + 28000 * 900000 // DAY_MS
    got = k.steps() - s0
    assert abs(got - (basal + 1000)) <= 3, (got, basal + 1000)
    assert k.count("bolus_done") == 1 and k.pump.engine.rate() == 28000


def test_bolus_across_a_basal_fall_still_ends_on_time():
    k = TKit()
    k.ok("program flex 00:00=14mg 00:10=1mg")
    k.ok("program confirm")
    k.ok("start")
    k.run(300000)
    s0 = k.steps()
    k.ok("bolus 0.5mg over=15m")
    k.run(1200000)
    basal = 28000 * 300000 // DAY_MS + 2000 * 900000 // DAY_MS
    got = k.steps() - s0
    assert abs(got - (basal + 1000)) <= 3, (got, basal + 1000)


def test_a_bolus_cut_by_a_stop_and_start_between_passes_is_logged_cancelled_not_done():
    # `refill begin` ... `refill confirm` (or `stop`, `start`) typed before the main loop ran again:
    # the engine's budget was reset by the stop, and the next pass took it for spent, logging
    # `bolus_done` with the whole bolus while none of it had gone out
    k = TKit()
    k.ok("program continuous 3mg")
    k.ok("program confirm")
    k.ok("start")
    k.run(60000)
    k.ok("bolus 0.5mg over=15m")
    s0 = k.steps()
    k.ok("stop")
    k.ok("start")
    k.run(20 * 60000)
    names = [e["event"] for e in k.ok("log 20")["entries"]]
    assert "bolus_cancelled" in names and "bolus_done" not in names, names
    assert k.steps() - s0 <= 6000 * 20 // 1440 + 1  # the basal only
