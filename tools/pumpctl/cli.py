"""pumpctl: program and inspect a pump (board, socket:// URL or the simulator) from the host.

    pumpctl [--port sim|/dev/ttyACM0|socket://HOST:PORT] [--state DIR] [--pin PIN] COMMAND ...

Every command speaks the shell's JSON mode. A refusal from the pump is printed
as its code and message and the exit status is 1.
"""

import argparse
import getpass
import json
import os
import re
import sys
import time
from decimal import Decimal, InvalidOperation

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
        # each simulator call is a fresh boot (logged out): log in first when a PIN is given
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


def cmd_program(pump, args):
    from firmware.therapy.units import show
    from tools.pumpctl import rxfile, validate

    try:
        doc = rxfile.read(args.file)
        lines = rxfile.lines_from(doc)
        rx, prog = rxfile.check_args(doc)
    except rxfile.RxError as e:
        raise conn.PumpError("E_SYNTAX", str(e)) from None
    confirm = "program confirm" + (" override" if args.override else "")
    status = pump.call("status")
    spm = status.get("steps_per_ml") or 20000
    print("checking %s with the firmware's own limits..." % args.file, file=sys.stderr)
    summary = validate.limits(rx, prog, spm)
    if summary["warnings"] and not args.override:
        raise conn.PumpError(
            "E_CONFIRM", "above a soft limit: %s; --override to confirm" % "; ".join(summary["warnings"])
        )
    pending = validate.dry_run(lines + [confirm])[-2]
    unit = summary["dose_unit"]
    daily_ml = Decimal(summary["daily_nl"]) / 1000000
    print("prescription and program from %s:" % args.file)
    for line in lines:
        print("  " + line)
    print("daily dose      %s" % show(summary["daily_dose_ng"], unit))
    print("daily volume    %s mL (at %d steps/mL)" % (daily_ml.normalize(), spm))
    if summary["rounding_ng"]:
        print("step rounding   %s a day" % show(summary["rounding_ng"], unit))
    print(
        "days to empty   %s"
        % days_to_empty(status, {"daily_ml": daily_ml, "days_to_empty": pending.get("days_to_empty")})
    )
    for w in summary["warnings"]:
        print("warning         %s" % w)
    if not ask("send and confirm this program?", args):
        print("nothing sent")
        return 1
    login(pump, args)
    bar = Bar(len(lines) + 1, "sending")
    for i, line in enumerate(lines):
        pump.call(line)
        bar.update(i + 1)
    done = pump.call(confirm)
    bar.finish()
    print("confirmed: mode %s, %s mL/day" % (done.get("mode"), show_value(done.get("rate_ml_day"))))
    if args.start:
        print("state: %s" % pump.call("start").get("state"))
    elif done.get("state") == "stopped":
        print("the pump is stopped: it delivers after 'pumpctl send start' (or program --start)")
    return 0


def days_to_empty(status, pending):
    """Days to the pump's own reservoir reading at the new daily volume; the firmware's figure if unknown."""
    try:
        res = Decimal(str(status.get("reservoir_ml")))
        daily = Decimal(str(pending.get("daily_ml")))
    except (InvalidOperation, TypeError):
        return show_value(pending.get("days_to_empty")) + " (the firmware's figure for a full reservoir)"
    if daily <= 0:
        return "-"
    residual = Decimal(1)  # SPEC 5: days to empty count to the 1 mL residual by default
    days = ((res - residual) / daily).quantize(Decimal("0.1"))
    return "%s (reservoir now %s mL, to the 1 mL residual)" % (days, res)


def cmd_prime(pump, args):
    """A priming bolus, followed to its end with a progress bar (the simulator moves a second at a time)."""
    login(pump, args)
    before = pump.call("status")["delivered_total_steps"]
    d = pump.call("prime " + args.volume)
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
    print("primed %s mL (%d steps)" % (args.volume, done))
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
        d = pump.call("refill confirm" + (" nobridge" if args.nobridge else ""))
    except conn.PumpError:
        pump.call("refill cancel", check=False)
        raise
    print("refilled: %s" % json.dumps(d))
    return 0


def cmd_log(pump, args):
    from tools.pumpctl import logcsv

    d = pump.call("log %d" % args.n if args.n else "log")
    rows = logcsv.entries(d)
    if args.csv:
        logcsv.write(args.csv, rows)
        print("%d log entries written to %s" % (len(rows), args.csv))
    else:
        for r in rows:
            print(json.dumps(r))
    return 0


def cmd_plot(pump, args):
    from tools.analysis import plot

    samples, meta = plot.fetch(pump, progress=True)
    summary = plot.draw(samples, meta, args.file)
    print("%s: %s" % (args.file, summary["note"]))
    return 0


def cmd_deploy(args):
    import importlib

    if args.port == "sim":
        raise conn.PumpError("E_SYNTAX", "deploy needs a board: --port /dev/ttyACM0 or socket://HOST:PORT")
    try:
        deploy = importlib.import_module("tools.deploy")
    except ImportError:
        raise conn.PumpError("E_UNAVAILABLE", "tools/deploy is not there yet (issue 9)") from None
    argv = ["--port", args.port] + list(args.rest)
    return deploy.main(argv)


