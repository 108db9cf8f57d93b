"""Restarts into an occlusion that has not resolved (issue 16 item 4; docs/safety.md, SPEC 6).

Each ack + `start` against a line still blocked pushes a few uL more before the
detector stops it again, and the back-off leaves part of each push in the line.
Two such restarts in an hour are allowed; a third, while the pump is again in an
OCCLUSION alarm, is refused until a clinician says `start override` (logged) or
the hour has passed. Being in the alarm again after a restart is the evidence
that the pressure did not fall back: a relieved line reads near its baseline
whether or not it is still blocked, so a reading taken while stopped cannot
unlock it.
"""

from firmware.errors import E_STATE, PumpError
from firmware.pump import ALARM

WINDOW_MS = 3600000  # issue 16: restarts counted over the trailing hour of pump time
FREE_RESTARTS = 2


class Restarts:
    persist_key = "occl_restarts"  # a power cut must not hand out two more restarts

    def __init__(self, pump):
        self._pump = pump
        self.times = []  # pump_ms of each restart from an OCCLUSION alarm, within the window

    def recent(self):
        now = self._pump.pump_ms()
        self.times = [t for t in self.times if now - t < WINDOW_MS]
        return len(self.times)

    def admit(self, pump, override):
        """Before `start`: None unless it restarts from an OCCLUSION alarm, else the fields of
        its log entry. Past the bound without `override`: PumpError E_STATE, nothing changed."""
        a = pump.alarms.get("OCCLUSION")
        if pump.state != ALARM or a is None:
            return None
        n = self.recent()
        over = n >= FREE_RESTARTS
        if over and not override:
            raise PumpError(
                E_STATE,
                "occlusion not resolved: %d restarts in the last hour ran into it again (%s); "
                "clear the line, then start override" % (n, a.detail),
            )
        return {"n": n + 1, "override": over, "detail": a.detail}

    def started(self, pump, note):
        self.times.append(pump.pump_ms())
        pump.event("occlusion_restart", **note)

    def service(self, pump):
        pass

    def snapshot(self):
        return {"t": self.times}

    def restore(self, d):
        self.times = [t for t in d.get("t", []) if isinstance(t, int)]
