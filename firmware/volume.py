"""Steps to volume and back, and volumes for display, in exact decimals (no float on any port).

The one conversion: a volume is a whole number of nL, rounded half away from
zero from steps; shown as mL with 6 decimals (one nL), so every `*_ml` and
`*_ml_day` reply field is the same nL figure whichever module wrote it.
"""

from firmware.jsonout import Dec

NL_PER_ML = 1000000


def steps_to_nl(steps, steps_per_ml):
    """Nearest whole nL to a number of steps."""
    return (steps * NL_PER_ML * 2 + steps_per_ml) // (2 * steps_per_ml)


def nl_to_steps(nl, steps_per_ml):
    """Nearest whole step to a volume in nL."""
    return (nl * steps_per_ml + NL_PER_ML // 2) // NL_PER_ML


def ml_dec(nl):
    """A volume in nL as an exact decimal of mL."""
    return Dec(nl, 6)


def steps_to_ml(steps, steps_per_ml):
    """The volume of a number of steps, in mL (via the nearest nL)."""
    return ml_dec(steps_to_nl(steps, steps_per_ml))
