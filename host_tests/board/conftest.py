"""The board suite's session: one emulated Pico, deployed once with the project's deploy path.

`make board-test` runs this directory (it is kept out of `make unit`).
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tools import deploy  # noqa: E402
from tools.emu import rp2emu  # noqa: E402


class Board:
    """The emulator plus the console a user would type on (reopened after each mpremote session)."""

    def __init__(self, emu):
        self.emu = emu
        self.con = None
        self.deployed = None

    def console(self):
        if self.con is not None:
            self.con.close()
        self.con = self.emu.console(timeout=120)
        return self.con

    def close_console(self):
        if self.con is not None:
            self.con.close()
            self.con = None

    def shell(self, login=True):
        """A fresh console at the pump's prompt, in JSON mode (and logged in as clinician)."""
        con = self.console()
        # "json on" answers in either mode (a blank line gets no prompt in JSON mode)
        con.ok("json on")
        if login:
            con.ok("login clinician 1234")
        return con

    def boot(self, off_us=0, login=True):
        """Power cycle; returns (console, emulated us from power-on to the first `status` answer)."""
        self.close_console()
        boot_us, con = self.emu.power_on_to_status(off_us)
        self.con = con
        con = self.shell(login=login)
        return con, boot_us


@pytest.fixture(scope="session")
def board(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("rp2emu"))
    emu = rp2emu.Emulator(work).start()
    b = Board(emu)
    try:
        b.deployed = deploy.deploy(emu.repl_url, quiet=True)
        yield b
    finally:
        b.close_console()
        emu.stop()
        tail = emu.console_log()[-3000:]
        print("\n--- board console (tail) ---\n" + tail)
