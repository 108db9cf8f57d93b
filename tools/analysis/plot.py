"""`pumpctl plot`: delivery rate, cumulative volume, line pressure and reservoir over time, to PNG.

The samples come from the pump's `trend` command (firmware/trend.py), paged
through in JSON, from a board or the simulator alike. Alarm onsets are
marked on every panel. With no history yet the axes are still drawn and the
figure says so. The PNG carries the series it drew in its text chunk
(`Description`), so a test can check the file itself.
"""

import datetime
import json
import math

SERIES = ("rate_ml_day", "cumulative_ml", "pressure_kpa", "reservoir_ml")


def fetch(pump, progress=False):
    """Every sample the pump still holds, oldest first, and the reply's metadata."""
    first = pump.call("trend 0 1")
    total = first["count"] - first["first"]
    since = first["first"]
    samples = []
    bar = None
    if progress and total > 600:
        from tools.pumpctl.progress import Bar

        bar = Bar(total, "trend")
    while True:
        d = pump.call("trend %d" % since)
        if not d["samples"]:
            break
        samples += d["samples"]
        since = d["next"]
        if bar:
            bar.update(len(samples))
    if bar:
        bar.finish()
    meta = {k: first[k] for k in ("fields", "alarm_codes", "steps_per_ml", "interval_s")}
    return samples, meta


def series(samples, meta):
    """Columns for the plot: times, rate (mL/day), cumulative mL, pressure kPa, reservoir mL, alarm onsets."""
    f = meta["fields"]
    im, isteps, ip, ir, ia = (f.index(k) for k in ("minute", "steps", "kpa10", "reservoir_ul", "alarms"))
    spm = meta["steps_per_ml"]
    per_day = 86400 / meta["interval_s"]
    codes = meta["alarm_codes"]
    t, rate, cum, p, r, marks = [], [], [], [], [], []
    total = 0
    prev = 0
    for s in samples:
        when = datetime.datetime.fromtimestamp(s[im] * 60, datetime.timezone.utc)
        total += s[isteps]
        t.append(when)
        rate.append(s[isteps] / spm * per_day)
        cum.append(total / spm)
        p.append(math.nan if s[ip] is None else s[ip] / 10)
        r.append(math.nan if s[ir] is None else s[ir] / 1000)
        new = s[ia] & ~prev
        prev = s[ia]
        for i, code in enumerate(codes):
            if new & (1 << i):
                marks.append((when, code))
    return {
        "t": t,
        "rate_ml_day": rate,
        "cumulative_ml": cum,
        "pressure_kpa": p,
        "reservoir_ml": r,
        "alarms": marks,
    }


def rolling_mean(values, n):
    """Mean of the last n values at each point (fewer at the start)."""
    out = []
    total = 0.0
    for i, v in enumerate(values):
        total += v
        if i >= n:
            total -= values[i - n]
        out.append(total / min(i + 1, n))
    return out


def draw(samples, meta, path):
    """Write the PNG; returns a summary (series and their point counts, alarms, a note)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    cols = series(samples, meta)
    fig, axes = plt.subplots(4, 1, figsize=(10, 9), sharex=True)
    labels = (
        ("rate_ml_day", "delivery rate (mL/day)"),
        ("cumulative_ml", "delivered since the\nfirst sample (mL)"),
        ("pressure_kpa", "line pressure (kPa)"),
        ("reservoir_ml", "reservoir (mL)"),
    )
    drawn = {}
    for ax, (key, label) in zip(axes, labels):
        ax.set_ylabel(label, fontsize=8)
        ax.grid(True, alpha=0.3)
        known = [v for v in cols[key] if not math.isnan(v)]
        if cols["t"] and key == "rate_ml_day":
            # whole steps per minute make the raw rate a comb at low flow: show it faint, the hour's mean bold
            ax.step(cols["t"], cols[key], where="post", label="per minute", linewidth=0.5, alpha=0.35)
            ax.plot(cols["t"], rolling_mean(cols[key], 60), label="mean of the last hour", linewidth=1.5)
            ax.legend(fontsize=6, loc="lower right")
        elif cols["t"]:
            ax.step(cols["t"], cols[key], where="post", label=key, linewidth=1)
        drawn[key] = len(known)
        if cols["t"] and not known:
            ax.text(0.5, 0.5, "no readings", transform=ax.transAxes, ha="center", va="center", color="gray")
        for when, _code in cols["alarms"]:
            ax.axvline(when, color="red", linewidth=0.8, alpha=0.7)
    for when, code in cols["alarms"]:
        axes[0].annotate(
            code,
            (when, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            fontsize=6,
            color="red",
            va="top",
        )
    axes[-1].set_xlabel("time (UTC)")
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M"))
    if not samples:
        note = "no history yet: the pump has no trend samples (one is taken each minute)"
        for ax in axes:
            ax.text(
                0.5, 0.5, note, transform=ax.transAxes, ha="center", va="center", color="gray", fontsize=8
            )
    else:
        note = "%d samples from %s to %s, %d alarm marks" % (
            len(samples),
            cols["t"][0].strftime("%Y-%m-%dT%H:%M"),
            cols["t"][-1].strftime("%Y-%m-%dT%H:%M"),
            len(cols["alarms"]),
        )
    fig.suptitle("pump trend: " + note, fontsize=9)
    fig.autofmt_xdate()
    summary = {
        "series": drawn,
        "alarms": [c for _w, c in cols["alarms"]],
        "samples": len(samples),
        "note": note,
    }
    fig.savefig(path, dpi=90, metadata={"Description": json.dumps(summary)})
    plt.close(fig)
    return summary


def png_summary(path):
    """The summary `draw` stored in the PNG's Description text chunk."""
    import zlib

    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    i = 8
    while i < len(data):
        n = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        body = data[i + 8 : i + 8 + n]
        if kind == b"tEXt" and body.startswith(b"Description\x00"):
            return json.loads(body.split(b"\x00", 1)[1].decode("latin-1"))
        if kind == b"zTXt" and body.startswith(b"Description\x00"):
            return json.loads(zlib.decompress(body.split(b"\x00", 1)[1][1:]).decode("latin-1"))
        if kind == b"iTXt" and body.startswith(b"Description\x00"):
            parts = body.split(b"\x00", 5)
            txt = parts[5] if len(parts) > 5 else b""
            if body[len(b"Description\x00")] == 1:
                txt = zlib.decompress(txt)
            return json.loads(txt.decode("utf-8"))
        i += 12 + n
    raise ValueError("no Description in %s" % path)
