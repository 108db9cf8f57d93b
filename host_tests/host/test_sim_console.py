# cpython-only: runs the simulator (micropython) on a pseudo-terminal and through make.
"""`make sim` on a terminal: the board's console (banner, editing, alarm lines), `help sim`, quit/exit."""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from ttykit import Tty  # noqa: E402

from tools.sim import simcmds  # noqa: E402

LEFT = b"\x1b[D"


def test_terminal_banner_editing_help_sim_and_quit():
    t = Tty(["--rate", "1"])
    try:
        assert t.read_until(b"type help")
        assert t.read_until(b"pump> ")
        t.send(b"help sm" + LEFT + b"i\r")  # an arrow key edits, it is not a control character
        assert t.read_until(b"quit | exit")
        text = t.buf.decode()
        assert "E_SYNTAX" not in text
        for u in simcmds.USAGES:
            assert u in text, u
        t.send(b"statsu\r")
        assert t.read_until(b"did you mean 'status'?")
        t.send(b"quit\r")
        assert t.p.wait(timeout=60) == 0
    finally:
        t.close()


def test_an_alarm_during_sim_run_is_printed_when_raised():
    t = Tty(["--rate", "1"])
    try:
        assert t.read_until(b"pump> ")
        t.send(b"sim occlude on\r")
        assert t.read_until(b"occlusion")
        t.send(b"sim run 6h\r")
        assert t.read_until(b"ran_ms")
        text = t.buf.decode().replace("\r", "")
        run = text[text.index("sim run 6h") :]
        assert re.search(r"\nalarm OCCLUSION \(\w+\)", run), run
        assert run.index("alarm OCCLUSION") < run.index("ran_ms")
        t.send(b"exit\r")
        assert t.p.wait(timeout=60) == 0
    finally:
        t.close()


def test_exit_through_make_is_no_make_error():
    for word in ("quit", "exit"):
        res = subprocess.run(
            ["make", "-s", "sim"],
            input=("json on\n%s\nstatus\n" % word).encode(),
            cwd=ROOT,
            capture_output=True,
            timeout=300,
        )
        assert res.returncode == 0, res.stderr.decode()[-2000:]
        out = res.stdout.decode()
        assert '"quit": true' in out and '"state"' not in out  # nothing read after it
        assert "type help" not in out  # a pipe gets no banner


def test_help_sim_names_every_sim_command():
    # each word the dispatchers compare against has a line in USAGES
    words = set()
    for name in ("simcmds.py", "simrun.py"):
        with open(os.path.join(ROOT, "tools", "sim", name)) as f:
            src = f.read()
        words.update(re.findall(r'(?:cmd|words\[0\]) == "([a-z-]+)"', src))
        for pair in re.findall(r'words\[1\] in \("(\w+)", "(\w+)"\)', src):
            words.update(pair)  # the board's faults: `sim fault image|enable ...`
    assert {"run", "power-cut", "save", "occlude", "leak", "fault", "button", "model"} <= words
    listed = " ".join(simcmds.USAGES)
    for w in words:
        assert ("sim " + w) in listed or ("sim fault " + w) in listed, w
