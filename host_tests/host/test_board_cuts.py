# cpython-only: host tooling for the emulated Pico (tools/emu/board_cuts.py), no board needed
"""The aimed power-cut sweep's own arithmetic: where a cut landed, the offsets, the loss bound."""

from firmware.persist import checkpoint, recovery
from tools.emu import board_cuts


def test_the_newest_flash_operation_names_where_a_cut_landed():
    f = board_cuts._last_op
    assert f((0, 0), (0, 0), "before") == "before"
    assert f((0, 0), (4096, 0), "before") == "erase"  # sector blank, nothing programmed yet
    assert f((4096, 0), (4096, 256), "erase") == "program"
    # both moved between two readings: the programs follow their erase
    assert f((0, 0), (4096, 1024), "before") == "program"
    assert f((4096, 1024), (4096, 1024), "program") == "program"


def test_the_plan_alternates_kinds_and_spreads_each_over_its_window():
    p = board_cuts.plan(6, {"bolus": (0, 300), "rate": (100, 700)})
    assert [k for k, _ in p] == ["bolus", "rate"] * 3
    assert [o for k, o in p if k == "bolus"] == [50, 150, 250]
    assert [o for k, o in p if k == "rate"] == [200, 400, 600]
    assert board_cuts.plan(1) == [("bolus", sum(board_cuts.WINDOWS["bolus"]) // 2)]


def test_the_loss_bound_is_the_one_recovery_counts_for_an_interval():
    rate = 1000000  # steps/day: 10 mg/day at 0.2 mg/mL
    got = board_cuts.loss_bound(rate)
    counted = recovery.worst_case_steps(rate, checkpoint.INTERVAL_MS)
    # the same interval plus the loop's slack, rounded up: never below what recovery assumes
    assert counted <= got <= counted + rate * checkpoint.SLACK_MS // 86400000 + 1
    assert board_cuts.steps_day(50.0, 20000) == 1000000


def test_the_summary_counts_every_landing_and_the_worst_loss():
    figs = [
        {"landed": x, "loss_steps": n, "bound_steps": 700, "boot_us": 2000000 + n, "counted": 5, "made": 5}
        for x, n in (("erase", 10), ("program", 30), ("program", 5), ("before", 1), ("after", 0))
    ]
    s = board_cuts.summary(figs, ["one failure"])
    assert (s["cuts"], s["in_erase"], s["in_program"], s["before_write"], s["after_reply"]) == (5, 1, 2, 1, 1)
    assert s["failures"] == 1 and s["worst_loss_steps"] == 30 and s["double_counts"] == 0
