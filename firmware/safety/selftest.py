"""The power-on self-test and the periodic self-checks (issue 16; docs/safety.md, "Self-test").

`app.build` calls `attach(pump)` after the records are restored and before the dose governor
arms the first allowance, so nothing moves before the boot checks have judged:

- image: the application's ROMFS image. boardsel hashed it before any of it ran (a bad one
  never runs): its result is recorded, not hashed again. `none`: the code runs from no image
  (a loose tree, the simulator without one);
- library: firmware/drugs.json's SHA-256 against firmware/drugs.sha256, recorded with the build;
- record: the checkpoint the boot has just written, read back from flash and checked;
- pressure, reservoir, battery: one sample each, healthy (not at a rail, answering);
- driver: the stepper's EN line reads back on, then off, as written; DIAG low where wired;
- sound: a short buzzer and LED pulse, both outputs read back;
- watchdog: armed, asked of the board at the first main-loop pass (the loop arms it after build).

One `selftest` log entry holds every result. A failure raises SELFTEST (high, stopping) naming
the checks. At a `start` after SELFTEST is acknowledged the integrity checks run again (INTEGRITY);
one still failing raises it again and the motor stays off. A sensor or the sound alone does not
hold a clinician's `start`: delivery then goes on under that sensor's own alarm, as it does when a
sensor fails while running (SPEC 7). Every PERIOD_MS the image (a chunk a pass) and the library
are hashed again and the sensors' health read; an image or library mismatch raises SELFTEST.
"""

import hashlib
import sys

OK = "ok"
PERIOD_MS = 3600000  # the periodic re-check: hourly (docs/safety.md says why)
CHUNK = 4096  # image bytes hashed per main-loop pass: about 5 ms on the Pico
PULSE_MS = 150  # the boot's buzzer/LED pulse: one IEC 60601-1-8 pulse length
SENSORS = ("pressure", "reservoir", "battery")
INTEGRITY = ("image", "library", "record", "driver", "watchdog")
ORDER = ("image", "library", "record") + SENSORS + ("driver", "sound", "watchdog")
CODE = "SELFTEST"


def library_path():
    # firmware/safety/selftest.py -> firmware/drugs.json, wherever the tree sits (as druglib)
    try:
        parts = __file__.rsplit("/", 3)
    except NameError:
        parts = []
    if len(parts) == 4:
        return parts[0] + "/" + parts[1] + "/drugs.json"
    if len(parts) == 3:
        return parts[0] + "/drugs.json"
    return "firmware/drugs.json"


def _hex(digest):
    return "".join("%02x" % b for b in digest)


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def check_library(path=None):
    """'ok' if the drug library hashes to the digest recorded beside it (drugs.sha256)."""
    path = path or library_path()
    data = _read(path)
    if data is None:
        return "missing"
    rec = _read(path[:-5] + ".sha256")
    want = rec.split()[0].decode() if rec and rec.split() else None
    if want is None or len(want) != 64:
        return "no recorded checksum"
    return OK if _hex(hashlib.sha256(data).digest()) == want else "mismatch"


def image_source(board):
    """(buffer, length, hex SHA-256, checked at this boot) of the application image, or None."""
    f = getattr(board, "app_image", None)
    if f is not None:
        return f()
    sel = sys.modules.get("boardsel")
    f = getattr(sel, "image_view", None) if sel is not None else None
    return f() if f is not None else None


def hash_image(src):
    buf, n, want = src[0], src[1], src[2]
    h = hashlib.sha256()
    pos = 0
    while pos < n:
        end = pos + CHUNK if pos + CHUNK < n else n
        h.update(buf[pos:end])
        pos = end
    return OK if _hex(h.digest()) == want else "mismatch"


def check_driver(stepper):
    """EN written on and off reads back each time (then as it was); DIAG low."""
    was = stepper.enabled()
    try:
        stepper.enable()
        on = stepper.enabled()
        stepper.disable()
        off = not stepper.enabled()
    finally:
        if was:
            stepper.enable()
        else:
            stepper.disable()
    if not on:
        return "EN reads off when on"
    if not off:
        return "EN reads on when off"
    if stepper.stalled():
        return "DIAG high"
    return OK


def check_watchdog(board):
    f = getattr(board, "watchdog_armed", None)
    if f is None:
        return "cannot be read on this board"
    return OK if f() else "not armed"


