"""Text mode at a serial terminal: line editing, history, banner, alarm lines, did-you-mean.

Bytes in, bytes out, through the board's console (firmware/shell/console.py),
and what a VT100 would show for them (consolekit.Screen). Both interpreters.
"""

import json

from consolekit import FakeIn, FakePoll, Screen
from shellkit import Kit

from firmware.shell import console, editline
from firmware.shell.lines import MAX_LINE

LEFT = b"\x1b[D"
RIGHT = b"\x1b[C"
UP = b"\x1b[A"
DOWN = b"\x1b[B"
HOMES = (b"\x1b[H", b"\x1b[1~", b"\x1b[7~", b"\x1bOH", b"\x01")
ENDS = (b"\x1b[F", b"\x1b[4~", b"\x1b[8~", b"\x1bOF", b"\x05")


class Term:
    """A person at a terminal on the board's console: what the shell got, what the screen shows."""

    def __init__(self, json_mode=False):
        self.k = Kit(json_mode=json_mode)
        self.out = []
        self.screen = Screen()
        self.got = []
        handle = self.k.sh.handle

        def record(line):
            self.got.append(line)
            return handle(line)

        self.k.sh.handle = record
        self.con = console.Console(self.k.pump, self.k.sh, None, self.write, None)
        self.con.prompt()

    def write(self, s):
        self.out.append(s)
        self.screen.put(s)

    def type(self, data):
        self.con.feed(data)
        return self

    def cursor(self):
        return self.screen.col - len(console.PROMPT)


def test_arrows_move_and_an_insert_redraws_the_tail():
    t = Term().type(b"sttus" + LEFT * 3)
    assert t.screen.line() == "pump> sttus" and t.cursor() == 2
    t.type(b"a")
    assert t.screen.line() == "pump> status" and t.cursor() == 3
    assert t.out[-1] == "\x1b[3D"  # back over the redrawn tail: ESC [ n D
    t.type(RIGHT * 9 + b"\r")  # right stops at the end
    assert t.got == [b"status"]
    assert "state: stopped" in t.screen.done
    assert "E_SYNTAX" not in "".join(t.out)


def test_every_home_and_end_form():
    for home in HOMES:
        for end in ENDS:
            t = Term().type(b"tatu" + home + b"s" + end + b"s\r")
            assert t.got == [b"status"], (home, end, t.got)
            assert t.screen.done[0] == "pump> status", (home, end, t.screen.done)


def test_backspace_in_the_middle_and_at_the_end():
    t = Term().type(b"staxtus" + LEFT * 3 + b"\x7f")
    assert t.screen.line() == "pump> status" and t.cursor() == 3
    t.type(ENDS[0] + b"x\x08\r")
    assert t.got == [b"status"]
    assert "".join(t.out).count("\b \b") == 1  # at the end: the usual echo
    t.type(b"\x7f\x7f")  # nothing to erase: nothing written
    assert t.screen.line() == "pump>"


def test_delete_key_and_ctrl_u():
    t = Term().type(b"statuus" + LEFT * 2 + b"\x1b[3~")
    assert t.screen.line() == "pump> status" and t.cursor() == 5
    t.type(b"\r" + b"garbage\x15")
    assert t.screen.line() == "pump>" and t.cursor() == 0
    t.type(b"xyzversion" + HOMES[0] + RIGHT * 3 + b"\x15\r")  # Ctrl-U erases back to the start
    assert t.got == [b"status", b"version"]
    assert t.screen.done[-3] == "pump> version"


def test_history_up_and_down_bounded():
    t = Term()
    for i in range(editline.HISTORY + 3):
        t.type(b"help h%d\r" % i)
    t.type(b"login clinician 1234\r")  # a PIN is not kept
    t.type(b"vers" + UP)
    n = editline.HISTORY + 2
    assert t.screen.line() == "pump> help h%d" % n
    t.type(UP * 20)  # stops at the oldest kept line
    assert t.screen.line() == "pump> help h%d" % (n + 1 - editline.HISTORY)
    assert len(t.con.editor.history) == editline.HISTORY
    t.type(DOWN * editline.HISTORY)
    assert t.screen.line() == "pump> vers"  # past the newest: the line being typed, as it was
    t.type(b"ion\r" + UP + LEFT * 3 + b"\x1b[3~\r")
    assert t.got[-2:] == [b"version", b"verson"]
    assert not any(b"login" in h for h in t.con.editor.history)
    t.type(b"help\r" + b"help\r" + UP + UP)  # a repeat is kept once
    assert t.screen.line() == "pump> verson"