def cmd_trumpet(args):
    from tools.analysis import trumpet

    return trumpet.main(args.rest, port=args.port, state=args.state)


def parser():
    p = argparse.ArgumentParser(prog="pumpctl", description="Program and inspect the intrathecal pump.")
    p.add_argument("--port", default="sim", help="sim (default), a serial device, or socket://HOST:PORT")
    p.add_argument("--state", help="simulator only: its flash directory, so the pump persists between calls")
    p.add_argument("--pin", help="clinician PIN (or PUMPCTL_PIN; asked for on a terminal)")
    p.add_argument("--timeout", type=float, help="seconds to wait for a reply (serial)")
    sub = p.add_subparsers(dest="cmd", required=True)
    # --pin after the command too; SUPPRESS keeps a global --pin when it is not repeated
    pin = argparse.ArgumentParser(add_help=False)
    pin.add_argument("--pin", default=argparse.SUPPRESS, help="clinician PIN (or PUMPCTL_PIN)")
    s = sub.add_parser("status", help="state, rate, delivered, reservoir, alarms")
    s.add_argument("--json", action="store_true", help="the raw JSON reply")
    s.add_argument("--watch", action="store_true", help="keep showing it")
    s.add_argument("--interval", type=float, default=2.0, help="seconds between reads (--watch)")
    s.add_argument("--count", type=int, default=0, help="stop after N reads (--watch)")
    s.add_argument("--advance", help="simulator: run this much virtual time between reads, e.g. 1h")
    s = sub.add_parser("login", help="log in as clinician", parents=[pin])
    s.add_argument("pin_arg", nargs="?", metavar="PIN")
    s = sub.add_parser("send", help="send one shell line, print the JSON reply", parents=[pin])
    s.add_argument("line", nargs="+")
    s = sub.add_parser("program", help="set prescription and program from a TOML file", parents=[pin])
    s.add_argument("file")
    s.add_argument("--yes", action="store_true", help="send and confirm without asking")
    s.add_argument("--override", action="store_true", help="confirm above a soft limit (never a hard one)")
    s.add_argument(
        "--start", action="store_true", help="start delivery once confirmed (a stopped pump waits)"
    )
    s = sub.add_parser("refill", help="refill: withdrawn, added, confirm", parents=[pin])
    s.add_argument("--withdrawn", required=True, metavar="ML")
    s.add_argument("--add", required=True, metavar="ML")
    s.add_argument("--conc", help="new concentration, e.g. 10mg/mL (starts a bridge bolus)")
    s.add_argument("--nobridge", action="store_true")
    s.add_argument("--yes", action="store_true")
    s = sub.add_parser("prime", help="priming bolus on a stopped pump, with a progress bar", parents=[pin])
    s.add_argument("volume", metavar="VOLUME_ML")
    s = sub.add_parser("log", help="the event and audit log")
    s.add_argument("--csv", metavar="FILE")
    s.add_argument(
        "-n", type=int, default=500, help="the last N entries (default 500, the most one reply holds)"
    )
    s = sub.add_parser("plot", help="delivery, pressure, reservoir over time to PNG")
    s.add_argument("file")
    s = sub.add_parser("deploy", help="compile and copy the firmware to a board (tools/deploy)")
    s.add_argument("rest", nargs=argparse.REMAINDER)
    s = sub.add_parser(
        "trumpet", help="IEC 60601-2-24 flow accuracy (see pumpctl trumpet -h)", add_help=False
    )
    s.add_argument("rest", nargs=argparse.REMAINDER)
    return p


def run(args):
    if args.cmd == "deploy":
        return cmd_deploy(args)
    if args.cmd == "trumpet":
        return cmd_trumpet(args)
    if args.cmd == "login" and args.pin_arg:
        args.pin = args.pin_arg
    if args.state and args.port != "sim":
        raise conn.PumpError("E_SYNTAX", "--state is for the simulator (--port sim)")
    pump = conn.connect(args.port, state=args.state, timeout=args.timeout)
    try:
        fn = globals()["cmd_" + args.cmd]
        return fn(pump, args)
    finally:
        pump.close()


GLOBAL_WITH_VALUE = ("--port", "--state", "--pin", "--timeout")
OWN_PARSERS = ("deploy", "trumpet")


def split_own(argv):
    """deploy and trumpet parse their own options: split off everything after the command."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in GLOBAL_WITH_VALUE:
            i += 2
        elif a.startswith("-"):
            i += 1
        else:
            return (argv[: i + 1], argv[i + 1 :]) if a in OWN_PARSERS else (argv, [])
    return argv, []


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    head, rest = split_own(argv)
    args = parser().parse_args(head)
    args.rest = rest
    try:
        return run(args)
    except conn.PumpError as e:
        print("%s: %s" % (e.code, e.msg), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
