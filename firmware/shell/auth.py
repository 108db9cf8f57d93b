"""Roles and the clinician PIN: salted hash, lockout, idle logout (SPEC 9).

The PIN itself is never stored, logged or echoed: only sha256(salt + PIN).
Lockout and idle time run on the pump's own elapsed time (`pump.pump_ms()`),
which persistence carries across resets, so a lock survives a reset once the
store saves `snapshot()` and hands it back to `restore()`.

The roles keep the patient's side to the patient's commands; they are not a
security boundary (anyone at the console can press Ctrl-C).
"""

import hashlib

from firmware.errors import E_AUTH, E_LOCKED, E_RANGE, E_SYNTAX, PumpError
from firmware.shell import CLINICIAN, PATIENT

FACTORY_PIN = "1234"
MAX_FAILURES = 5
LOCK_MS = 15 * 60 * 1000
IDLE_MS = 10 * 60 * 1000
SALT_BYTES = 8
PIN_MIN = 4
PIN_MAX = 8


def check_pin_form(pin, what="PIN"):
    """A PIN is 4 to 8 digits; anything else is refused before it is compared."""
    for c in pin:
        if c < "0" or c > "9":
            raise PumpError(E_SYNTAX, "%s must be digits only" % what)
    if not PIN_MIN <= len(pin) <= PIN_MAX:
        raise PumpError(E_RANGE, "%s must be %d to %d digits" % (what, PIN_MIN, PIN_MAX))


def _hex(b):
    return "".join("%02x" % x for x in b)


def _default_random(n):
    import os

    try:
        return os.urandom(n)
    except (AttributeError, NotImplementedError, OSError):
        return None


class Auth:
    """A service on `pump.auth`; `attach(shell)` puts its checks on the shell."""

    persist_key = "auth"  # the checkpoint saves snapshot() with the prescription record

    def __init__(self, pump, random_bytes=None):
        self._pump = pump
        self._random = random_bytes or _default_random
        self._counter = 0
        self._shell = None
        self.failures = 0
        self.lock_until = 0  # pump_ms; 0: not locked
        self.last_ms = pump.pump_ms()  # the last command answered ok
        self._set_pin(FACTORY_PIN)
        self._sync_alarm()

    # ---- credential ----------------------------------------------------------

    def _new_salt(self):
        b = self._random(SALT_BYTES)
        if not b:
            # no urandom: the board id and a counter still make salts differ per change
            import machine

            self._counter += 1
            b = hashlib.sha256(machine.unique_id() + str(self._counter).encode()).digest()[:SALT_BYTES]
        return _hex(b)

    def _digest(self, salt, pin):
        return _hex(hashlib.sha256((salt + ":" + pin).encode()).digest())

    def _set_pin(self, pin):
        self.salt = self._new_salt()
        self.hash = self._digest(self.salt, pin)
        self.default_pin = pin == FACTORY_PIN

    def _matches(self, pin):
        return self._digest(self.salt, pin) == self.hash

    def _sync_alarm(self):
        alarms = self._pump.alarms
        a = alarms.get("DEFAULT_PIN")
        if self.default_pin:
            if a is None or not a.active:
                alarms.raise_alarm("DEFAULT_PIN", "the clinician PIN is the factory PIN; passwd OLD NEW")
        elif a is not None:
            # changing the PIN is the clinician's answer to this alarm: it leaves the list
            if a.active:
                alarms.clear("DEFAULT_PIN")
            if not a.acked:
                alarms.ack(a.id)

    # ---- persistence -----------------------------------------------------------

    def snapshot(self):
        """What persistence stores: no PIN, only its salted hash, and the lock."""
        return {
            "hash": self.hash,
            "salt": self.salt,
            "default": self.default_pin,
            "failures": self.failures,
            "lock_until": self.lock_until,
        }

    def restore(self, d):
        """Take back a `snapshot()` after a reset; a malformed one keeps the current state."""
        h, salt = d.get("hash"), d.get("salt")
        if not isinstance(h, str) or not isinstance(salt, str) or len(h) != 64:
            return False
        self.hash = h
        self.salt = salt
        self.default_pin = bool(d.get("default", False))
        f = d.get("failures", 0)
        lu = d.get("lock_until", 0)
        self.failures = f if isinstance(f, int) and 0 <= f < MAX_FAILURES else 0
        self.lock_until = lu if isinstance(lu, int) and lu >= 0 else 0
        self._sync_alarm()
        return True

    # ---- lockout ---------------------------------------------------------------

    def locked_ms(self):
        """Milliseconds of lockout left (0: login open)."""
        now = self._pump.pump_ms()
        left = self.lock_until - now
        if left > LOCK_MS:
            # a restored lock beyond one lock period is damaged: hold it no longer than one
            self.lock_until = now + LOCK_MS
            left = LOCK_MS
        return left if left > 0 else 0

    def _check_lock(self):
        left = self.locked_ms()
        if left:
            self._pump.event("login_failed", reason="locked")
            raise PumpError(
                E_LOCKED,
                "login locked after %d failed logins; try again in %d min"
                % (MAX_FAILURES, (left + 59999) // 60000),
            )

    def _fail(self, reason):
        # the one change a refused login makes: it is counted and logged
        self.failures += 1
        left = MAX_FAILURES - self.failures
        if left <= 0:
            self.failures = 0
            self.lock_until = self._pump.pump_ms() + LOCK_MS
            self._pump.event("login_failed", reason=reason, locked=True)
            raise PumpError(E_LOCKED, "wrong PIN; login locked for %d min" % (LOCK_MS // 60000))
        self._pump.event("login_failed", reason=reason, locked=False)
        raise PumpError(
            E_AUTH, "wrong PIN; %d attempt%s left before lockout" % (left, "" if left == 1 else "s")
        )

    # ---- session ---------------------------------------------------------------

    def attach(self, shell):
        self._shell = shell
        shell.before.append(self._before)
        shell.after.append(self._after)

    def login(self, shell, pin):
        self._check_lock()
        check_pin_form(pin)
        if not self._matches(pin):
            self._fail("wrong_pin")
        self.failures = 0
        if shell.role != PATIENT:
            self._ended("login")  # a new session begins: the old one's proposals go with it
        shell.role = CLINICIAN
        self.last_ms = self._pump.pump_ms()
        self._pump.event("login", role="clinician")

    def logout(self, shell, why="logout"):
        was = shell.role
        shell.role = PATIENT
        if was != PATIENT:
            self._pump.event("logout", reason=why)
            self._ended(why)

    def _ended(self, why):
        t = self._pump.therapy
        f = getattr(t, "session_ended", None) if t is not None else None
        if f is not None:
            f(why)

    def change_pin(self, old, new):
        check_pin_form(old, "old PIN")
        check_pin_form(new, "new PIN")
        self._check_lock()
        if not self._matches(old):
            self._fail("passwd_wrong_old")
        self.failures = 0
        self._set_pin(new)
        self._sync_alarm()
        self._pump.event("passwd", default=self.default_pin)

    def _idle_check(self, shell):
        if shell.role != PATIENT and self._pump.pump_ms() - self.last_ms >= IDLE_MS:
            self.logout(shell, "idle")

    def _before(self, shell):
        self._idle_check(shell)

    def _after(self, shell):
        self.last_ms = self._pump.pump_ms()

    def service(self, pump):
        if self._shell is not None:
            self._idle_check(self._shell)
        self._sync_alarm()
