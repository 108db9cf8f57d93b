"""Steps to volume for display, in exact decimals (no float on any port)."""

from firmware.jsonout import Dec


def steps_to_ml(steps, steps_per_ml, scale=4):
    """Round half away from zero to `scale` decimals of a mL."""
    p = 10**scale
    num = steps * p
    neg = num < 0
    q = (abs(num) * 2 + steps_per_ml) // (2 * steps_per_ml)
    return Dec(-q if neg else q, scale)


def steps_to_nl(steps, steps_per_ml):
    return (steps * 1000000 + steps_per_ml // 2) // steps_per_ml


def nl_to_steps(nl, steps_per_ml):
    """Nearest whole step to a volume in nL."""
    return (nl * steps_per_ml + 500000) // 1000000
