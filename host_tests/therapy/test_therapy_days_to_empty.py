"""Issue 16 item 8 (amends SPEC 5 and SPEC 9's `status`): days to empty of a time-of-day program.

`days_to_empty` counts the program's daily volume, the whole day's schedule with its periodic
boluses, not the rate of the segment running now. `days_to_empty_with_ptm` also counts every
patient bolus the settings allow a day (the most the lockout and the daily maximum let through),
the way the Prometra refill date does.
"""

from therapy_kit import TKit

H = 3600000


def _days(k, daily_nl):
    v = k.pump.reservoir.volume_nl()
    return (v - k.pump.reservoir.residual_nl) * 10 // daily_nl


def _x10(d):
    return int(round(d * 10))


def test_flex_counts_the_whole_day():
    k = TKit()  # midnight: inside the 22:00 step of 1 mg/day
    k.ok("program flex 06:00=4mg 22:00=1mg")  # 8 h x 1 + 16 h x 4 = 3 mg/day = 0.3 mL/day
    k.ok("program confirm")
    k.ok("start")
    k.run(60000)
    st = k.ok("status")
    assert st["basal_ml_day"] == 0.1
    assert abs(_x10(st["days_to_empty"]) - _days(k, 300000)) <= 1, (st["days_to_empty"], _days(k, 300000))
    k.run(7 * H)  # 07:01, the 4 mg step: the same figure, less a little drug
    st2 = k.ok("status")
    assert abs(_x10(st2["days_to_empty"]) - _days(k, 300000)) <= 1
    assert st2["days_to_empty"] <= st["days_to_empty"]


def test_periodic_counts_its_boluses():
    k = TKit()
    k.ok("program periodic 08:00=0.5mg/15m basal=1mg")  # 1.5 mg/day = 0.15 mL/day
    k.ok("program confirm")
    k.ok("start")
    k.run(60000)
    st = k.ok("status")
    assert abs(_x10(st["days_to_empty"]) - _days(k, 150000)) <= 1, st["days_to_empty"]


def test_periodic_without_basal_is_not_none_between_boluses():
    k = TKit()
    k.ok("program periodic 08:00=0.5mg/15m 20:00=0.5mg/15m")  # 1 mg/day in boluses only
    k.ok("program confirm")
    k.ok("start")
    k.run(60000)
    st = k.ok("status")
    assert k.pump.basal == 0 and st["days_to_empty"] is not None
    assert abs(_x10(st["days_to_empty"]) - _days(k, 100000)) <= 1


def test_with_every_allowed_patient_bolus():
    k = TKit()
    k.ok("program continuous 2mg")  # 0.2 mL/day
    k.ok("program confirm")
    k.ok("start")
    k.run(60000)
    st = k.ok("status")
    assert st["days_to_empty_with_ptm"] == st["days_to_empty"]  # no patient bolus set up
    k.ok("ptm set dose=0.2mg lockout=3h max=4")  # 4 a day x 0.02 mL
    st = k.ok("status")
    assert abs(_x10(st["days_to_empty_with_ptm"]) - _days(k, 280000)) <= 1
    assert abs(_x10(st["days_to_empty"]) - _days(k, 200000)) <= 1
    k.ok("ptm set dose=0.2mg lockout=8h max=6")  # the lockout lets 3 a day through, not 6
    st = k.ok("status")
    assert abs(_x10(st["days_to_empty_with_ptm"]) - _days(k, 260000)) <= 1
    k.ok("stop")
    st = k.ok("status")
    assert st["days_to_empty"] is None and st["days_to_empty_with_ptm"] is None
