"""Issue 16 item 1 (amends SPEC 4): a program that rounds to no delivery is refused, in every mode.

At 10 mg/mL and 20,000 steps/mL one step is 0.0005 mg (0.00005 mL): a rate below half a step
a day, or a dose below half a step, rounds to nothing. It is refused with E_RANGE naming the
smallest rate (or dose) the pump can deliver, and nothing is pending.
"""

from therapy_kit import TKit


def _refused(k, line, smallest):
    d = k.js(line)
    assert not d["ok"] and d["code"] == "E_RANGE", (line, d)
    assert smallest in d["error"], (line, d["error"])
    assert k.t.pending is None, line
    return d


def test_continuous_below_one_step_a_day():
    k = TKit()
    d = _refused(k, "program continuous 0.00001mg", "0.0005 mg/day")
    assert "0.00005 mL/day" in d["error"]
    assert k.code("program confirm") == "E_STATE"  # nothing to confirm: it never starts at 0 mL/day
    _refused(k, "program continuous 0.00001mL", "0.0005 mg/day")
    k.ok("program continuous 0.0005mg")  # one step a day is deliverable
    assert k.t.pending.points == [(0, 1)]


def test_flex_segment_that_rounds_to_zero():
    k = TKit()
    _refused(k, "program flex 06:00=2mg 22:00=0.0001mg", "0.0005 mg/day")
    d = k.ok("program flex 06:00=2mg 22:00=0mg")  # a segment set to zero is a stated pause
    assert d["daily_steps"] > 0


def test_periodic_dose_and_basal_that_round_to_zero():
    k = TKit()
    _refused(k, "program periodic 08:00=0.0001mg/15m", "0.0005 mg")
    _refused(k, "program periodic 08:00=0.5mg/15m 20:00=0.0001mg/15m", "0.0005 mg")
    _refused(k, "program periodic 08:00=0.5mg/15m basal=0.0001mg", "0.0005 mg/day")
    k.ok("program periodic 08:00=0.5mg/15m basal=1mg")


def test_trial_modes_that_round_to_zero():
    k = TKit()
    _refused(k, "program trial single 0.0001mg/15m", "0.0005 mg")
    _refused(k, "program trial multi 0.0001mg/15m every=1d count=3", "0.0005 mg")
    _refused(k, "program trial continuous 0.0001mg days=3", "0.0005 mg/day")
    k.ok("program trial continuous 1mg days=3")


def test_smallest_figure_follows_concentration_and_calibration():
    k = TKit(drug="ziconotide", conc="100mcg/mL")
    _refused(k, "program continuous 0.002mcg", "0.005 mcg/day")  # one step is 5 ng
    k = TKit(drug="ziconotide", conc="25mcg/mL")
    # one step at 25 mcg/mL is 1.25 ng: the smallest figure shown is rounded up to 0.002 mcg
    _refused(k, "program continuous 0.00001mL", "0.002 mcg/day")
