# cpython-only: runs the simulator (micropython) as a subprocess.
"""A scripted JSON session through the simulator: a valid and an invalid use of every command.

The script follows SPEC 9. Steps for commands that are not registered yet are
left out (the test lists them); every command that *is* registered must have
both a valid and an invalid use here, so a new command without one fails the
test until it is added to SCRIPT.
"""

import json
import subprocess

from tools.sim import launch

OK = True
ERR = "error"  # any stable error code

# (command, line, expected): expected is OK, ERR or an exact code
SCRIPT = [
    ("json", "json on", OK),
    ("json", "json maybe", "E_SYNTAX"),
    ("help", "help", OK),
    ("help", "help frobnicate", "E_UNKNOWN"),
    ("version", "version", OK),
    ("version", "version 2", "E_SYNTAX"),
    ("status", "status", OK),
    ("status", "status now", "E_SYNTAX"),
    ("start", "start", "E_AUTH"),
    ("program", "program continuous 2mg", "E_AUTH"),
    ("login", "login clinician 0000", "E_AUTH"),
    ("login", "login clinician 1234", OK),
    ("rx", "rx", OK),
    ("rx", "rx drug morphine nan", ERR),
    ("rx", "rx drug morphine 10mg/mL", OK),
    ("program", "program continuous 50mg", "E_LIMIT"),
    ("program", "program continuous 2mg", OK),
    ("program", "program confirm", OK),
    ("start", "start now", "E_SYNTAX"),
    ("start", "start", OK),
    ("sim", "sim run 5m", OK),
    ("sim", "sim run 1y", ERR),
    ("bolus", "bolus 0.1mg", OK),
    ("bolus", "bolus 100mg", ERR),
    ("ptm", "ptm set dose=0.1mg lockout=1h max=4", OK),
    ("ptm", "ptm set dose=0.1mg", ERR),
    ("logout", "logout", OK),
    ("logout", "logout now", "E_SYNTAX"),
    ("sim", "sim run 16m", OK),  # the 15-minute clinician bolus is over
    ("ptm", "ptm", OK),
    ("passwd", "passwd 1234 4321", "E_AUTH"),
    ("login", "login clinician 1234", OK),
    ("sensors", "sensors", OK),
    ("sensors", "sensors x", ERR),
    ("alarms", "alarms", OK),
    ("alarms", "alarms x", ERR),
    ("ack", "ack", OK),
    ("ack", "ack x", ERR),
    ("silence", "silence 30m", OK),
    ("silence", "silence 3h", ERR),
    ("log", "log 5", OK),
    ("log", "log since yesterday", ERR),
    ("time", "time", OK),
    ("time", "time set 2026-13-01T00:00:00", ERR),
    ("time", "time set 2026-01-01T08:00:00", OK),
    ("trend", "trend", OK),
    ("trend", "trend x y z", ERR),
    ("stop", "stop now", "E_SYNTAX"),
    ("stop", "stop", OK),
    ("calibrate", "calibrate begin 2000", "E_STATE"),  # a drug is loaded: say the line is off
    ("calibrate", "calibrate begin 2000 disconnected", OK),
    ("sim", "sim run 1m", OK),
    ("calibrate", "calibrate measured 0.1", OK),
    ("calibrate", "calibrate begin -5", ERR),
    ("prime", "prime 0.1", "E_STATE"),  # no catheter volume yet
    ("rx", "rx catheter 0.1", OK),
    ("prime", "prime 0.1", OK),
    ("prime", "prime -1", ERR),
    ("sim", "sim run 1m", OK),
    ("selftest", "selftest", OK),
    ("selftest", "selftest now", ERR),
    ("refill", "refill begin", OK),
    ("refill", "refill withdrawn 19.9", OK),
    ("refill", "refill add 19", OK),
    ("refill", "refill confirm", OK),
    ("refill", "refill frobnicate", ERR),
    ("passwd", "passwd 1234 12", "E_RANGE"),
    ("passwd", "passwd 1234 4321", OK),
    ("logout", "logout", OK),
    # five wrong PINs lock login; the lock survives a power cut and ends after 15 min
    ("login", "login clinician 1111", "E_AUTH"),
    ("login", "login clinician 1111", "E_AUTH"),
    ("login", "login clinician 1111", "E_AUTH"),
    ("login", "login clinician 1111", "E_AUTH"),
    ("login", "login clinician 1111", "E_LOCKED"),
    ("login", "login clinician 4321", "E_LOCKED"),
    ("stop", "stop", OK),
    ("sim", "sim power-cut 1m", OK),
    ("json", "json on", OK),
    ("login", "login clinician 4321", "E_LOCKED"),
    ("sim", "sim run 15m", OK),
    ("quit", "quit now", "E_SYNTAX"),
    ("exit", "exit 0", "E_SYNTAX"),
    ("login", "login clinician 4321", OK),
]
ENDS_SESSION = ("quit", "exit")  # their valid use ends the simulator: each gets a session of its own


def _sim(lines, args=()):
    res = subprocess.run(
        launch.command(list(args)),
        input="".join(line + "\n" for line in lines).encode(),
        env=launch.env(),
        cwd=launch.ROOT,
        capture_output=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr.decode()
    replies = []
    for raw in res.stdout.decode().split("\n"):
        while raw.startswith("pump> "):
            raw = raw[len("pump> ") :]
        if raw:
            replies.append(raw)
    return replies


def _registered():
    out = _sim(["json on", "help"])
    return json.loads(out[1])["commands"]


def test_every_registered_command_valid_and_invalid():
    names = _registered()
    steps = [s for s in SCRIPT if s[0] in names]
    # until `program` exists, a demo rate gives `start` something to start
    args = () if "program" in names else ("--rate", "0.2")
    replies = _sim([s[1] for s in steps], args)
    assert len(replies) == len(steps), replies[len(steps) - 3 :]
    valid = set()
    invalid = set()
    for (cmd, line, want), r in zip(steps, replies):
        assert r.startswith('{"ok": '), (line, r)
        d = json.loads(r)
        if want is OK:
            assert d["ok"] is True, (line, r)
            valid.add(cmd)
        else:
            assert d["ok"] is False, (line, r)
            assert want == ERR or d["code"] == want, (line, r)
            assert d["code"] != "E_INTERNAL", (line, r)
            invalid.add(cmd)
        if line == "login clinician 1234" and d["ok"] and "passwd" not in valid:
            assert "DEFAULT_PIN" in d["alarms"], r
    for name in ENDS_SESSION:
        out = _sim(["json on", name, "status"])
        if out[1:] == ['{"ok": true, "quit": true}']:  # and nothing answered after it
            valid.add(name)
    missing = sorted(n for n in names if n not in valid or n not in invalid)
    assert not missing, "add a valid and an invalid use to SCRIPT for: %s" % missing
    # the last login came after passwd: the factory-PIN alarm is gone
    assert "DEFAULT_PIN" not in json.loads(replies[-1])["alarms"]


def test_unknown_command_exact_reply():
    out = _sim(["json on", "frobnicate"])
    assert out[1] == '{"ok": false, "code": "E_UNKNOWN", "error": "unknown command \'frobnicate\'; try help"}'


def test_spec_commands_not_registered_yet():
    # not a failure: a list for the report. It fails only if the registry lost a core command.
    names = _registered()
    spec = sorted({s[0] for s in SCRIPT})
    absent = [n for n in spec if n not in names]
    print("SPEC 9 commands not registered yet:", absent)
    for core in ("help", "version", "json", "status", "login", "logout", "passwd", "stop", "start"):
        assert core in names
