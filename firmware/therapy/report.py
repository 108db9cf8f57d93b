"""What the therapy shows: its `status` fields and the prescription (`rx`)."""

from firmware import isotime
from firmware.pump import RUNNING
from firmware.therapy import limits
from firmware.therapy.units import dose_dec, ml_dec, steps_ng, steps_nl

DAY_MS = 86400000


def status(t, pump, d):
    if t.drug is None:
        return
    spm = pump.steps_per_ml
    now = pump.pump_ms()
    d["dose_unit"] = t.unit
    d["delivered_24h_dose"] = dose_dec(steps_ng(pump.ledger.delivered_24h(now), t.conc, spm), t.unit)
    rate = pump.engine.rate() if pump.state == RUNNING else 0
    d["rate_dose_day"] = dose_dec(steps_ng(rate, t.conc, spm), t.unit)
    d["basal_ml_day"] = ml_dec(steps_nl(pump.basal, spm))
    d["bolus"] = t.kind or None
    d["ptm_24h"] = len([t for t in t.ptm_times if now - t < DAY_MS])
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
            rx["daily_dose"] = dose_dec(limits.daily_ng(t.prog, t.conc, spm), u)
            rx["daily_ml"] = ml_dec(limits.daily_nl(t.prog, spm))
    return rx
