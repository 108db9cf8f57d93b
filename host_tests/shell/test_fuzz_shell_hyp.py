# cpython-only: hypothesis.
"""Hypothesis fuzz of the shell: 20,000 hostile lines a run, each refused one changes nothing.

Each example is a start state and a batch of lines from `fuzzgen`; hypothesis
picks each line's kind and command and a seed for the rest, and a failure's
message names the line and its reply.
"""

from fuzzgen import check_line, gen_line, setup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rig import Lcg
from shellkit import Kit

BATCH = 25
EXAMPLES = 200  # 4 tests x 200 examples x 25 lines = 20,000 lines a run
COUNTS = {"lines": 0}


class Draw:
    """`below(n)` for one line: its first choices (kind, command) drawn by hypothesis, so a
    failure shrinks to the simplest kind and command; the rest from an Lcg on a drawn seed,
    which keeps the draws per line few (hypothesis draws are the slow part)."""

    def __init__(self, data, direct=2):
        self._data = data
        self._direct = direct
        self._lcg = Lcg(data.draw(st.integers(0, (1 << 31) - 1)))

    def below(self, n):
        if n <= 1:
            return 0
        if self._direct:
            self._direct -= 1
            return self._data.draw(st.integers(0, n - 1))
        return self._lcg.below(n)


def _batch(data, variant):
    kit = Kit()
    setup(kit, variant)
    for _ in range(BATCH):
        check_line(kit, gen_line(Draw(data), kit.sh.commands))
        COUNTS["lines"] += 1


_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_SETTINGS
@given(st.data(), st.sampled_from((0, 4)))
def _patient(data, variant):
    _batch(data, variant)


@_SETTINGS
@given(st.data(), st.sampled_from((1, 5)))
def _clinician(data, variant):
    _batch(data, variant)


@_SETTINGS
@given(st.data(), st.sampled_from((2, 3, 6, 7)))
def _program_running(data, variant):
    _batch(data, variant)


@_SETTINGS
@given(st.data(), st.integers(0, 7), st.binary(max_size=400))
def _raw_bytes(data, variant, raw):
    kit = Kit()
    setup(kit, variant)
    check_line(kit, raw)
    for _ in range(BATCH - 1):
        check_line(kit, gen_line(Draw(data), kit.sh.commands))
    COUNTS["lines"] += BATCH


def _counted(fn):
    # each test proves its own share of the 20,000 lines (xdist may split the module)
    n = COUNTS["lines"]
    fn()
    assert COUNTS["lines"] - n >= EXAMPLES * BATCH


def test_fuzz_patient():
    _counted(_patient)


def test_fuzz_clinician():
    _counted(_clinician)


def test_fuzz_program_running():
    _counted(_program_running)


def test_fuzz_raw_bytes():
    _counted(_raw_bytes)
