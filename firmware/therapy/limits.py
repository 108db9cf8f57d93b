"""Hard and soft limits, decided in exact integers (the same on every port and the host).

Hard limits (drug library, pump-wide) raise E_LIMIT and nothing overrides
them. Soft limits return warnings: the caller asks for `override` and
answers E_CONFIRM without it. `validate` is the host's entry (pumpctl checks
a TOML prescription with this very code); it imports nothing board-specific.
"""

from firmware.errors import E_LIMIT, E_RANGE, E_SYNTAX, PumpError
from firmware.therapy import druglib
from firmware.therapy.program import DAY
from firmware.therapy.units import NL_PER_ML, floor_steps, parse_conc, parse_mass, show, steps_ng


def check_conc(drug, conc, unit):
    if conc > drug.max_conc:
        raise PumpError(
            E_LIMIT,
            "%s concentration %s/mL exceeds hard limit %s/mL"
            % (drug.name, show(conc, unit), show(drug.max_conc, unit)),
        )


def check_soft(drug, max_daily, max_bolus, unit):
    for v, hard, what in ((max_daily, drug.max_daily, "max_daily"), (max_bolus, drug.max_bolus, "max_bolus")):
        if v <= 0:
            raise PumpError(E_RANGE, "%s must be above 0" % what)
        if v > hard:
            raise PumpError(
                E_LIMIT, "%s %s %s exceeds hard limit %s" % (drug.name, what, show(v, unit), show(hard, unit))
            )


def hard_daily_steps(drug, conc, spm):
    return floor_steps(drug.max_daily, conc, spm)


def _vol_rate_ok(rate, pl, spm):
    return rate * NL_PER_ML <= pl.max_rate_nl * spm


def smallest(conc, unit, spm, rate):
    """The smallest rate (one step a day) or dose (one step) the pump delivers, as text.

    Rounded up to the unit's last decimal, so the figure shown, entered, is deliverable."""
    ng = (conc + spm - 1) // spm
    nl = (NL_PER_ML + spm - 1) // spm
    per = "/day" if rate else ""
    return "%s%s (%s mL%s, one pump step%s)" % (show(ng, unit), per, _ml(nl), per, " a day" if rate else "")


def check_resolution(p, conc, unit, spm):
    """E_RANGE if any figure of the program asked for above zero rounds to no step (issue 16)."""
    if p.nil:
        what, rate = p.nil[0]
        raise PumpError(
            E_RANGE,
            "%s rounds to no delivery; the smallest %s the pump can deliver is %s"
            % (what, "rate" if rate else "dose", smallest(conc, unit, spm, rate)),
        )


