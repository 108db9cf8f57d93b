"""Check a prescription on the host with the firmware's own limit and conversion code.

Two checks, both the firmware's own code, before anything reaches the pump:
`limits` imports firmware.therapy.limits.validate into this process (drug
library, hard and soft limits, exact decimal parsing, dose-to-steps rounding
at the target pump's steps per mL); `dry_run` then sends the very lines to a
fresh simulated pump (the unchanged firmware on the MicroPython unix port),
which also checks what `validate` does not cover (catheter, patient bolus
settings) and that `program confirm` would be accepted. Either answers with
the firmware's own code and message.
"""

from tools.pumpctl import conn

FACTORY_PIN = "1234"  # a fresh simulated pump has the factory PIN (SPEC 9)


def dry_run(lines):
    """Replies of a fresh simulated pump to each of `lines`; raises conn.PumpError on the first refusal."""
    pump = conn.connect("sim")
    try:
        pump.call("login clinician " + FACTORY_PIN)
        replies = []
        for line in lines:
            try:
                replies.append(pump.call(line))
            except conn.PumpError as e:
                raise conn.PumpError(e.code, "%s (in '%s')" % (e.msg, line)) from None
        return replies
    finally:
        pump.close()


def limits(rx, program, spm):
    """firmware.therapy.limits.validate; its PumpError comes back as conn.PumpError (same code, message)."""
    from firmware.errors import PumpError as FirmwareError
    from firmware.therapy.limits import validate

    try:
        return validate(rx, program, spm=spm)
    except FirmwareError as e:
        raise conn.PumpError(e.code, e.msg) from None


def on_copy(current, state, lines, confirm=None):
    """The pump's real state rebuilt on a fresh simulated pump, then `lines` (and `confirm`) tried there.

    `current` are the lines that rebuild the prescription and program the
    pump reports (rxdiff.current_lines); a delivering pump is started, so a
    line the real pump would refuse while running is refused here too.
    Returns (replies to `lines`, the copy's `rx` prescription afterwards);
    raises conn.PumpError with the copy's code and message.
    """
    pump = conn.connect("sim")
    try:
        pump.call("login clinician " + FACTORY_PIN)
        rebuild = list(current)
        if any(line.startswith("program ") for line in current):
            rebuild.append("program confirm override")  # it was confirmed once, as it stands
            if state in ("running", "suspended", "alarm"):
                rebuild.append("start")
        for line in rebuild:
            try:
                pump.call(line)
            except conn.PumpError as e:
                raise conn.PumpError(
                    "E_CHECK",
                    "cannot rebuild the pump's state to check the file: %s (in '%s')" % (e.msg, line),
                ) from None
        replies = []
        for line in lines + ([confirm] if confirm else []):
            try:
                replies.append(pump.call(line))
            except conn.PumpError as e:
                raise conn.PumpError(e.code, "%s (in '%s')" % (e.msg, line)) from None
        return replies, pump.call("rx")["prescription"]
    finally:
        pump.close()
