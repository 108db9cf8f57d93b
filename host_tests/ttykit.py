"""`make sim` on a pseudo-terminal, as a person runs it (CPython only: pty)."""

import os
import pty
import select
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Tty:
    """tools/sim/launch.py on a pty: `send` keys, `read_until` output; `close` in a finally."""

    def __init__(self, args):
        master, slave = pty.openpty()
        self.p = subprocess.Popen(
            [sys.executable, "-m", "tools.sim.launch"] + list(args),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=dict(os.environ),
        )
        os.close(slave)
        self.master = master
        self.buf = b""

    def read_until(self, token, timeout=60):
        end = time.time() + timeout
        while token not in self.buf and time.time() < end:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    self.buf += os.read(self.master, 4096)
                except OSError:
                    break
        return token in self.buf

    def send(self, b):
        os.write(self.master, b)

    def close(self):
        if self.p.poll() is None:
            self.p.terminate()
        self.p.wait(timeout=20)
        os.close(self.master)
