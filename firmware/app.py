"""Build the pump for a board, and the board's main loop.

`build` is the one place where services and command groups are wired; the
simulator uses it too, so the firmware it runs is the firmware a board runs.
"""

import sys

from firmware import persist, safety, therapy, trend
from firmware.pump import Pump
from firmware.safety import selftest
from firmware.shell import console
from firmware.shell.auth import Auth
from firmware.shell.shell import Shell

PROMPT = console.PROMPT

# When a command group is imported: BOOT with the application (`stop` must never wait on an
# import that could fail), FIRST_USE at the first line that names one of its commands
# (Shell.lazy: each import costs the Pico 10-80 ms of the 2 s it has to answer `status`,
# SPEC 8), TESTHOOK like FIRST_USE but only with the flag file TESTHOOK_FLAG in the data
# directory (fault injection, firmware/shell/cmd_testhook.py).
BOOT = 0
FIRST_USE = 1
TESTHOOK = 2
TESTHOOK_FLAG = "testhooks"

# Every shell command, and the module of firmware/shell/ whose `register(shell)` adds it: the one
# table of them (host_tests/core/test_lazy_commands.py checks it against what each module registers).
COMMANDS = (
    ("cmd_core", BOOT, ("help", "version", "json", "status", "start", "stop")),
    ("cmd_session", FIRST_USE, ("login", "logout", "passwd")),
    ("cmd_log", FIRST_USE, ("log", "time")),
    ("cmd_trend", FIRST_USE, ("trend",)),
    ("cmd_safety", FIRST_USE, ("alarms", "ack", "silence", "sensors", "selftest", "refill")),
    ("cmd_therapy", FIRST_USE, ("rx", "program", "bolus", "ptm", "prime", "calibrate")),
    ("cmd_testhook", TESTHOOK, ("testhook",)),
)
PACKAGE = "firmware.shell."


def group_loader(module):
    """`load(shell)`: import firmware/shell/`module` and let it register its commands."""

    def load(shell):
        name = PACKAGE + module
        __import__(name)
        sys.modules[name].register(shell)

    return load


def add_commands(shell, testhooks=False):
    """Put every command of COMMANDS on the shell: BOOT groups now, the others as placeholders."""
    for module, when, names in COMMANDS:
        if when == TESTHOOK and not testhooks:
            continue
        load = group_loader(module)
        if when == BOOT:
            load(shell)
        else:
            shell.lazy(names, load)


def build(board, start_time=None, fs=None, cause=None):
    pump = Pump(board, start_time=start_time)
    shell = Shell(pump)
    persist.attach(pump, shell, fs)  # first: the log hears every later event
    auth = Auth(pump)
    auth.attach(shell)
    pump.auth = auth  # pyright: ignore[reportAttributeAccessIssue]  (Pump declares it None until wired)
    pump.services.append(auth)
    trend.attach(pump)
    safety.attach(pump)  # sensors, supervisor, reservoir: before boot, which restores their state
    # therapy after safety: a rate it sets at a boundary is checked over the interval that follows
    therapy.attach(pump)  # before boot: the prescription is restored from flash
    testhooks = pump.store is not None and pump.store.fs.exists(TESTHOOK_FLAG)
    add_commands(shell, testhooks)
    if testhooks:
        pump.event("testhooks_enabled", flag=TESTHOOK_FLAG)
    # keep last: restores every service attached above from flash
    persist.boot(pump, cause or _reset_cause(board))
    # the power-on self-test (issue 16, docs/safety.md): on the restored records, before the
    # allowance below; a failure raises SELFTEST, a stopping alarm, so nothing moves
    selftest.attach(pump)
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
