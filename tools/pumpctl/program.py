"""`pumpctl program FILE.toml`: change a pump, running or not, to the prescription and program in a file.

1. The pump's own prescription (`rx`) and state (`status`) are read.
2. Only what differs is planned (rxdiff.changes): a new rate on the same drug
   is one `program` line and its `confirm`, which a running pump takes
   without a stop; a new drug on a delivering pump is refused here.
3. The plan is checked by the firmware's own code twice: its limit code in
   this process at the pump's steps per mL, then on a simulated copy of the
   pump's real state (validate.on_copy), which refuses what the pump would.
4. Current and new are shown side by side, and the plan is sent only on
   --yes or a typed yes.
"""

import sys
from decimal import Decimal, InvalidOperation

from tools.pumpctl import conn, rxdiff, rxfile, validate
from tools.pumpctl.commands import ask, login
from tools.pumpctl.progress import Bar


def run(pump, args):
    from firmware.therapy.units import show

    try:
        doc = rxfile.read(args.file)
        rxfile.lines_from(doc)
        rx, prog = rxfile.check_args(doc)
    except rxfile.RxError as e:
        raise conn.PumpError("E_SYNTAX", str(e)) from None
    status = pump.call("status")
    cur = pump.call("rx")["prescription"]
    plan = rxdiff.changes(doc, cur, status.get("state"))
    spm = status.get("steps_per_ml") or cur.get("steps_per_ml") or 20000
    same_drug = cur.get("drug") == rx["drug"]
    for k in ("max_daily", "max_bolus"):  # limits the file leaves out stay the pump's own
        lim = cur.get("limits") or {}
        if k not in rx and same_drug and lim.get(k) is not None and lim.get(k) != lim.get("hard_" + k):
            rx[k] = rxdiff.plain(lim[k]) + cur["dose_unit"]
    print("checking %s with the firmware's own limits..." % args.file, file=sys.stderr)
    limits = validate.limits(rx, prog, spm)
    if limits["warnings"] and not args.override:
        raise conn.PumpError(
            "E_CONFIRM", "above a soft limit: %s; --override to confirm" % "; ".join(limits["warnings"])
        )
    program_line = next((x for x in plan if x.startswith("program ")), None)
    confirm = ("program confirm" + (" override" if args.override else "")) if program_line else None
    print("checking the changes on a copy of the pump's state...", file=sys.stderr)
    _replies, after = validate.on_copy(rxdiff.current_lines(cur), status.get("state"), plan, confirm)
    now = rxdiff.summary(cur, status)
    new = rxdiff.summary(after, {"days_to_empty": None})
    new["days to empty"] = days_to_empty(status, after)
    if now.get("drug") != "none":
        now["days to empty"] = days_to_empty(status, cur)
    print("%s against the pump (%s):" % (args.file, status.get("state")))
    print(rxdiff.table(now, new))
    if limits["rounding_ng"]:
        print("step rounding   %s a day" % show(limits["rounding_ng"], limits["dose_unit"]))
    for w in limits["warnings"]:
        print("warning         %s" % w)
    if not plan:
        print("nothing to send: the pump already has this prescription and program")
        return _start(pump, args, status.get("state"))
    print("to send:")
    for line in plan + ([confirm] if confirm else []):
        print("  " + line)
    if not ask("send this to the pump?", args):
        print("nothing sent")
        return 1
    login(pump, args)
    bar = Bar(len(plan) + 1, "sending")
    sent = 0
    try:
        for line in plan:
            pump.call(line)
            sent += 1
            bar.update(sent)
        done = pump.call(confirm) if confirm else None
    except conn.PumpError as e:
        if program_line and program_line in plan[:sent]:
            pump.call("program cancel", check=False)  # a proposal is not left pending
        raise conn.PumpError(
            e.code, "%s (after %d of %d lines; the pump refused the next)" % (e.msg, sent, len(plan))
        ) from None
    bar.finish()
    if done is not None:
        print(
            "confirmed: mode %s, %s mL/day" % (done.get("mode"), rxdiff.plain(done.get("rate_ml_day") or 0))
        )
    return _start(pump, args, pump.call("status").get("state"))


def _start(pump, args, state):
    if args.start and state == "stopped":
        state = pump.call("start").get("state")
    if args.start or state != "stopped":
        print("state: %s" % state)
    else:
        print("the pump is stopped: it delivers after 'pumpctl send start' (or program --start)")
    return 0


def days_to_empty(status, rx):
    """Days to the pump's own reservoir reading at a prescription's daily volume, to the 1 mL residual."""
    known = status.get("reservoir_ml") is not None
    try:
        res = Decimal(str(status.get("reservoir_ml") if known else rx.get("reservoir_capacity_ml")))
        daily = Decimal(str(rx.get("daily_ml")))
    except (InvalidOperation, TypeError):
        return "-"
    if daily <= 0:
        return "-"
    residual = Decimal(1)  # SPEC 5: days to empty count to the 1 mL residual by default
    days = ((res - residual) / daily).quantize(Decimal("0.1"))
    return "%s (%s mL %s)" % (days, rxdiff.plain(res), "in the reservoir" if known else "if full")
