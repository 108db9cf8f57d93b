"""Option values checked with the firmware's own parser (firmware/parse.py, firmware/therapy/units.py).

A number without its unit is refused here as the pump refuses it (`E_UNIT`),
before anything is sent: `0.2` is not a rate, `0.2mL/day` is. Each type
returns the text as given (the pump parses it again) or, for values the
host uses itself, the value in a fixed unit. Files are checked here too, so
a missing input or an output folder that does not exist is one line, not a
traceback after a simulated week.
"""

import argparse
import os

from firmware import parse
from firmware.errors import PumpError
from firmware.therapy import units

RATE_UNITS = ("mL/day", "mL/h")
DENSITY_UNITS = ("g/mL",)


def _fail(e):
    # the code travels in the message: cli's parser prints it first (E_UNIT: ...)
    return argparse.ArgumentTypeError("%s: %s" % (e.code, e.msg))


def _checked(fn, text):
    # the firmware's own parser, its refusal as argparse's
    try:
        return fn(text)
    except PumpError as e:
        raise _fail(e) from None


def duration(text):
    """'90s', '15m', '2h', '7d' -> the text (the pump reads it)."""
    _checked(parse.duration_s, text)
    return text


def seconds(text):
    """A duration with its unit -> seconds (for the host's own waits)."""
    return _checked(parse.duration_s, text)


def minutes(text):
    return seconds(text) / 60


def minutes_list(text):
    """'2m,5m,11m' or '1h,2h' -> minutes."""
    return [minutes(w) for w in text.split(",")]


def _volume(text):
    return parse.decimal(parse.split_unit(text, ("mL",))[0], 6, "volume")


def volume_ml(text):
    """'0.2mL' -> the text; a bare '0.2' is refused (E_UNIT)."""
    _checked(_volume, text)
    return text


def concentration(text):
    """'10mg/mL', '2000mcg/mL' -> the text."""
    _checked(units.parse_conc, text)
    return text


def _rate(text):
    if parse.decimal(parse.split_unit(text, RATE_UNITS)[0], 6, "rate") <= 0:
        raise PumpError("E_RANGE", "rate must be above 0")


def rate(text):
    """'0.2mL/day', '0.5mL/h' -> the text; a bare number is refused (E_UNIT)."""
    _checked(_rate, text)
    return text


def density(text):
    """'0.9982g/mL' -> 0.9982 (g/mL)."""
    v = _checked(lambda t: parse.decimal(parse.split_unit(t, DENSITY_UNITS)[0], 6, "density"), text)
    if v <= 0:
        raise argparse.ArgumentTypeError("E_RANGE: density must be above 0")
    return v / 10**6


def count(text):
    """A whole number of things (entries, reads): no unit, 1 or more."""
    return _checked(lambda t: parse.integer(t, 1, 10**6, "count"), text)


def input_file(text):
    """A file that is there and readable."""
    if not os.path.isfile(text):
        why = "is a folder" if os.path.isdir(text) else "no such file"
        raise argparse.ArgumentTypeError("E_FILE: cannot read %s: %s" % (text, why))
    if not os.access(text, os.R_OK):
        raise argparse.ArgumentTypeError("E_FILE: cannot read %s: permission denied" % text)
    return text


def output_file(text):
    """A file that can be written: its folder exists and is writable; it is not a folder itself."""
    folder = os.path.dirname(os.path.abspath(text))
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError("E_PATH: %s is a folder, not a file" % text)
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError("E_PATH: cannot write %s: folder %s does not exist" % (text, folder))
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(
            "E_PATH: cannot write %s: folder %s is not writable" % (text, folder)
        )
    return text


def when(text):
    """'2026-01-02T08:00' (UTC) -> minutes since the epoch, as the trend counts them."""
    import datetime

    try:
        d = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError("E_SYNTAX: a UTC time like 2026-01-02T08:00: %r" % text) from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) // 60
