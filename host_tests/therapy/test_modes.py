"""Every delivery mode on the simulated pump: delivered steps over days equal the program within one step."""

from therapy_kit import DAY_MS, TKit

from firmware import isotime

H = 3600000


def _within(got, want, tol=1):
    assert abs(got - want) <= tol, (got, want)


def test_continuous_three_days():
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    assert k.pump.mode == "continuous"
    k.ok("start")
    k.run(3 * DAY_MS)
    # 2 mg/day at 10 mg/mL = 0.2 mL/day = 4000 steps/day at 20,000 steps/mL
    _within(k.steps(), 3 * 4000)


def test_continuous_odd_rate_rounds_to_nearest_step():
    k = TKit(drug="ziconotide", conc="25mcg/mL")
    d = k.ok("program continuous 2.4mcg")
    # 2.4 mcg / 25 mcg/mL * 20000 = 1920 steps exactly: no rounding
    assert d["daily_steps"] == 1920 and d["rounding"] == 0
    d = k.ok("program continuous 2.41mcg")
    # 1927.999... -> 1928 steps, which give 2.41 mcg: the rounding is below 1 ng
    assert d["daily_steps"] == 1928
    k.ok("program confirm")
    k.ok("start")
    k.run(3 * DAY_MS)
    _within(k.steps(), 3 * 1928)


