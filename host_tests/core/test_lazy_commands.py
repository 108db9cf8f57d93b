"""The command table (app.COMMANDS) and the groups imported at first use (Shell.lazy), on both interpreters.

The Pico must answer `status` within 2 s of power-on (SPEC 8); groups not
needed before that are imported when first used. These tests pin that the
table names every command once and each module registers exactly the names
the table gives it, that the boot imports none of the other groups, that a
placeholder behaves like its command (role, errors, help), and that a failed
import can be retried.
"""

import sys

from shellkit import Kit

from boards import sim as simboard
from firmware import app
from firmware.errors import E_AUTH, E_INTERNAL, E_UNKNOWN, PumpError
from firmware.persist.flashfs import MemFs
from firmware.shell import ANY, CLINICIAN
from firmware.shell.shell import Shell

# the modules the boot must not import (each costs the Pico tens of ms): every group the table
# does not load at boot, and the therapy's own imported at first use
LAZY_MODULES = tuple(app.PACKAGE + m for m, when, names in app.COMMANDS if when != app.BOOT) + (
    "firmware.therapy.boluses",
    "firmware.therapy.limits",  # until a drug is set or restored
    "firmware.therapy.druglib",
    "firmware.therapy.rx",  # a prescription change or a refill
    "firmware.safety.refill",  # the refill workflow
)


def test_the_table_names_each_command_once_and_each_module_registers_exactly_its_names():
    k = Kit()
    seen = []
    for module, when, names in app.COMMANDS:
        assert when in (app.BOOT, app.FIRST_USE, app.TESTHOOK), module
        fresh = Shell(k.pump)
        app.group_loader(module)(fresh)
        assert sorted(fresh.commands) == sorted(names), (module, sorted(fresh.commands), names)
        for n in names:
            assert n not in seen, n
            assert fresh.commands[n].load is None
            seen.append(n)
    # `stop` never waits on an import
    boot = [n for m, when, names in app.COMMANDS if when == app.BOOT for n in names]
    assert "status" in boot and "stop" in boot


def test_a_built_shell_has_every_command_of_the_table_and_no_other():
    for testhooks in (False, True):
        fs = MemFs()
        if testhooks:
            fs.write(app.TESTHOOK_FLAG, b"1")
        pump, sh = app.build(simboard.Board(), fs=fs)
        want = [n for m, when, names in app.COMMANDS if testhooks or when != app.TESTHOOK for n in names]
        assert sorted(sh.commands) == sorted(want), (sorted(sh.commands), sorted(want))
        for _m, when, names in app.COMMANDS:
            for n in names:
                if n in sh.commands:
                    assert (sh.commands[n].load is None) == (when == app.BOOT), n
        sh.load_all()
        assert sorted(sh.commands) == sorted(want)
        del pump, sh


def _forget(mods):
    # out of sys.modules and off the parent package (`from pkg import mod` reads the attribute first)
    saved = {}
    for m in mods:
        parent, _, child = m.rpartition(".")
        pkg = sys.modules.get(parent)
        mod = sys.modules.pop(m, None)
        if pkg is not None and hasattr(pkg, child):
            mod = getattr(pkg, child)
            delattr(pkg, child)
        if mod is not None:
            saved[m] = mod
    return saved


def _imported(m):
    parent, _, child = m.rpartition(".")
    return m in sys.modules or hasattr(sys.modules.get(parent), child)


def test_the_boot_imports_no_lazy_module():
    saved = _forget(LAZY_MODULES)
    try:
        # app.build itself: shellkit.Kit imports the groups up front for the test heap
        board = simboard.Board()
        pump, sh = app.build(board)
        board.start_watchdog()  # as console.serve does after build
        pump.service()
        assert sh.handle(b"status").startswith("alarms:")
        loaded = [m for m in LAZY_MODULES if _imported(m)]
        assert loaded == [], loaded
        assert "DEFAULT_PIN" in sh.handle(b"alarms")
        assert _imported("firmware.shell.cmd_safety")
        pump = sh = None
    finally:
        _forget(LAZY_MODULES)
        for m, mod in saved.items():
            sys.modules[m] = mod
            parent, _, child = m.rpartition(".")
            setattr(sys.modules[parent], child, mod)


def test_a_placeholder_answers_as_its_command():
    k = Kit()
    assert k.sh.commands["program"].load is not None
    # the role is the real command's, checked before any argument
    assert k.code("program continuous 1mg") == E_AUTH
    assert k.sh.commands["program"].load is None
    assert k.sh.commands["program"].role == CLINICIAN
    # the other names of its group came with it
    assert k.sh.commands["bolus"].load is None
    # a placeholder's handler, taken directly, runs the real one
    assert k.sh.commands["log"].load is not None
    d = k.sh.commands["log"].fn(k.sh, [])
    assert "entries" in d or "text" in d, d
    assert k.sh.commands["log"].load is None


def test_help_of_a_lazy_command_gives_its_usage():
    k = Kit()
    assert k.sh.commands["refill"].load is not None
    h = k.js("help refill")
    assert h["ok"] and h["usage"].startswith("refill begin") and h["role"] == "clinician"
    names = k.js("help")["commands"]
    assert "trend" in names and "passwd" in names
    assert [n for n in k.sh.commands if k.sh.commands[n].load is not None] == []


def _fake_handler(sh, words):
    return {"done": len(words)}


def test_a_name_its_group_does_not_register_is_unknown():
    k = Kit()
    calls = []

    def load(sh):
        calls.append(1)
        sh.add("zz_real", ANY, _fake_handler, "zz_real", "a test command")

    k.sh.lazy(("zz_real", "zz_ghost"), load)
    assert k.code("zz_ghost") == E_UNKNOWN
    assert "zz_ghost" not in k.sh.commands
    assert k.js("zz_real 1 2")["done"] == 2
    assert len(calls) == 1  # imported once


def test_a_failed_import_is_one_error_and_is_tried_again():
    k = Kit()
    tries = []

    def load(sh):
        tries.append(1)
        if len(tries) == 1:
            raise MemoryError()
        sh.add("zz_cmd", ANY, _fake_handler, "zz_cmd", "a test command")

    k.sh.lazy(("zz_cmd",), load)
    assert k.code("zz_cmd") == E_INTERNAL
    assert k.sh.commands["zz_cmd"].load is not None
    assert k.js("zz_cmd")["done"] == 0
    assert len(tries) == 2


def test_a_lazy_handler_error_is_the_commands_own():
    k = Kit()

    def load(sh):
        def fail(sh, words):
            raise PumpError("E_STATE", "not now")

        sh.add("zz_fail", ANY, fail, "zz_fail", "a test command")

    k.sh.lazy(("zz_fail",), load)
    d = k.js("zz_fail")
    assert d["code"] == "E_STATE" and d["error"] == "not now"
