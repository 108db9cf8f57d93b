"""pumpctl: program and inspect a pump (board, socket:// URL or the simulator) from the host.

    pumpctl [--port sim|/dev/ttyACM0|socket://HOST:PORT] [--state DIR] [--pin PIN] COMMAND ...

The connection options go before or after the command. Every command speaks
the shell's JSON mode. Any error, the pump's or the host's, is one line on
stderr, `CODE: message`, and a nonzero exit status (1; 2 for a bad command line).
"""

import argparse
import os
import re
import sys

from tools.pumpctl import argtypes as at
from tools.pumpctl import conn

CONNECTION = ("port", "state", "pin", "timeout")
NO_PUMP = ("ports", "deploy", "trumpet")  # these open (or need) no connection of their own here


class Parser(argparse.ArgumentParser):
    """argparse, with a bad command line as one line `CODE: message (prog -h)`, exit status 2."""

    def error(self, message):
        m = re.search(r"\b(E_[A-Z]+): ", message)
        code = m.group(1) if m else "E_USAGE"
        if m:
            message = message.replace(m.group(0), "", 1)
        self.exit(2, "%s: %s (%s -h)\n" % (code, message, self.prog))


def version():
    from firmware.pump import VERSION

    try:
        from importlib.metadata import version as dist_version

        host = dist_version("itpump")
    except Exception:  # not installed as a distribution (run from the tree)
        host = VERSION
    return "pumpctl %s (firmware %s)" % (host, VERSION)


def connection_options(p, top):
    # on the top parser and on every command, so they go before or after it; SUPPRESS keeps a
    # value given before the command when it is not repeated after it
    d = {} if top else {"default": argparse.SUPPRESS}
    p.add_argument(
        "--port",
        help="sim, a serial device (/dev/ttyACM0, COM3) or socket://HOST:PORT; default: the one Pico "
        "present (pumpctl ports), else the simulator",
        **d,
    )
    p.add_argument(
        "--state", metavar="DIR", help="the simulator's flash folder, so the pump persists between calls", **d
    )
    p.add_argument("--pin", help="clinician PIN (or PUMPCTL_PIN; asked for on a terminal)", **d)
    p.add_argument(
        "--timeout", type=at.seconds, metavar="DURATION", help="wait this long for a reply, e.g. 30s", **d
    )


def span_options(s):
    s.add_argument(
        "--last",
        type=at.seconds,
        metavar="DURATION",
        help="the last DURATION up to the newest sample, e.g. 7d",
    )
    s.add_argument("--since", type=at.when, metavar="TIME", help="from this UTC time, e.g. 2026-01-02T08:00")
    s.add_argument("--until", type=at.when, metavar="TIME", help="up to this UTC time")
    s.add_argument(
        "--record",
        type=at.output_file,
        metavar="CSV",
        help="the host-side trend record to read and extend (default DIR/trend.csv with --state)",
    )


def parser():
    p = Parser(prog="pumpctl", description="Program and inspect the intrathecal pump.")
    p.add_argument("--version", action="version", version=version(), help="the pumpctl and firmware version")
    connection_options(p, top=True)
    common = Parser(add_help=False)
    connection_options(common, top=False)
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    def command(name, text):
        return sub.add_parser(name, help=text, description=text, parents=[common])

    s = command("status", "state, rate, delivered, reservoir, alarms")
    s.add_argument("--json", action="store_true", help="the raw JSON reply")
    s.add_argument("--watch", action="store_true", help="keep showing it")
    s.add_argument("--interval", type=at.seconds, default="2s", help="time between reads (--watch), e.g. 5s")
    s.add_argument("--count", type=at.count, default=0, help="stop after N reads (--watch)")
    s.add_argument(
        "--advance", type=at.duration, help="simulator: run this much virtual time between reads, e.g. 1h"
    )
    s = command("login", "log in as clinician (a board keeps the session between calls)")
    s.add_argument("pin_arg", nargs="?", metavar="PIN", help="the clinician PIN (or --pin)")
    s = command("send", "send one shell line, print the JSON reply")
    s.add_argument("line", nargs="+", help="the shell line, e.g. 'sim run 7d' (SPEC 9)")
    s = command("program", "set prescription and program from a TOML file (docs/examples/)")
    s.add_argument("file", type=at.input_file, help="the TOML file")
    s.add_argument("--yes", action="store_true", help="send and confirm without asking")
    s.add_argument("--override", action="store_true", help="confirm above a soft limit (never a hard one)")
    s.add_argument(
        "--start", action="store_true", help="start delivery once confirmed (a stopped pump waits)"
    )
    s = command("refill", "refill: withdrawn, added, confirm")
    s.add_argument(
        "--withdrawn", required=True, type=at.volume_ml, metavar="VOLUME", help="taken out, e.g. 2.5mL"
    )
    s.add_argument("--add", required=True, type=at.volume_ml, metavar="VOLUME", help="put in, e.g. 18mL")
    s.add_argument(
        "--conc", type=at.concentration, help="new concentration, e.g. 10mg/mL (starts a bridge bolus)"
    )
    s.add_argument("--nobridge", action="store_true", help="no bridge bolus after a concentration change")
    s.add_argument("--yes", action="store_true", help="confirm without asking")
    s = command("prime", "priming bolus on a stopped pump, with a progress bar")
    s.add_argument("volume", type=at.volume_ml, metavar="VOLUME", help="the volume to prime, e.g. 0.2mL")
    s = command("log", "the event and audit log")
    s.add_argument("--csv", type=at.output_file, metavar="FILE", help="write it as CSV here")
    s.add_argument(
        "-n", type=at.count, default=500, help="the last N entries (default 500, the most one reply holds)"
    )
    s = command("plot", "delivery, pressure, reservoir and alarms over a time range to PNG")
    s.add_argument("file", type=at.output_file, help="the PNG to write")
    span_options(s)
    s = command("trend", "the per-minute trend samples (and the host-side record)")
    s.add_argument("--csv", type=at.output_file, metavar="FILE", help="write the samples as CSV here")
    span_options(s)
    s = command("report", "a self-contained HTML trial report")
    s.add_argument("file", type=at.output_file, help="the .html to write")
    s.add_argument(
        "--balance", type=at.input_file, metavar="CSV", help="balance readings: adds the trumpet table"
    )
    s.add_argument("--density", type=at.density, help="liquid density for --balance (default water at 20 C)")
    span_options(s)
    s = command("sim", "the background simulator of --state DIR: is it running, stop it")
    s.add_argument(
        "action",
        choices=("status", "stop"),
        help="status: its URL and pid; stop: shut the simulated pump down cleanly and end it",
    )
    command("ports", "the serial ports present; candidate boards marked *")
    s = command("deploy", "compile and copy the firmware to a board (--port required)")
    s.add_argument("--no-reset", action="store_true", help="copy only; do not reset and check")
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    s = command("trumpet", "IEC 60601-2-24 flow accuracy and trumpet curve (docs/bench-trial.md)")
    s.add_argument("csv", nargs="?", type=at.input_file, help="balance readings: time (s or ISO 8601), grams")
    s.add_argument("--pump", action="store_true", help="use the pump's delivered-volume trace (trend)")
    s.add_argument(
        "--rate",
        type=at.rate,
        help="programmed rate, e.g. 0.2mL/day or 0.5mL/h (default with --pump: its rate)",
    )
    s.add_argument(
        "--density", type=at.density, help="liquid density, e.g. 0.9982g/mL (default water at 20 C)"
    )
    s.add_argument("--windows", type=at.minutes_list, help="observation windows, e.g. 2m,5m,11m,19m,31m")
    s.add_argument("--scale", help="multiply the windows by this factor (default auto: 60 below 1 mL/h)")
    s.add_argument("--settle", type=at.minutes, help="time skipped at the start, e.g. 60m (default 60m)")
    s.add_argument("--png", type=at.output_file, help="draw the trumpet curve here")
    return p


