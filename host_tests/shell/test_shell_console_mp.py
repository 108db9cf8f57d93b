# cpython-only: drives the real micropython binary and sends it SIGINT.
"""The board loop (`app.run`) on the real unix port: real poll, real stdin bytes, real Ctrl-C.

SIGINT on the unix port raises KeyboardInterrupt as Ctrl-C does on a board;
afterwards the motor driver must be off and the interpreter still running.
"""

import os
import signal
import subprocess
import time

from test_micropython import MICROPYTHON, ROOT

SCRIPT = """
from boards import sim
from firmware import app
b = sim.Board()
app.run(b)
print("AFTER", b.stepper.enabled(), b.pins["en"].level)
"""


def test_run_answers_json_then_ctrl_c_frees_the_repl(tmp_path):
    script = tmp_path / "run_board.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([ROOT, ".frozen"]))
    p = subprocess.Popen(
        [MICROPYTHON, str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=str(tmp_path),
    )
    assert p.stdin is not None
    p.stdin.write(b"json on\nlogin clinician 1234\n\xff\xfe\nstatus\n")
    p.stdin.flush()
    deadline = time.time() + 20
    out = b""
    assert p.stdout is not None
    os.set_blocking(p.stdout.fileno(), False)
    while time.time() < deadline and out.count(b"pump> ") < 5:
        chunk = p.stdout.read()
        if chunk:
            out += chunk
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    rest, err = p.communicate(timeout=20)
    out += rest
    text = out.decode()
    assert p.returncode == 0, (text, err)
    lines = [ln[len("pump> ") :] if ln.startswith("pump> ") else ln for ln in text.splitlines()]
    replies = [ln for ln in lines if ln.startswith("{")]
    assert replies[0] == '{"ok": true, "json": true}'
    assert '"role": "clinician"' in replies[1]
    assert '"code": "E_SYNTAX"' in replies[2]
    assert '"state": "stopped"' in replies[3]
    # Ctrl-C: the driver is disabled (EN high) and the program went on after run()
    assert "AFTER False 1" in text, text
    assert b"Traceback" not in err, err
