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


def duration(text):
    """'90s', '15m', '2h', '7d' -> the text (the pump reads it)."""
    try:
        parse.duration_s(text)
    except PumpError as e:
        raise _fail(e) from None
    return text


def seconds(text):
    """A duration with its unit -> seconds (for the host's own waits)."""
    try:
        return parse.duration_s(text)
    except PumpError as e:
        raise _fail(e) from None


def minutes(text):
    return seconds(text) / 60


def minutes_list(text):
    """'2m,5m,11m' or '1h,2h' -> minutes."""
    return [minutes(w) for w in text.split(",")]


def volume_ml(text):
    """'0.2mL' -> the text; a bare '0.2' is refused (E_UNIT)."""
    try:
        num, _unit = parse.split_unit(text, ("mL",))
        parse.decimal(num, 6, "volume")
    except PumpError as e:
        raise _fail(e) from None
    return text


def concentration(text):
    """'10mg/mL', '2000mcg/mL' -> the text."""
    try:
        units.parse_conc(text)
    except PumpError as e:
        raise _fail(e) from None
    return text


def rate(text):
    """'0.2mL/day', '0.5mL/h' -> the text; a bare number is refused (E_UNIT)."""
    try:
        num, _unit = parse.split_unit(text, RATE_UNITS)
        if parse.decimal(num, 6, "rate") <= 0:
            raise PumpError("E_RANGE", "rate must be above 0")
    except PumpError as e:
        raise _fail(e) from None
    return text


def density(text):
    """'0.9982g/mL' -> 0.9982 (g/mL)."""
    try:
        num, _unit = parse.split_unit(text, DENSITY_UNITS)
        v = parse.decimal(num, 6, "density")
    except PumpError as e:
        raise _fail(e) from None
    if v <= 0:
        raise argparse.ArgumentTypeError("E_RANGE: density must be above 0")
    return v / 10**6


def count(text):
    """A whole number of things (entries, reads): no unit, 1 or more."""
    try:
        return parse.integer(text, 1, 10**6, "count")
    except PumpError as e:
        raise _fail(e) from None


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
