"""Build the pump for a board, and the board's main loop.

`build` is the one place where services and command groups are wired; the
simulator uses it too, so the firmware it runs is the firmware a board runs.
"""

import sys

from firmware import cmd_core, cmd_session, persist
from firmware.auth import Auth
from firmware.lines import LineSplitter
from firmware.pump import Pump
from firmware.shell import Shell
from firmware.trend import attach as attach_trend

PROMPT = "pump> "


def build(board, start_time=None, fs=None, cause=None):
    pump = Pump(board, start_time=start_time)
    shell = Shell(pump)
    cmd_core.register(shell)
    persist.attach(pump, shell, fs)  # first: the log hears every later event
    auth = Auth(pump)
    auth.attach(shell)
    pump.auth = auth  # pyright: ignore[reportAttributeAccessIssue]  (Pump declares it None until wired)
    pump.services.append(auth)
    cmd_session.register(shell)
    attach_trend(pump, shell)
    # keep last: restores every service attached above from flash
    persist.boot(pump, cause or _reset_cause(board))
    return pump, shell


def _reset_cause(board):
    f = getattr(board, "reset_cause", None)
    return f() if f is not None else "reset"


def _write(s):
    sys.stdout.write(s)


def run(board, fs=None):
    """The board's main loop: never blocks the dose loop, Ctrl-C leaves a usable REPL."""
    import select

    pump, shell = build(board, fs=fs)
    persist.on_stable(pump)
    board.start_ticks(pump.engine.on_tick)
    inp = sys.stdin.buffer
    poll = select.poll()
    poll.register(sys.stdin, select.POLLIN)
    lines = LineSplitter()
    board.start_watchdog()
    _write(PROMPT)
    try:
        while True:
            pump.service()
            board.feed_watchdog()
            if not poll.poll(10):
                continue
            data = inp.read(1)
            if not data:
                continue
            for line in lines.feed(data):
                reply = shell.handle(line)
                if reply is not None:
                    _write(reply + "\n")
                _write(PROMPT)
    except KeyboardInterrupt:
        pump.engine.stop()
        pump.store.shutdown()  # a commanded stop (an update): not an unexpected reset
    finally:
        pump.engine.stop()
        board.stop_ticks()
        board.stop_watchdog()
        _write("\npump stopped; REPL free\n")
