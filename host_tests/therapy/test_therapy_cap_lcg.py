"""Seeded random sessions (both interpreters): no 24 h window above the cap or the hard limit."""

from rig import Lcg
from therapy_prop import PREFIX, check, lcg_ops, session


def _ops(seed, resets=True):
    ops = PREFIX + lcg_ops(Lcg(seed), 40)
    return ops if resets else [op for op in ops if op[0] != "reset"]


def test_seeded_session_without_resets():
    # without resets the basal must never be held: only the boluses' refusal keeps the cap
    assert session(_ops(5, resets=False)) > 0  # something was delivered: the check had windows to judge


def test_seeded_session_with_resets():
    assert session(_ops(6)) > 0


def test_seeded_session_other_seed():
    assert session(_ops(11)) > 0


def test_check_catches_a_window_over_the_cap():
    hist = [(0, 0, 100), (3600000, 60, 100), (7200000, 101, 100)]
    try:
        check(hist, 1000)
    except AssertionError:
        return
    raise AssertionError("a 101-step window passed a cap of 100")
