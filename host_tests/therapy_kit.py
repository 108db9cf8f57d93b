"""A simulated pump for the therapy tests: shell lines in, exact step counts out. Both interpreters."""

import json

import tmpname

from firmware import isotime
from tools.sim import simrun

DAY_MS = 86400000
_n = [0]


def _fresh_dir():
    import os

    # one directory at a time per process: the previous kit's records are removed first
    for n in range(max(1, _n[0] - 1), _n[0] + 1):
        _clear(os, _dir(os, n), rmdir=True)
    _n[0] += 1
    d = _dir(os, _n[0])
    _clear(os, d)
    return d


def _dir(os, n):
    return "%s_%d" % (tmpname.path("itpump_tkit"), n)


def _clear(os, d, rmdir=False):
    try:
        for f in os.listdir(d):
            os.remove(d + "/" + f)
        if rmdir:
            os.rmdir(d)
    except OSError:
        pass


class TKit:
    def __init__(self, start="2026-01-01T00:00:00", drug="morphine", conc="10mg/mL"):
        import heap

        heap.collect()  # a whole firmware per test: start each from a clean heap (512 KB on micropython)
        # records on disk, not in RAM: the RAM filesystem's growing appends fragment micropython's heap
        self.sim = simrun.Simulator({"start": isotime.parse(start), "seed": 1, "state": _fresh_dir()})
        self.counts = {}  # event name -> how many (a list of every event would fill the heap over days)
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
        self.counts[name] = self.counts.get(name, 0) + 1

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
        import heap

        self.pump = self.sh = self.t = None
        heap.collect()  # the old firmware's buffers go before the new one's are made (512 KB heap)
        self.sim.power_cut(ms)
        self._wire()

    def count(self, name):
        return self.counts.get(name, 0)
