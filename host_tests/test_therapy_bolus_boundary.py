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
