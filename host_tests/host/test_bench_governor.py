# cpython-only: runs the governor bench's sessions (multiprocessing, the micropython subprocess)
"""The governor bench's structure on a tiny run: every figure present and typed. The figures are
measured by `make bench`; the quick run's own sessions still keep the limit and the year's
programmed steps, which is correctness, not a figure."""

from tools.bench import governor as bench_governor


def test_quick_governor_bench_has_every_figure():
    m = bench_governor.measure(quick=True)
    r = m["random_sessions"]
    assert r["sessions"] == 2 and r["days_each"] == 2 and r["ops_total"] > 0
    assert 0 < r["worst_24h_ng"] <= r["hard_limit_ng"] + 1000 and r["worst_ratio"] == round(
        r["worst_24h_ng"] / r["hard_limit_ng"], 6
    )
    y = m["year"]
    assert y["days"] == 20 and y["programmed_steps"] > 0
    assert abs(y["difference_steps"]) <= 1, y
    c = m["pass_cost"]
    assert c["passes"] == 200 and 0 < c["mean_us"] <= c["worst_us"] and c["vertices"] >= 1
