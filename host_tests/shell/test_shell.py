"""The shell's framing and reply form (SPEC 9), on both interpreters."""

from shellkit import Kit, check_json, snapshot

from firmware.errors import E_AUTH, E_INTERNAL, E_SYNTAX, E_TOOLONG, E_UNKNOWN
from firmware.shell import CLINICIAN, lines


def test_blank_lines_get_no_reply():
    k = Kit()
    for b in (b"", b" ", b"\t", b" \t  \t"):
        assert k.raw(b) is None, b
        assert k.sh.last_ok is None


def test_control_bytes_are_syntax_errors():
    k = Kit()
    for b in (
        b"\x00",
        b"\x00\x00\x00",
        b"status\x00",
        b"\x1b[A",
        b"stat\x08us",
        b"\x0b",
        b"\x0c",
        b"\x1c",
        b"\x1f status",
        b"\x7f",
        b"status \x1b",
        b"\xc2\x85",
        b"\xc2\x9b2J",
    ):
        d = check_json(k.raw(b))
        assert d["code"] == E_SYNTAX, (b, d)


def test_non_utf8_is_a_syntax_error():
    k = Kit()
    # overlong NUL, surrogate, above U+10FFFF, truncated, lone continuation, 0xff
    for b in (
        b"\xc0\x80",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"status \xe2\x82",
        b"\x80",
        b"\xff",
        b"\xe0\x80\xaf",
        b"\xf0\x80\x80\xaf",
    ):
        d = check_json(k.raw(b))
        assert d["code"] == E_SYNTAX and "UTF-8" in d["error"], (b, d)
    # valid UTF-8 that is not a command is just unknown
    assert check_json(k.raw("st\u00e4tus".encode()))["code"] == E_UNKNOWN


def test_too_long_lines():
    k = Kit()
    sp = lines.LineSplitter()
    ok = sp.feed(b"status" + b" " * 194 + b"\n")
    assert len(ok) == 1 and len(ok[0]) == 200
    assert check_json(k.raw(ok[0]))["ok"] is True
    long = sp.feed(b"status" + b" " * 195 + b"\n")
    assert long == [lines.TOOLONG]
    assert check_json(k.raw(long[0]))["code"] == E_TOOLONG
    # a very long line is one error, and the next line is read normally
    out = sp.feed(b"x" * 5000 + b"\r\nstatus\n")
    assert len(out) == 2 and out[0] is lines.TOOLONG
    assert check_json(k.raw(out[1]))["ok"] is True


def test_line_endings():
    sp = lines.LineSplitter()
    assert sp.feed(b"a\rb\nc\r\nd\n") == [b"a", b"b", b"c", b"d"]
    # CRLF split across reads is still one line end
    assert sp.feed(b"e\r") == [b"e"]
    assert sp.feed(b"\nf\n") == [b"f"]
    # two CRs are two (empty) lines: an empty line gets no reply, not an error
    assert sp.feed(b"\r\r") == [b"", b""]
    assert sp.feed(b"par") == [] and sp.pending()
    assert sp.flush() == [b"par"] and not sp.pending()


def test_unknown_command_message():
    k = Kit()
    assert k.say("frobnicate") == (
        '{"ok": false, "code": "E_UNKNOWN", "error": "unknown command \'frobnicate\'; try help"}'
    )
    # what is echoed back is printable and bounded
    d = k.js("\u00e9" * 60)
    assert d["code"] == E_UNKNOWN and len(d["error"]) < 80
    k.sh.json = False
    assert k.say("frobnicate") == "error E_UNKNOWN: unknown command 'frobnicate'; try help"


def test_help_comes_from_the_registry():
    k = Kit()
    d = k.js("help")
    assert d["commands"] == sorted(k.sh.commands)
    for name in k.sh.commands:
        h = k.js("help " + name)
        assert h["ok"] and h["usage"] == k.sh.commands[name].usage, name
        assert h["role"] in ("any", "clinician")
    assert k.code("help frobnicate") == E_UNKNOWN
    assert k.code("help status extra") == E_SYNTAX
    k.sh.json = False
    text = k.say("help")
    for name in k.sh.commands:
        assert k.sh.commands[name].usage in text


