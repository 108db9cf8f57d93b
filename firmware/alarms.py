"""Alarm codes, priorities and what each does to delivery (SPEC 7), and the latch.

An alarm is latched from its raise until it is acknowledged *and* its
condition has cleared. A stopping alarm puts the pump in state `alarm`;
`start` resumes once every stopping alarm is acknowledged.
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
    "RESERVOIR_MISMATCH": (HIGH, False),
    "SENSOR_FAULT": (MEDIUM, False),
    "RESERVOIR_LOW": (MEDIUM, False),
    "BATTERY_LOW": (MEDIUM, False),
    "UNEXPECTED_RESET": (MEDIUM, False),
    "CLOCK": (MEDIUM, False),
    "STOPPED": (MEDIUM, False),
    "DOSE_CAP": (MEDIUM, False),
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


class Alarms:
    def __init__(self, pump):
        self._pump = pump
        self._next = 1
        self.items = []

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
        elif not a.active:
            a.active = True
            a.detail = detail
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

    def stopping_unacked(self):
        return [a for a in self.items if a.stops and not a.acked]

    def codes(self):
        return [a.code for a in self.items]

    def service(self, pump):
        pass

    def status(self, pump, d):
        d["alarms"] = [a.fields(_fmt) for a in self.items]


def _fmt(t):
    from firmware import isotime

    return isotime.fmt(t)
