# cpython-only: hypothesis
"""Hypothesis: any sequence of programs, boluses, ptm presses, stops and resets keeps every 24 h window
within the cap and the drug's hard maximum."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from therapy_prop import PREFIX, session

OP = st.one_of(
    st.tuples(st.just("program"), st.integers(1, 160)),
    st.tuples(st.just("program"), st.integers(120, 150)),
    st.tuples(st.just("bolus"), st.integers(1, 5)),
    st.tuples(st.just("ptm")),
    st.tuples(st.just("stop")),
    st.tuples(st.just("start")),
    st.tuples(st.just("reset")),
    st.tuples(st.just("wait"), st.integers(1, 900)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OP, min_size=1, max_size=40))
def test_random_sessions_never_cross_the_cap(ops):
    session(PREFIX + ops)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OP.filter(lambda op: op[0] != "reset"), min_size=1, max_size=40))
def test_without_resets_the_basal_is_never_held(ops):
    session(PREFIX + ops)
