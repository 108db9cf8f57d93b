"""Boluses of every kind: clinician, patient (ptm), priming, calibration, and the refill's bridge.

Functions of the therapy service `t` (firmware/therapy/service.py), which keeps the state; each
checks everything first and changes nothing when it refuses.
"""

from firmware.errors import E_CONFIRM, E_LIMIT, E_STATE, PumpError
from firmware.pump import STOPPED
from firmware.therapy import limits
from firmware.therapy.program import build
from firmware.therapy.units import dose_dec, ml_dec, ng_of, parse_conc, show, steps_of

DAY_MS = 86400000


def bolus(t, amount, dur_s, override, kind="bolus"):
    """A bolus now on top of the basal: exact size from the engine's step budget."""
    t.need_drug()
    spm = t.pump.steps_per_ml
    k, v = amount

    ng = ng_of(k, v, t.conc)
    steps = steps_of(k, v, t.conc, spm)
    warn = limits.check_bolus(ng, steps, dur_s, t.drug, t.pl, t.soft_bolus, t.conc, t.unit, spm)
    t._need_running(kind)
    if warn and not override:
        raise PumpError(E_CONFIRM, warn + "; bolus DOSE override to give it")
    t._admit(steps, kind)
    _start_bolus(t, kind, steps, dur_s, ng)
    return {"bolus": dose_dec(ng, t.unit), "dose_unit": t.unit, "steps": steps, "over_s": dur_s}


def _start_bolus(t, kind, steps, dur_s, ng):
    now = t.pump.pump_ms()
    basal = t.pump.basal
    t.boluses.append([now, steps])
    t._start_timed(kind, steps, dur_s, basal, {"ng": ng, "steps": steps})


def patient_bolus(t, source="shell"):
    """The patient's bolus (`ptm` or the button): same checks, same log, whichever asked."""
    dm = t.ptm_demand
    dm[0] += 1  # every press is demand, given or not: clinicians titrate on it
    try:
        out = _ptm(t)
    except PumpError as e:
        if e.why == "lockout":
            dm[2] += 1
        elif e.why == "max":
            dm[3] += 1
        if source != "shell":  # a refused shell line changes nothing; the shell answers it
            t.pump.event("ptm_refused", source=source, code=e.code, why=e.msg)
        raise
    dm[1] += 1
    t.pump.event("ptm_given", source=source, steps=out["steps"])
    return out


def _ptm(t):
    t.need_drug()
    if not t.ptm_dose:
        raise PumpError(E_STATE, "patient bolus not set up; ptm set dose= lockout= max=")
    t._need_running("patient bolus")
    now = t.pump.pump_ms()
    t.ptm_times = [t for t in t.ptm_times if now - t < DAY_MS]
    if t.ptm_times and now - t.ptm_times[-1] < t.ptm_lockout * 1000:
        left = (t.ptm_lockout * 1000 - (now - t.ptm_times[-1]) + 999) // 1000
        raise PumpError(E_STATE, "patient bolus locked out for %d s more" % left, "lockout")
    if len(t.ptm_times) >= t.ptm_max:
        raise PumpError(E_LIMIT, "patient bolus maximum %d per 24 h reached" % t.ptm_max, "max")
    spm = t.pump.steps_per_ml
    steps = steps_of("ng", t.ptm_dose, t.conc, spm)
    limits.check_bolus(
        t.ptm_dose,
        steps,
        t.ptm_over,
        t.drug,
        t.pl,
        t.drug.max_bolus,
        t.conc,
        t.unit,
        spm,
    )
    t._admit(steps, "patient bolus")
    t.ptm_times.append(now)
    _start_bolus(t, "ptm", steps, t.ptm_over, t.ptm_dose)
    return {
        "ptm": dose_dec(t.ptm_dose, t.unit),
        "dose_unit": t.unit,
        "steps": steps,
        "left_24h": t.ptm_max - len(t.ptm_times),
    }


def set_ptm(t, dose_ng, lockout_s, count, over_s, override):
    t.need_drug()
    spm = t.pump.steps_per_ml
    steps = steps_of("ng", dose_ng, t.conc, spm)
    warn = limits.check_bolus(dose_ng, steps, over_s, t.drug, t.pl, t.soft_bolus, t.conc, t.unit, spm)
    if warn and not override:
        raise PumpError(E_CONFIRM, warn + "; ptm set ... override to accept")
    t.ptm_dose, t.ptm_lockout, t.ptm_max, t.ptm_over = dose_ng, lockout_s, count, over_s
    t.ptm_demand = [0, 0, 0, 0]  # new settings: the demand they meet is counted afresh
    t.ptm_since = t.pump.wall()
    t.pump.event("ptm_set", dose=dose_ng, lockout=lockout_s, max=count)


def prime_margin_nl(catheter_nl):
    """What priming may move beyond the catheter volume, per refill or catheter change: 20 % of
    it, at least 0.05 mL (the tubing's connectors and a bubble to clear)."""
    m = catheter_nl // 5
    return m if m > 50000 else 50000


