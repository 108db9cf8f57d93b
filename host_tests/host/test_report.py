# cpython-only: drives the simulator through pumpctl, and renders the report in headless chromium.
"""`pumpctl report`: the HTML holds the figures the pump reports, and renders in a real browser
without console errors; `trend --csv` and the host-side record that lets a report span more
than the pump's trend ring."""

import csv
import html.parser
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from tools.pumpctl import cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "docs", "examples", "rx-ptm.toml")  # hydromorphone 2 mg/mL, 1 mg/day, ptm


@pytest.fixture(scope="module")
def trial():
    """A pump run 2.5 days with a ptm bolus, its trend fetched each day into the record."""
    state = tempfile.mkdtemp(prefix="pumpctl-report-")
    outs = []

    def call(*argv):
        import contextlib
        import io

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
            rc = cli.main(["--port", "sim", "--state", state, "--pin", "1234"] + list(argv))
        outs.append(buf.getvalue())
        assert rc == 0, argv
        return buf.getvalue()

    call("program", EXAMPLE, "--yes", "--start")
    call("send", "sim run 20h")
    call("send", "ptm")
    for _ in range(2):
        call("trend", "--csv", os.path.join(state, "day.csv"))  # fetched: kept in DIR/trend.csv
        call("send", "sim run 20h")
    path = os.path.join(state, "r.html")
    call("report", path)
    status = json.loads(call("status", "--json"))
    rx = json.loads(call("send", "rx"))["prescription"]
    yield {"state": state, "html": path, "status": status, "rx": rx, "call": call}
    call("sim", "stop")


class Tables(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self.cur, self.cell = {}, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.cur = self.tables.setdefault(dict(attrs).get("id"), [])
        elif tag == "tr" and self.cur is not None:
            self.cur.append([])
        elif tag in ("td", "th") and self.cur is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.cur[-1].append(self.cell)
            self.cell = None
        elif tag == "table":
            self.cur = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def render(path):
    """The DOM chromium built from the file, and its console messages."""
    exe = chromium()
    if not exe:
        pytest.skip("chromium not found (Debian package chromium; .ci/run installs it)")
    profile = tempfile.mkdtemp(prefix="chromium-")
    try:
        p = subprocess.run(
            [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--user-data-dir=" + profile,
                "--enable-logging=stderr",
                "--v=0",
                "--dump-dom",
                "file://" + path,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    console = [line for line in p.stderr.splitlines() if "CONSOLE" in line]
    return p.stdout, console


def rows(dom, tid):
    t = Tables()
    t.feed(dom)
    return t.tables[tid][1:]


def test_report_renders_without_console_errors(trial):
    dom, console = render(trial["html"])
    assert "<h1>Trial report: pump" in dom
    assert console == []


def test_a_script_error_is_seen_by_the_console_check(trial):
    bad = os.path.join(trial["state"], "bad.html")
    with open(bad, "w") as f:
        f.write("<html><body><script>undefined_fn()</script></body></html>")
    _dom, console = render(bad)
    assert console and "undefined_fn" in " ".join(console)


def test_tables_hold_the_pumps_figures(trial):
    dom, _ = render(trial["html"])
    st, rx = trial["status"], trial["rx"]
    delivered = dict(rows(dom, "delivered"))
    assert float(delivered["delivered_total_ml"]) == st["delivered_total_ml"]
    assert delivered["rate_ml_day"] == str(st["rate_ml_day"])
    presc = dict(rows(dom, "prescription"))
    assert presc["drug"] == rx["drug"] == "hydromorphone"
    assert presc["concentration"] == str(rx["concentration"])
    # the days together hold all the pump delivered: the record kept what the ring let go
    days = rows(dom, "per_day")
    assert len(days) == 3
    assert abs(sum(float(d[1]) for d in days) - st["delivered_total_ml"]) < 1e-3
    assert sum(int(d[3]) for d in days) > 1500  # more minutes than the pump's ring holds
    ptm = dict(rows(dom, "ptm"))
    assert ptm.get("ptm_given") == str(st.get("ptm_given"))
    bol = [r[1] for r in rows(dom, "boluses")]
    assert "ptm_given" in bol
    active = {a["code"] for a in st["alarms"] if a.get("active")}
    shown = {r[0] for r in rows(dom, "alarms") if r[3] == "still active"}
    assert active <= shown | {"DEFAULT_PIN"}
    assert 'src="data:image/png;base64,' in dom


def test_trend_csv_exports_the_samples(trial):
    path = os.path.join(trial["state"], "day.csv")
    with open(path, newline="") as f:
        got = list(csv.reader(f))
    assert got[0] == ["minute", "steps", "kpa10", "reservoir_ul", "alarms"]
    assert len(got) > 1000
    minutes = [int(r[0]) for r in got[1:]]
    assert minutes == sorted(minutes) and len(set(minutes)) == len(minutes)


def test_report_with_a_balance_file_has_the_trumpet_table(trial):
    bal = os.path.join(trial["state"], "balance.csv")
    rate_g_min = trial["status"]["rate_ml_day"] / 1440 * 0.9982
    with open(bal, "w") as f:
        f.write("time,grams\n")
        for i in range(24 * 60):
            f.write("%d,%.6f\n" % (i * 60, i * rate_g_min))
    out = os.path.join(trial["state"], "rt.html")
    trial["call"]("report", out, "--balance", bal)
    dom, console = render(out)
    assert console == []
    t = rows(dom, "trumpet")
    assert t and all(abs(float(r[1])) < 0.01 for r in t)
