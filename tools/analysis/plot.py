"""`pumpctl plot`: delivery rate, cumulative volume, line pressure and reservoir over time, to PNG.

The samples come from the pump's `trend` command (firmware/trend.py), paged
through in JSON, from a board or the simulator alike. Alarm onsets are
drawn as spans from onset to clear on every panel, coloured by priority, with
a legend; an alarm already active when the window opens starts at the window's
edge ("before"), one still active at its end runs to the edge ("open"). The
rate axis is clipped to a high percentile so one back-off or bolus minute
cannot squash it; samples above are marked at the top. With no history yet the axes are still drawn and the
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


PRIORITY_COLOURS = {"high": "tab:red", "medium": "tab:orange", "low": "tab:olive", None: "tab:gray"}
CLIP_PCT = 99  # rate axis top: this percentile of the window's rates (x1.25), so a back-off cannot squash it


def window(samples, meta, since=None, until=None):
    """The samples whose minute is in [since, until) (minutes since the epoch; None = open)."""
    im = meta["fields"].index("minute")
    return [s for s in samples if (since is None or s[im] >= since) and (until is None or s[im] < until)]


def alarm_spans(samples, meta):
    """Each alarm's (code, onset, clear, before, open) in minutes: `before` when already active
    in the first sample, `open` when still active in the last; onset/clear are sample minutes."""
    f = meta["fields"]
    im, ia = f.index("minute"), f.index("alarms")
    codes = meta["alarm_codes"]
    out = []
    started = {}
    for n, s in enumerate(samples):
        for i, code in enumerate(codes):
            on = bool(s[ia] & (1 << i))
            if on and i not in started:
                started[i] = (s[im], n == 0)
            elif not on and i in started:
                t0, before = started.pop(i)
                out.append((code, t0, s[im], before, False))
    for i, (t0, before) in started.items():
        out.append((codes[i], t0, samples[-1][f.index("minute")], before, True))
    out.sort(key=lambda a: (a[1], a[0]))
    return out


def clip_top(values, pct=CLIP_PCT):
    """The rate axis top: the pct-th percentile x1.25 (at least a little above 0)."""
    known = sorted(v for v in values if not math.isnan(v))
    if not known:
        return 1.0
    top = known[min(len(known) - 1, int(len(known) * pct / 100))]
    return max(top * 1.25, 1e-6)


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


def draw(samples, meta, path, title=None, priorities=None):
    """Write the PNG; returns a summary (series and their point counts, alarms, a note).

    title: {"pump", "drug", ...} for the figure's title; priorities: alarm code -> priority."""
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
    clipped = 0
    for ax, (key, label) in zip(axes, labels):
        ax.set_ylabel(label, fontsize=8)
        ax.grid(True, alpha=0.3)
        known = [v for v in cols[key] if not math.isnan(v)]
        if cols["t"] and key == "rate_ml_day":
            # whole steps per minute make the raw rate a comb at low flow: show it faint, the hour's mean bold
            ax.step(cols["t"], cols[key], where="post", label="per minute", linewidth=0.5, alpha=0.35)
            ax.plot(cols["t"], rolling_mean(cols[key], 60), label="mean of the last hour", linewidth=1.5)
            top = clip_top(cols[key])
            above = [(w, v) for w, v in zip(cols["t"], cols[key]) if v > top]
            ax.set_ylim(0, top)
            if above:
                ax.plot(
                    [w for w, _v in above],
                    [top * 0.97] * len(above),
                    "^",
                    color="black",
                    markersize=4,
                    label="above the axis (max %.3g)" % max(v for _w, v in above),
                )
            clipped = len(above)
            ax.legend(fontsize=6, loc="lower right")
        elif cols["t"]:
            ax.step(cols["t"], cols[key], where="post", label=key, linewidth=1)
        drawn[key] = len(known)
        if cols["t"] and not known:
            ax.text(0.5, 0.5, "no readings", transform=ax.transAxes, ha="center", va="center", color="gray")
    spans = alarm_spans(samples, meta)
    priorities = priorities or {}
    seen = set()
    for code, t0, t1, before, still in spans:
        pr = priorities.get(code)
        colour = PRIORITY_COLOURS.get(pr, "tab:gray")
        a, b = _when(t0), _when(t1)
        for n, ax in enumerate(axes):
            label = None
            if n == 0 and code not in seen:
                seen.add(code)
                label = "%s (%s)" % (code, pr or "priority ?")
            ax.axvspan(a, b, color=colour, alpha=0.15, label=label)
            if not before:
                ax.axvline(a, color=colour, linewidth=0.8)
            if not still:
                ax.axvline(b, color=colour, linewidth=0.8, linestyle="--")
    if spans:
        axes[0].legend(fontsize=7, loc="upper left", ncol=2)
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
    title = title or {}
    period = "no samples"
    if cols["t"]:
        period = "%s to %s UTC" % (
            cols["t"][0].strftime("%Y-%m-%d %H:%M"),
            cols["t"][-1].strftime("%Y-%m-%d %H:%M"),
        )
    heading = "pump %s, %s, %s" % (title.get("pump") or "?", title.get("drug") or "no drug", period)
    fig.suptitle(heading + "\n" + note, fontsize=9)
    fig.autofmt_xdate()
    summary = {
        "series": drawn,
        "alarms": [c for _w, c in cols["alarms"]],
        "samples": len(samples),
        "note": note,
        "title": heading,
        "spans": [[c, t0, t1, b, o] for c, t0, t1, b, o in spans],
        "rate_clipped": clipped,
    }
    fig.savefig(path, dpi=90, metadata={"Description": json.dumps(summary)})
    plt.close(fig)
    return summary


def _when(minute):
    return datetime.datetime.fromtimestamp(minute * 60, datetime.timezone.utc)


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
