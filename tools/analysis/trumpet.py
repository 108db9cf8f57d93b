"""Flow accuracy after IEC 60601-2-24: mean flow error and the trumpet curve.

Input is a trace of delivered volume over time: balance readings (a CSV of
time and grams, turned into mL with the liquid's density) or the pump's own
delivered-volume trace (its `trend` samples, from a board or the simulator).

With the programmed rate r, the mean flow error over the analysis period is
A = 100 (Q - r) / r, Q the mean flow over it. For each observation window P
(2, 5, 11, 19 and 31 minutes) every window of length P that starts on a
sample inside the analysis period gives an error 100 (V(t+P) - V(t) - rP) /
(rP) (the mean of the per-interval flow errors over the window, as the
standard sums them), and the trumpet curve is the largest and smallest of
them against P. A low-flow pump delivers too little in minutes for a balance
to see, so below 1 mL/h the windows are scaled to hours (`--scale`), or
given outright with `--windows`.

    pumpctl trumpet balance.csv --rate 1mL/day [--density 0.9982] [--png trumpet.png]
    pumpctl [--port ...] [--state DIR] trumpet --pump [--png trumpet.png]
"""

import argparse
import csv
import datetime
import sys
from fractions import Fraction

WINDOWS_MIN = (2, 5, 11, 19, 31)
WATER_20C = 0.9982  # g/mL, water at 20 degrees C


class TrumpetError(Exception):
    pass


def parse_rate(text):
    """'1mL/day', '0.5mL/h' or a bare number (mL/h) -> mL per minute, exact."""
    t = text.strip().replace(" ", "")
    per = 60
    for suffix, minutes in (("mL/day", 1440), ("ml/day", 1440), ("mL/d", 1440), ("mL/h", 60), ("ml/h", 60)):
        if t.endswith(suffix):
            t = t[: -len(suffix)]
            per = minutes
            break
    try:
        v = Fraction(t)
    except (ValueError, ZeroDivisionError):
        raise TrumpetError("rate like 1mL/day or 0.5mL/h: %r" % text) from None
    if v <= 0:
        raise TrumpetError("rate must be above 0")
    return v / per


def _time_s(cell):
    try:
        return float(cell)
    except ValueError:
        pass
    try:
        d = datetime.datetime.fromisoformat(cell.strip().replace("Z", "+00:00"))
    except ValueError:
        raise TrumpetError("time is seconds or ISO 8601: %r" % cell) from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d.timestamp()


def read_balance(path, density=WATER_20C):
    """(seconds, mL) from a CSV of time and grams (a header row is skipped)."""
    out = []
    with open(path, newline="") as f:
        for n, row in enumerate(csv.reader(f)):
            if not row or row[0].strip().startswith("#"):
                continue
            if len(row) < 2:
                raise TrumpetError("%s line %d: expected time,grams" % (path, n + 1))
            try:
                grams = float(row[1])
            except ValueError:
                if n == 0:
                    continue  # header
                raise TrumpetError("%s line %d: grams is a number: %r" % (path, n + 1, row[1])) from None
            out.append((_time_s(row[0]), grams / density))
    if len(out) < 3:
        raise TrumpetError("%s: fewer than 3 readings" % path)
    return out


