"""A TOML prescription against the pump's current one: what differs, the lines that change only that, a table.

Values are compared as the firmware reads them (firmware.therapy.units,
firmware.parse): `2000mcg` and `2mg` are the same dose, `7200s` and `2h` the
same lockout. The pump's side comes from its `rx` reply (SPEC 9).
"""

from decimal import Decimal

from firmware import parse
from firmware.errors import PumpError as FirmwareError
from firmware.therapy import units
from tools.pumpctl import conn, rxfile

RUNNING = ("running", "suspended", "alarm")  # a drug change needs a stopped pump (or a refill)


def plain(v):
    """A JSON number as the plain decimal the firmware reads ('10.0' -> '10', 0.25 -> '0.25')."""
    d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
    text = format(d.normalize(), "f")
    return text


def _same(read, a, b):
    """Both sides as the firmware reads them; a side it cannot read differs."""
    try:
        return read(a) == read(b)
    except (FirmwareError, ValueError, TypeError, ArithmeticError, AttributeError):
        return False


def current_lines(cur):
    """Shell lines that give a fresh pump the prescription and program `cur` (an `rx` reply) describes."""
    if not cur.get("drug"):
        return []
    out = ["rx drug %s %s%s" % (cur["drug"], plain(cur["concentration"]), cur["concentration_unit"])]
    if cur.get("catheter_ml"):
        out.append("rx catheter " + plain(cur["catheter_ml"]))
    if cur.get("patient"):
        out.append("rx patient " + cur["patient"])
    lim = cur.get("limits") or {}
    unit = cur.get("dose_unit")
    soft = [
        "%s=%s%s" % (k, plain(lim[k]), unit)
        for k in ("max_daily", "max_bolus")
        if lim.get(k) is not None and lim.get(k) != lim.get("hard_" + k)
    ]
    if soft:
        out.append("rx limit " + " ".join(soft))
    ptm = cur.get("ptm") or {}
    if ptm.get("dose") is not None:
        out.append(
            "ptm set dose=%s%s lockout=%ds max=%d" % (plain(ptm["dose"]), unit, ptm["lockout_s"], ptm["max"])
        )
    if cur.get("program"):
        out.append("program " + cur["program"])
    return out


def changes(doc, cur, state):
    """The lines of `doc` (a TOML prescription) whose setting differs from `cur`, in the order they go.

    A different drug or concentration on a pump that is delivering is refused
    here, as the pump would refuse it: nothing is sent.
    """
    lines = rxfile.lines_from(doc)
    rx = doc["prescription"]
    new_drug = not (
        cur.get("drug") == rx["drug"]
        and _same(
            units.parse_conc,
            rxfile._text(rx["concentration"], "concentration"),
            plain(cur["concentration"]) + (cur.get("concentration_unit") or ""),
        )
    )
    if new_drug and cur.get("drug") and state in RUNNING:
        raise conn.PumpError(
            "E_STATE",
            "the file changes the drug or concentration (%s %s%s -> %s %s) on a %s pump: stop it first "
            "(pumpctl send stop), or use pumpctl refill --conc for a new concentration"
            % (
                cur["drug"],
                plain(cur["concentration"]),
                cur["concentration_unit"],
                rx["drug"],
                rx["concentration"],
                state,
            ),
        )
    if new_drug:
        return lines  # a new drug resets its limits: everything in the file goes
    out = []
    for line in lines:
        if line.startswith("rx drug ") or _unchanged(line, cur):
            continue
        out.append(line)
    return out


def _unchanged(line, cur):
    """Whether the pump already has the setting this one line sets."""
    unit = cur.get("dose_unit") or ""
    lim = cur.get("limits") or {}
    ptm = cur.get("ptm") or {}
    word, _, rest = line.partition(" ")
    arg = rest.partition(" ")[2]
    kv = dict(w.split("=", 1) for w in arg.split() if "=" in w)
    if line.startswith("rx catheter "):
        return _same(units.parse_volume_nl, arg, plain(cur.get("catheter_ml") or 0))
    if line.startswith("rx patient "):
        return arg == (cur.get("patient") or "")
    if line.startswith("rx limit "):
        return all(k in lim and _same(units.parse_mass, kv[k], plain(lim[k]) + unit) for k in kv)
    if word == "ptm":
        return (
            ptm.get("dose") is not None
            and _same(units.parse_mass, kv.get("dose"), plain(ptm["dose"]) + unit)
            and _same(parse.duration_s, kv.get("lockout"), "%ds" % ptm.get("lockout_s", 0))
            and kv.get("max") == str(ptm.get("max"))
        )
    if word == "program":
        return rest == cur.get("program")
    return False


# ---- the side-by-side table ----------------------------------------------------


def _dose(v, unit):
    return "-" if v is None else "%s %s" % (plain(v), unit or "")


def summary(cur, status):
    """The rows of one column, from an `rx` reply (and a status for days to empty)."""
    if not cur.get("drug"):
        return {"drug": "none"}
    unit = cur.get("dose_unit")
    lim = cur.get("limits") or {}
    ptm = cur.get("ptm") or {}
    dte = status.get("days_to_empty")
    return {
        "drug": "%s %s %s" % (cur["drug"], plain(cur["concentration"]), cur["concentration_unit"]),
        "mode": (cur.get("mode") or "none").replace("_", "-"),
        "schedule": cur.get("program") or "-",
        "daily dose": _dose(cur.get("daily_dose"), unit),
        "daily volume": _dose(cur.get("daily_ml"), "mL"),
        "soft limits": "%s a day, %s a bolus"
        % (_dose(lim.get("max_daily"), unit), _dose(lim.get("max_bolus"), unit)),
        "patient bolus": "none"
        if ptm.get("dose") is None
        else "%s, lockout %s, at most %d a day"
        % (_dose(ptm["dose"], unit), _span(ptm["lockout_s"]), ptm["max"]),
        "catheter": _dose(cur.get("catheter_ml"), "mL"),
        "patient": cur.get("patient") or "-",
        "days to empty": "-" if dte is None else plain(dte),
    }


def _span(s):
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if s and s % n == 0:
            return "%d%s" % (s // n, unit)
    return "%ds" % s


ROWS = (
    "drug",
    "mode",
    "schedule",
    "daily dose",
    "daily volume",
    "soft limits",
    "patient bolus",
    "catheter",
    "patient",
    "days to empty",
)


def table(left, right, titles=("now on the pump", "after this file")):
    """Two columns side by side; a changed row is marked `*`."""
    w = max([len(titles[0])] + [len(str(left.get(r, "-"))) for r in ROWS])
    out = ["  %-14s %-*s   %s" % ("", w, titles[0], titles[1])]
    for r in ROWS:
        a, b = str(left.get(r, "-")), str(right.get(r, "-"))
        out.append("%s %-14s %-*s   %s" % ("*" if a != b else " ", r, w, a, b))
    return "\n".join(out)
