"""A power cut at every single write step of every record and log path, and during the boot after it."""

import rig
from faultfs import FaultFs
from persistkit import World, cut_and_check, scenario


def _steps():
    fs = FaultFs(trace=True)
    w = World(fs)
    fs.power_on()
    scenario(w, lambda name: None)
    return fs.steps, fs.trace


def test_scenario_writes_every_record_and_log_path():
    n, trace = _steps()
    paths = set(t[2] for t in trace)
    for p in ("acct.0", "acct.1", "rx.0", "rx.1", "log.0"):
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
