"""Build the pump for a board, and the board's main loop.

`build` is the one place where services and command groups are wired; the
simulator uses it too, so the firmware it runs is the firmware a board runs.
"""

import sys

from firmware import cmd_core, cmd_session
from firmware.auth import Auth
from firmware.lines import LineSplitter
from firmware.pump import Pump
from firmware.shell import Shell
from firmware.trend import attach as attach_trend

PROMPT = "pump> "


def build(board, start_time=None):
    pump = Pump(board, start_time=start_time)
    shell = Shell(pump)
    cmd_core.register(shell)
    auth = Auth(pump)
    auth.attach(shell)
    pump.auth = auth  # pyright: ignore[reportAttributeAccessIssue]  (Pump declares it None until wired)
    pump.services.append(auth)
    cmd_session.register(shell)
    attach_trend(pump, shell)
    return pump, shell


def _write(s):
    sys.stdout.write(s)


def run(board):
    """The board's main loop: never blocks the dose loop, Ctrl-C leaves a usable REPL."""
    import select

    pump, shell = build(board)
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
        pass
    finally:
        pump.engine.stop()
        board.stop_ticks()
        board.stop_watchdog()
        _write("\npump stopped; REPL free\n")