def check_bolus(ng, steps, dur_s, drug, pl, soft_bolus, conc, unit, spm, what="bolus"):
    """Hard limits of one bolus; returns a warning string if above the soft max_bolus, else ''."""
    if steps <= 0:
        raise PumpError(
            E_RANGE,
            "%s is below one pump step; the smallest dose the pump can deliver is %s"
            % (what, smallest(conc, unit, spm, False)),
        )
    if steps * conc > drug.max_bolus * spm or ng > drug.max_bolus:
        raise PumpError(
            E_LIMIT,
            "%s %s %s exceeds hard limit %s" % (drug.name, what, show(ng, unit), show(drug.max_bolus, unit)),
        )
    if steps * NL_PER_ML > pl.max_bolus_nl * spm:
        raise PumpError(
            E_LIMIT, "%s volume exceeds the pump's hard limit %s mL" % (what, _ml(pl.max_bolus_nl))
        )
    if dur_s and not _vol_rate_ok((steps * DAY + dur_s - 1) // dur_s, pl, spm):
        raise PumpError(
            E_LIMIT,
            "%s over %ds is faster than the pump's hard limit %s mL/day" % (what, dur_s, _ml(pl.max_rate_nl)),
        )
    if ng > soft_bolus:
        return "%s %s is above the soft max_bolus %s" % (what, show(ng, unit), show(soft_bolus, unit))
    return ""


def check_program(p, drug, pl, soft_daily, soft_bolus, conc, unit, spm):
    """Hard limits of a program (E_LIMIT); returns the soft-limit warnings (a list)."""
    check_resolution(p, conc, unit, spm)
    warn = []
    hard_num = drug.max_daily * spm * DAY
    if p.daily_num * conc > hard_num or p.req_ng_num > drug.max_daily * DAY:
        raise PumpError(
            E_LIMIT,
            "%s daily dose %s exceeds hard limit %s"
            % (drug.name, show(daily_ng(p, conc, spm), unit), show(drug.max_daily, unit)),
        )
    if p.daily_steps() > floor_steps(drug.max_daily, conc, spm):
        raise PumpError(
            E_LIMIT,
            "%s daily dose %s, rounded up to whole steps, exceeds hard limit %s"
            % (drug.name, show(daily_ng(p, conc, spm), unit), show(drug.max_daily, unit)),
        )
    for _, r in p.points:
        if not _vol_rate_ok(r, pl, spm):
            raise PumpError(E_LIMIT, "rate exceeds the pump's hard limit %s mL/day" % _ml(pl.max_rate_nl))
    if p.mode == "flex":
        # a flex step is a daily rate: held for a day it must stay within the daily limit
        for _, r in p.points:
            if r * conc > drug.max_daily * spm:
                raise PumpError(
                    E_LIMIT,
                    "%s flex rate %s/day exceeds hard limit %s/day"
                    % (drug.name, show(steps_ng(r, conc, spm), unit), show(drug.max_daily, unit)),
                )
    if p.mode == "periodic":
        for i, b in enumerate(p.boluses):
            w = check_bolus(
                p.bolus_ng[i], b[2], b[1], drug, pl, soft_bolus, conc, unit, spm, "periodic bolus"
            )
            if w:
                warn.append(w)
    if p.mode == "trial" and p.t_kind != "continuous":
        w = check_bolus(
            p.bolus_ng[0], p.t_steps, p.t_dur, drug, pl, soft_bolus, conc, unit, spm, "trial dose"
        )
        if w:
            warn.append(w)
    if p.daily_num * conc > soft_daily * spm * DAY:
        warn.append(
            "daily dose %s is above the soft max_daily %s"
            % (show(daily_ng(p, conc, spm), unit), show(soft_daily, unit))
        )
    return warn


def check_prime(nl, pl):
    if nl <= 0:
        raise PumpError(E_RANGE, "priming volume must be above 0")
    if nl > pl.max_prime_nl:
        raise PumpError(E_LIMIT, "priming volume exceeds the pump's hard limit %s mL" % _ml(pl.max_prime_nl))


def daily_ng(p, conc, spm):
    """The program's daily dose in ng as its whole steps deliver it (nearest ng)."""
    den = spm * DAY
    return (p.daily_num * conc * 2 + den) // (2 * den)


def daily_nl(p, spm):
    den = spm * DAY
    return (p.daily_num * NL_PER_ML * 2 + den) // (2 * den)


def rounding_ng(p, conc, spm):
    """What rounding to whole steps changes in the daily dose, ng (signed, nearest)."""
    den = spm * DAY
    num = p.daily_num * conc * 2 - p.req_ng_num * spm * 2
    return (num + den) // (2 * den) if num >= 0 else -((-num + den) // (2 * den))


def cap_steps(drug, soft_daily, prog_daily_steps, conc, spm):
    """The rolling 24 h cap: the larger of the soft max_daily and the program, never above the hard limit."""
    hard = floor_steps(drug.max_daily, conc, spm)
    soft = floor_steps(soft_daily, conc, spm)
    c = soft if soft > prog_daily_steps else prog_daily_steps
    return hard if c > hard else c


def _ml(nl):
    from firmware.jsonout import Dec

    return str(Dec(nl, 6))


def validate(rx, program, spm=20000, path=None):
    """Host check of a prescription and program (dicts of strings), with the firmware's own code.

    rx: {"drug": "morphine", "concentration": "10mg/mL", optional "max_daily", "max_bolus",
    "steps_per_ml"}; program: {"line": "continuous 2mg"} or {"mode": ..., "args": [...]}.
    Returns a summary dict; raises PumpError (E_LIMIT for a hard limit, E_CONFIRM never:
    soft-limit warnings are listed in the summary under "warnings").
    """
    from firmware.therapy.program import build
    from firmware.therapy.units import steps_nl as _snl

    if not isinstance(rx, dict) or not isinstance(program, dict):
        raise PumpError(E_SYNTAX, "prescription and program must be tables")
    drug = druglib.load(rx.get("drug", ""), path)
    pl = druglib.pump_limits(path)
    conc, unit = parse_conc(str(rx.get("concentration", "")))
    spm = int(rx.get("steps_per_ml", spm))
    check_conc(drug, conc, unit)
    sd = parse_mass(str(rx["max_daily"])) if "max_daily" in rx else drug.max_daily
    sb = parse_mass(str(rx["max_bolus"])) if "max_bolus" in rx else drug.max_bolus
    check_soft(drug, sd, sb, unit)
    words = (
        program["line"].split()
        if "line" in program
        else [program.get("mode", "")] + list(program.get("args", []))
    )
    p = build(words, conc, spm)
    warn = check_program(p, drug, pl, sd, sb, conc, unit, spm)
    return {
        "drug": drug.name,
        "mode": p.name(),
        "dose_unit": unit,
        "daily_dose_ng": daily_ng(p, conc, spm),
        "daily_nl": daily_nl(p, spm),
        "rounding_ng": rounding_ng(p, conc, spm),
        "max_rate_nl_day": _snl(p.max_rate(), spm),
        "warnings": warn,
    }