class SelfTest:
    def __init__(self, pump):
        self._pump = pump
        self.results = {}  # the boot's results, then the last periodic pass's
        self.failed = []
        self._first = True  # the watchdog is judged at the first pass
        self._unlogged = False  # the boot entry is written at the pass after (see service)
        self._last_ms = pump.now_ms()
        self._job = None  # the periodic pass under way: [src, sha256, pos] or [None, ...]
        self._reported = []  # the periodic failures last logged (a lasting fault is logged once)
        self.period_ms = PERIOD_MS
        self.chunk = getattr(pump.board, "hash_chunk", CHUNK)
        pump.listeners.append(self._on_event)

    # ---- the boot ---------------------------------------------------------------

    def boot(self):
        """The checks that need no main loop; a failure raises SELFTEST before anything moves."""
        p = self._pump
        r = self.results
        self._guard(r, "image", self._boot_image)
        self._guard(r, "library", check_library)
        self._guard(r, "record", self._record)
        s = p.safety
        for name, sensor in s.sensors.named() if s is not None else ():
            r[name] = "absent" if sensor is None else self._sample(sensor)
        self._guard(r, "driver", lambda: check_driver(p.board.stepper))
        self._guard(r, "sound", self._pulse)
        self._judge(p, [k for k in r if r[k] not in (OK, "absent", "none")], "boot")

    def _boot_image(self):
        src = image_source(self._pump.board)
        if src is None:
            return "none"
        return OK if src[3] else hash_image(src)

    def _record(self):
        st = self._pump.store
        if st is None:
            return "no flash store"
        why = st.acct.verify()
        return OK if why is None else why

    def _sample(self, sensor):
        try:
            return sensor.sample(0, False)
        except Exception as e:  # noqa: BLE001  (a check that did not finish is a failure)
            return "error %r" % e

    def _pulse(self):
        s = self._pump.safety
        if s is None:
            return "no annunciator"
        return s.sound.test_pulse(PULSE_MS)

    def _guard(self, r, name, fn):
        try:
            r[name] = fn()
        except Exception as e:  # noqa: BLE001  (a check that did not finish is never a pass)
            r[name] = "error %r" % e

    def _judge(self, p, bad, when):
        self.failed = bad
        if bad:
            detail = when + ": " + self._detail(bad)
            a = p.alarms.get(CODE)
            if a is not None and a.active:
                a.detail = detail  # the watchdog's result joins the boot's others
            p.alarms.raise_alarm(CODE, detail)
        elif when == "boot":
            p.alarms.clear(CODE)  # a latched one from the last boot: the condition is gone

    def _detail(self, bad):
        r = self.results
        return ", ".join(k + " " + str(r[k]) for k in ORDER if k in bad)

    def _log(self, p, when):
        out = {"when": when, "passed": not self.failed, "failed": self.failed}
        for k in self.results:
            out[k] = self.results[k]
        if p.log is not None:
            p.log.add("selftest", out)  # not an event: it changes no record, so no checkpoint

    # ---- the main loop ------------------------------------------------------------

    def service(self, pump):
        if self._first:
            self._first = False
            self._guard(self.results, "watchdog", lambda: check_watchdog(pump.board))
            if self.results["watchdog"] != OK:
                self._judge(pump, self.failed + ["watchdog"], "boot")
            # the entry's littlefs append (60-150 ms on the Pico) waits one pass: the console
            # answers its first line in between. Every check has judged and any failure has
            # raised SELFTEST already; only the record of them comes a pass later
            self._unlogged = True
            return
        if self._unlogged:
            self._unlogged = False
            self._log(pump, "boot")
            return
        job = self._job
        if job is None:
            if pump.now_ms() - self._last_ms >= self.period_ms:
                self._last_ms = pump.now_ms()
                src = None
                try:
                    src = image_source(pump.board)
                except Exception:  # noqa: BLE001  (judged as a failure when the pass ends)
                    src = False
                self._job = [src, hashlib.sha256() if src else None, 0]
            return
        src, h, pos = job
        if src and pos < src[1]:
            end = pos + self.chunk if pos + self.chunk < src[1] else src[1]
            h.update(src[0][pos:end])  # a chunk a pass: the loop stays responsive
            job[2] = end
            return
        self._job = None
        self._periodic(pump, src, h)

    def _periodic(self, pump, src, h):
        r = {}
        if src is None:
            r["image"] = "none"
        elif not src:
            r["image"] = "error"
        else:
            r["image"] = OK if _hex(h.digest()) == src[2] else "mismatch"
        self._guard(r, "library", check_library)
        s = pump.safety
        for name, sensor in s.sensors.named() if s is not None else ():
            # the supervisor samples every period and raises their own alarms: read its health
            r[name] = "absent" if sensor is None else sensor.health
        self.results = r
        bad = [k for k in r if r[k] not in (OK, "absent", "none")]
        self.failed = bad
        stop = [k for k in bad if k in INTEGRITY]
        if stop:
            pump.alarms.raise_alarm(CODE, "periodic: " + self._detail(stop))
        if bad != self._reported:
            self._reported = bad
            self._log(pump, "periodic")

    # ---- a start after SELFTEST ----------------------------------------------------

    def _on_event(self, name, fields):
        if name != "start":
            return
        p = self._pump
        a = p.alarms.get(CODE)
        if a is None or not a.acked:
            return
        r = {}
        self._guard(r, "image", self._boot_image)
        self._guard(r, "library", check_library)
        self._guard(r, "record", self._record)
        self._guard(r, "driver", lambda: check_driver(p.board.stepper))
        self._guard(r, "watchdog", lambda: check_watchdog(p.board))
        self.results = r
        p.alarms.clear(CODE)  # acknowledged: it leaves the list; a failure below is a new alarm
        self._judge(p, [k for k in r if r[k] not in (OK, "none")], "start")
        self._log(p, "start")


def attach(pump):
    """Run the boot checks and put the self-test on the main loop (app.build)."""
    st = SelfTest(pump)
    pump.selftest = st
    st.boot()
    pump.services.append(st)
    return st