def trace_from_trend(samples, meta):
    """(seconds, cumulative mL) from the pump's trend samples (steps per interval)."""
    f = meta["fields"]
    im, isteps = f.index("minute"), f.index("steps")
    spm = meta["steps_per_ml"]
    total = 0
    out = []
    if samples:
        # the volume at the start of the first sampled interval is the origin
        out.append(((samples[0][im] - meta["interval_s"] // 60) * 60.0, 0.0))
    for s in samples:
        total += s[isteps]
        out.append((s[im] * 60.0, total / spm))
    return out


def uniform(trace):
    """Check the readings are evenly spaced; return (interval in s, volumes)."""
    ts = [t for t, _v in trace]
    gaps = sorted(b - a for a, b in zip(ts, ts[1:]))
    s = gaps[len(gaps) // 2]
    if s <= 0:
        raise TrumpetError("readings must be in time order")
    for g in gaps:
        if abs(g - s) > 0.1 * s:
            raise TrumpetError(
                "readings are not evenly spaced (interval %.3g s, found a gap of %.3g s)" % (s, g)
            )
    return s, [v for _t, v in trace]


def analyse(trace, rate_ml_min, windows_min=WINDOWS_MIN, scale=1.0, settle_min=60.0):
    """The mean flow error and each window's max and min error, in percent."""
    s, vol = uniform(trace)
    s_min = s / 60
    first = int(round(settle_min / s_min))
    if first >= len(vol) - 1:
        raise TrumpetError(
            "trace of %.0f min is not longer than the %g min settling period"
            % ((len(vol) - 1) * s_min, settle_min)
        )
    last = len(vol) - 1
    r = float(rate_ml_min)
    t_min = (last - first) * s_min
    q = (vol[last] - vol[first]) / t_min
    out = {
        "rate_ml_min": r,
        "interval_s": s,
        "settle_min": first * s_min,
        "analysis_min": t_min,
        "mean_flow_ml_min": q,
        "mean_error_pct": 100 * (q - r) / r,
        "windows": [],
        "skipped": [],
    }
    for p in windows_min:
        want = p * scale
        m = max(1, int(round(want / s_min)))
        if first + m > last:
            out["skipped"].append(want)
            continue
        errs = []
        for j in range(first, last - m + 1):
            errs.append(100 * ((vol[j + m] - vol[j]) / (m * s_min) - r) / r)
        out["windows"].append(
            {
                "window_min": m * s_min,
                "max_error_pct": max(errs),
                "min_error_pct": min(errs),
                "count": len(errs),
            }
        )
    return out


def _fmt_min(m):
    if m >= 120 and m % 60 == 0:
        return "%d h" % (m // 60)
    return "%g min" % m


def table(res):
    lines = [
        "programmed rate     %.6g mL/h (%.6g mL/day)" % (res["rate_ml_min"] * 60, res["rate_ml_min"] * 1440),
        "sample interval     %g s" % res["interval_s"],
        "analysis period     %s after %s settling"
        % (_fmt_min(res["analysis_min"]), _fmt_min(res["settle_min"])),
        "mean flow           %.6g mL/h" % (res["mean_flow_ml_min"] * 60),
        "mean flow error A   %+.3f %%" % res["mean_error_pct"],
        "%-12s %12s %12s %8s" % ("window", "Ep max %", "Ep min %", "windows"),
    ]
    for w in res["windows"]:
        lines.append(
            "%-12s %+12.3f %+12.3f %8d"
            % (_fmt_min(w["window_min"]), w["max_error_pct"], w["min_error_pct"], w["count"])
        )
    for p in res["skipped"]:
        lines.append("%-12s %s" % (_fmt_min(p), "longer than the analysis period: not computed"))
    return "\n".join(lines)


def draw(res, path, title="trumpet curve"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ws = res["windows"]
    x = [w["window_min"] for w in ws]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(x, [w["max_error_pct"] for w in ws], "o-", color="tab:red", label="Ep max")
    ax.plot(x, [w["min_error_pct"] for w in ws], "o-", color="tab:blue", label="Ep min")
    ax.axhline(
        res["mean_error_pct"], color="black", linestyle="--", label="A = %+.2f %%" % res["mean_error_pct"]
    )
    ax.axhline(0, color="gray", linewidth=0.5)
    ax.set_xlabel("observation window (min)")
    ax.set_ylabel("flow error (%)")
    ax.set_title("%s (rate %.4g mL/h)" % (title, res["rate_ml_min"] * 60), fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def parser():
    p = argparse.ArgumentParser(prog="pumpctl trumpet", description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("csv", nargs="?", help="balance readings: time (s or ISO 8601), grams")
    p.add_argument("--pump", action="store_true", help="use the pump's delivered-volume trace (trend)")
    p.add_argument("--rate", help="programmed rate, e.g. 1mL/day or 0.5mL/h (default with --pump: its rate)")
    p.add_argument("--density", type=float, default=WATER_20C, help="g/mL (default water at 20 C)")
    p.add_argument("--windows", help="observation windows in minutes, comma separated (default 2,5,11,19,31)")
    p.add_argument("--scale", default="auto", help="multiply the windows (auto: 60 below 1 mL/h, else 1)")
    p.add_argument("--settle", type=float, default=60, help="minutes skipped at the start (default 60)")
    p.add_argument("--png", help="draw the trumpet curve here")
    return p


def main(argv, port="sim", state=None):
    args = parser().parse_args(argv)
    try:
        if args.pump == bool(args.csv):
            raise TrumpetError("give a balance CSV or --pump")
        rate = parse_rate(args.rate) if args.rate else None
        if args.csv:
            if rate is None:
                raise TrumpetError("--rate is needed with balance readings")
            trace = read_balance(args.csv, args.density)
        else:
            trace, rate = _pump_trace(port, state, rate)
        windows = WINDOWS_MIN
        if args.windows:
            try:
                windows = tuple(float(w) for w in args.windows.split(","))
            except ValueError:
                raise TrumpetError("--windows: minutes like 2,5,11,19,31") from None
        if args.scale == "auto":
            scale = 60 if rate * 60 < 1 else 1
        else:
            scale = float(args.scale)
        res = analyse(trace, rate, windows, scale, args.settle)
    except TrumpetError as e:
        print("E_TRUMPET: %s" % e, file=sys.stderr)
        return 1
    print(table(res))
    if args.png:
        draw(res, args.png)
        print("trumpet curve written to %s" % args.png)
    return 0


def _pump_trace(port, state, rate):
    from tools.analysis import plot
    from tools.pumpctl import conn

    pump = conn.connect(port, state=state)
    try:
        samples, meta = plot.fetch(pump, progress=True)
        st = pump.call("status")
    finally:
        pump.close()
    if rate is None:
        rate = parse_rate("%smL/day" % st.get("rate_ml_day"))
    return trace_from_trend(samples, meta), rate