def test_every_reply_is_one_json_object():
    k = Kit()
    k.login()
    for name in sorted(k.sh.commands):
        for line in (name, name + " x", name + " 1 2"):
            check_json(k.say(line))
            k.sh.json = True  # `json off` is a valid line; keep checking JSON


def test_extra_arguments_are_refused_for_every_command():
    k = Kit()
    k.login()
    before = snapshot(k)
    for name in sorted(k.sh.commands):
        d = k.js(name + " zz zz zz zz zz zz zz zz")
        assert d["ok"] is False, (name, d)
        k.sh.role = CLINICIAN
    assert snapshot(k) == before


def test_role_is_checked_before_values():
    k = Kit()
    k.sh.load_all()  # a group imported at first use has a placeholder (no role yet) until then
    clinician_only = [n for n in sorted(k.sh.commands) if k.sh.commands[n].role == CLINICIAN]
    assert "start" in clinician_only and "passwd" in clinician_only
    before = snapshot(k)
    for name in clinician_only:
        for line in (name, name + " \u00e9nan -1 0x10", name + " 1e3"):
            assert k.code(line) == E_AUTH, line
    assert snapshot(k) == before


def test_missing_arguments():
    k = Kit()
    k.login()
    for line in ("login", "login clinician", "json", "passwd", "passwd 1234", "login 1234"):
        assert k.code(line) == E_SYNTAX, line


def test_a_crashing_command_is_one_error_line():
    k = Kit()

    def boom(sh, words):
        raise ValueError("secret detail")

    k.sh.add("boom", 0, boom, "boom", "raises")
    d = k.js("boom")
    assert d["code"] == E_INTERNAL and "secret" not in d["error"]
    k.sh.json = False
    r = k.say("boom")
    assert r.startswith("error E_INTERNAL:") and "\n" not in r and "Traceback" not in r


def test_human_mode_is_readable():
    k = Kit(json_mode=False)
    r = k.say("status")
    assert "state: stopped" in r and not r.startswith("{")
    assert k.say("json on") is not None and k.sh.json
    assert check_json(k.say("json off"))["json"] is False
    assert k.say("version").startswith("board: ")


def test_stop_is_never_behind_a_pin_or_lockout():
    k = Kit()
    for _ in range(5):
        k.js("login clinician 9999")
    assert k.code("login clinician 1234") == "E_LOCKED"
    k.pump.set_basal(20000, "continuous")
    k.pump.start()
    assert k.pump.state == "running"
    d = k.js("stop")
    assert d["ok"] and d["state"] == "stopped" and not k.pump.engine.running()
    assert k.js("stop")["ok"]  # a no-op on a stopped pump still answers ok


def test_json_check_refuses_nan_and_infinity():
    # the checker the fuzz relies on must itself catch a bare NaN or Infinity
    for bad in ('{"ok": true, "x": NaN}', '{"ok": true, "x": [1, Infinity]}', '{"ok": true, "x": -Infinity}'):
        try:
            check_json(bad)
            caught = False
        except (AssertionError, ValueError):
            caught = True
        assert caught, bad
    assert check_json('{"ok": true, "x": "NaN Infinity"}')["x"] == "NaN Infinity"


def test_stop_holds_a_suspended_pump_and_a_running_motor():
    k = Kit()
    k.pump.set_basal(20000, "continuous")
    k.pump.start()
    k.pump.stop("dose_cap", state="suspended")  # held by the pump: would resume by itself
    assert k.js("stop")["state"] == "stopped"
    assert k.count("stop") == 1
    # a stopped pump whose motor runs (priming) is stopped too
    k.pump.engine.start()
    assert k.js("stop")["ok"] and not k.pump.engine.running()
