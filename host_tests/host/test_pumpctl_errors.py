# cpython-only: runs pumpctl as a user does, in a subprocess, against bad input.
"""Every pumpctl command against bad input: one line `CODE: message` on stderr, no traceback, a nonzero exit.

Bad ports (missing, busy, refused), numbers without units, missing and
unreadable files, output folders that do not exist, a reader that goes away
(`log | head`), and the pump's own refusals. Nothing is changed by any of it.
"""

import argparse
import io
import json
import os
import pty
import re
import socket
import subprocess
import sys
import tempfile

import pytest

from tools.pumpctl import cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TMP = tempfile.mkdtemp(prefix="pumpctl-bad-")
NOWHERE = os.path.join(TMP, "no-such-folder")
MISSING = os.path.join(TMP, "missing.csv")
GARBAGE = os.path.join(TMP, "garbage.csv")
BAD_TOML = os.path.join(TMP, "bad.toml")
TYPO_TOML = os.path.join(TMP, "typo.toml")
with open(GARBAGE, "w") as f:
    f.write("x\n")
with open(BAD_TOML, "w") as f:
    f.write("[prescription\n")
with open(TYPO_TOML, "w") as f:
    f.write('[prescription]\ndrug = "morphine"\nconcentration = "10mg/mL"\npatiant = "P-1"\n')


