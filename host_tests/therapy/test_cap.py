"""The rolling 24 h cap: boluses and patient boluses refused at it, the basal held only after a reset."""

from therapy_kit import DAY_MS, TKit

H = 3600000


def test_boluses_stop_at_the_cap():
    k = TKit()
    k.ok("program continuous 10mg")
    k.ok("program confirm")
    k.ok("start")
    # cap 15 mg (soft = hard); the basal holds 10 mg of any 24 h: room for ten 0.5 mg boluses
    for _ in range(10):
        k.ok("bolus 0.5mg")
        k.run(16 * 60000)
    d = k.js("bolus 0.5mg")
    assert d["code"] == "E_LIMIT" and "24 h cap" in d["error"], d
    assert k.code("bolus 0.0005mg") == "E_LIMIT"  # not one step more
    # a day later the boluses have left the window
    k.run(DAY_MS)
    k.ok("bolus 0.5mg")


def test_ptm_refused_at_the_cap_and_soft_cap_counts():
    k = TKit()
    k.ok("rx limit max_daily=3mg")
    k.ok("program continuous 2.8mg")
    k.ok("program confirm")
    k.ok("start")
    k.ok("ptm set dose=0.15mg lockout=1h max=6")
    k.ok("ptm")
    k.run(H)
    assert k.code("ptm") == "E_LIMIT"  # 2.8 + 0.15 + 0.15 > 3 mg
    assert len(k.t.ptm_times) == 1


def test_program_above_soft_raises_the_cap():
    k = TKit()
    k.ok("rx limit max_daily=2mg")
    k.ok("program continuous 3mg")
    k.ok("program confirm override")
    assert k.t.cap_steps() == 6000  # the larger of soft (4000 steps) and the program (6000)
    k.ok("start")
    assert k.code("bolus 0.1mg") == "E_LIMIT"


def test_assumed_steps_after_reset_hold_the_basal_then_resume():
    k = TKit()
    k.ok("program continuous 15mg")
    k.ok("program confirm")
    k.ok("start")
    k.run(DAY_MS)
    # the worst case after a reset: an hour at the programmed rate may have gone out unseen
    k.t.on_reset(k.t.worst_case_steps(H))
    k.run(60000)  # the hold drops up to 10 steps silently first (~30 s at 15 mg/day)
    assert k.pump.state == "suspended"
    a = k.pump.alarms.get("DOSE_CAP")
    assert a is not None and a.active and a.priority == "medium"
    s0 = k.steps()
    k.run(30 * 60000)
    assert k.steps() == s0  # held
    assert k.code("bolus 0.1mg") == "E_STATE"
    assert k.code("start") == "E_STATE"  # a person cannot override the pump's own hold
    assert k.pump.state == "suspended" and k.steps() == s0
    k.run(2 * H)
    assert k.pump.state == "running"  # resumed by itself once the window allowed
    assert not k.pump.alarms.get("DOSE_CAP").active
    k.run(DAY_MS)
    assert k.pump.state == "running"


def test_power_cut_keeps_accounting_and_never_repeats_a_bolus():
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    k.ok("ptm set dose=0.2mg lockout=1h max=2")
    k.run(H)
    k.ok("ptm")
    k.run(5 * 60000)
    assert k.t.kind == "ptm"
    k.power_cut(60000)
    s0 = k.steps()  # the ledger as of the last checkpoint: up to 60 s of accounting is lost
    assert k.pump.mode == "continuous" and k.pump.state == "running", (k.pump.mode, k.pump.state)
    assert k.t.kind == "" and len(k.t.ptm_times) == 1
    assert k.code("ptm") == "E_STATE"  # still inside the lockout after the reset
    k.run(DAY_MS)
    # the bolus was not finished nor repeated: one day of basal after the cut
    assert abs(k.steps() - s0 - 4000) <= 1, k.steps() - s0
