"""A reset while priming: the worst case is the priming left plus the basal, and priming is not dose."""

from therapy_kit import TKit


def test_reset_while_priming_does_not_hold_the_basal():
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("rx catheter 0.5")
    d = k.ok("prime 0.5")
    k.run(5000)
    left = k.pump.engine.budget()
    assert 0 < left < d["steps"]
    k.power_cut()
    assumed = k.pump.store.boot_info["assumed_steps"]
    # the budget left at the last checkpoint (at most the whole priming) plus a minute of basal
    assert assumed <= d["steps"] + 4000 * 60000 // 86400000 + 1, assumed
    assert assumed >= left  # never less than what the priming could still have moved
    k.ok("ack")
    k.ok("start")
    k.run(60000)
    assert k.pump.state == "running" and k.count("dose_cap_resume") == 0
    s0 = k.steps()
    k.run(3600000)
    assert k.pump.state == "running"
    assert abs(k.steps() - s0 - 4000 // 24) <= 2  # the basal runs on: no hold


def test_a_stopped_priming_excludes_only_what_it_moved():
    # 1 mL of priming stopped after a moment moved a few hundred steps: the cap must not treat
    # the rest as excluded (it would leave that much room for real dose)
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("rx catheter 1")
    d = k.ok("prime 1")
    k.run(300)
    k.ok("stop")
    k.run(1000)
    moved = k.steps()
    assert 0 < moved < d["steps"]
    assert sum(e[1] for e in k.t.excluded) == moved
