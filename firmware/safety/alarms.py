"""Alarm codes, priorities and what each does to delivery (SPEC 7), and the latch.

An alarm is latched from its raise until it is acknowledged *and* its
condition has cleared. A stopping alarm puts the pump in state `alarm`;
`start` resumes once every stopping alarm is acknowledged.

Sound: the highest priority among unacknowledged alarms sounds (patterns in
firmware/safety/sound.py) unless silenced; a silence lasts at most 2 h and a
new alarm ends it (IEC 60601-1-8: a new condition is never held silent).
Every raise, clear, acknowledge, silence and re-sound is an event, so the log
holds them all.
"""

HIGH = "high"
MEDIUM = "medium"
LOW = "low"

# code: (priority, stops delivery)
TABLE = {
    "OCCLUSION": (HIGH, True),
    "STALL": (HIGH, True),
    "RESERVOIR_EMPTY": (HIGH, True),
    "DOSE_LOOP": (HIGH, True),
    "MEMORY": (HIGH, True),
    "BATTERY_CRITICAL": (HIGH, True),
    # docs/safety.md: an amendment of SPEC 7 (the STEP pin's count disagrees with the engine's)
    "STEP_MISMATCH": (HIGH, True),
    # docs/safety.md (issue 16): the power-on self-test or a periodic self-check failed; the
    # detail names the checks
    "SELFTEST": (HIGH, True),
    "RESERVOIR_MISMATCH": (HIGH, False),
    # docs/safety.md (issue 16): hours of delivery with the pressure sensor faulty, so no
    # occlusion can be detected; delivery goes on (withdrawal is the greater risk)
    "OCCLUSION_UNPROTECTED": (HIGH, False),
    "SENSOR_FAULT": (MEDIUM, False),
    "RESERVOIR_LOW": (MEDIUM, False),
    "BATTERY_LOW": (MEDIUM, False),
    # docs/safety.md (issue 16): the battery line at a rail (or frozen): named, not SENSOR_FAULT
    "BATTERY_FAULT": (MEDIUM, False),
    "UNEXPECTED_RESET": (MEDIUM, False),
    "CLOCK": (MEDIUM, False),
    "STOPPED": (MEDIUM, False),
    "DOSE_CAP": (MEDIUM, False),
    # a confirmed refill whose withdrawn volume differs from the tracked one (issue 16): a
    # clinician looks at the pocket; latched until acked, delivery goes on
    "REFILL_DISCREPANCY": (MEDIUM, False),
    "DEFAULT_PIN": (LOW, False),
}


class Alarm:
    def __init__(self, ident, code, since, detail):
        self.id = ident
        self.code = code
        self.priority, self.stops = TABLE[code]
        self.since = since  # wall-clock Unix seconds
        self.detail = detail
        self.acked = False
        self.active = True  # the condition is still present

    def fields(self, fmt_time):
        return {
            "id": self.id,
            "code": self.code,
            "priority": self.priority,
            "since": fmt_time(self.since),
            "acked": self.acked,
            "active": self.active,
            "detail": self.detail,
        }


MAX_SILENCE_MS = 7200000  # SPEC 7: at most 2 h
DEFAULT_SILENCE_MS = 120000  # IEC 60601-1-8 audio paused: commonly 2 min
_RANK = {HIGH: 3, MEDIUM: 2, LOW: 1}


class Alarms:
    persist_key = "alarms"  # the store saves snapshot() and restore()s it at boot

    def __init__(self, pump):
        self._pump = pump
        self._next = 1
        self.items = []
        self._silence_end = None  # pump.now_ms() when the silence ends, or None

    def get(self, code):
        for a in self.items:
            if a.code == code:
                return a
        return None

    def raise_alarm(self, code, detail=""):
        """Raise (or re-assert) an alarm; a stopping one stops delivery at once."""
        a = self.get(code)
        if a is None:
            a = Alarm(self._next, code, self._pump.wall(), detail)
            self._next += 1
            self.items.append(a)
            self._pump.event("alarm", code=code, id=a.id, priority=a.priority, detail=detail)
            self._end_silence("new_alarm")
        elif not a.active:
            a.active = True
            a.detail = detail
            self._pump.event("alarm", code=code, id=a.id, priority=a.priority, detail=detail, again=True)
        if a.stops:
            self._pump.alarm_stop(code)
        return a

    def clear(self, code):
        """The condition is gone; an acknowledged alarm leaves the list."""
        a = self.get(code)
        if a is None or not a.active:
            return
        a.active = False
        self._pump.event("alarm_clear", code=code, id=a.id)
        if a.acked:
            self.items.remove(a)

    def ack(self, ident=None):
        """Acknowledge one alarm by id, or all; returns the ids acknowledged."""
        done = []
        for a in list(self.items):
            if ident is not None and a.id != ident:
                continue
            if not a.acked:
                a.acked = True
                done.append(a.id)
                self._pump.event("ack", code=a.code, id=a.id)
            if not a.active:
                self.items.remove(a)
        return done

    def resound(self, code, detail=None):
        """Sound an acknowledged alarm again (a reminder): it needs a new `ack`."""
        a = self.get(code)
        if a is None or not a.acked:
            return
        a.acked = False
        if detail is not None:
            a.detail = detail
        self._pump.event("alarm", code=code, id=a.id, priority=a.priority, detail=a.detail, again=True)
        self._end_silence("new_alarm")

    def silence(self, ms):
        """Hold the sound for `ms` (at most 2 h); the alarms stay latched and shown."""
        if ms <= 0 or ms > MAX_SILENCE_MS:
            raise ValueError("silence out of range")
        self._silence_end = self._pump.now_ms() + ms
        self._pump.event("silence", ms=ms, ids=[a.id for a in self.items if not a.acked])

    def silenced_ms(self):
        """Milliseconds of silence left (0: not silenced)."""
        if self._silence_end is None:
            return 0
        left = self._silence_end - self._pump.now_ms()
        return left if left > 0 else 0

    def _end_silence(self, why):
        if self._silence_end is not None:
            self._silence_end = None
            self._pump.event("resound", why=why)

    def top(self, audible=True):
        """The priority to annunciate: the highest unacknowledged one (None: quiet)."""
        if audible and self._silence_end is not None:
            return None
        best = None
        for a in self.items:
            if not a.acked and (best is None or _RANK[a.priority] > _RANK[best]):
                best = a.priority
        return best

    def snapshot(self):
        return {
            "next": self._next,
            "items": [[a.id, a.code, a.since, a.detail, a.acked, a.active] for a in self.items],
        }

    def restore(self, d):
        self._next = d.get("next", 1)
        self.items = []
        for ident, code, since, detail, acked, active in d.get("items", []):
            if code not in TABLE:
                continue
            a = Alarm(ident, code, since, detail)
            a.acked = acked
            a.active = active
            self.items.append(a)

    def stopping_unacked(self):
        return [a for a in self.items if a.stops and not a.acked]

    def codes(self):
        return [a.code for a in self.items]

    def service(self, pump):
        if self._silence_end is not None and pump.now_ms() >= self._silence_end:
            self._end_silence("timeout")

    def listed(self):
        """Every alarm as the fields `status` and `alarms` answer with (`since` in ISO 8601)."""
        return [a.fields(_fmt) for a in self.items]

    def status(self, pump, d):
        d["alarms"] = self.listed()


def _fmt(t):
    from firmware import isotime

    return isotime.fmt(t)
