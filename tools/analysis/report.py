"""`pumpctl report FILE.html`: a self-contained trial report from the pump's own replies.

Sections: the prescription and its changes (log), per-day delivered volume
and dose (trend samples, UTC days; dose = volume x the prescription's
concentration, so a day spanning a concentration change is marked), boluses
and ptm demand against delivery, alarms with their durations (trend spans),
the plot embedded as a base64 PNG, and the trumpet table when a balance
file is given (tools/analysis/trumpet.py). Plain string templating; every
value goes through html.escape. No script, no external resource.
"""

import base64
import datetime
import html
import json
import os
import tempfile

CHANGE_EVENTS = ("rx_", "program", "concentration", "calibration", "ptm_set", "refill", "proposal")
BOLUS_EVENTS = ("bolus", "ptm_given", "ptm_refused", "bridge", "prime")


def gather(pump):
    """The pump's replies the report uses: status, rx, log."""
    from tools.pumpctl import logcsv

    return {
        "status": pump.call("status"),
        "rx": pump.call("rx").get("prescription") or {},
        "log": logcsv.entries(pump.call("log 500")),
    }


def _e(v):
    if v is None:
        return "&ndash;"
    if isinstance(v, (dict, list)):
        v = json.dumps(v, sort_keys=True)
    return html.escape(str(v))


def table(tid, head, rows):
    out = ['<table id="%s"><thead><tr>' % tid]
    out += ["<th>%s</th>" % _e(h) for h in head]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>" + "".join("<td>%s</td>" % _e(c) for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def per_day(samples, meta, rx):
    """[(UTC day, mL, dose or None, samples)] from the trend steps."""
    f = meta["fields"]
    im, isteps = f.index("minute"), f.index("steps")
    days = {}
    for s in samples:
        day = datetime.datetime.fromtimestamp(s[im] * 60, datetime.timezone.utc).date().isoformat()
        d = days.setdefault(day, [0, 0])
        d[0] += s[isteps]
        d[1] += 1
    conc = _number(rx.get("concentration"))
    out = []
    for day in sorted(days):
        ml = days[day][0] / meta["steps_per_ml"]
        dose = None if conc is None else "%.4g %s" % (ml * conc, rx.get("dose_unit") or "")
        out.append((day, "%.4f" % ml, dose, days[day][1]))
    return out


def _number(v):
    try:
        return float(str(v).split()[0])
    except (TypeError, ValueError, IndexError):
        return None


def _fmt_min(m):
    return datetime.datetime.fromtimestamp(m * 60, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M")


def alarm_rows(samples, meta, priorities):
    from tools.analysis import plot

    rows = []
    for code, t0, t1, before, still in plot.alarm_spans(samples, meta):
        rows.append(
            (
                code,
                priorities.get(code),
                ("before " if before else "") + _fmt_min(t0),
                "still active" if still else _fmt_min(t1),
                "%s%d" % (">= " if before or still else "", t1 - t0),
            )
        )
    return rows


def plot_png(samples, meta, title, priorities):
    from tools.analysis import plot

    d = tempfile.mkdtemp()
    path = os.path.join(d, "trend.png")
    plot.draw(samples, meta, path, title=title, priorities=priorities)
    with open(path, "rb") as f:
        data = f.read()
    os.remove(path)
    os.rmdir(d)
    return base64.b64encode(data).decode("ascii")


def trumpet_html(balance, density, rx_rate_ml_day):
    from tools.analysis import trumpet

    try:
        trace = trumpet.read_balance(balance, density or trumpet.WATER_20C)
        rate = trumpet.parse_rate("%smL/day" % rx_rate_ml_day)
        scale = 60 if rate * 60 < 1 else 1
        res = trumpet.analyse(trace, rate, trumpet.WINDOWS_MIN, scale)
    except trumpet.TrumpetError as e:
        return "<p class=err>E_TRUMPET: %s</p>" % _e(e)
    rows = [
        (
            trumpet._fmt_min(w["window_min"]),
            "%+.3f" % w["max_error_pct"],
            "%+.3f" % w["min_error_pct"],
            w["count"],
        )
        for w in res["windows"]
    ]
    return "<p>mean flow error A = %s %%</p>%s" % (
        _e("%+.3f" % res["mean_error_pct"]),
        table("trumpet", ("window", "Ep max %", "Ep min %", "windows"), rows),
    )


STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:70em}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "td,th{border:1px solid #bbb;padding:2px 8px;text-align:left}th{background:#eee}img{max-width:100%}"
)


def build(facts, samples, meta, title, priorities, balance=None, density=None):
    st, rx, log = facts["status"], facts["rx"], facts["log"]
    heading = "Trial report: pump %s, %s" % (title.get("pump") or "?", rx.get("drug") or "no drug")
    rx_rows = [(k, rx[k]) for k in sorted(rx)]
    changes = [
        (e.get("time"), e.get("event"), e.get("detail"))
        for e in log
        if any(str(e.get("event", "")).startswith(p) for p in CHANGE_EVENTS)
    ]
    boluses = [
        (e.get("time"), e.get("event"), e.get("detail"))
        for e in log
        if any(p in str(e.get("event", "")) for p in BOLUS_EVENTS)
    ]
    delivered = [
        ("delivered_total_ml", st.get("delivered_total_ml")),
        ("delivered_24h_ml", st.get("delivered_24h_ml")),
        ("delivered_24h_dose", st.get("delivered_24h_dose")),
        ("rate_ml_day", st.get("rate_ml_day")),
        ("reservoir_ml", st.get("reservoir_ml")),
    ]
    ptm = [(k, st[k]) for k in sorted(st) if k.startswith("ptm")]
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        "<title>%s</title><style>%s</style></head><body>" % (_e(heading), STYLE),
        "<h1>%s</h1><p>written %s UTC, pump clock %s</p>"
        % (
            _e(heading),
            _e(datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")),
            _e(st.get("clock")),
        ),
        "<h2>Prescription</h2>",
        table("prescription", ("field", "value"), rx_rows),
        "<h2>Prescription changes</h2>",
        table("changes", ("time", "event", "detail"), changes),
        "<h2>Delivered</h2>",
        table("delivered", ("figure", "value"), delivered),
        "<h2>Per day (UTC, from the trend)</h2>",
        table("per_day", ("day", "volume mL", "dose", "samples"), per_day(samples, meta, rx)),
        "<h2>Boluses</h2>",
        table("boluses", ("time", "event", "detail"), boluses),
        "<h2>Patient boluses (ptm): demand against delivery</h2>",
        table("ptm", ("figure", "value"), ptm),
        "<h2>Alarms</h2>",
        table(
            "alarms", ("code", "priority", "onset", "clear", "minutes"), alarm_rows(samples, meta, priorities)
        ),
        "<h2>Trend</h2>",
        '<img alt="trend plot" src="data:image/png;base64,%s">' % plot_png(samples, meta, title, priorities),
    ]
    if balance:
        parts += ["<h2>Flow accuracy (trumpet)</h2>", trumpet_html(balance, density, st.get("rate_ml_day"))]
    parts.append("</body></html>")
    return "\n".join(parts)
