"""The governor's state machine on both interpreters, seeded (rig.Lcg): the same ops as the
hypothesis run (governor_ops), fewer of them, the invariant checked after each."""

from governor_ops import Session
from rig import Lcg

OPS = 14


def _wait(a):
    return 1 + a % 240


def _run(seed, n):
    r = Lcg(seed)
    s = Session(most=500)
    for _ in range(n):
        s.random_op(r, 13, 120, _wait)
        s.check()
    return s


def _seeded(seed):
    s = _run(seed, OPS)
    assert s.ops > OPS  # the shell was driven, not skipped


# one seed a test: each starts from a collected heap (micropython's 512 KB test heap holds one
# firmware and its reference at a time)
def test_seed_3_keeps_the_hard_limit():
    _seeded(3)


def test_seed_11_keeps_the_hard_limit():
    _seeded(11)
