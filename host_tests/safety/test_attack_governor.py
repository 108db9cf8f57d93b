"""Attacks on the dose governor (issue 15 review), through the shell only, each checked against the
plug-flow reference (tipkit.Tip) or the documented rule. Both interpreters. Each test is a
reproduction of a defect found in review: it fails on the firmware as reviewed."""

from therapy_kit import TKit
from tipkit import MG, MIN, MORPHINE_LIMIT, H, Tip, line_kit, program, refill, within_limit


def test_attack_power_cut_between_refill_add_and_confirm_keeps_the_limit():
    """Morphine 5 mg/mL at 15 mg/day (0.2 mL catheter). Refill: the reservoir drawn empty,
    `refill add 15 conc=20mg/mL confirm` and the syringe emptied into it, then the power goes before
    `refill confirm`. After the reboot the refill is silently cancelled, the prescription is still
    5 mg/mL, and `ack` + `start` runs 3 mL/day of what is now 20 mg/mL: 53 mg out of the
    tip in 24 h against the 15 mg hard limit, while `status` shows under 10 mg."""
    k, tip = line_kit("5mg/mL", 5 * MG, "0.2", 200000, "15mg", dt=10 * MIN, most=250)
    tip.run(2 * H)
    refill(k, tip, "15", "20mg/mL", 20 * MG, confirm=None, add_extra=" confirm")
    tip.power_cut(1000)
    k.login()
    k.js("ack")
    k.js("start")  # the careless clinician: whatever the pump accepts
    tip.run(30 * H)
    within_limit(tip.worst_24h(), MORPHINE_LIMIT, 20 * MG)


def test_attack_retyping_the_same_catheter_volume_does_not_reopen_priming():
    """`rx catheter 0.2` typed again with the same volume is no catheter change: after `prime 0.25`
    (0.2 mL + 0.05 mL, all that is allowed) a second `prime 0.25` stays E_LIMIT. Today each
    re-typing reopens priming: six primes, 1.5 mL (15 mg of morphine) in 26 minutes."""
    k = TKit()
    k.ok("rx catheter 0.2")
    k.ok("prime 0.25")
    k.run(5 * MIN)
    k.ok("rx catheter 0.2")
    assert k.code("prime 0.25") == "E_LIMIT"
    k.run(5 * MIN)
    assert k.steps() == 5000, k.steps()


def test_attack_refill_cancelled_after_the_drug_went_in_keeps_the_limit():
    """The same hazard by hand: `refill add 15 conc=20mg/mL` (10 -> 20 mg/mL, 2 x: no confirm
    asked), the syringe emptied into the reservoir, then `refill cancel`: the pump resumes at
    10 mg/mL and 1 mL/day of 20 mg/mL leaves the tip, 20 mg in 24 h (status: 10 mg)."""
    k = TKit()
    k.ok("rx catheter 0.2")
    k.run(1000)
    tip = Tip(k, 10 * MG, 200000, dt=10 * MIN, most=250)
    program(k, "continuous 10mg")
    k.ok("start")
    tip.run(2 * H)
    refill(k, tip, "15", "20mg/mL", 20 * MG, confirm=None)
    k.js("refill cancel")
    k.js("start")
    tip.run(30 * H)
    within_limit(tip.worst_24h(), MORPHINE_LIMIT, 20 * MG)


def test_attack_catheter_corrected_upward_a_day_after_a_weaker_refill_revalues_what_left():
    """Morphine 20 mg/mL at 5 mg/day, the catheter typed as 0.1 mL where it holds 0.5 mL. A refill
    to 10 mg/mL: its bridge pushes 0.1 mL at the old 0.25 mL/day, then the new 0.5 mL/day sends
    0.4 mL more of 20 mg/mL, valued at 10. A day after the refill the clinician corrects
    `rx catheter 0.5` and raises the program to 15 mg/day. The steps that had left were never
    re-valued (and the line was refilled at 10 mg/mL): windows holding both went over 15 mg."""
    k, tip = line_kit("20mg/mL", 20 * MG, "0.1", 500000, "5mg", dt=10 * MIN, most=600)
    tip.run(20 * H)
    refill(k, tip, "15", "10mg/mL", 10 * MG)
    tip.run(26 * H)
    k.ok("rx catheter 0.5")
    program(k, "continuous 15mg")
    tip.run(40 * H)
    within_limit(tip.worst_24h(), MORPHINE_LIMIT, 20 * MG)
    assert k.count("line_revalued") == 1


def test_attack_catheter_corrected_downward_after_a_stronger_refill_revalues_what_left():
    """The catheter typed as 0.5 mL where it holds 0.1 mL, morphine 10 mg/mL at 5 mg/day refilled
    with 20 mg/mL: the governor values 0.5 mL out at 10 mg/mL where 0.4 mL of it was 20. Corrected
    to `rx catheter 0.1` a day later, with the program raised to 15 mg/day: what left is re-valued,
    and no window goes over 15 mg."""
    k, tip = line_kit("10mg/mL", 10 * MG, "0.5", 100000, "5mg", dt=10 * MIN, most=600)
    tip.run(20 * H)
    refill(k, tip, "15", "20mg/mL", 20 * MG)
    tip.run(30 * H)
    k.ok("rx catheter 0.1")
    program(k, "continuous 15mg")
    tip.run(40 * H)
    within_limit(tip.worst_24h(), MORPHINE_LIMIT, 20 * MG)
    assert k.count("line_revalued") == 1
