"""A change of concentration, soft limits or drug: a pending program and the 24 h cap follow it."""

from therapy_kit import TKit

from firmware.safety.governor import UNKNOWN_LINE_NL


def _refill(k, conc):
    k.ok("refill begin")
    k.ok("refill withdrawn 15 confirm")  # a new drug: the old is drawn off first (less than tracked)
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


def _bolus_until_refused(k, most):
    n = 0
    while n < most and k.code("bolus 0.5mg over=1m") is None:
        n += 1
        k.run(120000)
    return n


def test_cap_holds_dose_across_a_concentration_change():
    _cap_across_change(False)


def test_cap_holds_dose_across_a_concentration_change_and_a_reset():
    _cap_across_change(True)  # the change is on flash with the concentration itself


def _cap_across_change(cut):
    # 13 mg of boluses at 10 mg/mL, then 5 mg/mL: the old steps are worth twice the new ones, so
    # the 15 mg/day hard limit leaves room for little more, not for 13 mg counted as 6.5
    k = TKit()
    spm = k.pump.steps_per_ml
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    assert _bolus_until_refused(k, 26) == 26
    s_old = k.steps()
    _refill(k, "5mg/mL")
    if cut:
        k.power_cut()
        k.ok("ack")
        if k.pump.state != "running":
            k.ok("start")
    s_new0 = k.steps()
    given = _bolus_until_refused(k, 40)
    k.run(60000)
    s_new = k.steps() - s_new0
    # what the patient got, by plug flow: the first line volume out after the refill is the old
    # drug (no catheter volume set: the governor's long bench line)
    line = (k.t.catheter_nl or UNKNOWN_LINE_NL) * spm // 1000000
    old_out = s_new if s_new < line else line
    ng = ((s_old + old_out) * 10000000 + (s_new - old_out) * 5000000) // spm
    # every later 24 h window holds at most the hard limit, the basal's rest of the day included
    rest_of_day = 2000000 * (86400000 - k.pump.pump_ms()) // 86400000
    assert ng + rest_of_day <= 15000000 + 10000, (given, ng)
    assert given < 13
    st = k.ok("status")
    shown = int(str(st["delivered_24h_dose"]).replace(".", ""))  # mg to 3 or more places
    digits = len(str(st["delivered_24h_dose"]).split(".")[1])
    shown_ng = shown * 10 ** (6 - digits)
    assert abs(shown_ng - ng) <= 2000, (shown_ng, ng)  # within a step or two at 10 mg/mL
