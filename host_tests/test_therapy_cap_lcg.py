"""Seeded random sessions (both interpreters): no 24 h window above the cap or the hard limit."""

from rig import Lcg
from therapy_prop import PREFIX, check, lcg_ops, session


def test_seeded_sessions_never_cross_the_cap():
    rng = Lcg(5)
    worst = 0
    for i in range(3):
        ops = PREFIX + lcg_ops(rng, 40)
        if i == 0:  # without resets the basal must never be held: only the boluses' refusal keeps the cap
            ops = [op for op in ops if op[0] != "reset"]
        worst = max(worst, session(ops))
    assert worst > 0  # something was delivered, so the check had windows to judge


def test_check_catches_a_window_over_the_cap():
    hist = [(0, 0, 100), (3600000, 60, 100), (7200000, 101, 100)]
    try:
        check(hist, 1000)
    except AssertionError:
        return
    raise AssertionError("a 101-step window passed a cap of 100")
