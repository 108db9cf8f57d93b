"""One connection to a pump's shell: a serial device, a `socket://` URL, or the simulator.

Every reply is the text between the line sent and the next `pump> ` prompt,
so the same code reads a board, a TCP bridge and the simulator's pipe.
"""

import json
import os
import subprocess
import time

from tools.pumpctl import ports
from tools.sim import launch

PROMPT = b"pump> "


class PumpError(Exception):
    """An error reply from the pump (or the link): a stable code and a one-line message."""

    def __init__(self, code, msg):
        super().__init__("%s: %s" % (code, msg))
        self.code = code
        self.msg = msg


class _Link:
    """Bytes in and out with a read timeout; subclasses supply `_write` and `_read`."""

    def __init__(self, timeout):
        self.timeout = timeout
        self._buf = b""

    def _write(self, data):
        raise NotImplementedError

    def _read(self):
        """Some bytes (b"" if none yet), or None once the other end has closed."""
        raise NotImplementedError

    def until_prompt(self, timeout=None):
        limit = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            i = self._buf.find(PROMPT)
            if i >= 0:
                out, self._buf = self._buf[:i], self._buf[i + len(PROMPT) :]
                return out
            if time.monotonic() > limit:
                raise PumpError("E_TIMEOUT", "no prompt from the pump within %.0f s" % self.timeout)
            data = self._read()
            if data is None:
                raise PumpError("E_LINK", "the pump closed the connection")
            self._buf += data


class SerialLink(_Link):
    """A board's USB serial port or any URL pyserial knows (`socket://HOST:PORT`)."""

    def __init__(self, url, timeout=10.0, baud=115200):
        super().__init__(timeout)
        import serial

        self.url = url
        # a device is opened exclusively (a lock): a second program on the same shell would
        # interleave its lines with ours; "busy" says so instead
        try:
            if "://" in url:
                self._s = serial.serial_for_url(url, baudrate=baud, timeout=0.2)
            else:
                self._s = serial.serial_for_url(url, baudrate=baud, timeout=0.2, exclusive=True)
        except (serial.SerialException, ValueError, OSError) as e:
            raise PumpError(
                "E_PORT", "cannot open %s: %s; %s" % (url, ports.reason(e), ports.summary())
            ) from None

    def _write(self, data):
        try:
            self._s.write(data)
            self._s.flush()
        except OSError as e:  # serial.SerialException is an OSError
            raise PumpError("E_LINK", "lost %s while writing: %s" % (self.url, ports.reason(e))) from None

    def _read(self):
        try:
            return self._s.read(self._s.in_waiting or 1)
        except OSError as e:
            raise PumpError("E_LINK", "lost %s while reading: %s" % (self.url, ports.reason(e))) from None

    def start(self):
        """Line up with the shell whatever came before: a boot banner, a half-typed line, old prompts.

        A blank line ends anything half typed (a board answers it with a prompt,
        the simulator with nothing), then a line whose error reply carries a
        marker: everything up to that reply's prompt is discarded.
        """
        import random

        self._s.reset_input_buffer()
        marker = b"pumpctl-sync-%06d" % random.randrange(10**6)
        self._write(b"\r\njson on\r\nhelp " + marker + b"\r\n")
        limit = time.monotonic() + self.timeout
        while marker not in self._buf:
            if time.monotonic() > limit:
                raise PumpError("E_TIMEOUT", "no answer from a pump shell within %.0f s" % self.timeout)
            data = self._read()
            if data is None:
                raise PumpError("E_LINK", "the pump closed the connection")
            self._buf += data
        self._buf = self._buf[self._buf.index(marker) :]
        self.until_prompt()

    def close(self):
        self._s.close()


