# cpython-only: hypothesis drives random rate sequences through the engine.
"""Property tests of the dose engine over random rate sequences and tick timing."""

from hypothesis import given, settings
from hypothesis import strategies as st
from rig import Rig, expected

D = 86400000
rates = st.integers(min_value=0, max_value=D)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(rates, st.integers(min_value=1, max_value=5 * D)), min_size=1, max_size=12))
def test_closed_form_segments_within_one_step(segments):
    r = Rig(log_edges=False)
    r.engine.start()
    for rate, ticks in segments:
        r.engine.set_rate(rate)
        before = r.fold()
        r.advance(ticks)
        got = r.fold() - before
        lo = ticks * rate // D
        assert lo <= got <= lo + 1, (rate, ticks, got)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=D // 2),
            st.lists(st.integers(min_value=1, max_value=30000), min_size=1, max_size=200),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_handler_conserves_steps_under_any_timing(segments):
    # callbacks at arbitrary gaps (early, on time, late up to 30 ms): every step
    # that fell due is made or still owed, at most one per callback
    r = Rig(log_edges=False)
    r.engine.start()
    for rate, gaps in segments:
        r.engine.set_rate(rate)
        r.fold()
        t0 = r.ticks
        f0 = r.fwd + r.engine.owed()
        edges0 = r.step.rising_edges()
        for g in gaps:
            r.fire_at(g)
        r.fold()
        got = r.fwd + r.engine.owed() - f0
        lo = expected(r.ticks - t0, rate, D)
        assert lo - 1 <= got <= lo + 1, (rate, got, lo)
        assert r.step.rising_edges() - edges0 <= len(gaps)
        assert r.drop_steps == 0


@settings(max_examples=200, deadline=None)
@given(rates, st.integers(min_value=1, max_value=2000), st.integers(min_value=0, max_value=D))
def test_handler_and_closed_form_agree_on_time(rate, ticks, then):
    a = Rig(log_edges=False)
    b = Rig(log_edges=False)
    for r in (a, b):
        r.engine.set_rate(rate, steps=0, then=then)
        r.engine.start()
    a.run_ticks(ticks)
    b.engine.advance(ticks)
    assert a.fold() + a.engine.owed() == b.fold() + b.engine.owed()
