"""The governor's state machine on both interpreters, seeded (rig.Lcg): the same ops as the
hypothesis run (governor_ops), fewer of them, the invariant checked after each."""

from governor_ops import Session
from rig import Lcg

OPS = 14


def _run(seed, n):
    r = Lcg(seed)
    s = Session(most=500)
    for _ in range(n):
        op = r.below(13)
        a, b = r.below(1000), r.below(1000)
        if op == 0:
            s.program(a % 4, a, b, b % 2 == 0)
        elif op == 1:
            s.start()
        elif op == 2:
            s.stop()
        elif op == 3:
            s.bolus(a, b)
        elif op == 4:
            s.ptm()
        elif op == 5:
            s.button()
        elif op == 6:
            s.prime(a)
        elif op == 7:
            s.calibrate(a)
        elif op == 8:
            s.refill(a, b % 2 == 0, b)
        elif op == 9:
            s.time_set(a)
        elif op == 10:
            s.power_cut(a % 120)
        else:
            s.wait(1 + a % 240)
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
