# cpython-only: matplotlib and the pumpctl command line.
"""Trumpet analysis: synthetic traces with a known error give that error."""

import os
import tempfile
from fractions import Fraction

from tools.analysis import trumpet
from tools.pumpctl import cli


def trace(rate_ml_min, minutes, error_at, step_s=30):
    """(s, mL) every step_s seconds; error_at(t_min) is the fractional flow error at that time."""
    out = [(0.0, 0.0)]
    v = 0.0
    n = int(minutes * 60 / step_s)
    for i in range(1, n + 1):
        t0 = (i - 1) * step_s / 60
        v += float(rate_ml_min) * (1 + error_at(t0)) * step_s / 60
        out.append((i * step_s, v))
    return out


def balance_csv(tr, density, path, iso=False):
    with open(path, "w") as f:
        f.write("time,grams\n")
        for t, ml in tr:
            when = "2026-03-01T10:%02d:%02d" % (t // 60 % 60, t % 60) if iso and t < 3600 else "%g" % t
            f.write("%s,%.9f\n" % (when, ml * density))
    return path


def close(a, b, tol=1e-6):
    return abs(a - b) <= tol


def test_constant_error_is_the_mean_and_every_window():
    r = trumpet.parse_rate("10mL/h")
    res = trumpet.analyse(trace(r, 180, lambda t: 0.03), r, settle_min=60)
    assert close(res["mean_error_pct"], 3.0)
    assert [w["window_min"] for w in res["windows"]] == [2, 5, 11, 19, 31]
    for w in res["windows"]:
        assert close(w["max_error_pct"], 3.0) and close(w["min_error_pct"], 3.0)
    assert res["analysis_min"] == 120 and res["interval_s"] == 30


def test_a_step_change_gives_known_mean_max_and_min():
    r = trumpet.parse_rate("6mL/h")
    # on rate for the first 2 h, +10 % after; analysis from 60 to 240 min
    res = trumpet.analyse(trace(r, 240, lambda t: 0.10 if t >= 120 else 0.0), r, settle_min=60)
    assert close(res["mean_error_pct"], 100 * (60 + 120 * 1.1 - 180) / 180)
    for w in res["windows"]:
        assert close(w["max_error_pct"], 10.0) and close(w["min_error_pct"], 0.0)
        # windows of P minutes starting on every 30 s sample of the analysis period
        assert w["count"] == int((180 - w["window_min"]) * 2) + 1


def test_a_short_burst_shows_in_short_windows_only():
    r = trumpet.parse_rate("12mL/h")
    # one minute at +50 % inside the analysis period
    res = trumpet.analyse(trace(r, 180, lambda t: 0.5 if 100 <= t < 101 else 0.0), r, settle_min=60)
    by = {w["window_min"]: w for w in res["windows"]}
    assert close(by[2]["max_error_pct"], 25.0)
    assert close(by[5]["max_error_pct"], 10.0)
    assert close(by[31]["max_error_pct"], 50 / 31)
    assert close(by[2]["min_error_pct"], 0.0)


def test_balance_csv_with_density_and_iso_times():
    d = tempfile.mkdtemp()
    r = trumpet.parse_rate("24mL/day")
    tr = trace(r, 150, lambda t: -0.02, step_s=60)
    p = balance_csv(tr, 1.05, os.path.join(d, "b.csv"))
    got = trumpet.read_balance(p, density=1.05)
    res = trumpet.analyse(got, r, settle_min=60)
    assert close(res["mean_error_pct"], -2.0)
    res_wrong = trumpet.analyse(trumpet.read_balance(p, density=1.0), r, settle_min=60)
    assert close(res_wrong["mean_error_pct"], 100 * (0.98 * 1.05 - 1))
    iso = balance_csv(trace(r, 50, lambda t: 0.0, step_s=30), 1.0, os.path.join(d, "iso.csv"), iso=True)
    assert trumpet.read_balance(iso, 1.0)[1][0] - trumpet.read_balance(iso, 1.0)[0][0] == 30


def test_low_flow_scales_windows_to_hours():
    d = tempfile.mkdtemp()
    r = trumpet.parse_rate("1mL/day")
    p = balance_csv(trace(r, 40 * 60, lambda t: 0.01, step_s=60), 1.0, os.path.join(d, "low.csv"))
    png = os.path.join(d, "t.png")
    rc = trumpet.main([p, "--rate", "1mL/day", "--density", "1.0", "--png", png])
    assert rc == 0
    assert os.path.getsize(png) > 3000
    res = trumpet.analyse(trumpet.read_balance(p, 1.0), r, scale=60, settle_min=60)
    assert [w["window_min"] for w in res["windows"]] == [120, 300, 660, 1140, 1860]
    assert all(close(w["max_error_pct"], 1.0) for w in res["windows"])


def test_windows_longer_than_the_analysis_are_reported_not_computed():
    r = trumpet.parse_rate("10mL/h")
    res = trumpet.analyse(trace(r, 80, lambda t: 0.0), r, settle_min=60)
    assert [w["window_min"] for w in res["windows"]] == [2, 5, 11, 19]
    assert res["skipped"] == [31]
    assert "not computed" in trumpet.table(res)


def test_bad_inputs_are_one_clear_error(capsys):
    d = tempfile.mkdtemp()
    uneven = os.path.join(d, "u.csv")
    with open(uneven, "w") as f:
        f.write("0,0\n30,0.1\n60,0.2\n200,0.3\n230,0.4\n")
    assert trumpet.main([uneven, "--rate", "10mL/h", "--settle", "0"]) == 1
    assert "not evenly spaced" in capsys.readouterr().err
    assert trumpet.main([uneven]) == 1
    assert "--rate is needed" in capsys.readouterr().err
    assert trumpet.main([uneven, "--rate", "fast"]) == 1
    assert "rate like" in capsys.readouterr().err
    assert trumpet.parse_rate("0.5mL/h") == Fraction(1, 120)


def test_pump_trend_trace_is_cumulative_volume():
    meta = {
        "fields": ["minute", "steps", "kpa10", "reservoir_ul", "alarms"],
        "steps_per_ml": 20000,
        "interval_s": 60,
    }
    samples = [[100, 20, None, None, 0], [101, 20, None, None, 0], [102, 40, None, None, 0]]
    tr = trumpet.trace_from_trend(samples, meta)
    assert tr == [(5940.0, 0.0), (6000.0, 0.001), (6060.0, 0.002), (6120.0, 0.004)]


def test_pumpctl_trumpet_on_the_simulators_trace(capsys):
    d = tempfile.mkdtemp()
    state = os.path.join(d, "pump")
    rx = os.path.join(d, "rx.toml")
    with open(rx, "w") as f:
        f.write(
            '[prescription]\ndrug = "morphine"\nconcentration = "1mg/mL"\n[program]\nmode = "continuous"\n'
        )
        f.write('daily = "10mg"\n')
    assert cli.main(["--state", state, "program", rx, "--yes", "--pin", "1234", "--start"]) == 0
    assert cli.main(["--state", state, "send", "sim run 8h"]) == 0
    capsys.readouterr()
    png = os.path.join(d, "tr.png")
    rc = cli.main(["--state", state, "trumpet", "--pump", "--scale", "5", "--png", png])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "10 mL/day" in out and "mean flow error A" in out
    assert os.path.getsize(png) > 3000
