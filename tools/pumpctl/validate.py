"""Check a prescription on the host with the firmware's own limit and conversion code.

The lines go to a fresh simulated pump: the unchanged firmware (drug library,
hard and soft limits, exact decimal parsing, dose-to-steps rounding) on the
MicroPython unix port, so the host decides exactly as a board would and
answers with the firmware's own code and message. Nothing reaches the real
pump until this passes.
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
