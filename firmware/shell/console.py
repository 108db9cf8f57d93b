"""The board's console loop: bytes in without blocking the dose loop, one reply per line.

The dose loop is the timer interrupt; this loop only services the pump,
feeds the watchdog and answers lines. Input is polled, so a partial line
waits while the pump goes on. Ctrl-C raises KeyboardInterrupt wherever the
loop is (`micropython.kbd_intr(3)`, the default, is set again in case a
script turned it off); `safe_stop` then stops the motor and the timer and
the watchdog, so the REPL and `mpremote` can take over.

Human mode echoes what is typed (a serial terminal shows nothing otherwise)
and edits the line as a terminal user expects (firmware/shell/editline.py,
imported at the first byte typed in human mode, not at boot); it prints an
alarm when it is raised, on its own line, and then the prompt and the line
typed so far again. JSON mode echoes nothing and writes nothing but replies
and the prompt (SPEC 9): no banner, no alarm lines, no editing.
"""

import sys

from firmware import ctrlc
from firmware.pump import VERSION
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
        self.editor = None  # the line editor, made at the first byte typed in human mode
        self.busy = False  # a line is being answered: an alarm line needs no prompt after it
        self.listen(pump)

    def listen(self, pump):
        """Hear `pump`'s alarms (again after the simulator's power cut built a new pump)."""
        self.pump = pump
        pump.listeners.append(self._event)

    def banner(self):
        if not self.shell.json:
            self._write("pump firmware %s on %s; type help\n" % (VERSION, self.pump.board.name))

    def prompt(self):
        self._write(PROMPT)

    def _event(self, name, fields):
        if name != "alarm" or self.shell.json:
            return
        line = "alarm %s (%s)" % (fields.get("code"), fields.get("priority"))
        if fields.get("detail"):
            line += ": " + str(fields["detail"])
        if self.busy:
            self._write(line + "\n")  # the typed line already ended; the reply follows
            return
        self._write("\r\x1b[K" + line + "\n")  # over the prompt line, then that line again
        ed = self.editor
        if ed is None:
            self.prompt()
        else:
            ed.redraw(PROMPT)

    def feed(self, data):
        """Take bytes from the console; answer every line they complete."""
        i = 0
        n = len(data)
        while i < n and not self.shell.json:
            ed = self.editor
            if ed is None:
                from firmware.shell.editline import Editor

                ed = self.editor = Editor(self._write)
            line = ed.key(data[i])
            i += 1
            if line is not None:
                self._answer(line)
        if i < n:
            for line in self.lines.feed(data[i:] if i else data):
                self._answer(line)

    def _answer(self, line):
        self.busy = True
        try:
            reply = self.shell.handle(line)
        finally:
            self.busy = False
        if reply is not None:
            self._write(reply + "\n")
            self.prompt()
        elif not self.shell.json:
            self.prompt()  # a person pressing Enter gets a fresh prompt

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
        con.banner()
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
