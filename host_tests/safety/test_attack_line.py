"""Attacks on the governor's line and reservoir model (issue 15, second review), through the shell
only, each checked against the plug-flow reference (tipkit.Tip) with the line's true volume. Each
fails on the firmware as reviewed. Both interpreters."""

from therapy_kit import TKit
from tipkit import MG, MIN, MORPHINE_LIMIT, H, Tip, line_kit, periodic_front, program, refill, within_limit


def _ml_nl(v):
    whole, _, frac = str(v).partition(".")
    return int(whole) * 1000000 + int((frac + "000000")[:6])


def test_concentration_typos_put_right_do_not_push_the_old_drug_out_of_the_record():
    """20 mg/mL, the catheter typed 0.1 mL where it holds 1 mL; refilled with 10 mg/mL, then
    `rx drug morphine 5mg/mL` / `10mg/mL` typed four times over with nothing moving. The eight
    typos evicted the 20 mg/mL record: the corrected `rx catheter 1.0` then rebuilt the line at
    10 mg/mL and re-valued nothing, and 15 mg/day ran to 25 mg of true dose in 24 h."""
    k, tip = line_kit("20mg/mL", 20 * MG, "0.1", 1000000, "5mg", dt=20 * MIN, most=300)
    tip.run(6 * H)
    k.ok("stop")
    refill(k, tip, "15", "10mg/mL", 10 * MG, confirm="refill confirm nobridge")
    for _ in range(4):
        k.ok("rx drug morphine 5mg/mL")
        k.ok("rx drug morphine 10mg/mL")
    k.ok("rx catheter 1.0")
    program(k, "continuous 15mg")
    k.ok("start")
    tip.run(36 * H)
    within_limit(tip.worst_24h(), MORPHINE_LIMIT, 20 * MG)


def test_a_catheter_typed_back_and_forth_counts_its_correction_once():
    """The line holds 0.1 mL; after a 20 -> 10 mg/mL refill the clinician types `rx catheter 1.0`
    and `rx catheter 0.1` four times. Each round trip added 3 + 11 mg of dose that never left,
    and DOSE_CAP held a 10 mg/day patient for a whole day."""
    k, tip = line_kit("20mg/mL", 20 * MG, "0.1", 100000, "10mg", dt=30 * MIN, most=200)
    tip.run(12 * H)
    refill(k, tip, "15", "10mg/mL", 10 * MG)
    tip.run(12 * H)
    for _ in range(4):
        k.ok("rx catheter 1.0")
        k.run(1000)
        k.ok("rx catheter 0.1")
        k.run(1000)
    s0 = tip.net()
    tip.run(24 * H)
    assert k.count("dose_cap") == 0
    assert tip.net() - s0 >= 20000 - 2, tip.net() - s0  # 10 mg/day at 10 mg/mL, every step
    within_limit(tip.worst_24h(), MORPHINE_LIMIT, 20 * MG)


def test_a_downward_correction_on_a_fresh_pump_finds_no_dose_that_never_left():
    """No refill ever: `rx catheter 1.0`, 12 mg/day for 12 h, then `rx catheter 0.1`. The boot's
    record of no drug was re-valued as a change of drug: 5 mg counted that never left, and
    DOSE_CAP held for four hours (19,825 of 24,000 steps in the next day)."""
    k = TKit(conc="10mg/mL")
    k.ok("rx catheter 1.0")
    k.run(1000)
    program(k, "continuous 12mg")
    k.ok("start")
    k.run(12 * H)
    k.ok("rx catheter 0.1")
    s0 = k.steps()
    k.run(24 * H)
    assert k.count("line_revalued") == 0 and k.count("dose_cap") == 0
    assert k.steps() - s0 >= 24000 - 2, k.steps() - s0


