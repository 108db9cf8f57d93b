# cpython-only: matplotlib.
"""plot: the series drawn from trend samples, alarm onsets, and the PNG's own summary."""

import math
import os
import tempfile

from tools.analysis import plot

META = {
    "fields": ["minute", "steps", "kpa10", "reservoir_ul", "alarms"],
    "alarm_codes": ["DEFAULT_PIN", "OCCLUSION", "RESERVOIR_LOW"],
    "steps_per_ml": 20000,
    "interval_s": 60,
}


def samples():
    out = []
    for i in range(120):
        alarms = 1  # DEFAULT_PIN throughout
        if 60 <= i < 80:
            alarms |= 2  # an occlusion for 20 minutes
        if i >= 100:
            alarms |= 4
        out.append([29453760 + i, 14 if i < 60 else 0, None if i < 5 else 12 + i, 20000 - i, alarms])
    return out


def test_series_convert_units_and_accumulate():
    c = plot.series(samples(), META)
    assert len(c["t"]) == 120
    assert c["t"][0].isoformat() == "2026-01-01T00:00:00+00:00"
    assert math.isclose(c["rate_ml_day"][0], 14 / 20000 * 1440)
    assert math.isclose(c["cumulative_ml"][-1], 60 * 14 / 20000)
    assert math.isnan(c["pressure_kpa"][0]) and math.isclose(c["pressure_kpa"][10], 2.2)
    assert math.isclose(c["reservoir_ml"][1], 19.999)


def test_alarm_marks_at_each_onset_only():
    c = plot.series(samples(), META)
    marks = [(t.strftime("%H:%M"), code) for t, code in c["alarms"]]
    assert marks == [("00:00", "DEFAULT_PIN"), ("01:00", "OCCLUSION"), ("01:40", "RESERVOIR_LOW")]


def test_draw_writes_a_png_that_names_its_series():
    path = os.path.join(tempfile.mkdtemp(), "t.png")
    s = plot.draw(samples(), META, path)
    assert os.path.getsize(path) > 5000
    got = plot.png_summary(path)
    assert got == s
    assert got["series"] == {
        "rate_ml_day": 120,
        "cumulative_ml": 120,
        "pressure_kpa": 115,
        "reservoir_ml": 120,
    }
    assert got["alarms"] == ["DEFAULT_PIN", "OCCLUSION", "RESERVOIR_LOW"]


def test_draw_with_no_samples_draws_axes_and_says_so():
    path = os.path.join(tempfile.mkdtemp(), "e.png")
    s = plot.draw([], META, path)
    assert os.path.getsize(path) > 3000
    assert s["samples"] == 0 and s["note"].startswith("no history yet")


def test_png_summary_refuses_other_files():
    path = os.path.join(tempfile.mkdtemp(), "x.png")
    with open(path, "wb") as f:
        f.write(b"not a png")
    try:
        plot.png_summary(path)
        raise AssertionError("no error")
    except ValueError as e:
        assert "not a PNG" in str(e)


def test_rolling_mean_smooths_whole_steps():
    assert plot.rolling_mean([2, 3, 3, 2, 3, 3], 3) == [2.0, 2.5, 8 / 3, 8 / 3, 8 / 3, 8 / 3]
    assert plot.rolling_mean([], 60) == []


def test_alarm_spans_run_from_onset_to_clear_and_mark_the_window_edges():
    spans = plot.alarm_spans(samples(), META)
    t0 = 29453760
    assert [list(s) for s in spans] == [
        ["DEFAULT_PIN", t0, t0 + 119, True, True],  # active before the window and still at its end
        ["OCCLUSION", t0 + 60, t0 + 80, False, False],  # onset and clear both drawn
        ["RESERVOIR_LOW", t0 + 100, t0 + 119, False, True],
    ]


def test_a_window_opening_inside_an_alarm_is_not_a_new_onset():
    w = plot.window(samples(), META, since=29453760 + 70)
    spans = plot.alarm_spans(w, META)
    occ = [s for s in spans if s[0] == "OCCLUSION"]
    assert occ == [("OCCLUSION", 29453760 + 70, 29453760 + 80, True, False)]


def test_one_backoff_sample_does_not_squash_the_rate_axis():
    s = samples()
    s[30][1] = 5000  # one back-off minute: far above the rest
    path = os.path.join(tempfile.mkdtemp(), "b.png")
    got = plot.draw(s, META, path, title={"pump": "P1", "drug": "morphine"}, priorities={"OCCLUSION": "high"})
    assert got["rate_clipped"] == 1
    assert plot.clip_top([r / 20000 * 1440 for _m, r, *_x in s]) < 14 / 20000 * 1440 * 2
    assert got["title"] == "pump P1, morphine, 2026-01-01 00:00 to 2026-01-01 01:59 UTC"
