"""Session commands: login, logout, passwd (SPEC 9). The PIN is never echoed."""

from firmware.errors import E_SYNTAX, PumpError
from firmware.shell import ANY, CLINICIAN, ROLE_NAMES
from firmware.shell.shell import no_args


def _auth(sh):
    return sh.pump.auth


def cmd_login(sh, words):
    if len(words) != 2 or words[0] != "clinician":
        raise PumpError(E_SYNTAX, "usage: login clinician PIN")
    _auth(sh).login(sh, words[1])
    return {
        "role": ROLE_NAMES[sh.role],
        "alarms": sh.pump.alarms.codes(),
        "text": "logged in as clinician; alarms: %s" % (" ".join(sh.pump.alarms.codes()) or "none"),
    }


def cmd_logout(sh, words):
    no_args(words)
    _auth(sh).logout(sh)
    return {"role": ROLE_NAMES[sh.role]}


def cmd_passwd(sh, words):
    if len(words) != 2:
        raise PumpError(E_SYNTAX, "usage: passwd OLD NEW")
    a = _auth(sh)
    a.change_pin(words[0], words[1])
    return {"changed": True, "default_pin": a.default_pin}


def register(sh):
    sh.add(
        "login",
        ANY,
        cmd_login,
        "login clinician PIN",
        "clinician session (PIN 4-8 digits; 5 failures lock 15 min)",
    )
    sh.add("logout", ANY, cmd_logout, "logout", "back to the patient role")
    sh.add("passwd", CLINICIAN, cmd_passwd, "passwd OLD NEW", "change the clinician PIN (4-8 digits)")