class ServedLink(SerialLink):
    """`--state DIR`: the background simulator of DIR on its `socket://` URL, this call's turn held.

    The simulated pump lives between calls (tools/pumpctl/simserver.py starts it with the first
    one), so a call is a connection, as to a board: no boot, no log entries of its own, a
    bolus or a login carried on to the next call. Virtual time moves only with `sim run`.
    """

    def __init__(self, state, timeout=600.0):
        from tools.pumpctl import simserver

        self.state = simserver.state_dir(state)
        try:
            self._lock = simserver.lock(self.state, timeout)
        except simserver.Error as e:
            raise PumpError(e.code, e.msg) from None
        try:
            url = simserver.ensure(self.state)
            try:
                super().__init__(url, timeout=timeout)
            except PumpError as e:
                raise PumpError(
                    "E_SIM",
                    "the simulator of %s does not answer on %s (%s); pumpctl --state %s sim stop"
                    % (self.state, url, e.msg.split(";")[0], self.state),
                ) from None
        except simserver.Error as e:
            simserver.unlock(self._lock)
            raise PumpError(e.code, e.msg) from None
        except BaseException:
            simserver.unlock(self._lock)
            raise

    def close(self):
        from tools.pumpctl import simserver

        try:
            super().close()
        finally:
            if self._lock is not None:
                simserver.unlock(self._lock)
                self._lock = None


class SimLink(_Link):
    """A fresh simulator as a subprocess on pipes (no `--state`, or the bench's own run)."""

    def __init__(self, state=None, timeout=600.0, extra=()):
        super().__init__(timeout)
        args = list(extra)
        if state:
            # the simulator runs in the repository: a relative DIR means the caller's directory
            state = os.path.abspath(state)
            os.makedirs(state, exist_ok=True)
            args += ["--state", state]
        try:
            self._p = subprocess.Popen(
                launch.command(args),
                env=launch.env(),
                cwd=launch.ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                bufsize=0,
            )
        except OSError as e:
            raise PumpError(
                "E_SIM", "cannot start the simulator (%s): %s; run make venv" % (e.filename, e.strerror)
            ) from None

    def pid(self):
        return self._p.pid

    def _write(self, data):
        assert self._p.stdin is not None
        try:
            self._p.stdin.write(data)
            self._p.stdin.flush()
        except BrokenPipeError:
            raise PumpError("E_LINK", "the simulator has ended") from None

    def _read(self):
        assert self._p.stdout is not None
        data = os.read(self._p.stdout.fileno(), 65536)
        return data or None

    def start(self):
        self.until_prompt()

    def close(self):
        # end of input: the simulator shuts the pump down cleanly and saves its state
        assert self._p.stdin is not None and self._p.stdout is not None
        self._p.stdin.close()
        self._p.stdout.read()
        self._p.wait(timeout=60)


def open_link(port, state=None, timeout=None):
    if port == "sim" and state:
        return ServedLink(state, timeout=timeout or 600.0)
    if port == "sim":
        return SimLink()
    return SerialLink(port, timeout=timeout or 10.0)


class Pump:
    """The shell in JSON mode: `call(line)` returns the reply dict or raises PumpError."""

    def __init__(self, link):
        self.link = link
        link.start()
        self.call("json on")

    def line(self, text, timeout=None):
        """Send one line, return the raw reply text (no prompt)."""
        if "\n" in text or "\r" in text:
            raise PumpError("E_SYNTAX", "one line at a time")
        self.link._write(text.encode() + b"\n")
        return self.link.until_prompt(timeout).decode("utf-8", "replace").strip()

    def call(self, text, timeout=None, check=True):
        raw = self.line(text, timeout)
        try:
            reply = json.loads(raw.splitlines()[-1]) if raw else {}
        except ValueError:
            raise PumpError("E_PROTOCOL", "not a JSON reply: %r" % raw[:200]) from None
        if check and not reply.get("ok", False):
            raise PumpError(reply.get("code", "E_UNKNOWN"), reply.get("error", "error"))
        return reply

    def close(self):
        self.link.close()

    def simulated(self):
        """True when the pump is the simulator, whose syringe work pumpctl does (`sim refill`)."""
        return isinstance(self.link, (SimLink, ServedLink))


def connect(port="sim", state=None, timeout=None):
    link = open_link(port, state=state, timeout=timeout)
    try:
        return Pump(link)
    except BaseException:
        link.close()  # a served simulator's lock goes with it
        raise
