"""A change of concentration, soft limits or drug: a pending program and the 24 h cap follow it."""

from therapy_kit import TKit


def _refill(k, conc):
    k.ok("refill begin")
    k.ok("refill add 5 conc=%s" % conc)
    k.ok("refill confirm nobridge")


def test_refill_clears_a_pending_program():
    # proposed at 10 mg/mL, 6 mg/day is within the 8 mg soft limit; at 20 mg/mL the same volume
    # rate would be 12 mg/day: the old numbers must not be confirmed
    k = TKit()
    k.ok("rx limit max_daily=8mg")
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    k.ok("program continuous 6mg")
    _refill(k, "20mg/mL")
    assert k.code("program confirm") == "E_STATE"  # nothing pending: re-enter it
    assert k.count("pending_cleared") == 1
    assert k.t.prog.daily_steps() == 2000  # 2 mg/day at 20 mg/mL, 20000 steps/mL
    assert k.t.pending is None


def test_rx_limit_clears_a_pending_program():
    k = TKit()
    k.ok("program continuous 6mg")
    k.ok("rx limit max_daily=4mg max_bolus=0.1mg")
    assert k.code("program confirm") == "E_STATE"
    assert k.t.prog is None and k.count("pending_cleared") == 1
    k.ok("program continuous 6mg")  # re-entered: checked against the new soft limit
    assert k.code("program confirm") == "E_CONFIRM"
    k.ok("program confirm override")
    assert k.t.prog.daily_steps() == 12000


def test_rx_drug_clears_a_pending_program():
    k = TKit()
    k.ok("program continuous 6mg")
    k.ok("rx drug morphine 20mg/mL")
    assert k.code("program confirm") == "E_STATE"
