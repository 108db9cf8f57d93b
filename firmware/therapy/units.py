"""Doses, concentrations and volumes as integers: ng, ng/mL, nL, steps. No float.

The dose unit is the mass unit of the concentration (`2000mcg/mL` -> mcg); a
dose in the other mass unit is converted, and `mL` is a volume. Conversions
to steps round to the nearest step, as SPEC 3 asks.
"""

from firmware.errors import E_RANGE, E_UNIT, PumpError
from firmware.jsonout import Dec
from firmware.parse import decimal, split_unit

# the one steps<->volume conversion and mL format are firmware/volume.py's; the therapy modules
# import them from here by these names (ml_dec, steps_nl)
from firmware.volume import NL_PER_ML, ml_dec, nl_to_steps  # noqa: F401
from firmware.volume import steps_to_nl as steps_nl  # noqa: F401

SCALE = {"mg": 6, "mcg": 3}  # ng in one unit is 10**scale
MASS = ("mg", "mcg")
AMOUNT = ("mg", "mcg", "mL")


def parse_mass(text, what="dose"):
    """'19.2mcg' -> 19200 (ng)."""
    num, unit = split_unit(text, MASS)
    return decimal(num, SCALE[unit], what)


def parse_amount(text, what="dose"):
    """'2mg' -> ('ng', 2000000); '0.5mL' -> ('nl', 500000)."""
    num, unit = split_unit(text, AMOUNT)
    if unit == "mL":
        return "nl", decimal(num, 6, what)
    return "ng", decimal(num, SCALE[unit], what)


def parse_conc(text):
    """'10mg/mL' -> (10000000, 'mg'): ng per mL and the dose unit it sets."""
    if not text.endswith("/mL") or len(text) < 4:
        raise PumpError(E_UNIT, "concentration needs mg/mL or mcg/mL, e.g. 10mg/mL")
    num, unit = split_unit(text[:-3], MASS)
    ng = decimal(num, SCALE[unit], "concentration")
    if ng <= 0:
        raise PumpError(E_RANGE, "concentration must be above 0")
    return ng, unit


def parse_volume_nl(text, what="volume"):
    """A bare number of mL ('0.25') or with its unit ('0.25mL') -> nL."""
    if text.endswith("mL"):
        text = text[:-2]
    return decimal(text, 6, what)


def ng_of(kind, value, conc):
    """The mass in ng of an amount given as ('ng'|'nl', value)."""
    if kind == "ng":
        return value
    return (value * conc + NL_PER_ML // 2) // NL_PER_ML


def nl_of(kind, value, conc):
    if kind == "nl":
        return value
    return (value * NL_PER_ML + conc // 2) // conc


def steps_of(kind, value, conc, spm):
    """Nearest whole step to an amount."""
    if kind == "nl":
        return nl_to_steps(value, spm)
    return (value * spm * 2 + conc) // (2 * conc)


def floor_steps(ng, conc, spm):
    """Most whole steps whose dose stays at or below `ng` (for limits)."""
    return ng * spm // conc


def steps_ng(steps, conc, spm):
    """Dose in ng of a number of steps, nearest."""
    return (steps * conc * 2 + spm) // (2 * spm)


def dose_dec(ng, unit):
    return Dec(ng, SCALE[unit])


def show(ng, unit):
    return "%s %s" % (Dec(ng, SCALE[unit]), unit)