def pick_port(args):
    """--port; the simulator with --state; PUMPCTL_PORT; the one Pico present; else the simulator."""
    from tools.pumpctl import ports

    if args.port:
        return args.port
    if args.state or (args.cmd == "trumpet" and args.csv):  # a balance file needs no pump
        return "sim"
    if os.environ.get("PUMPCTL_PORT"):
        return os.environ["PUMPCTL_PORT"]
    picos = ports.picos()
    if len(picos) == 1:
        print("pumpctl: using the Pico on %s (--port to choose another)" % picos[0][0], file=sys.stderr)
        return picos[0][0]
    if len(picos) > 1:
        raise conn.PumpError(
            "E_PORT",
            "%d Picos present (%s): choose one with --port" % (len(picos), ", ".join(p[0] for p in picos)),
        )
    return "sim"


def run(args):
    from tools.pumpctl import commands

    if args.cmd == "ports":
        return commands.cmd_ports(args)
    if args.cmd == "login" and args.pin_arg:
        args.pin = args.pin_arg
    if args.state and args.port not in (None, "sim"):
        raise conn.PumpError("E_SYNTAX", "--state is for the simulator (--port sim)")
    args.port = pick_port(args)
    if args.cmd == "sim":
        return commands.cmd_sim(args)
    if args.cmd == "deploy":
        return commands.cmd_deploy(args)
    if args.cmd == "trumpet":
        return commands.cmd_trumpet(args)
    pump = conn.connect(args.port, state=args.state, timeout=args.timeout)
    try:
        if args.cmd == "program":
            from tools.pumpctl import program

            return program.run(pump, args)
        return getattr(commands, "cmd_" + args.cmd)(pump, args)
    finally:
        pump.close()


def _quiet_stdout():
    # a reader that went away (`pumpctl log | head`): what is left goes nowhere, and the
    # interpreter's own flush at exit does not raise again
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser().parse_args(argv)
    except SystemExit as e:  # -h, --version, or a bad command line (already printed, one line)
        return e.code if isinstance(e.code, int) else 2
    for k in CONNECTION:
        if not hasattr(args, k):
            setattr(args, k, None)
    try:
        return run(args)
    except conn.PumpError as e:
        print("%s: %s" % (e.code, e.msg), file=sys.stderr)
        return 1
    except BrokenPipeError:
        _quiet_stdout()
        return 141  # as a shell tool killed by SIGPIPE: the reader had what it wanted
    except KeyboardInterrupt:
        return 130
    except OSError as e:  # a file that could not be written after all (disk full, permissions)
        where = (" " + e.filename) if getattr(e, "filename", None) else ""
        print("E_FILE:%s %s" % (where, (e.strerror or str(e)).lower()), file=sys.stderr)
        return 1
    except Exception as e:
        if os.environ.get("PUMPCTL_DEBUG"):
            raise
        print(
            "E_INTERNAL: %s: %s (a bug in pumpctl; PUMPCTL_DEBUG=1 shows where)" % (type(e).__name__, e),
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
