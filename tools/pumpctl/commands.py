"""The pumpctl commands but `program` (tools/pumpctl/program.py): (pump, args) -> exit status."""

import getpass
import json
import os
import re
import sys
import time

from tools.pumpctl import conn
from tools.pumpctl.progress import Bar

UNITS_MS = {"s": 1000, "m": 60000, "h": 3600000, "d": 86400000}
STATUS_ROWS = (
    "state",
    "mode",
    "rate_ml_day",
    "delivered_24h_ml",
    "delivered_24h_dose",
    "dose_unit",
    "delivered_total_steps",
    "reservoir_ml",
    "days_to_empty",
    "clock",
)


def duration_ms(text):
    m = re.fullmatch(r"(\d+)([smhd])", text)
    if not m:
        raise conn.PumpError("E_SYNTAX", "duration like 90s, 15m, 2h or 7d: %r" % text)
    return int(m.group(1)) * UNITS_MS[m.group(2)]


def fmt_duration(ms):
    for unit in ("d", "h", "m", "s"):
        if ms % UNITS_MS[unit] == 0:
            return "%d%s" % (ms // UNITS_MS[unit], unit)
    raise ValueError("duration not a whole number of seconds")


def human_span(ms):
    h = ms / 3600000
    return "%.1f h" % h if h < 48 else "%.1f d" % (h / 24)


def sim_run(pump, ms, label="sim run"):
    """A long `sim run` in slices, with a progress bar; the same virtual time as one call."""
    if ms <= 3600000:
        return pump.call("sim run " + fmt_duration(ms))
    slices = 50
    step = max(60000, (ms // slices) // 60000 * 60000)
    bar = Bar(ms, label)
    done = 0
    while done < ms:
        n = min(step, ms - done)
        pump.call("sim run " + fmt_duration(n))
        done += n
        bar.update(done, "%s of %s" % (human_span(done), human_span(ms)))
    bar.finish("%s of %s" % (human_span(ms), human_span(ms)))
    return {"ok": True, "ran_ms": ms}


def pin_for(args):
    pin = args.pin or os.environ.get("PUMPCTL_PIN")
    if pin:
        return pin
    if sys.stdin.isatty():
        return getpass.getpass("clinician PIN: ")
    raise conn.PumpError("E_AUTH", "this needs the clinician PIN: --pin PIN or PUMPCTL_PIN")


def login(pump, args):
    return pump.call("login clinician " + pin_for(args))


def ask(question, args):
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print("not confirmed: pass --yes (stdin is not a terminal)", file=sys.stderr)
        return False
    return input(question + " [y/N] ").strip().lower() in ("y", "yes")


def show_value(v):
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return "-" if v is None else str(v)


def print_status(d, out=sys.stdout):
    for k in STATUS_ROWS:
        out.write("%-22s %s\n" % (k, show_value(d.get(k))))
    alarms = d.get("alarms") or []
    if not alarms:
        out.write("%-22s %s\n" % ("alarms", "none"))
    for a in alarms:
        if isinstance(a, dict):
            out.write(
                "%-22s #%s %s %s since %s%s\n"
                % (
                    "alarm",
                    a.get("id"),
                    a.get("priority"),
                    a.get("code"),
                    a.get("since"),
                    " (acked)" if a.get("acked") else "",
                )
            )
        else:
            out.write("%-22s %s\n" % ("alarm", a))


# ---- commands -------------------------------------------------------------


def cmd_status(pump, args):
    n = 0
    while True:
        d = pump.call("status")
        if args.json:
            print(json.dumps(d))
        else:
            if args.watch and sys.stdout.isatty():
                sys.stdout.write("\x1b[H\x1b[2J")
            print_status(d)
        n += 1
        if not args.watch or (args.count and n >= args.count):
            return 0
        if args.advance:
            pump.call("sim run " + args.advance)
        else:
            time.sleep(args.interval)
        if not args.json:
            print()


def cmd_login(pump, args):
    d = login(pump, args)
    print("role: %s; alarms: %s" % (d.get("role"), ", ".join(str(a) for a in d.get("alarms", [])) or "none"))
    return 0


def cmd_send(pump, args):
    line = " ".join(args.line)
    if args.pin or os.environ.get("PUMPCTL_PIN"):
        # a PIN given logs in first: a fresh simulator (no --state) starts logged out, and a board's
        # or DIR's session may have ended (ten idle minutes of the pump's time)
        login(pump, args)
    m = re.fullmatch(r"sim run (\d+[smhd])", line.strip())
    if m and args.port == "sim":
        d = sim_run(pump, duration_ms(m.group(1)))
    else:
        d = pump.call(line, check=False)
    print(json.dumps(d))
    if not d.get("ok", False):
        raise conn.PumpError(d.get("code", "E_UNKNOWN"), d.get("error", "error"))
    return 0


def cmd_prime(pump, args):
    """A priming bolus, followed to its end with a progress bar (the simulator moves a second at a time)."""
    login(pump, args)
    before = pump.call("status")["delivered_total_steps"]
    d = pump.call("prime " + args.volume)
    ml = args.volume[: -len("mL")]
    want = d.get("steps") or 1
    bar = Bar(want, "priming")
    stalled = 0
    last = before
    while True:
        if args.port == "sim":
            pump.call("sim run 1s")
        else:
            time.sleep(0.5)
        st = pump.call("status")
        done = st["delivered_total_steps"] - before
        bar.update(done, "%d/%d steps" % (done, want))
        stalled = 0 if st["delivered_total_steps"] != last else stalled + 1
        last = st["delivered_total_steps"]
        if st.get("bolus") != "prime" or done >= want:
            break
        if st["state"] == "alarm" or stalled > 60:
            bar.finish()
            codes = [a.get("code") if isinstance(a, dict) else a for a in st.get("alarms", [])]
            raise conn.PumpError(
                "E_STATE", "priming stopped after %d of %d steps (alarms: %s)" % (done, want, codes)
            )
    bar.finish("%d/%d steps" % (done, want))
    print("primed %s mL (%d steps)" % (ml, done))
    return 0


def cmd_refill(pump, args):
    login(pump, args)
    pump.call("refill begin")
    try:
        pump.call("refill withdrawn " + args.withdrawn)
        add = "refill add " + args.add + (" conc=" + args.conc if args.conc else "")
        shown = pump.call(add)
        for k in sorted(shown):
            if k != "ok":
                print("%-22s %s" % (k, show_value(shown[k])))
        if not ask("confirm the refill?", args):
            pump.call("refill cancel")
            print("refill cancelled")
            return 1
        if pump.simulated():
            # the simulator's reservoir moves only with its syringe (SPEC 10 `sim withdraw`/`sim refill`):
            # a clinician empties and fills it before confirming, so the sensor agrees with the pump's figure
            pump.call("sim withdraw " + _ml(args.withdrawn))
            pump.call("sim refill " + _ml(args.add))
        d = pump.call("refill confirm" + (" nobridge" if args.nobridge else ""))
    except conn.PumpError:
        pump.call("refill cancel", check=False)
        raise
    print("refilled: %s" % json.dumps(d))
    return 0


def _ml(text):
    # '2.5mL' -> '2.5', the simulator's syringe takes mL (argtypes.volume_ml checked the unit)
    return text[: -len("mL")]


def cmd_log(pump, args):
    from tools.pumpctl import logcsv

    d = pump.call("log %d" % args.n)
    rows = logcsv.entries(d)
    if args.csv:
        logcsv.write(args.csv, rows)
        print("%d log entries written to %s" % (len(rows), args.csv))
    else:
        for r in rows:
            print(json.dumps(r))
    return 0


def trend_span(pump, args):
    """The pump's samples, added to the host-side record, merged with it and cut to
    --last/--since/--until; returns (samples, meta)."""
    from tools.analysis import plot, record

    samples, meta = plot.fetch(pump, progress=True)
    path = record.default_path(args)
    if path:
        record.append(path, samples, meta["fields"])
        samples = record.merged(path, samples)
    since, until = args.since, args.until
    if args.last is not None and samples:
        end = samples[-1][0] if until is None else until
        since = end - int(args.last) // 60
    return plot.window(samples, meta, since, until), meta


def figure_title(pump, args):
    """pump (port or state folder), drug, and alarm priorities from the pump's replies."""
    rx = pump.call("rx", check=False).get("prescription") or {}
    pr = {}
    from tools.pumpctl import logcsv

    for e in logcsv.entries(pump.call("log 500", check=False)):
        d = e.get("detail") or {}
        if e.get("event") == "alarm" and d.get("code"):
            pr[d["code"]] = d.get("priority")
    for a in pump.call("status", check=False).get("alarms", []) or []:
        pr[a.get("code")] = a.get("priority")
    name = os.path.basename(os.path.normpath(args.state)) if args.state else args.port
    return {"pump": name, "drug": rx.get("drug")}, pr, rx


def cmd_plot(pump, args):
    from tools.analysis import plot

    samples, meta = trend_span(pump, args)
    title, pr, _rx = figure_title(pump, args)
    summary = plot.draw(samples, meta, args.file, title=title, priorities=pr)
    print("%s: %s" % (args.file, summary["note"]))
    return 0


def cmd_trend(pump, args):
    from tools.analysis import record

    samples, meta = trend_span(pump, args)
    if args.csv:
        record.write_csv(args.csv, samples, meta["fields"])
        print("%d trend samples written to %s" % (len(samples), args.csv))
    else:
        print(",".join(meta["fields"]))
        for x in samples:
            print(",".join("" if v is None else str(v) for v in x))
    return 0


def cmd_report(pump, args):
    from tools.analysis import report

    samples, meta = trend_span(pump, args)
    title, pr, rx = figure_title(pump, args)
    facts = report.gather(pump)
    html = report.build(facts, samples, meta, title, pr, balance=args.balance, density=args.density)
    with open(args.file, "w", encoding="utf-8") as f:
        f.write(html)
    print("report written to %s" % args.file)
    return 0


def cmd_ports(args):
    """The serial ports present, candidate boards first, and the one a call without --port would use."""
    from tools.pumpctl import ports

    found = ports.present()
    boards = ports.candidates(found)
    for p in boards:
        print("* " + ports.describe(p))
    for p in found:
        if p not in boards:
            print("  " + ports.describe(p))
    if not found:
        print("no serial ports present")
    picos = ports.picos(found)
    if len(picos) == 1:
        print("without --port, pumpctl uses %s (the one Pico present)" % picos[0][0])
    elif len(picos) > 1:
        print("%d Picos present: choose one with --port" % len(picos))
    else:
        print("without --port, pumpctl uses the simulator (no Pico present)")
    return 0


def cmd_sim(args):
    """`sim status|stop`: the background simulator that keeps DIR's pump alive between calls."""
    from tools.pumpctl import simserver

    if not args.state or args.port != "sim":
        raise conn.PumpError("E_SYNTAX", "sim status|stop is for the simulator of --state DIR")
    state = simserver.state_dir(args.state)
    try:
        fd = simserver.lock(state, args.timeout or 600.0)
        try:
            if args.action == "stop":
                pid = simserver.stop(state)
                print(
                    "stopped the simulator of %s (pid %d); the next call starts it again" % (state, pid)
                    if pid
                    else "no simulator running for %s" % state
                )
                return 0
            d = simserver.info(state)
            if d is not None and simserver.alive(state, d):
                print("running: %s, pid %d, for %s" % (d["url"], d["pid"], state))
            else:
                print("not running for %s; the next call starts it" % state)
            return 0
        finally:
            simserver.unlock(fd)
    except simserver.Error as e:
        raise conn.PumpError(e.code, e.msg) from None


def cmd_deploy(args):
    import importlib

    if args.port == "sim":
        raise conn.PumpError("E_SYNTAX", "deploy needs a board: --port /dev/ttyACM0 or socket://HOST:PORT")
    try:
        deploy = importlib.import_module("tools.deploy")
    except ImportError:
        raise conn.PumpError("E_UNAVAILABLE", "the deploy tool (tools/deploy) is not installed") from None
    if "://" not in args.port:
        # a device that is not there or is busy is one line here, before the deploy tool's mpremote
        conn.SerialLink(args.port, timeout=1.0).close()
    argv = ["--port", args.port]
    if args.no_reset:
        argv.append("--no-reset")
    if args.quiet:
        argv.append("--quiet")
    return deploy.main(argv)


def cmd_trumpet(args):
    """tools/analysis/trumpet.py with the options checked here (units, files), handed on in its terms."""
    from tools.analysis import trumpet

    if args.pump == bool(args.csv):
        raise conn.PumpError("E_SYNTAX", "give a balance CSV or --pump")
    if args.csv and not args.rate:
        raise conn.PumpError("E_SYNTAX", "--rate is needed with balance readings, e.g. --rate 0.2mL/day")
    argv = [args.csv] if args.csv else ["--pump"]
    if args.rate:
        argv += ["--rate", args.rate]
    if args.density is not None:
        argv += ["--density", repr(args.density)]
    if args.windows:
        argv += ["--windows", ",".join("%g" % m for m in args.windows)]
    if args.scale:
        argv += ["--scale", args.scale]
    if args.settle is not None:
        argv += ["--settle", "%g" % args.settle]
    if args.png:
        argv += ["--png", args.png]
    return trumpet.main(argv, port=args.port, state=args.state)
