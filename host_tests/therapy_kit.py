"""A simulated pump for the therapy tests: shell lines in, exact step counts out. Both interpreters."""

import json

from firmware import isotime
from tools.sim import simrun

DAY_MS = 86400000


class TKit:
    def __init__(self, start="2026-01-01T00:00:00", drug="morphine", conc="10mg/mL"):
        self.sim = simrun.Simulator({"start": isotime.parse(start), "seed": 1, "state": None})
        self.events = []
        self._wire()
        if drug:
            self.ok("rx drug %s %s" % (drug, conc))

    def _wire(self):
        self.pump = self.sim.pump
        self.sh = self.sim.shell
        self.t = self.pump.therapy
        self.sh.json = True
        self.pump.listeners.append(self._on_event)
        self.login()

    def _on_event(self, name, fields):
        self.events.append((name, fields))

    def login(self):
        r = json.loads(self.sh.handle(b"login clinician 1234"))
        assert r["ok"], r

    def js(self, line, login=True):
        if login and self.sh.role == 0:
            self.login()
        return json.loads(self.sh.handle(line.encode()))

    def ok(self, line):
        d = self.js(line)
        assert d["ok"], (line, d)
        return d

    def code(self, line):
        d = self.js(line)
        return None if d["ok"] else d["code"]

    def run(self, ms):
        self.sim.run_ms(ms)

    def steps(self):
        return self.pump.ledger.total_steps

    def power_cut(self, ms=0):
        import gc

        self.pump = self.sh = self.t = None
        gc.collect()  # the old firmware's buffers go before the new one's are made (512 KB heap)
        self.sim.power_cut(ms)
        self._wire()

    def count(self, name):
        return len([e for e in self.events if e[0] == name])
