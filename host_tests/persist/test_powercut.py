"""A power cut at every single write step of every record and log path, and during the boot after it."""

import heap
import rig
from faultfs import FaultFs, PowerCut
from persistkit import World, cut_and_check, scenario

from firmware.persist.recovery import worst_case_steps


def _steps():
    fs = FaultFs(trace=True)
    w = World(fs)
    fs.power_on()
    scenario(w, lambda name: None)
    return fs.steps, fs.trace


def test_scenario_writes_every_record_and_log_path():
    n, trace = _steps()
    paths = set(t[2] for t in trace)
    for p in ("acct.0", "acct.1", "rx.0", "rx.1", "rlog.0", "plog.0"):
        assert p in paths, (p, paths)
    kinds = set(t[1] for t in trace)
    assert kinds == {"open", "data", "close"}
    assert n > 60


def test_cut_at_every_write_step():
    n, _ = _steps()
    worst = 0
    for cut in range(1, n + 1):
        bad, loss, mark, was_cut, facts = cut_and_check(cut)
        assert was_cut, cut
        assert not bad, (cut, mark, bad)
        assert facts["lost_ms"] <= 60000, facts  # at most one checkpoint interval of pump time
        worst = max(worst, loss)
    assert worst > 0  # some cut did lose accounting: the check above had work to do


def test_cut_again_during_the_boot_after_a_cut():
    n, _ = _steps()
    for cut in range(3, n + 1, 7):
        for boot_cut in range(1, 10):
            bad, _, _, _, _ = cut_and_check(cut, cut_boot_at=boot_cut)
            assert not bad, (cut, boot_cut, bad)


def test_cuts_land_at_random_points_inside_writes():
    n, _ = _steps()
    g = rig.Lcg(7)
    for _ in range(40):
        bad, _, _, _, _ = cut_and_check(1 + g.below(n), rng=g)
        assert not bad, bad


def _bolus_world(cut_at=None, start=True):
    fs = FaultFs(trace=True)
    w = World(fs)
    fs.power_on(cut_at)
    for line in (
        "login clinician 1234",
        "rx drug morphine 10mg/mL",
        "rx catheter 0.5",
        "program continuous 10mg",
    ):
        w.cmd(line)
    w.cmd("program confirm")
    if start:
        w.cmd("start")
    w.run(70000)
    return fs, w


def _cut_after_its_log_entry(command, start=True):
    """Run `command`, cut power right after its own log append (before its checkpoint), reboot."""
    fs, w = _bolus_world(start=start)
    first = fs.steps
    w.cmd(command)
    # the command's own log append, then the checkpoint its reply waits for
    closes = [t for t in fs.trace if t[0] > first and t[1] == "close"]
    assert closes[0][2].startswith("plog.") and any(t[2].startswith("acct.") for t in closes[1:]), closes
    cut = closes[0][0] + 1
    # the first firmware goes before the second is built: two at once fragment micropython's heap
    fs = w = closes = None
    heap.collect()
    fs, w = _bolus_world(cut_at=cut, start=start)  # power fails as the checkpoint starts
    try:
        w.cmd(command)
    except PowerCut:
        pass
    else:
        raise AssertionError("the cut did not land in " + command)
    w.reboot()
    return w


def test_a_cut_between_a_bolus_log_entry_and_its_checkpoint_is_still_a_dropped_bolus():
    w = _cut_after_its_log_entry("bolus 0.2mg over=5m")
    p = w.pump
    es = p.log.entries()
    names = [e[3] for e in es]
    assert "bolus" in names, names
    dropped = [e[4] for e in es if e[3] == "bolus_not_resumed"]
    assert len(dropped) == 1 and dropped[0]["after_checkpoint"] is True, dropped
    started = [e[4] for e in es if e[3] == "bolus"][-1]
    assert dropped[0]["steps_left"] == started["steps"]  # the whole budget: an upper bound on what is left
    assert p.engine.rate() == p.basal  # not resumed
    # counted against the cap as one interval at the bolus's rate (the record knew only the basal)
    top = worst_case_steps(started["rate"], p.store.interval_ms)
    assert top > 2 * worst_case_steps(p.basal, p.store.interval_ms)
    assert p.store.boot_info["assumed_steps"] >= top


def test_a_priming_cut_off_the_same_way_stays_off_the_24h_cap():
    w = _cut_after_its_log_entry("prime 0.5", start=False)
    p = w.pump
    es = p.log.entries()
    started = [e[4] for e in es if e[3] == "prime"][-1]
    dropped = [e[4] for e in es if e[3] == "bolus_not_resumed"]
    assert len(dropped) == 1 and dropped[0]["after_checkpoint"] is True
    assert p.therapy.excluded and p.therapy.excluded[-1][1] == started["steps"]
    assert "DOSE_CAP" not in p.alarms.codes()


def test_a_record_from_before_the_logs_number_was_saved_still_restores():
    fs, w = _bolus_world()
    p = w.pump
    p.services.remove(p.log)  # the acct record as the firmware before this change wrote it
    p.store._extra = None
    assert p.store.save()
    w.cmd("bolus 0.2mg over=5m")  # its checkpoint too carries no log number
    p = None  # the old firmware goes before the new one boots (micropython's 512 KB test heap)
    w.reboot()
    q = w.pump
    assert "MEMORY" not in q.alarms.codes() and q.state == "running"
    dropped = [e[4] for e in q.log.entries() if e[3] == "bolus_not_resumed"]
    assert len(dropped) == 1 and dropped[0]["after_checkpoint"] is False  # from the record itself


class _WatchFs(FaultFs):
    """Notes what the motor was set to do while a budget start's log line is written."""

    pump = None

    def __init__(self):
        FaultFs.__init__(self)
        self.seen = []

    def append(self, name, data):
        if b'"budget": true' in data and self.pump is not None:
            e = self.pump.engine
            self.seen.append((e.rate(), e.budget()))
        return FaultFs.append(self, name, data)


def test_a_bolus_start_is_on_the_log_before_the_motor_takes_it_up():
    fs = _WatchFs()
    w = World(fs)
    fs.power_on()
    for line in ("login clinician 1234", "rx drug morphine 10mg/mL", "program continuous 10mg"):
        w.cmd(line)
    w.cmd("program confirm")
    w.cmd("start")
    w.run(70000)
    fs.pump = w.pump
    basal = w.pump.engine.rate()
    w.cmd("bolus 0.2mg over=5m")
    # a cut while that line is written finds no step of the bolus made
    assert fs.seen == [(basal, 0)], fs.seen
    assert w.pump.engine.rate() > basal  # and the bolus does run once it is on the log
