"""A prescription and program in TOML, turned into the shell lines that set them (SPEC 9).

Doses keep their units and are passed as text ("2mg", "19.2mcg"), so the
firmware parses every decimal itself, without float. A TOML number where a
plain decimal is wanted (catheter_ml, counts) is written back as the shortest
decimal that reads as it.

    [prescription]
    drug = "morphine"
    concentration = "10mg/mL"
    catheter_ml = "0.2"        # optional
    patient = "P-001"          # optional

    [limits]                   # optional soft limits (SPEC 4)
    max_daily = "5mg"
    max_bolus = "0.5mg"

    [program]
    mode = "continuous"        # continuous | flex | periodic | trial-single | trial-multi | trial-continuous
    daily = "2mg"
    # flex:      steps = { "06:00" = "1mg", "18:00" = "2mg" }
    # periodic:  boluses = { "08:00" = "0.5mg/15m" }, basal = "1mg"
    # trial-single: dose = "0.1mg/1h"; trial-multi: dose, every = "1d", count = 3
    # trial-continuous: daily, days = 3

    [ptm]                      # optional patient bolus settings
    dose = "0.1mg"
    lockout = "2h"
    max = 4
"""

import difflib

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


class RxError(Exception):
    """The file itself is wrong (before anything reaches the firmware's checks)."""


TABLES = {
    "prescription": ("drug", "concentration", "catheter_ml", "patient"),
    "limits": ("max_daily", "max_bolus"),
    "program": ("mode",),
    "ptm": ("dose", "lockout", "max"),
}
MODE_KEYS = {
    "continuous": ("daily",),
    "flex": ("steps",),
    "periodic": ("boluses", "basal"),
    "trial-single": ("dose",),
    "trial-multi": ("dose", "every", "count"),
    "trial-continuous": ("daily", "days"),
}


def _unknown(key, where, valid):
    """An RxError naming the key and, if one is close, the valid key it was probably meant to be."""
    near = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = "did you mean '%s'?" % near[0] if near else "expected one of: " + ", ".join(valid)
    return RxError("unknown %s '%s%s' (%s)" % ("key" if where else "table", where, key, hint))


def check_keys(doc):
    """Every table and key known: a misspelled one (`patiant`, `dayly`) is refused, not ignored."""
    for table in doc:
        if table not in TABLES:
            raise _unknown(table, "", tuple(TABLES))
        if not isinstance(doc[table], dict):
            raise RxError("'%s' must be a table: [%s]" % (table, table))
    prog = doc.get("program") or {}
    mode = prog.get("mode")
    if isinstance(mode, str) and mode not in MODE_KEYS:
        near = difflib.get_close_matches(mode, tuple(MODE_KEYS), n=1, cutoff=0.6)
        hint = "did you mean '%s'?" % near[0] if near else "one of " + ", ".join(MODE_KEYS)
        raise RxError("program.mode: unknown mode '%s' (%s)" % (mode, hint))
    for table, keys in TABLES.items():
        valid = keys + (MODE_KEYS.get(mode, ()) if table == "program" and isinstance(mode, str) else ())
        for key in doc.get(table) or {}:
            if key in valid:
                continue
            others = [m for m, ks in MODE_KEYS.items() if key in ks]
            if table == "program" and others and mode in MODE_KEYS:
                raise RxError(
                    "program.%s is not a setting of mode %s (it takes %s; %s is for %s)"
                    % (key, mode, ", ".join(MODE_KEYS[mode]), key, ", ".join(others))
                )
            raise _unknown(key, table + ".", valid)


def _text(v, where):
    if isinstance(v, bool) or v is None:
        raise RxError("%s: expected a value, got %r" % (where, v))
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str) and v and not any(c.isspace() for c in v):
        return v
    raise RxError('%s: expected one word like "2mg", got %r' % (where, v))


def _need(table, key, where):
    if key not in table:
        raise RxError("%s: missing '%s'" % (where, key))
    return _text(table[key], where + "." + key)


def _pairs(table, where):
    if not isinstance(table, dict) or not table:
        raise RxError('%s: expected a table of "HH:MM" = value' % where)
    return ["%s=%s" % (_text(k, where), _text(table[k], where + "." + k)) for k in sorted(table)]


def program_line(p):
    mode = p.get("mode")
    if mode == "continuous":
        return "program continuous " + _need(p, "daily", "program")
    if mode == "flex":
        return "program flex " + " ".join(_pairs(p.get("steps"), "program.steps"))
    if mode == "periodic":
        line = "program periodic " + " ".join(_pairs(p.get("boluses"), "program.boluses"))
        if "basal" in p:
            line += " basal=" + _text(p["basal"], "program.basal")
        return line
    if mode == "trial-single":
        return "program trial single " + _need(p, "dose", "program")
    if mode == "trial-multi":
        return "program trial multi %s every=%s count=%s" % (
            _need(p, "dose", "program"),
            _need(p, "every", "program"),
            _need(p, "count", "program"),
        )
    if mode == "trial-continuous":
        return "program trial continuous %s days=%s" % (
            _need(p, "daily", "program"),
            _need(p, "days", "program"),
        )
    raise RxError(
        "program.mode: one of continuous, flex, periodic, trial-single, trial-multi, trial-continuous"
    )


def lines_from(doc):
    """The shell lines, in order, that set the prescription and propose the program (no confirm)."""
    check_keys(doc)
    rx = doc.get("prescription")
    if not isinstance(rx, dict):
        raise RxError("missing [prescription] table")
    lines = [
        "rx drug %s %s" % (_need(rx, "drug", "prescription"), _need(rx, "concentration", "prescription"))
    ]
    if "catheter_ml" in rx:
        lines.append("rx catheter " + _text(rx["catheter_ml"], "prescription.catheter_ml"))
    if "patient" in rx:
        lines.append("rx patient " + _text(rx["patient"], "prescription.patient"))
    lim = doc.get("limits")
    if lim:
        words = ["%s=%s" % (k, _text(lim[k], "limits." + k)) for k in ("max_daily", "max_bolus") if k in lim]
        if not words:
            raise RxError("limits: expected max_daily and/or max_bolus")
        lines.append("rx limit " + " ".join(words))
    ptm = doc.get("ptm")
    if ptm:
        lines.append(
            "ptm set dose=%s lockout=%s max=%s"
            % (_need(ptm, "dose", "ptm"), _need(ptm, "lockout", "ptm"), _need(ptm, "max", "ptm"))
        )
    prog = doc.get("program")
    if not isinstance(prog, dict):
        raise RxError("missing [program] table")
    lines.append(program_line(prog))
    return lines


def check_args(doc):
    """The prescription and program as firmware.therapy.limits.validate takes them (after lines_from)."""
    rx = doc["prescription"]
    out = {"drug": _text(rx["drug"], "prescription.drug"), "concentration": _text(rx["concentration"], "c")}
    for k in ("max_daily", "max_bolus"):
        if k in (doc.get("limits") or {}):
            out[k] = _text(doc["limits"][k], "limits." + k)
    return out, {"line": program_line(doc["program"])[len("program ") :]}


def read(path):
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise RxError("cannot read %s: %s" % (path, e.strerror)) from None
    except tomllib.TOMLDecodeError as e:
        raise RxError("%s: %s" % (path, e)) from None


def load(path):
    return lines_from(read(path))