def refused_url():
    """A socket:// URL where nothing listens: a port just bound and closed again."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "socket://127.0.0.1:%d" % port


def pumpctl(*argv, env=None):
    e = dict(os.environ, PUMPCTL_PORT="sim", **(env or {}))
    e.pop("PUMPCTL_PIN", None)
    p = subprocess.run(
        [sys.executable, "-m", "tools.pumpctl.cli"] + list(argv),
        cwd=ROOT,
        env=e,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    return p.returncode, p.stdout, p.stderr


def one_coded_line(err):
    assert "Traceback" not in err, err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    m = re.match(r"(E_[A-Z]+): \S", lines[0])
    assert m, err
    return m.group(1)


BAD = [
    # a port that is not there, on Linux and as Windows names it, and a refused TCP bridge
    (["--port", "/dev/ttyACM0", "status"], "E_PORT"),
    (["status", "--port", "COM3"], "E_PORT"),
    (["--port", refused_url(), "status"], "E_PORT"),
    (["--port", refused_url(), "login", "1234"], "E_PORT"),
    (["--port", "bogus://x", "send", "status"], "E_PORT"),
    (["deploy", "--port", "/dev/ttyACM0"], "E_PORT"),
    (["deploy"], "E_SYNTAX"),
    # numbers without their unit, everywhere
    (["--timeout", "30", "status"], "E_UNIT"),
    (["status", "--watch", "--interval", "2"], "E_UNIT"),
    (["status", "--watch", "--advance", "60"], "E_UNIT"),
    (["status", "--count", "two"], "E_SYNTAX"),
    (["prime", "0.2"], "E_UNIT"),
    (["prime", "-1mL"], "E_USAGE"),  # argparse takes it for an option
    (["refill", "--withdrawn", "2", "--add", "18mL"], "E_UNIT"),
    (["refill", "--withdrawn", "2mL", "--add", "18"], "E_UNIT"),
    (["refill", "--withdrawn", "2mL", "--add", "18mL", "--conc", "10"], "E_UNIT"),
    (["refill", "--add", "18mL"], "E_USAGE"),
    (["trumpet", GARBAGE, "--rate", "0.2"], "E_UNIT"),
    (["trumpet", GARBAGE, "--rate", "1mL/h", "--density", "0.9982"], "E_UNIT"),
    (["trumpet", GARBAGE, "--rate", "1mL/h", "--settle", "60"], "E_UNIT"),
    (["trumpet", GARBAGE, "--rate", "1mL/h", "--windows", "2,5"], "E_UNIT"),
    (["trumpet", GARBAGE, "--rate", "1e3mL/h"], "E_SYNTAX"),
    (["log", "-n", "0"], "E_RANGE"),
    # files: missing, a folder, garbage, output into a folder that does not exist
    (["trumpet", MISSING, "--rate", "1mL/h"], "E_FILE"),
    (["trumpet", TMP, "--rate", "1mL/h"], "E_FILE"),
    (["trumpet", GARBAGE, "--rate", "1mL/h"], "E_TRUMPET"),
    (["trumpet", GARBAGE], "E_SYNTAX"),
    (["trumpet"], "E_SYNTAX"),
    (["trumpet", GARBAGE, "--rate", "1mL/h", "--png", os.path.join(NOWHERE, "t.png")], "E_PATH"),
    (["plot", os.path.join(NOWHERE, "p.png")], "E_PATH"),
    (["plot", TMP], "E_PATH"),
    (["log", "--csv", os.path.join(NOWHERE, "log.csv")], "E_PATH"),
    (["program", MISSING], "E_FILE"),
    (["program", BAD_TOML, "--yes"], "E_SYNTAX"),
    (["program", TYPO_TOML, "--yes"], "E_SYNTAX"),
    # the command line itself
    ([], "E_USAGE"),
    (["frobnicate"], "E_USAGE"),
    (["ports", "extra"], "E_USAGE"),
    (["status", "--frobnicate"], "E_USAGE"),
    (["send"], "E_USAGE"),
    # the pump's own refusals
    (["send", "frobnicate"], "E_UNKNOWN"),
    (["send", "program", "continuous", "1mg"], "E_AUTH"),
    (["login", "9999"], "E_AUTH"),
    (["prime", "0.2mL"], "E_AUTH"),
    (["--pin", "1234", "prime", "0.2mL"], "E_STATE"),
    (["--pin", "1234", "refill", "--withdrawn", "2mL", "--add", "40mL", "--yes"], "E_RANGE"),
    (["--state", "/tmp/x", "--port", "socket://127.0.0.1:9", "status"], "E_SYNTAX"),
]


def case_id(argv):
    # the same on every xdist worker: no temporary path, no port number
    text = " ".join(argv).replace(TMP, "TMP")
    return re.sub(r"socket://127.0.0.1:\d+", "socket://refused", text) or "(none)"


@pytest.mark.parametrize("argv,code", BAD, ids=[case_id(a) for a, _c in BAD])
def test_bad_input_is_one_coded_line_and_no_traceback(argv, code):
    rc, _out, err = pumpctl(*argv)
    assert rc != 0
    assert one_coded_line(err) == code, err


def test_a_port_error_lists_the_ports_present():
    from tools.pumpctl import ports

    rc, _out, err = pumpctl("--port", "/dev/ttyACM0", "status")
    assert rc == 1
    assert err.startswith("E_PORT: cannot open /dev/ttyACM0: no such file or directory; ")
    assert ports.summary() in err


def test_a_busy_port_says_busy():
    import serial

    master, slave = pty.openpty()
    path = os.ttyname(slave)
    held = serial.Serial(path, exclusive=True)  # another program has the port open
    try:
        rc, _out, err = pumpctl("--port", path, "--timeout", "2s", "status")
    finally:
        held.close()
        os.close(master)
        os.close(slave)
    assert rc == 1 and one_coded_line(err) == "E_PORT"
    assert "busy (another program has it open)" in err


def test_every_command_and_option_has_help_text():
    p = cli.parser()
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in sub._choices_actions}
    assert set(helps) == set(sub.choices) and all(helps.values()), helps
    for name, sp in [("pumpctl", p)] + sorted(sub.choices.items()):
        for a in sp._actions:
            if a.dest not in ("help", "cmd"):
                assert a.help, "%s %s has no help text" % (name, a.option_strings or a.dest)


def test_version():
    rc, out, err = pumpctl("--version")
    assert rc == 0 and re.fullmatch(r"pumpctl \S+ \(firmware \S+\)\n", out), (out, err)


class ClosedPipe(io.StringIO):
    """stdout of `pumpctl log | head -1`: the reader leaves after the first line."""

    def write(self, s):
        if self.getvalue().count("\n") >= 1:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(s)


def test_log_into_a_closed_pipe_ends_quietly(capsys, monkeypatch):
    state = os.path.join(TMP, "pipe")
    assert cli.main(["--port", "sim", "--state", state, "send", "sim", "run", "1h"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    rc = cli.main(["--port", "sim", "--state", state, "log"])
    first = sys.stdout.getvalue()
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert rc == 141 and err == ""  # as a shell tool that got SIGPIPE: nothing more said
    assert json.loads(first.splitlines()[0])["event"]


def test_log_piped_to_head_has_no_traceback():
    state = os.path.join(TMP, "head")
    assert pumpctl("--state", state, "--pin", "1234", "send", "sim", "run", "1h")[0] == 0
    cmd = "%s -m tools.pumpctl.cli --state %s log | head -1" % (sys.executable, state)
    p = subprocess.run(["bash", "-c", cmd], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.stdout.count("\n") == 1 and "Traceback" not in p.stderr and p.stderr == "", p.stderr


def test_bad_input_changes_nothing_on_the_pump():
    state = os.path.join(TMP, "unchanged")
    rc, before, err = pumpctl("--state", state, "status", "--json")
    assert rc == 0, err
    for argv in (
        ["prime", "0.2"],
        ["--pin", "1234", "refill", "--withdrawn", "2mL", "--add", "40mL", "--yes"],
        ["--pin", "1234", "program", TYPO_TOML, "--yes"],
        ["send", "program", "continuous", "1mg"],
    ):
        assert pumpctl("--state", state, *argv)[0] != 0
    rc, after, err = pumpctl("--state", state, "status", "--json")
    a, b = json.loads(before), json.loads(after)
    keys = ("state", "mode", "rate_ml_day", "delivered_total_steps", "reservoir_ml")
    assert {k: a[k] for k in keys} == {k: b[k] for k in keys}
