"""`pumpctl program FILE.toml`: check a prescription and program, show it, send it."""

import sys
from decimal import Decimal, InvalidOperation

from tools.pumpctl import conn
from tools.pumpctl.commands import ask, login, show_value
from tools.pumpctl.progress import Bar


def run(pump, args):
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