def prime(t, nl):
    limits.check_prime(nl, t.pl)
    if t.pump.state != STOPPED or t.pump.engine.running():
        raise PumpError(E_STATE, "priming needs a stopped pump")
    if not t.catheter_nl:
        raise PumpError(E_STATE, "priming needs the catheter volume: rx catheter ML first")
    top = t.catheter_nl + prime_margin_nl(t.catheter_nl)
    if t.primed_nl + nl > top:
        raise PumpError(
            E_LIMIT,
            "priming is limited to the catheter volume plus %s mL per refill or catheter change: "
            "%s mL left" % (ml_dec(prime_margin_nl(t.catheter_nl)), ml_dec(top - t.primed_nl)),
        )
    steps = steps_of("nl", nl, 1, t.pump.steps_per_ml)
    _budget_alone(t, "prime", steps)
    t.primed_nl += nl
    return {"prime_ml": ml_dec(nl), "steps": steps, "primed_ml": ml_dec(t.primed_nl)}


def calibrate_begin(t, steps, disconnected=False):
    if t.pump.state != STOPPED or t.pump.engine.running():
        raise PumpError(E_STATE, "calibration needs a stopped pump")
    if t.drug is not None and not disconnected:
        raise PumpError(
            E_STATE,
            "a drug is loaded: calibrate only with the line off the patient, and say so: "
            "calibrate begin %d disconnected" % steps,
        )
    if disconnected:
        # a person's statement, on the log before anything moves; the drug moved still counts
        t.pump.event("calibration_disconnected", steps=steps)
    _budget_alone(t, "calibrate", steps)
    t.cal_steps = steps
    return {"calibrate_steps": steps}


def check_calibration(t, spm, confirm):
    """A measured figure far from the board's nominal is more likely a slip than a pump: +/-20 %."""
    nominal = t.pump.board.default_steps_per_ml
    if nominal * 4 <= spm * 5 <= nominal * 6 or confirm:
        return
    f = spm * 100 // nominal
    raise PumpError(
        E_CONFIRM,
        "that gives %d steps per mL, %d.%02dx the board's nominal %d (outside +/-20 %%); "
        "calibrate measured ML confirm to accept" % (spm, f // 100, f % 100, nominal),
    )


def _budget_alone(t, kind, steps):
    # on a stopped pump: the engine runs this budget at its top speed, then stops; the dose
    # governor counts every step of it, so what it has no room for is refused now
    from firmware.therapy import cap

    cap.governed(t, steps, kind)
    eng = t.pump.engine
    t.excluded.append([t.pump.pump_ms(), steps])
    t._run_budget(kind, eng.max_rate(), steps, 0, {"steps": steps})
    eng.start()


def check_concentration(t, new_conc, confirm=True):
    """Raise PumpError if `new_conc` (ng/mL, or text like '2mg/mL') cannot be taken; else its ng/mL.

    A change of more than 2x either way (a mg/mcg slip turns 0.1 mL/day into 100) needs
    `confirm`: without it E_CONFIRM, showing both concentrations and what the program becomes."""
    t.need_drug()
    unit = t.unit
    if isinstance(new_conc, str):
        c, unit = parse_conc(new_conc)
    elif isinstance(new_conc, tuple):
        c, unit = new_conc  # (ng/mL, unit) from units.parse_conc; the dose unit stays the prescription's
    else:
        c = int(new_conc)
    limits.check_conc(t.drug, c, t.unit)
    conc_slip(t, c, unit, confirm)
    if t.prog is not None:
        p = build(t.prog.words, c, t.pump.steps_per_ml)
        limits.check_program(p, t.drug, t.pl, t.soft_daily, t.soft_bolus, c, t.unit, t.pump.steps_per_ml)
    return c


def conc_slip(t, c, unit, confirm):
    old = t.conc
    if confirm or not old or not c or (c * 2 >= old and old * 2 >= c):
        return
    spm = t.pump.steps_per_ml
    ratio = c // old if c > old else old // c
    if t.prog is not None:
        p = build(t.prog.words, c, spm)
        what = "the program's %s/day becomes %s mL/day" % (
            show(limits.daily_ng(p, c, spm), t.unit),
            ml_dec(limits.daily_nl(p, spm)),
        )
    else:
        what = "no program set"
    raise PumpError(
        E_CONFIRM,
        "concentration %s/mL -> %s/mL (%dx %s): %s; repeat with confirm to accept"
        % (show(old, t.unit), show(c, unit), ratio, "stronger" if c > old else "weaker", what),
    )


def concentration_changed(t, new_conc, bridge=True):
    """The refill took a new concentration: the program is recomputed in volume for it and, with
    `bridge`, the catheter volume of old drug goes first at the old volume rate. Refused (the
    drug's hard limit, or the program would exceed one): the pump stops, since its reservoir now
    holds a drug the program cannot be trusted with; the refill should have asked
    `check_concentration` before it took the drug in."""
    try:
        c = check_concentration(t, new_conc)
    except PumpError:
        if t.pump.state != STOPPED:
            t.pump.stop("concentration_refused")
        raise
    old_rate = t.pump.basal
    old_conc = t.conc
    t.note_conc(c)
    t.conc = c
    t.clear_pending("concentration")
    if t.prog is not None:
        t._retire(t.pump.pump_ms())
        t.prog = build(t.prog.words, c, t.pump.steps_per_ml)
    t._cancel_budget("concentration")
    steps = steps_of("nl", t.catheter_nl, 1, t.pump.steps_per_ml)
    t.pump.basal = t._scheduled()
    t._bridge = (old_rate, steps, old_conc) if bridge and steps and old_rate else None
    # with a bridge the new rate takes over when its budget ends; without, at once
    t._applied = t.pump.basal if t._bridge else -1
    t.pump.event("concentration", conc=c, bridge=bool(t._bridge))
    t.service(t.pump)