def test_other_escapes_are_dropped_and_control_bytes_still_refused():
    t = Term().type(b"st\x1b[1;5Cat\x1bOPus\x1b[?25h\r")
    assert t.got == [b"status"]
    t.type(b"sta\x02tus\r")
    assert t.got[-1] == b"sta\x02tus"
    assert "error E_SYNTAX: control character 0x02 in line" in t.screen.done


def test_utf8_moves_by_character_and_too_long_is_still_refused():
    t = Term().type("rx \u20acx".encode() + LEFT * 2 + b"y")
    assert t.screen.line() == "pump> rx y?x" and t.cursor() == 4
    t = Term().type(b"x" * (MAX_LINE + 5) + b"\r")
    assert t.got[0] is not None and t.got[0] != b"x" * MAX_LINE
    assert any("E_TOOLONG" in ln for ln in t.screen.done)


def test_json_mode_is_untouched():
    t = Term(json_mode=True).type(b"sta\x1b[Dtus\r\n")
    assert t.got == [b"sta\x1b[Dtus"]
    out = "".join(t.out)
    assert out.startswith("pump> {") and "sta" not in out.split("{")[0]
    assert json.loads(out[len("pump> ") : out.index("\n")])["error"] == "control character 0x1b in line"
    assert t.con.editor is None  # the editor is never made in JSON mode


def _serve(data, json_mode):
    k = Kit(json_mode=json_mode)
    inp = FakeIn(data)
    out = []
    console.serve(k.pump, k.sh, k.board, inp=inp, write=out.append, poll=FakePoll(inp, k))
    return "".join(out)


def test_banner_in_text_mode_only():
    out = _serve(b"", json_mode=False)
    assert out.startswith("pump firmware 0.1.0 on sim; type help\npump> ")
    assert _serve(b"", json_mode=True).startswith("pump> ")


def test_an_alarm_at_the_prompt_is_printed_and_the_line_redrawn():
    t = Term().type(b"stats" + LEFT)
    t.k.pump.alarms.raise_alarm("BATTERY_LOW", "test")
    assert t.screen.done[-1] == "alarm BATTERY_LOW (medium): test"
    assert t.screen.line() == "pump> stats" and t.cursor() == 4
    t.type(b"u\r")
    assert t.got == [b"status"]
    t.k.pump.alarms.raise_alarm("BATTERY_LOW", "test")  # still raised: no new line
    assert sum(1 for ln in t.screen.done if ln.startswith("alarm BATTERY")) == 1


def test_an_alarm_during_a_command_comes_before_its_reply():
    t = Term()

    def raising(sh, words):
        sh.pump.alarms.raise_alarm("BATTERY_LOW", "during")
        return {"text": "done"}

    t.k.sh.add("raising", 0, raising, "raising", "test: an alarm while a command runs")
    t.type(b"raising\r")
    assert t.screen.done == ["pump> raising", "alarm BATTERY_LOW (medium): during", "done"]
    assert t.screen.line() == "pump>"


def test_no_alarm_line_in_json_mode():
    t = Term(json_mode=True)
    t.k.pump.alarms.raise_alarm("BATTERY_LOW", "test")
    assert t.out == ["pump> "]


def test_a_typo_gets_did_you_mean_with_the_same_code():
    k = Kit(json_mode=False)
    assert k.say("statsu") == "error E_UNKNOWN: unknown command 'statsu'; did you mean 'status'?"
    assert "did you mean 'alarms'?" in k.say("alrams")  # a command not imported yet
    assert "did you mean 'help'?" in k.say("hepl")
    assert k.say("frobnicate") == "error E_UNKNOWN: unknown command 'frobnicate'; try help"
    assert "did you mean 'ack'?" in k.say("help acl")
    k.sh.json = True
    d = json.loads(k.say("verison"))
    assert d["code"] == "E_UNKNOWN" and d["error"].endswith("did you mean 'version'?")