def test_a_cancelled_stronger_refill_left_in_the_reservoir_stays_counted():
    """10 mg/mL; a refill of 20 mg/mL goes in and is cancelled. A second refill withdraws all but
    1.9 mL (within the discrepancy margin) and adds as much of 10 mg/mL: 1.9 mL of 20 mg/mL stays.
    The confirmed refill cleared what the cancelled one left: 16.4 mg in 24 h of 15 mg/day."""
    k, tip = line_kit("10mg/mL", 10 * MG, "0.2", 200000, "10mg", dt=20 * MIN, most=200)
    tip.run(2 * H)
    k.ok("refill begin")
    rml = k.ok("status")["reservoir_ml"]
    k.ok("refill withdrawn %s" % rml)
    k.ok("sim withdraw %s" % rml)
    k.ok("refill add %s conc=20mg/mL" % rml)
    k.ok("sim refill %s" % rml)
    k.ok("refill cancel")
    tip.refilled(20 * MG)
    tip.run(H)
    k.ok("refill begin")
    had = _ml_nl(k.ok("status")["reservoir_ml"])
    out = had - 1900000  # 1.9 mL left: within the discrepancy margin, so no confirm is asked
    w = "%d.%06d" % (out // 1000000, out % 1000000)
    k.ok("refill withdrawn %s" % w)
    k.ok("sim withdraw %s" % w)
    k.ok("refill add %s" % w)
    k.ok("sim refill %s" % w)
    k.ok("refill confirm")
    tip.refilled((1900000 * 20 * MG + out * 10 * MG) // had + 1)
    assert k.count("refill_mixed") == 1
    program(k, "continuous 15mg")
    tip.run(30 * H)
    within_limit(tip.worst_24h(), MORPHINE_LIMIT, 20 * MG)


def test_steps_a_power_cut_hid_move_the_line_too():
    """10 -> 20 mg/mL with a true 1 mL catheter, then four primes of 0.25 mL each cut off by the
    power 4 s in. The steps recovery counts after each cut were counted but never moved the line
    model, which still held 10 mg/mL after 0.8 mL of 20 had gone in; front-loaded periodic
    programs switched hourly then reached 23 mg in 24 h."""
    k = TKit(conc="10mg/mL")
    k.ok("rx catheter 1.0")
    k.run(1000)
    tip = Tip(k, 10 * MG, 1000000, dt=10 * MIN, most=600)
    refill(k, tip, "15", "20mg/mL", 20 * MG, confirm="refill confirm nobridge")
    for _ in range(2):
        for _ in range(2):
            k.ok("prime 0.25")
            tip.run(4000)
            tip.power_cut(1000)
            k.login()
            k.js("ack")
            tip.run(H)
        tip.run(22 * H)
    tip.run(4 * H)
    m = tip.now_ms() // MIN + 10
    for i in range(5):
        k.js(periodic_front((m // 60) % 24, m % 60))
        k.js("program confirm")
        if i == 0:
            k.js("start")
        tip.run(H)
        m += 60
    tip.run(26 * H)
    within_limit(tip.worst_24h(), MORPHINE_LIMIT, 20 * MG)


def test_a_change_to_another_drug_counts_the_old_one_against_its_own_limit():
    """Morphine 10 mg/mL at 15 mg/day for a day (0.5 mL catheter), then stopped, the reservoir
    drawn and refilled, `rx drug bupivacaine 10mg/mL` at 20 mg/day: the morphine still in the
    catheter went out on top of the day's 15 mg, 16.25 mg of morphine in 24 h, counted against
    bupivacaine's 20 mg. Each drug now counts as a share of its own limit."""
    k, tip = line_kit("10mg/mL", 10 * MG, "0.5", 500000, "15mg", most=400)
    tip.run(24 * H)
    k.ok("stop")
    refill(k, tip, "15", confirm="refill confirm nobridge")
    k.ok("rx drug bupivacaine 10mg/mL")
    tip.refilled(0)  # the reference counts the morphine only
    program(k, "continuous 20mg", start=True)
    tip.run(30 * H)
    within_limit(tip.worst_24h(), MORPHINE_LIMIT, 10 * MG)
    assert k.count("governor_rescaled") == 1
