"""Every hard limit refused (E_LIMIT, no override); every soft limit needs override (else E_CONFIRM)."""

from therapy_kit import TKit

from firmware.errors import PumpError
from firmware.therapy import limits, units


def test_decimals_parse_to_integers():
    assert units.parse_mass("19.2mcg") == 19200
    assert units.parse_mass("0.5mg") == 500000
    assert units.parse_amount("0.25mL") == ("nl", 250000)
    assert units.parse_conc("2000mcg/mL") == (2000000, "mcg")
    # other mass unit converted: 1 mg at 2000 mcg/mL is 0.5 mL = 10000 steps
    assert units.steps_of("ng", units.parse_mass("1mg"), 2000000, 20000) == 10000
    assert units.steps_of("ng", units.parse_mass("1000mcg"), 2000000, 20000) == 10000


def test_rounding_to_nearest_step_is_reported():
    k = TKit(conc="3mg/mL")
    # 1 mg/day at 3 mg/mL = 6666.67 steps -> 6667: +0.05 mcg a day
    d = k.ok("program continuous 1mg")
    assert d["daily_steps"] == 6667
    r = k.t.show()
    assert "rounding to whole steps changes the daily dose by 0.00005 mg" in r["text"], r["text"]


def test_concentration_above_hard_limit():
    k = TKit(drug=None)
    assert k.code("rx drug morphine 25mg/mL") == "E_LIMIT"
    assert k.code("rx drug aspirin 1mg/mL") == "E_LIMIT"
    assert k.code("rx drug morphine 10mg") == "E_UNIT"
    assert k.t.drug is None
    k.ok("rx drug morphine 20mg/mL")


def test_daily_dose_above_hard_limit_cannot_be_overridden():
    k = TKit()
    d = k.js("program continuous 50mg")
    assert d["code"] == "E_LIMIT" and "15.0 mg" in d["error"], d
    assert k.code("program continuous 15.001mg") == "E_LIMIT"
    assert k.code("program confirm override") == "E_STATE"  # nothing pending: the refused one left nothing
    k.ok("program continuous 15mg")
    k.ok("program confirm")  # at the hard limit; soft limit defaults to it
    assert k.code("program flex 08:00=20mg 09:00=0mg") == "E_LIMIT"  # a daily rate above 15 mg/day


def test_soft_limits_need_override():
    k = TKit()
    assert k.code("rx limit max_daily=20mg") == "E_LIMIT"
    assert k.code("rx limit max_bolus=0.6mg") == "E_LIMIT"
    k.ok("rx limit max_daily=5mg max_bolus=0.2mg")
    k.ok("program continuous 6mg")
    assert k.code("program confirm") == "E_CONFIRM"
    assert k.pump.mode == "none"
    k.ok("program confirm override")
    assert k.pump.mode == "continuous"
    k.ok("start")
    assert k.code("bolus 0.3mg") == "E_CONFIRM"
    assert k.code("bolus 0.6mg override") == "E_LIMIT"  # above the drug's hard max bolus
    # the cap is the larger of soft max_daily (5) and the program (6): the basal fills it
    d = k.js("bolus 0.3mg override")
    assert d["code"] == "E_LIMIT" and "24 h cap 6.0 mg" in d["error"], d
    k.ok("program continuous 4mg")
    k.ok("program confirm")  # below the soft limit: no override needed
    k.ok("bolus 0.3mg override")


def test_pump_wide_bolus_volume_and_rate():
    k = TKit(drug="baclofen", conc="50mcg/mL")
    k.ok("program continuous 100mcg")
    k.ok("program confirm")
    k.ok("start")
    # 100 mcg at 50 mcg/mL = 2 mL: above the pump's 1 mL bolus volume
    d = k.js("bolus 100mcg")
    assert d["code"] == "E_LIMIT" and "volume" in d["error"], d
    # 1 mL in 1 min = 1440 mL/day: faster than the pump's maximum rate
    d = k.js("bolus 50mcg over=1m")
    assert d["code"] == "E_LIMIT" and "faster" in d["error"], d
    k.ok("bolus 50mcg over=15m")


def test_prime_volume_hard_limit():
    k = TKit()
    assert k.code("prime 1.01") == "E_LIMIT"
    assert k.code("prime 0") == "E_RANGE"
    assert k.code("prime abc") == "E_SYNTAX"


def test_periodic_bolus_limits():
    k = TKit()
    assert k.code("program periodic 08:00=0.6mg/15m") == "E_LIMIT"
    k.ok("rx limit max_bolus=0.2mg")
    k.ok("program periodic 08:00=0.3mg/15m")
    assert k.code("program confirm") == "E_CONFIRM"
    k.ok("program confirm override")


def test_ptm_limits():
    k = TKit()
    assert k.code("ptm set dose=0.6mg lockout=1h max=4") == "E_LIMIT"
    k.ok("rx limit max_bolus=0.1mg")
    assert k.code("ptm set dose=0.2mg lockout=1h max=4") == "E_CONFIRM"
    k.ok("ptm set dose=0.2mg lockout=1h max=4 override")
    assert k.code("ptm set dose=0.2mg lockout=1h max=99") == "E_RANGE"


def test_patient_role_cannot_program():
    k = TKit()
    k.ok("logout")
    assert k.js("program continuous 1mg", login=False)["code"] == "E_AUTH"
    assert k.js("rx drug morphine 1mg/mL", login=False)["code"] == "E_AUTH"
    assert k.js("rx", login=False)["ok"]


def test_host_validate_uses_the_same_code():
    s = limits.validate({"drug": "morphine", "concentration": "10mg/mL"}, {"line": "continuous 2mg"})
    assert s["daily_dose_ng"] == 2000000 and s["daily_nl"] == 200000 and s["warnings"] == []
    s = limits.validate(
        {"drug": "morphine", "concentration": "10mg/mL", "max_daily": "1mg"},
        {"mode": "continuous", "args": ["2mg"]},
    )
    assert len(s["warnings"]) == 1
    for rx, prog in (
        ({"drug": "morphine", "concentration": "10mg/mL"}, {"line": "continuous 16mg"}),
        ({"drug": "morphine", "concentration": "30mg/mL"}, {"line": "continuous 1mg"}),
        ({"drug": "unobtainium", "concentration": "1mg/mL"}, {"line": "continuous 1mg"}),
    ):
        try:
            limits.validate(rx, prog)
            raise AssertionError("accepted %r" % (rx,))
        except PumpError as e:
            assert e.code == "E_LIMIT", e.code
