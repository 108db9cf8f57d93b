"""A simulated pump for the safety tests: the sim board's model, shell lines, events. Both interpreters."""

import json

from firmware import isotime
from tools.sim import simrun

DAY_MS = 86400000
HOUR_MS = 3600000


class SKit:
    def __init__(self, rate="1", seed=1):
        import heap

        heap.collect()  # the last test's pump is garbage: free it before a new one boots (512 KB heap)
        opts = {"start": isotime.parse("2026-01-01T00:00:00"), "seed": seed, "state": None, "rate": rate}
        self.sim = simrun.Simulator(opts)
        self.pump = self.sim.pump
        self.sh = self.sim.shell
        self.sh.json = True
        self.model = self.sim.board.model
        self.events = []
        self.pump.listeners.append(self._on_event)

    def _on_event(self, name, fields):
        self.events.append((name, fields))

    def js(self, line):
        return json.loads(self.sh.handle(line.encode()))

    def ok(self, line):
        d = self.js(line)
        assert d["ok"], (line, d)
        return d

    def login(self):
        self.ok("login clinician 1234")

    def run(self, ms):
        self.sim.run_ms(ms)

    def run_until(self, pred, limit_ms, step_ms=60000):
        """Run in slices until pred() holds; returns the ms it took (None if never)."""
        t = 0
        while t < limit_ms:
            if pred():
                return t
            self.sim.run_ms(step_ms)
            t += step_ms
        return t if pred() else None

    def alarm(self, code):
        return self.pump.alarms.get(code)

    def named(self, name):
        return [f for n, f in self.events if n == name]

    def alarm_events(self, code):
        return [f for n, f in self.events if n == "alarm" and f.get("code") == code]
