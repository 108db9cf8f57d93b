"""The board's console loop: bytes in without blocking the dose loop, one reply per line.

The dose loop is the timer interrupt; this loop only services the pump,
feeds the watchdog and answers lines. Input is polled, so a partial line
waits while the pump goes on. Ctrl-C raises KeyboardInterrupt wherever the
loop is (`micropython.kbd_intr(3)`, the default, is set again in case a
script turned it off); `safe_stop` then stops the motor and the timer and
the watchdog, so the REPL and `mpremote` can take over.

Human mode echoes what is typed (a serial terminal shows nothing otherwise)
and lets backspace edit the line; JSON mode echoes nothing and writes
nothing but replies and the prompt.
"""

import sys

from firmware import ctrlc
from firmware.shell.lines import LineSplitter

PROMPT = "pump> "
POLL_MS = 10  # longest wait for input before the pump is serviced again
READ_BURST = 64  # bytes read in one pass before the pump is serviced again


def _kbd_intr(ch):
    try:
        import micropython

        micropython.kbd_intr(ch)  # pyright: ignore[reportAttributeAccessIssue]
    except (ImportError, AttributeError):  # CPython
        pass


class Console:
    def __init__(self, pump, shell, inp, write, poll):
        self.pump = pump
        self.shell = shell
        self._inp = inp
        self._write = write
        self._poll = poll
        self.lines = LineSplitter()
        self._cr = False  # the last byte was CR: a LF after it ends no new line

    def prompt(self):
        self._write(PROMPT)

    def feed(self, data):
        """Take bytes from the console; answer every line they complete."""
        human = not self.shell.json
        if human:
            data = self._edit(data)
        for line in self.lines.feed(data):
            reply = self.shell.handle(line)
            if reply is not None:
                self._write(reply + "\n")
                self.prompt()
            elif not self.shell.json:
                self.prompt()  # a person pressing Enter gets a fresh prompt

    def _edit(self, data):
        # echo and backspace for a person at a terminal; JSON mode never gets here
        out = bytearray()
        for b in data:
            if b == 8 or b == 127:
                if self.lines.erase():
                    self._write("\b \b")
                continue
            if b == 13 or (b == 10 and not self._cr):
                self._write("\n")  # the boards' sys.stdout turns LF into CRLF itself
            elif 32 <= b < 127 or b == 9:
                self._write(chr(b))
            self._cr = b == 13
            out.append(b)
        return bytes(out)

    def step(self):
        """Read what is waiting (at most READ_BURST bytes) without blocking for long."""
        n = 0
        while n < READ_BURST and self._poll.poll(0 if n else POLL_MS):
            data = self._inp.read(1)
            if not data:
                break
            n += 1
            self.feed(data)
        return n


def safe_stop(pump, board, on_stop=None):
    """Motor off, driver disabled, tick timer and watchdog stopped: the REPL is free.

    A second Ctrl-C must not cut this short, so the interrupt character is
    off while it runs and on again after.
    """
    _kbd_intr(-1)
    try:
        pump.engine.stop()  # no step after this; the driver is disabled
        try:
            if on_stop is not None:
                on_stop()
        finally:
            board.stop_ticks()
            board.stop_watchdog()
    finally:
        _kbd_intr(3)


def serve(pump, shell, board, inp=None, write=None, poll=None, on_stop=None):
    """Run the console until Ctrl-C (KeyboardInterrupt); always ends in `safe_stop`."""
    try:
        if inp is None:
            import select

            inp = sys.stdin.buffer
            poll = select.poll()
            poll.register(sys.stdin, select.POLLIN)
        if write is None:
            write = sys.stdout.write
        con = Console(pump, shell, inp, write, poll)
        _kbd_intr(3)
        board.start_ticks(pump.engine.on_tick)
        board.start_watchdog()
        con.prompt()
        while True:
            pump.service()
            if pump.safety is None or pump.safety.watchdog_ok:
                # fed only while the dose loop ticks and the sensors are sampled (the supervisor judges)
                board.feed_watchdog()
            con.step()
            if ctrlc.take():
                raise KeyboardInterrupt  # a timer callback caught it (firmware/ctrlc.py)
    except KeyboardInterrupt:
        safe_stop(pump, board, on_stop)
        if not shell.json:
            (write or sys.stdout.write)("\npump stopped; REPL free\n")
        return
    except BaseException:
        safe_stop(pump, board)
        raise
