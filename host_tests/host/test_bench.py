# cpython-only: runs the bench's subprocesses (micropython, the simulator).
"""The bench's structure with a tiny run: every figure present, typed, written to the file.

The figures themselves are measured by `make bench`, never asserted here.
"""

import json
import os
import tempfile

from tools import bench


def test_quick_bench_writes_every_figure_it_prints():
    out = os.path.join(tempfile.mkdtemp(), "results.json")
    # the other areas' measure() are theirs to time; here only the bench's own figures
    rc = bench.main(["--quick", "--only-own", "--out", out])
    with open(out) as f:
        res = json.load(f)
    assert rc == (1 if res["errors"] else 0)
    assert res["quick"] is True
    figs = res["figures"]
    for rate in ("clinical_1ml_day", "max_step_every_tick"):
        t = figs["tick"][rate]
        assert isinstance(t["handler_us_per_tick"], float)
        assert isinstance(t["alloc_bytes_per_tick"], float)
        assert isinstance(t["heap_lock_ok"], bool)
        assert t["ticks"] == 20000
    s = figs["sim_speed"]
    assert s["days"] == 1 and s["wall_s"] > 0 and s["sim_s_per_wall_s"] > 0
    assert s["cpu_s"] is None or 0 <= s["cpu_s"] <= s["wall_s"] + 0.05
    # the run it timed really delivered the program (1 mL/day at 20,000 steps/mL)
    assert abs(s["delivered_total_steps"] - s["expected_steps"]) <= 1
    m = figs["memory"]
    assert m["heap"] == "256K"
    if m["fits"]:
        assert 0 < m["lowest_free_live"] <= m["heap_total"] and m["trend_bytes"] > 0
    else:
        # it did not fit: the bench says how much heap it needs, and what it used there
        assert m["error"] and m["min_heap_kb"] > 256
        at = m["at_twice_min_heap"]
        assert 0 < at["lowest_free_live"] <= at["heap_total"] and at["trend_bytes"] > 0
    cb = figs["code_bytes"]
    assert set(cb["largest"]) == {"firmware.dose", "firmware.trend", "firmware.shell.cmd_trend"}
    assert cb["total"] == sum(cb["largest"].values()) and all(v > 0 for v in cb["largest"].values())
    assert res["unavailable"] == []


def test_other_areas_measured_when_present_listed_when_absent_errors_kept():
    import sys
    import types

    ok = types.ModuleType("bench_fake_ok")
    ok.measure = lambda quick=False: {"figure": 42, "quick": quick}  # type: ignore[attr-defined]
    bad = types.ModuleType("bench_fake_bad")

    def boom():
        raise ValueError("no rig")

    bad.measure = boom  # type: ignore[attr-defined]
    sys.modules["bench_fake_ok"] = ok
    sys.modules["bench_fake_bad"] = bad
    try:
        areas = (("ok", "bench_fake_ok"), ("bad", "bench_fake_bad"), ("absent", "tools.bench.no_such_area"))
        got, missing = bench.others(True, areas)
    finally:
        del sys.modules["bench_fake_ok"], sys.modules["bench_fake_bad"]
    assert got["ok"] == {"figure": 42, "quick": True}
    assert got["bad"]["error"] == "ValueError: no rig"
    assert missing == ["absent"]


def test_table_prints_nested_figures_and_unavailable():
    res = {"figures": {"a": {"b": 1.23456, "c": {"d": 2}}}, "unavailable": ["x"], "errors": {"y": "boom"}}
    text = bench.table(res)
    assert "a.b" in text and "1.235" in text and "a.c.d" in text
    assert "x" in text and "unavailable" in text and "ERROR boom" in text


def test_only_merges_one_area_into_an_earlier_run_and_stamps_it():
    from tools import bench

    old = {
        "when": "2026-01-01T00:00:00Z",
        "quick": False,
        "figures": {"tick": {"us": 1}, "governor": {"error": "x"}},
        "errors": {"sim_speed": "boom"},
    }
    new = {"when": "2026-02-02T00:00:00Z", "quick": False, "figures": {"governor": {"worst_ratio": 0.9}}}
    new["errors"] = {}
    new["measured"] = {"governor": new["when"]}
    got = bench.merge(old, new)
    assert got["figures"] == {"tick": {"us": 1}, "governor": {"worst_ratio": 0.9}}
    assert got["measured"] == {"tick": "2026-01-01T00:00:00Z", "governor": "2026-02-02T00:00:00Z"}
    assert got["errors"] == {"sim_speed": "boom"}
    try:
        bench.merge(dict(old, quick=True), new)
    except SystemExit as e:
        assert "whole bench" in str(e)
    else:
        raise AssertionError("a quick run merged into a full one")