def test_flex_wraps_over_midnight():
    k = TKit()
    # 22:00 to 06:00 at 1 mg/day, 06:00 to 22:00 at 4 mg/day: 8 h x 1 + 16 h x 4 = 24 mg*h -> 3 mg/day
    d = k.ok("program flex 06:00=4mg 22:00=1mg")
    assert d["daily_steps"] == 6000
    k.ok("program confirm")
    k.ok("start")
    assert k.pump.basal == 2000  # midnight is inside the 22:00 step
    k.run(6 * H)
    assert k.pump.basal == 8000
    _within(k.steps(), 2000 * 6 // 24)
    k.run(3 * DAY_MS - 6 * H)
    _within(k.steps(), 3 * 6000)


def test_flex_follows_time_set():
    k = TKit()
    k.ok("program flex 08:00=8mg 20:00=0mg")
    k.ok("program confirm")
    k.ok("start")
    assert k.pump.basal == 0
    k.run(2 * H)  # 02:00, nothing delivered at night
    assert k.steps() == 0
    # the clock is moved to 07:00: the day step starts an hour later, at 08:00 wall time
    k.pump.set_wall(isotime.parse("2026-01-01T07:00:00"))
    k.run(H - 1000)
    assert k.steps() == 0 and k.pump.basal == 0
    k.run(1000)
    assert k.pump.basal == 16000
    k.run(12 * H)  # 08:00 -> 20:00 at 16000 steps/day
    _within(k.steps(), 8000)
    assert k.pump.basal == 0


def test_periodic_across_midnight_with_basal():
    k = TKit()
    d = k.ok("program periodic 23:50=0.5mg/20m 12:00=0.25mg/15m basal=1mg")
    # 1 mg basal + 0.75 mg of boluses = 1.75 mg/day = 3500 steps
    assert d["daily_steps"] == 3500, d
    k.ok("program confirm")
    k.ok("start")
    k.run(3 * DAY_MS)
    _within(k.steps(), 3 * 3500)
    # the window that wraps midnight ran: basal plus a bolus rate at 00:05
    k.run(5 * 60000)
    assert k.pump.basal > 2000


def test_periodic_follows_time_set():
    k = TKit()
    k.ok("program periodic 10:00=0.5mg/30m")
    k.ok("program confirm")
    k.ok("start")
    k.run(H)
    assert k.steps() == 0
    k.pump.set_wall(isotime.parse("2026-01-01T09:59:00"))
    k.run(60000 + 30 * 60000)
    _within(k.steps(), 1000)
    assert k.pump.basal == 0


def test_clinician_bolus_on_top_of_basal():
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    assert k.code("bolus 0.3mg") == "E_STATE"  # stopped pump: boluses need it running
    k.ok("start")
    k.run(H)
    s0 = k.steps()
    d = k.ok("bolus 0.3mg over=30m")
    assert d["steps"] == 600
    k.run(30 * 60000)
    assert k.t.kind == ""  # the budget ran out inside the window
    k.run(3 * DAY_MS - 30 * 60000)
    _within(k.steps() - s0, 600 + 3 * 4000)


def test_ptm_lockout_and_max_count():
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    assert k.code("ptm") == "E_STATE"  # not set up
    k.ok("ptm set dose=0.2mg lockout=2h max=3 over=10m")
    s0 = k.steps()
    d = k.ok("ptm")
    assert d["steps"] == 400 and d["left_24h"] == 2
    k.run(H)
    assert k.code("ptm") == "E_STATE"  # inside the 2 h lockout
    k.run(H)
    k.ok("ptm")
    k.run(2 * H)
    assert k.t.patient_bolus("button")["left_24h"] == 0
    k.run(2 * H)
    assert k.code("ptm") == "E_LIMIT"  # the fourth in 24 h
    assert k.count("ptm_refused") == 0  # a refused shell line is answered, not logged
    try:
        k.t.patient_bolus("button")
        raise AssertionError("button ptm past the max was given")
    except Exception as e:
        assert getattr(e, "code", None) == "E_LIMIT"
    assert k.count("ptm_refused") == 1
    k.run(DAY_MS - 6 * H + 1000)  # the first press left the 24 h window
    k.ok("ptm")
    k.run(DAY_MS)
    _within(k.steps() - s0, 4 * 400 + 4000 * (2 * DAY_MS + 1000) // DAY_MS)


def test_prime_on_stopped_pump_only():
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    assert k.code("prime 0.2") == "E_STATE"
    k.ok("stop")
    assert k.code("prime 1.5") == "E_LIMIT"
    assert k.code("prime 0.2") == "E_STATE"  # no catheter volume set
    k.ok("rx catheter 0.2")
    d = k.ok("prime 0.2")
    assert d["steps"] == 4000
    k.run(60000)
    assert k.steps() == 4000 + 0 and k.pump.state == "stopped"
    assert not k.pump.engine.running()


def test_bridge_bolus_after_concentration_change():
    k = TKit()
    k.ok("rx catheter 0.1")
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    k.run(H)
    s0 = k.steps()
    # 10 -> 5 mg/mL: the new volume rate doubles; 0.1 mL (2000 steps) of old drug goes first at 4000/day
    k.t.concentration_changed("5mg/mL", bridge=True)
    assert k.t.kind == "bridge" and k.pump.basal == 8000
    k.run(6 * H)
    _within(k.steps() - s0, 1000)  # still the old volume rate
    assert k.t.kind == "bridge"
    k.run(6 * H + 60000)
    assert k.t.kind == "" and k.pump.engine.rate() == 8000
    k.run(DAY_MS)
    _within(k.steps() - s0, 2000 + 8000 * (DAY_MS + 60000) // DAY_MS)


def test_no_bridge_takes_new_rate_at_once():
    k = TKit()
    k.ok("rx catheter 0.1")
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    k.t.concentration_changed((5000000, "mg"), bridge=False)
    assert k.t.kind == "" and k.pump.engine.rate() == 8000


def test_trial_single_then_stop_and_report():
    k = TKit()
    k.ok("program trial single 0.4mg/30m")
    k.ok("program confirm")
    k.ok("start")
    k.run(2 * H)
    assert k.steps() == 800 and k.pump.state == "stopped"
    rep = k.ok("status")["trial"]
    assert rep["delivered_steps"] == 800


def test_trial_multi_count_and_interval():
    k = TKit()
    k.ok("program trial multi 0.2mg/15m every=8h count=4")
    k.ok("program confirm")
    k.ok("start")
    k.run(8 * H + 16 * 60000)
    assert k.steps() == 800  # two injections by 8 h 16 min
    k.run(3 * DAY_MS)
    assert k.steps() == 1600 and k.pump.state == "stopped"


def test_trial_continuous_days():
    k = TKit()
    k.ok("program trial continuous 1mg days=2")
    k.ok("program confirm")
    k.ok("start")
    k.run(3 * DAY_MS)
    _within(k.steps(), 2 * 2000)
    assert k.pump.state == "stopped"


def test_stop_start_never_makes_up():
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    k.run(12 * H)
    k.ok("stop")
    k.run(12 * H)
    k.ok("start")
    k.run(DAY_MS)
    _within(k.steps(), 2000 + 4000)


def test_program_change_at_runtime_takes_over():
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    k.run(DAY_MS)
    k.ok("program continuous 4mg")
    assert k.pump.engine.rate() == 4000  # pending until confirmed
    k.ok("program confirm")
    assert k.pump.engine.rate() == 8000
    k.run(DAY_MS)
    _within(k.steps(), 4000 + 8000)
