"""Occlusion protection lost to a pressure sensor fault (issue 16 item 5; docs/safety.md, SPEC 6).

With the pressure sensor at a rail, frozen or implausible, the occlusion
detector has nothing to judge, and SENSOR_FAULT (medium) is all that says so.
Delivery goes on (stopping is the greater risk: withdrawal), but after
UNPROTECTED_MS of delivery without protection OCCLUSION_UNPROTECTED (high,
delivery continues) escalates it. `status` shows `occlusion_protection`.
"""

from drivers.analog import OK
from firmware.pump import RUNNING

# 4 h: longer than any transient (a reseated connector, the 10 min a frozen reading takes to
# show), well inside the 12-24 h over which withdrawal from interrupted intrathecal baclofen or
# opioid develops, and at 0.5 mL/day only about 4 times the 20 uL the detector lets into a
# blockage (SPEC 6)
UNPROTECTED_MS = 14400000
# the count starts again only after protection has been back this long: a flapping wire
# must not reset it with every good sample
RESTORED_MS = 600000


class Unguarded:
    def __init__(self, pump):
        self._pump = pump
        self._last = pump.safety.last_sample_ms
        self.lost_ms = 0  # delivery time without protection, since it was last restored for long
        self.back_ms = 0
        self.lost_at = None  # wall clock (Unix s) when the present loss began, None: protected

    def protected(self, pump):
        s = pump.safety.sensors.pressure
        return s is not None and s.health == OK

    def why(self, pump):
        s = pump.safety.sensors.pressure
        return "no pressure sensor" if s is None else "pressure " + s.health

    def service(self, pump):
        now = pump.safety.last_sample_ms
        if now == self._last:
            return  # judged once a sample: every pass would cost the simulator's speed target
        dt = now - self._last
        self._last = now
        if self.protected(pump):
            if self.lost_at is not None:
                self.lost_at = None
                pump.event("occlusion_protection", lost=False)
                pump.alarms.clear("OCCLUSION_UNPROTECTED")
            self.back_ms += dt
            if self.back_ms >= RESTORED_MS:
                self.lost_ms = 0
            return
        if self.lost_at is None:
            self.lost_at = pump.wall()
            self.back_ms = 0
            pump.event("occlusion_protection", lost=True, why=self.why(pump))
        if pump.state == RUNNING:
            self.lost_ms += dt
        if self.lost_ms >= UNPROTECTED_MS:
            al = pump.alarms
            a = al.get("OCCLUSION_UNPROTECTED")
            if a is None or not a.active:
                h = self.lost_ms // 3600000
                al.raise_alarm(
                    "OCCLUSION_UNPROTECTED", "no occlusion protection for %d h: %s" % (h, self.why(pump))
                )

    def status(self, pump, d):
        from firmware import isotime

        d["occlusion_protection"] = self.lost_at is None
        d["occlusion_protection_lost_since"] = None if self.lost_at is None else isotime.fmt(self.lost_at)
