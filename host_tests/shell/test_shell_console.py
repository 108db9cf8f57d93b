"""The board's console loop with fake console streams: prompt, echo, Ctrl-C. Both interpreters."""

import json

from consolekit import FakeIn, FakePoll
from shellkit import Kit

from firmware.shell import console


class BoardCalls:
    """Records what the loop asks of the board (the sim board has no watchdog)."""

    def __init__(self, board):
        self.board = board
        self.calls = []

    def start_ticks(self, cb):
        self.calls.append("start_ticks")
        self.board.start_ticks(cb)

    def stop_ticks(self):
        self.calls.append("stop_ticks")
        self.board.stop_ticks()

    def start_watchdog(self):
        self.calls.append("start_watchdog")

    def feed_watchdog(self):
        if self.calls[-1] != "feed":
            self.calls.append("feed")

    def stop_watchdog(self):
        self.calls.append("stop_watchdog")


def _serve(data, json_mode=False, running=True, on_stop=None):
    k = Kit(json_mode=json_mode)
    if running:
        k.pump.set_basal(20000, "continuous")
        k.pump.start()
    inp = FakeIn(data)
    out = []
    b = BoardCalls(k.board)
    console.serve(k.pump, k.sh, b, inp=inp, write=out.append, poll=FakePoll(inp, k), on_stop=on_stop)
    return k, b, "".join(out)


def _stopped_safely(k, b):
    assert not k.pump.engine.running()
    assert not k.pump.board.stepper.enabled()
    assert b.calls[-2:] == ["stop_ticks", "stop_watchdog"], b.calls


def test_json_mode_writes_only_prompts_and_replies():
    k, b, out = _serve(b"status\r\nfrobnicate\n\n  \nversion\r", json_mode=True)
    _stopped_safely(k, b)
    assert out.startswith("pump> ")
    replies = out.split("\n")
    assert replies[-1] == "pump> "
    body = [r[len("pump> ") :] for r in replies[:-1]]
    assert len(body) == 3  # blank lines: no reply, no echo, nothing
    for r in body:
        d = json.loads(r)
        assert r.startswith('{"ok": ')
    assert json.loads(body[1])["code"] == "E_UNKNOWN"
    assert "status" not in out.replace('"state"', "")  # no echo of the input
    assert "REPL" not in out  # nothing unsolicited, even at Ctrl-C
    assert d["board"] == "sim"


def test_human_mode_echoes_and_edits():
    k, b, out = _serve(b"statuz\x7fs\r\n")
    _stopped_safely(k, b)
    assert "statuz\b \bs\n" in out and "\n\n" not in out  # CRLF echoes one line end
    assert "state: running" in out and out.count("pump> ") == 2
    assert out.rstrip().endswith("pump stopped; REPL free")


def test_ctrl_c_inside_a_command_stops_the_motor():
    k = Kit()
    called = []

    def hang(sh, words):
        raise KeyboardInterrupt

    k.sh.add("hang", 0, hang, "hang", "test: Ctrl-C while a command runs")
    k.pump.set_basal(20000, "continuous")
    k.pump.start()
    inp = FakeIn(b"hang\n" + b"status\n" * 3)
    b = BoardCalls(k.board)
    console.serve(
        k.pump,
        k.sh,
        b,
        inp=inp,
        write=lambda s: None,
        poll=FakePoll(inp, k),
        on_stop=lambda: called.append(k.pump.engine.running()),
    )
    _stopped_safely(k, b)
    assert called == [False]  # the motor was already off when the store saved its records
    assert inp.i == 5  # nothing after the interrupted line was read


def test_the_pump_is_serviced_and_the_watchdog_fed_while_waiting():
    k, b, out = _serve(b"sta")
    assert b.calls[:3] == ["start_ticks", "start_watchdog", "feed"]
    # a partial line waits: no reply, the loop went on servicing
    assert "state" not in out and k.pump.uptime.ms >= 30


def test_any_other_error_still_stops_safely():
    k = Kit()
    k.pump.set_basal(20000, "continuous")
    k.pump.start()

    def broken(pump):
        raise RuntimeError("service bug")

    class Svc:
        service = staticmethod(broken)

    k.pump.services.append(Svc())
    inp = FakeIn(b"")
    b = BoardCalls(k.board)
    try:
        console.serve(k.pump, k.sh, b, inp=inp, write=lambda s: None, poll=FakePoll(inp, k))
        raised = False
    except RuntimeError:
        raised = True
    assert raised
    _stopped_safely(k, b)
