"""A simulated pump on a fault-injecting filesystem, and the checks after a power cut.

Shared by the power-cut tests and tools/bench/persist.py; runs on both
interpreters. `truth` counts the steps the engines really emitted, across
boots, so what a restored ledger lost can be measured, not assumed.
"""

import heap
from faultfs import FaultFs, PowerCut

from firmware import isotime
from firmware.dose import wrap_delta
from firmware.persist.recovery import worst_case_steps
from tools.sim.simrun import Simulator

START = isotime.parse("2026-01-01T00:00:00")
# morphine 10 mg/mL at 20,000 steps/mL: 14 mg/day is 28,000 steps/day, and a
# 0.2 mg bolus over 5 min adds 400 steps in 300 s (115,200 steps/day)
BOUND_RATE = 28000 + 115200


class LogPump:
    """The little of a pump an EventLog asks for: its clock."""

    clock_uncertain = False

    def __init__(self):
        self.t = 1767225600

    def wall(self):
        return self.t

    def now_ms(self):
        return 0

    def wall_at(self, ms):
        return self.t


class World:
    def __init__(self, fs=None):
        self.fs = fs if fs is not None else FaultFs()
        self.sim = Simulator({"start": START, "fs": self.fs, "rate": None, "state": None})
        self._done = 0  # steps emitted by earlier boots

    @property
    def pump(self):
        return self.sim.pump

    def cmd(self, line):
        return self.sim.shell.handle(line.encode())

    def emitted(self):
        """Net steps the motor has really made, over every boot."""
        if self.pump is None:
            return self._done  # the last boot was itself cut before any time passed
        c = self.pump.engine.counters()
        return self._done + wrap_delta(c[1], 0) - wrap_delta(c[2], 0)

    def run(self, ms):
        self.sim.run_ms(ms)

    def reboot(self, cut_at=None):
        """Power back on (after a cut) and boot from flash; may itself be cut."""
        self._done = self.emitted()
        sim = self.sim
        if sim.pump is not None:
            sim.pump.engine.stop()
            sim.pump.store.enabled = False
        sim.board.stop_ticks()
        if hasattr(self.fs, "power_on"):  # a FaultFs; a real Fs just stays
            self.fs.power_on(cut_at)
        # as Simulator.power_cut(0), but the dead firmware is dropped before the new one
        # is built, so two pumps never share the 512 KB test heap
        sim.pump = sim.shell = None
        heap.collect()
        sim.boot("power-cut")


def scenario(w, mark):
    """A few minutes of therapy touching every write path; `mark()` notes what is committed."""
    w.cmd("login clinician 1234")
    w.cmd("rx drug morphine 10mg/mL")
    w.cmd("program continuous 10mg")
    w.cmd("program confirm")
    w.cmd("start")
    mark("running 10mg")
    w.run(150000)
    w.pump.alarms.raise_alarm("SENSOR_FAULT", "test")
    w.run(30000)
    w.cmd("ack")
    w.cmd("login clinician 1234")
    w.cmd("program continuous 14mg")
    w.cmd("program confirm")
    mark("program 14mg")
    w.run(130000)
    w.cmd("stop")
    mark("stopped")
    w.run(20000)
    w.cmd("login clinician 1234")
    w.cmd("start")
    mark("running 14mg")
    w.run(70000)
    w.cmd("bolus 0.2mg over=5m")
    mark("bolus")
    w.run(65000)
    w.cmd("time set 2026-01-02T00:00:00")
    w.run(65000)
    mark("end")


def run_cut(cut_at, rng=None, cut_boot_at=None):
    """Run the scenario with the power cut at write step `cut_at`; reboot; return the facts."""
    heap.collect()  # each run builds pumps twice: keep the 512 KB test heap unfragmented
    fs = FaultFs(rng=rng)
    w = World(fs)
    fs.power_on(cut_at)
    marks = []
    committed = {"basal": 0, "state": "stopped"}

    def mark(name):
        marks.append(name)
        committed["basal"] = w.pump.basal
        committed["state"] = w.pump.state

    cut = False
    try:
        scenario(w, mark)
    except PowerCut:
        cut = True
    at_cut = {"basal": w.pump.basal, "state": w.pump.state, "pump_ms": w.pump.pump_ms()}
    truth = w.emitted()
    if cut_boot_at is not None:
        try:
            w.reboot(cut_boot_at)
        except PowerCut:
            pass
    w.reboot()
    p = w.pump
    return {
        "lost_ms": at_cut["pump_ms"] - p.pump_ms(),  # pump time since the checkpoint it came back from
        "world": w,
        "cut": cut,
        "marks": marks,
        "committed": committed,
        "at_cut": at_cut,
        "truth": truth,
        "restored": p.ledger.total_steps,
        "counted_24h": p.ledger.counted_24h(p.pump_ms()),
        "assumed": p.store.boot_info.get("assumed_steps", 0),
        # every boot's worst case still in the window: a boot that was itself cut after
        # saving its checkpoint left its assumption in the ledger the last boot restored
        "assumed_all": p.ledger.counted_24h(p.pump_ms()) - p.ledger.delivered_24h(p.pump_ms()),
        # the fastest rate the scenario ever runs: 14 mg/day plus a 0.2 mg bolus over 5 min
        "bound": worst_case_steps(BOUND_RATE, p.store.interval_ms),
    }


def check(r):
    """The promises of SPEC 8 after one cut; returns a list of what broke (empty: fine)."""
    bad = []
    w = r["world"]
    p = w.pump
    loss = r["truth"] - r["restored"]
    if loss < 0:
        bad.append("restored more than was delivered: %d" % loss)
    if loss > r["assumed_all"]:
        bad.append("lost %d steps, more than the %d counted as worst case" % (loss, r["assumed_all"]))
    if r["assumed"] > r["bound"]:
        bad.append(
            "assumed %d steps, more than one interval at the top rate (%d)" % (r["assumed"], r["bound"])
        )
    if r["counted_24h"] < r["truth"]:
        bad.append("24 h cap counts %d < delivered %d" % (r["counted_24h"], r["truth"]))
    if p.basal not in (r["committed"]["basal"], r["at_cut"]["basal"]):
        bad.append("prescription %d is neither committed nor in flight" % p.basal)
    if p.state not in (r["committed"]["state"], r["at_cut"]["state"]):
        bad.append("state %s after the cut" % p.state)
    codes = p.alarms.codes()
    if "MEMORY" in codes:
        bad.append("records lost: " + str(codes))
    if "UNEXPECTED_RESET" not in codes:
        bad.append("no UNEXPECTED_RESET")
    es = p.log.entries()
    if not es or es[-1][3] != "reset":
        bad.append("log unreadable or reset not logged")
    for a, b in zip(es, es[1:]):
        if b[0] <= a[0]:
            bad.append("log out of order at %d" % b[0])
            break
    return bad, loss


def cut_and_check(cut_at, rng=None, cut_boot_at=None):
    """run_cut then check, keeping nothing of the world: (problems, loss, last mark, cut happened, facts)."""
    r = run_cut(cut_at, rng=rng, cut_boot_at=cut_boot_at)
    bad, loss = check(r)
    facts = {k: r[k] for k in ("lost_ms", "assumed", "bound", "truth", "restored")}
    out = (bad, loss, r["marks"][-1:], r["cut"], facts)
    r = None
    heap.collect()
    return out
