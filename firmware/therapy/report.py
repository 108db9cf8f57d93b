"""What the therapy shows: its `status` fields and the prescription (`rx`)."""

from firmware import isotime
from firmware.errors import E_STATE, PumpError
from firmware.pump import RUNNING
from firmware.therapy import cap, limits_module, units
from firmware.therapy.program import build
from firmware.therapy.units import dose_dec, ml_dec, steps_ng, steps_nl

DAY_MS = 86400000


def status(t, pump, d):
    if t.drug is None:
        return
    spm = pump.steps_per_ml
    now = pump.pump_ms()
    d["dose_unit"] = t.unit
    # the governor's figure: each step valued at the drug that left the tip with it (plug flow)
    g = pump.governor
    if g is not None:
        d["delivered_24h_dose"] = dose_dec(g.delivered_ng(), t.unit)
    else:
        d["delivered_24h_dose"] = dose_dec(steps_ng(cap.ledger_24h(t, now)[0], t.conc, spm), t.unit)
    rate = pump.engine.rate() if pump.state == RUNNING else 0
    d["rate_dose_day"] = dose_dec(steps_ng(rate, t.conc, spm), t.unit)
    d["basal_ml_day"] = ml_dec(steps_nl(pump.basal, spm))
    d["bolus"] = t.kind or None
    d["ptm_24h"] = len([x for x in t.ptm_times if now - x < DAY_MS])
    # patient bolus demand against delivery since `ptm set` (issue 16)
    dm = t.ptm_demand
    d["ptm_presses"], d["ptm_given"], d["ptm_refused_lockout"], d["ptm_refused_max"] = dm
    d["ptm_counts_since"] = isotime.fmt(t.ptm_since) if t.ptm_since else None
    if t.prog is not None:
        d["cap_24h_dose"] = dose_dec(steps_ng(t.cap_steps(), t.conc, spm), t.unit)
    if t.trial_report is not None:
        d["trial"] = t.trial_report


def prescription(t):
    spm = t.pump.steps_per_ml
    u = t.unit
    rx = {
        "drug": t.drug.name if t.drug else None,
        "concentration": dose_dec(t.conc, u) if t.drug else None,
        "concentration_unit": (u + "/mL") if t.drug else None,
        "dose_unit": u if t.drug else None,
        "program": " ".join(t.prog.words) if t.prog else None,
        "mode": t.prog.name() if t.prog else "none",
        "steps_per_ml": spm,
        "catheter_ml": ml_dec(t.catheter_nl),
        "patient": t.patient,
        "changed_by": t.changed_by or None,
        "changed_at": isotime.fmt(t.changed_at) if t.changed_at else None,
        "reservoir_capacity_ml": ml_dec(t.capacity_nl),
    }
    if t.drug is not None:
        rx["limits"] = {
            "max_daily": dose_dec(t.soft_daily, u),
            "max_bolus": dose_dec(t.soft_bolus, u),
            "hard_max_daily": dose_dec(t.drug.max_daily, u),
            "hard_max_bolus": dose_dec(t.drug.max_bolus, u),
            "hard_max_conc": dose_dec(t.drug.max_conc, u),
            "pump_max_rate_ml_day": ml_dec(t.pl.max_rate_nl),
            "pump_max_bolus_ml": ml_dec(t.pl.max_bolus_nl),
        }
        rx["ptm"] = {
            "dose": dose_dec(t.ptm_dose, u) if t.ptm_dose else None,
            "lockout_s": t.ptm_lockout,
            "max": t.ptm_max,
            "over_s": t.ptm_over,
        }
        if t.prog is not None:
            rx["daily_dose"] = dose_dec(limits_module().daily_ng(t.prog, t.conc, spm), u)
            rx["daily_ml"] = ml_dec(limits_module().daily_nl(t.prog, spm))
    return rx


def show(t):
    p = t.pending or t.prog
    spm = t.pending_spm or t.pump.steps_per_ml
    if p is None:
        if t.pending_spm:
            return {"pending": True, "steps_per_ml": t.pending_spm, "text": "calibration pending"}
        raise PumpError(E_STATE, "no program; program continuous|flex|periodic|trial ...")
    if t.pending_spm and p is t.prog:
        p = build(p.words, t.conc, spm)
    d = summary(t, p, spm)
    d["pending"] = t.pending is not None or bool(t.pending_spm)
    d["warnings"] = list(t.pending_warn) if t.pending is not None else []
    if t.pending_spm:
        d["steps_per_ml"] = spm
        d["old_steps_per_ml"] = t.pump.steps_per_ml
    lines = [
        "%s%s: %s/day = %s mL/day"
        % (
            "pending " if d["pending"] else "",
            d["mode"],
            units.show(d["daily_dose_ng"], t.unit),
            d["daily_ml"],
        ),
        "rounding to whole steps changes the daily dose by %s" % units.show(d["rounding_ng"], t.unit),
        "days to empty: %s" % ("-" if d["days_to_empty"] is None else d["days_to_empty"]),
    ]
    for w in d["warnings"]:
        lines.append("warning: %s (program confirm override)" % w)
    if d["pending"]:
        lines.append("program confirm to run it")
    d["text"] = "\n".join(lines)
    del d["daily_dose_ng"]
    del d["rounding_ng"]
    return d


def summary(t, p, spm):
    dng = limits_module().daily_ng(p, t.conc, spm)
    dnl = limits_module().daily_nl(p, spm)
    return {
        "mode": p.name(),
        "program": " ".join(p.words),
        "daily_dose": dose_dec(dng, t.unit),
        "daily_dose_ng": dng,
        "dose_unit": t.unit,
        "daily_ml": ml_dec(dnl),
        "rounding": dose_dec(limits_module().rounding_ng(p, t.conc, spm), t.unit),
        "rounding_ng": limits_module().rounding_ng(p, t.conc, spm),
        "daily_steps": p.daily_steps(),
        "max_rate_ml_day": ml_dec(steps_nl(p.max_rate(), spm)),
        "days_to_empty": days_to_empty(t, dnl),
    }


def days_to_empty(t, daily_nl):
    """Days the reservoir lasts at this daily volume: its tracked volume if known, else its capacity."""
    if daily_nl <= 0:
        return None
    vol = None
    f = getattr(t.pump.reservoir, "volume_nl", None)
    if f is not None:
        vol = f() if callable(f) else f
    if not isinstance(vol, int):
        vol = t.capacity_nl
    from firmware.jsonout import Dec

    return Dec((vol * 10 + daily_nl // 2) // daily_nl, 1)


def status_line(t):
    p = t.prog
    spm = t.pump.steps_per_ml
    if p is None:
        return {"steps_per_ml": spm}
    return {
        "mode": p.name(),
        "rate_ml_day": ml_dec(steps_nl(t.pump.basal, spm)),
        "daily_dose": dose_dec(limits_module().daily_ng(p, t.conc, spm), t.unit),
        "state": t.pump.state,
    }
