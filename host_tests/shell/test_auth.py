"""Roles, the clinician PIN, lockout and idle logout on the pump clock (SPEC 9). Both interpreters."""

import hashlib

from shellkit import Kit, snapshot

from firmware.errors import E_AUTH, E_LOCKED, E_RANGE, E_SYNTAX
from firmware.shell import CLINICIAN, PATIENT, auth

MIN = 60000


def test_patient_by_default_and_login_reply():
    k = Kit()
    assert k.sh.role == PATIENT
    assert k.code("start") == E_AUTH
    d = k.login()
    assert d["role"] == "clinician" and d["alarms"] == ["DEFAULT_PIN"]
    assert k.sh.role == CLINICIAN
    assert k.code("start") != E_AUTH  # no program yet: refused for the state, not the role
    assert k.js("logout")["role"] == "patient"
    assert k.code("start") == E_AUTH
    assert k.js("logout")["ok"]  # logging out twice is harmless


def test_factory_pin_alarm_until_changed():
    k = Kit()
    a = k.pump.alarms.get("DEFAULT_PIN")
    assert a is not None and a.priority == "low" and a.active and not a.stops
    k.login()
    assert k.js("passwd 1234 24680")["ok"]
    assert "DEFAULT_PIN" not in k.pump.alarms.codes()
    k.advance_ms(5000)  # the service keeps it cleared
    assert "DEFAULT_PIN" not in k.pump.alarms.codes()
    assert k.code("login clinician 1234") == E_AUTH
    assert k.js("login clinician 24680")["alarms"] == []
    # back to the factory PIN: the alarm is back
    assert k.js("passwd 24680 1234")["default_pin"] is True
    assert "DEFAULT_PIN" in k.pump.alarms.codes()


def test_pin_is_salted_hashed_and_never_echoed():
    k = Kit()
    k.login()
    pin = "97531864"
    k.js("passwd 1234 " + pin)
    snap = k.pump.auth.snapshot()
    text = repr(snap)
    assert pin not in text
    assert snap["hash"] != auth._hex(hashlib.sha256(pin.encode()).digest())
    assert len(snap["salt"]) >= 16
    wrong = "86420975"
    r = k.say("login clinician " + wrong)
    assert wrong not in r and pin not in r
    for name, fields in k.events:
        assert wrong not in repr(fields) and pin not in repr(fields), name
    # a new salt each time the PIN is set: the same PIN hashes differently
    k.js("login clinician " + pin)
    k.js("passwd %s %s" % (pin, pin))
    assert k.pump.auth.snapshot()["hash"] != snap["hash"]
    assert k.js("login clinician " + pin)["ok"]


def test_pin_form():
    k = Kit()
    for pin, code in (
        ("123", E_RANGE),
        ("123456789", E_RANGE),
        ("12a4", E_SYNTAX),
        ("-1234", E_SYNTAX),
        ("1234.0", E_SYNTAX),
        ("\u0661\u0662\u0663\u0664", E_SYNTAX),
    ):
        assert k.code("login clinician " + pin) == code, pin
    # a malformed PIN cannot be right: it is not counted as a guess
    assert k.pump.auth.failures == 0 and k.count("login_failed") == 0
    k.login()
    for old, new in (("1234", "123"), ("1234", "123456789"), ("1234", "12x4"), ("12", "5678")):
        assert k.code("passwd %s %s" % (old, new)) in (E_RANGE, E_SYNTAX)
    assert k.pump.auth.default_pin  # nothing changed
    assert k.js("passwd 1234 12345678")["ok"] and k.js("passwd 12345678 0000")["ok"]


def test_lockout_after_five_failures_on_the_pump_clock():
    k = Kit()
    for i in range(4):
        d = k.js("login clinician 9999")
        assert d["code"] == E_AUTH and str(4 - i) in d["error"]
    assert k.code("login clinician 9999") == E_LOCKED
    assert k.count("login_failed") == 5
    # while locked even the right PIN is refused, and the attempt is logged
    assert k.code("login clinician 1234") == E_LOCKED
    assert k.count("login_failed") == 6 and k.sh.role == PATIENT
    k.advance_ms(15 * MIN - 1000)
    assert k.code("login clinician 1234") == E_LOCKED
    # `time set` moves the wall clock, not the pump clock: no way around the lock
    k.pump.set_wall(k.pump.wall() + 86400)
    assert k.code("login clinician 1234") == E_LOCKED
    k.advance_ms(1000)
    assert k.login()["role"] == "clinician"


