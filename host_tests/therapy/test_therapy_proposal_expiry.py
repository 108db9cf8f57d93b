"""Issue 16 item 7 (amends SPEC 4): an unconfirmed proposal does not outlive its session.

A `program` proposal, or a measured calibration waiting for `program confirm`, expires when the
clinician session ends (logout, the 10 min idle logout, a new login) or 10 minutes after it was
made, whichever comes first. The expiry is logged (`proposal_expired`, with why) and `program
confirm` then answers E_STATE.
"""

from therapy_kit import TKit

MIN = 60000


def _kit(drug="morphine"):
    k = TKit(drug=drug)
    k.why = []
    k.pump.listeners.append(lambda n, f: k.why.append(f.get("why")) if n == "proposal_expired" else None)
    return k


def _expired(k, why):
    assert k.code("program confirm") == "E_STATE"
    assert k.t.prog is None and k.t.pending is None and not k.t.pending_spm
    assert k.why == [why], k.why


def test_logout_expires_the_proposal():
    k = _kit()
    k.ok("program continuous 2mg")
    k.ok("logout")
    k.login()
    _expired(k, "logout")


def test_idle_logout_expires_it():
    k = _kit()
    k.ok("program continuous 2mg")
    k.run(11 * MIN)  # the session ends after 10 min idle (SPEC 9)
    assert k.sh.role == 0
    _expired(k, "idle")


def test_a_new_login_expires_it():
    k = _kit()
    k.ok("program continuous 2mg")
    k.login()  # another session begins over the first
    _expired(k, "login")


def test_ten_minutes_in_a_busy_session():
    k = _kit()
    k.ok("program continuous 2mg")
    for _ in range(3):
        k.run(3 * MIN)
        k.ok("status")  # the session stays open
    assert k.ok("program show")["pending"] is True  # 9 min: still there
    k.run(MIN + 1000)
    k.ok("status")
    _expired(k, "timeout")
    d = k.ok("program continuous 2mg")  # entered again, it can be confirmed
    assert d["pending"] is True
    k.ok("program confirm")
    assert k.t.prog is not None


def test_within_the_session_it_confirms():
    k = _kit()
    k.ok("program continuous 2mg")
    k.run(5 * MIN)
    k.ok("program confirm")
    assert k.t.prog is not None and k.why == []


def test_a_pending_calibration_expires_too():
    k = _kit(drug=None)
    k.ok("calibrate begin 2000")
    k.run(2 * MIN)
    k.ok("calibrate measured 0.105")
    assert k.t.pending_spm == 19048
    k.ok("logout")
    k.login()
    _expired(k, "logout")
    assert k.pump.steps_per_ml == 20000
