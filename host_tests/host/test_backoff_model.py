# cpython-only: drives tools/bench/backoff (the sim model in CPython) against the firmware detector
"""The occlusion back-off against the sim's line model: nothing drawn back, a small bolus."""

from tools.bench import backoff as bench_backoff


def test_back_off_draws_nothing_back_across_rates_and_lines():
    got = bench_backoff.measure(seeds=3)
    assert got["blockages"] == 3 * len(bench_backoff.RATES) * len(bench_backoff.COMPLIANCES)
    assert got["not_declared"] == 0 and got["declared_before_blockage"] == 0
    assert got["runs_drawing_back"] == 0, got["per_case"]
    assert got["worst_bolus_ul_at_0.1_1_10_ml_day"] <= 2, got["per_case"]


def test_partial_blockages_and_48_ml_day_are_backed_off_to_the_baseline_not_past_it():
    # without the pressure guard the bound (the pushed volume) drew back on these (review runs)
    got = bench_backoff.measure(seeds=8)["beyond_targets"]
    assert got["blockages"] == 2 * len(bench_backoff.EXTRA) * len(bench_backoff.COMPLIANCES)
    assert got["declared"] == got["blockages"]
    assert got["runs_drawing_back"] == 0, got["per_case"]
    guarded = sum(r["guard_stopped"] for k, r in got["per_case"].items() if k.startswith("partial"))
    assert guarded > 0  # the guard, not the bound, ended those back-offs


def test_one_blockage_accounts_for_what_was_pushed():
    b = bench_backoff.blockage("1", 1, "1")
    assert b is not None and not b["false_alarm"]
    assert 0 < b["pushed_ul"] <= 20
    assert b["drawn_ul"] == 0 and 0 <= b["bolus_ul"] <= 2