def test_success_resets_the_count():
    k = Kit()
    for _ in range(4):
        k.js("login clinician 9999")
    k.login()
    for _ in range(4):
        assert k.code("login clinician 9999") == E_AUTH
    assert k.sh.role == CLINICIAN  # a failed re-login does not end the session


def test_lock_survives_a_reset_through_snapshot():
    k = Kit()
    for _ in range(5):
        k.js("login clinician 9999")
    k.advance_ms(5 * MIN)
    saved = k.pump.auth.snapshot()
    pump_ms = k.pump.pump_ms()
    k2 = Kit()
    k2.pump.pump_ms_base = pump_ms  # persistence carries the pump clock across the reset
    assert k2.pump.auth.restore(saved)
    assert k2.code("login clinician 1234") == E_LOCKED
    k2.advance_ms(10 * MIN)
    assert k2.login()["ok"]


def test_restore_keeps_a_changed_pin_and_refuses_junk():
    k = Kit()
    k.login()
    k.js("passwd 1234 4321")
    saved = k.pump.auth.snapshot()
    k2 = Kit()
    assert "DEFAULT_PIN" in k2.pump.alarms.codes()
    assert not k2.pump.auth.restore({"hash": 5})
    assert k2.pump.auth.restore(saved)
    assert "DEFAULT_PIN" not in k2.pump.alarms.codes()
    assert k2.code("login clinician 1234") == E_AUTH
    assert k2.js("login clinician 4321")["ok"]


def test_idle_logout_after_ten_minutes():
    k = Kit()
    k.login()
    k.advance_ms(9 * MIN)
    assert k.js("status")["ok"]  # a command restarts the idle time
    k.advance_ms(9 * MIN)
    assert k.code("start") != E_AUTH
    assert k.js("version")["ok"]
    k.advance_ms(10 * MIN - 1000)
    assert k.sh.role == CLINICIAN
    k.advance_ms(1000)
    # the service ends the session on its own, with nothing typed
    assert k.sh.role == PATIENT and k.count("logout") == 1
    assert k.code("start") == E_AUTH


def test_idle_is_checked_before_the_command():
    k = Kit()
    k.login()
    # the pump clock moved without a service pass (a long command, a stalled loop)
    k.board.clock.advance_ms(10 * MIN)
    k.pump.uptime.update()
    assert k.code("start") == E_AUTH


def test_refused_lines_do_not_restart_the_idle_time():
    k = Kit()
    k.login()
    k.advance_ms(6 * MIN)
    k.js("frobnicate")
    k.js("login clinician")
    k.advance_ms(4 * MIN)
    assert k.sh.role == PATIENT


def test_passwd_wrong_old_pin_is_counted():
    k = Kit()
    k.login()
    before = snapshot(k)
    assert k.code("passwd 9999 5678") == E_AUTH
    assert k.pump.auth.failures == 1 and k.count("login_failed") == 1
    assert snapshot(k) == before
    assert k.code("passwd") == E_SYNTAX and k.code("passwd 1 2 3") == E_SYNTAX


def test_no_urandom_falls_back_to_distinct_salts():
    k = Kit()
    a = auth.Auth(k.pump, random_bytes=lambda n: None)
    s1 = a.salt
    a.change_pin("1234", "5555")
    assert a.salt != s1 and len(a.salt) == 16


def test_a_damaged_lock_lasts_one_period_at_most():
    k = Kit()
    saved = k.pump.auth.snapshot()
    saved["lock_until"] = 10**15
    assert k.pump.auth.restore(saved)
    assert k.code("login clinician 1234") == E_LOCKED
    k.advance_ms(15 * MIN)
    assert k.login()["ok"]
