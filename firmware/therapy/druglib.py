"""The drug library (firmware/drugs.json): hard limits, each value with its source.

The file is read only when a drug is chosen and only that drug's entry is
kept, so the library costs no RAM while the pump runs. A drug that is not in
the file, or whose entry lacks a defensible limit, is refused.
"""

import json

from firmware.errors import E_LIMIT, E_SYNTAX, PumpError
from firmware.therapy.units import parse_amount, parse_mass

FIELDS = ("max_conc", "max_daily", "max_bolus")


def _path():
    # firmware/therapy/druglib.py -> firmware/drugs.json, wherever the tree sits
    try:
        parts = __file__.rsplit("/", 2)
    except NameError:
        parts = []
    if len(parts) == 3:
        return parts[0] + "/drugs.json"
    return "firmware/drugs.json"


def _read(path=None):
    with open(path or _path()) as f:
        return json.load(f)


class Drug:
    """One drug's hard limits in ng (max_conc in ng/mL) and their sources."""

    def __init__(self, name, max_conc, max_daily, max_bolus, sources):
        self.name = name
        self.max_conc = max_conc
        self.max_daily = max_daily
        self.max_bolus = max_bolus
        self.sources = sources


class PumpLimits:
    """Pump-wide hard limits in nL (rate in nL/day)."""

    def __init__(self, max_rate_nl, max_bolus_nl, max_prime_nl, sources):
        self.max_rate_nl = max_rate_nl
        self.max_bolus_nl = max_bolus_nl
        self.max_prime_nl = max_prime_nl
        self.sources = sources


def names(path=None):
    return sorted(_read(path)["drugs"])


def load(name, path=None):
    """The named drug's hard limits; E_LIMIT if it is not in the library or has no upper limit."""
    lib = _read(path)["drugs"]
    entry = lib.get(name) if isinstance(name, str) else None
    if entry is None:
        raise PumpError(
            E_LIMIT, "drug '%s' is not in the drug library; known: %s" % (name[:20], ", ".join(sorted(lib)))
        )
    vals = []
    sources = {}
    for k in FIELDS:
        item = entry.get(k)
        if not item or not item.get("value") or not item.get("source"):
            raise PumpError(E_LIMIT, "drug '%s' has no defensible %s in the library: refused" % (name, k))
        try:
            vals.append(parse_mass(item["value"], k))
        except PumpError:
            raise PumpError(E_SYNTAX, "drug library: bad %s for %s" % (k, name)) from None
        sources[k] = item["source"]
    return Drug(name, vals[0], vals[1], vals[2], sources)


def pump_limits(path=None):
    p = _read(path)["pump"]
    out = []
    sources = {}
    for k in ("max_rate", "max_bolus", "max_prime"):
        kind, v = parse_amount(p[k]["value"], k)
        if kind != "nl":
            raise PumpError(E_SYNTAX, "drug library: pump %s must be a volume" % k)
        out.append(v)
        sources[k] = p[k]["source"]
    return PumpLimits(out[0], out[1], out[2], sources)
