"""Issue 16 item 2 (amends SPEC 8's audit log and SPEC 9's `status`): refusals leave a trace.

Every refused request that would have changed therapy (bolus, ptm, program, rx, refill, prime,
calibrate, start) is one `refused` log entry: who asked (the log's `who`), what (`cmd`, the
words), and the code. Views (`rx`, `program show`), lines not read as a request (E_SYNTAX, E_UNKNOWN,
E_TOOLONG) and other commands are not. A failed login
is logged. The patient bolus demand in `status` is in test_therapy_ptm_demand.py.
"""

from therapy_kit import TKit

MIN = 60000


def _refused(k):
    return [e[4] for e in k.pump.log.entries() if e[3] == "refused"]


def _demand(st):
    return st["ptm_presses"], st["ptm_given"], st["ptm_refused_lockout"], st["ptm_refused_max"]


def _running(k):
    k.ok("rx limit max_daily=2mg")
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    k.run(MIN)


def test_a_bolus_refused_by_the_cap_is_logged():
    k = TKit()
    _running(k)
    assert k.code("bolus 1mg") == "E_LIMIT"  # 2 mg/day basal and a 2 mg cap: no room
    r = _refused(k)
    assert len(r) == 1 and r[0]["cmd"] == "bolus 1mg" and r[0]["code"] == "E_LIMIT"
    assert r[0]["who"] == "clinician"


def test_unknown_drug_patient_attempts_and_others():
    k = TKit(drug=None)
    assert k.code("rx drug frobnicol 10mg/mL") is not None
    assert k.code("prime 0.1") == "E_STATE"
    assert k.code("start") == "E_STATE"
    assert k.code("refill withdrawn 3") == "E_STATE"
    assert k.code("calibrate measured 0.1") == "E_SYNTAX"  # not read as a request: not logged
    assert k.code("calibrate begin 20") == "E_RANGE"
    k.ok("logout")
    assert k.js("program continuous 2mg", login=False)["code"] == "E_AUTH"
    r = _refused(k)
    assert [x["cmd"].split(" ")[0] for x in r] == ["rx", "prime", "start", "refill", "calibrate", "program"]
    assert r[-1]["who"] == "patient" and r[-1]["code"] == "E_AUTH"
    assert r[0]["cmd"] == "rx drug frobnicol 10mg/mL"


def test_views_and_other_commands_are_not_refusals_of_therapy():
    k = TKit()
    assert k.code("program show") == "E_STATE"
    assert k.code("frobnicate") == "E_UNKNOWN"
    assert k.code("ack 99") is not None
    k.ok("rx")
    assert _refused(k) == []


def test_a_failed_login_is_logged():
    k = TKit()
    k.ok("logout")
    assert k.js("login clinician 9999", login=False)["code"] == "E_AUTH"
    assert [e[4]["reason"] for e in k.pump.log.entries() if e[3] == "login_failed"] == ["wrong_pin"]
