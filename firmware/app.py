"""Build the pump for a board, and the board's main loop.

`build` is the one place where services and command groups are wired; the
simulator uses it too, so the firmware it runs is the firmware a board runs.
"""

from firmware import persist, safety, therapy
from firmware.pump import Pump
from firmware.shell import cmd_core, console
from firmware.shell.auth import Auth
from firmware.shell.shell import Shell
from firmware.trend import attach as attach_trend

PROMPT = console.PROMPT

# Command groups imported at their first use, not at boot (Shell.lazy): the
# names each group's `register` adds (host_tests/test_lazy_commands.py checks).
SESSION_CMDS = ("login", "logout", "passwd")
SAFETY_CMDS = ("alarms", "ack", "silence", "sensors", "selftest", "refill")
THERAPY_CMDS = ("rx", "program", "bolus", "ptm", "prime", "calibrate")
# fault injection, only with this flag file in the data directory (firmware/shell/cmd_testhook.py)
TESTHOOK_FLAG = "testhooks"
TESTHOOK_CMDS = ("testhook",)


def _session_cmds(shell):
    from firmware.shell import cmd_session

    cmd_session.register(shell)


def _safety_cmds(shell):
    from firmware.shell import cmd_safety

    cmd_safety.register(shell)


def _therapy_cmds(shell):
    from firmware.shell import cmd_therapy

    cmd_therapy.register(shell)


def _testhook_cmds(shell):
    from firmware.shell import cmd_testhook

    cmd_testhook.register(shell)


def build(board, start_time=None, fs=None, cause=None):
    pump = Pump(board, start_time=start_time)
    shell = Shell(pump)
    cmd_core.register(shell)
    persist.attach(pump, shell, fs)  # first: the log hears every later event
    auth = Auth(pump)
    auth.attach(shell)
    pump.auth = auth  # pyright: ignore[reportAttributeAccessIssue]  (Pump declares it None until wired)
    pump.services.append(auth)
    shell.lazy(SESSION_CMDS, _session_cmds)
    attach_trend(pump, shell)
    safety.attach(pump)  # sensors, supervisor, reservoir: before boot, which restores their state
    shell.lazy(SAFETY_CMDS, _safety_cmds)
    # therapy after safety: a rate it sets at a boundary is checked over the interval that follows
    therapy.attach(pump)  # before boot: the prescription is restored from flash
    shell.lazy(THERAPY_CMDS, _therapy_cmds)
    store = pump.store
    if store is not None and store.fs.exists(TESTHOOK_FLAG):
        shell.lazy(TESTHOOK_CMDS, _testhook_cmds)
        pump.event("testhooks_enabled", flag=TESTHOOK_FLAG)
    # keep last: restores every service attached above from flash
    persist.boot(pump, cause or _reset_cause(board))
    # the allowance from the restored record, before any command or the first pass can start
    # the motor (it holds until armed)
    pump.governor.service(pump)
    return pump, shell


def _reset_cause(board):
    f = getattr(board, "reset_cause", None)
    return f() if f is not None else "reset"


def run(board, fs=None):
    """The board's main loop: never blocks the dose loop, Ctrl-C leaves a usable REPL."""
    pump, shell = build(board, fs=fs)
    persist.on_stable(pump)
    store = pump.store
    # on Ctrl-C (an update, an mpremote session) the records are saved after the
    # motor is off: a commanded stop, not an unexpected reset
    console.serve(pump, shell, board, on_stop=store.shutdown if store is not None else None)
