"""Therapy commands: rx, program, bolus, ptm, prime, calibrate (SPEC 9).

Each handler checks every argument before it changes anything; the work is
done by `pump.therapy` (firmware/therapy/service.py).
"""

from firmware.errors import E_AUTH, E_RANGE, E_SYNTAX, PumpError
from firmware.parse import duration_s, integer, keyvals
from firmware.shell import ANY, CLINICIAN, ROLE_NAMES
from firmware.shell.shell import no_args, printable
from firmware.therapy import limits, rx
from firmware.therapy.units import parse_amount, parse_mass, parse_volume_nl

MAX_CATHETER_NL = 1000000  # 1 mL: above any pump tubing plus intrathecal catheter


def _t(sh):
    return sh.pump.therapy


def _clinician(sh, what):
    if sh.role < CLINICIAN:
        raise PumpError(E_AUTH, "'%s' needs the clinician role; login clinician PIN" % what)


def _who(sh):
    return ROLE_NAMES[sh.role]


def cmd_rx(sh, words):
    t = _t(sh)
    if not words:
        return {"prescription": t.prescription(), "text": _rx_text(t.prescription())}
    sub = words[0]
    if sub not in ("drug", "limit", "catheter", "patient", "reservoir"):
        raise PumpError(
            E_SYNTAX,
            "usage: rx [drug NAME CONC | limit max_daily=DOSE max_bolus=DOSE | catheter ML | patient LABEL]",
        )
    _clinician(sh, "rx " + sub)
    args = words[1:]
    if sub == "drug":
        confirm = len(args) == 3 and args[2] == "confirm"
        if len(args) != 2 and not confirm:
            raise PumpError(E_SYNTAX, "usage: rx drug NAME CONC [confirm] (e.g. rx drug morphine 10mg/mL)")
        rx.set_drug(t, args[0], args[1], _who(sh), confirm)
        return {"drug": t.drug.name, "concentration": _conc(t), "unit": t.unit + "/mL"}
    if sub == "limit":
        t.need_drug()
        if not args:
            raise PumpError(E_SYNTAX, "usage: rx limit max_daily=DOSE max_bolus=DOSE")
        kv = keyvals(args, ("max_daily", "max_bolus"))
        md = _mass(kv["max_daily"], t, "max_daily") if "max_daily" in kv else t.soft_daily
        mb = _mass(kv["max_bolus"], t, "max_bolus") if "max_bolus" in kv else t.soft_bolus
        limits.check_soft(t.drug, md, mb, t.unit)
        t.soft_daily, t.soft_bolus = md, mb
        t.clear_pending("limit")
        t.stamp(_who(sh))
        sh.pump.event("rx_limit", max_daily=md, max_bolus=mb)
        lim = t.prescription()["limits"]
        return {"max_daily": lim["max_daily"], "max_bolus": lim["max_bolus"], "dose_unit": t.unit}
    if len(args) < 1:
        raise PumpError(E_SYNTAX, "usage: rx %s VALUE" % sub)
    if sub == "catheter":
        if len(args) != 1:
            raise PumpError(E_SYNTAX, "usage: rx catheter VOLUME_ML")
        nl = parse_volume_nl(args[0], "catheter volume")
        if nl <= 0 or nl > MAX_CATHETER_NL:
            raise PumpError(E_RANGE, "catheter volume must be above 0 and at most 1 mL")
        rx.set_catheter(t, nl, _who(sh))
        return {"catheter_ml": t.prescription()["catheter_ml"]}
    if sub == "reservoir":
        if len(args) != 1 or args[0] not in ("20", "40", "20mL", "40mL"):
            raise PumpError(E_SYNTAX, "usage: rx reservoir 20|40 (mL)")
        t.capacity_nl = int(args[0][:2]) * 1000000
        t.stamp(_who(sh))
        sh.pump.event("rx_reservoir", nl=t.capacity_nl)
        return {"reservoir_capacity_ml": t.prescription()["reservoir_capacity_ml"]}
    label = " ".join(args)
    if len(label) > 40:
        raise PumpError(E_RANGE, "patient label longer than 40 characters")
    t.patient = printable(label, 40)
    t.stamp(_who(sh))
    sh.pump.event("rx_patient", label=t.patient)
    return {"patient": t.patient}


def _conc(t):
    return t.prescription()["concentration"]


def _mass(text, t, what):
    kind, v = parse_amount(text, what)
    if kind != "ng":
        raise PumpError(E_SYNTAX, "%s must be a dose in mg or mcg" % what)
    return v


def _rx_text(rx):
    lines = []
    for k in sorted(rx):
        v = rx[k]
        if isinstance(v, dict):
            v = ", ".join("%s=%s" % (a, "-" if v[a] is None else v[a]) for a in sorted(v))
        lines.append("%s: %s" % (k, "-" if v is None else v))
    return "\n".join(lines)


def cmd_program(sh, words):
    t = _t(sh)
    if not words:
        raise PumpError(
            E_SYNTAX, "usage: program continuous|flex|periodic|trial ...|show|confirm [override]|cancel"
        )
    sub = words[0]
    if sub == "show":
        no_args(words[1:])
        return t.show()
    if sub == "confirm":
        if len(words) > 2 or (len(words) == 2 and words[1] != "override"):
            raise PumpError(E_SYNTAX, "usage: program confirm [override]")
        return t.confirm(len(words) == 2)
    if sub == "cancel":
        no_args(words[1:])
        return t.cancel()
    return t.propose(words)


def _bolus_args(words, usage):
    if not words:
        raise PumpError(E_SYNTAX, usage)
    amount = parse_amount(words[0], "bolus")
    dur = 900
    override = False
    for w in words[1:]:
        if w == "override" and not override:
            override = True
        elif w.startswith("over=") and dur == 900 and len(w) > 5:
            dur = duration_s(w[5:], 60, 86400, "bolus duration")
        else:
            raise PumpError(E_SYNTAX, usage)
    return amount, dur, override


def cmd_bolus(sh, words):
    amount, dur, override = _bolus_args(words, "usage: bolus DOSE [over=DURATION] [override]")
    return _t(sh).bolus(amount, dur, override)


def cmd_ptm(sh, words):
    t = _t(sh)
    if not words:
        return t.patient_bolus("shell")
    if words[0] != "set":
        raise PumpError(
            E_SYNTAX, "usage: ptm | ptm set dose=DOSE lockout=DURATION max=N [over=DURATION] [override]"
        )
    _clinician(sh, "ptm set")
    t.need_drug()
    args = words[1:]
    override = "override" in args
    if override:
        args = [a for a in args if a != "override"]
        if len(args) != len(words) - 2:
            raise PumpError(E_SYNTAX, "'override' given twice")
    kv = keyvals(args, ("dose", "lockout", "max", "over"))
    for k in ("dose", "lockout", "max"):
        if k not in kv:
            raise PumpError(E_SYNTAX, "usage: ptm set dose=DOSE lockout=DURATION max=N [over=DURATION]")
    dose = parse_mass(kv["dose"], "ptm dose")
    if dose <= 0:
        raise PumpError(E_RANGE, "ptm dose must be above 0")
    lockout = duration_s(kv["lockout"], 60, 86400, "lockout")
    count = integer(kv["max"], 1, 24, "max")
    over = duration_s(kv["over"], 60, 3600, "over") if "over" in kv else 900
    t.set_ptm(dose, lockout, count, over, override)
    t.stamp(_who(sh))
    return t.prescription()["ptm"]


def cmd_prime(sh, words):
    if len(words) != 1:
        raise PumpError(E_SYNTAX, "usage: prime VOLUME_ML")
    return _t(sh).prime(parse_volume_nl(words[0], "priming volume"))


def cmd_calibrate(sh, words):
    t = _t(sh)
    usage = "usage: calibrate begin STEPS [disconnected] | calibrate measured ML [confirm]"
    if len(words) not in (2, 3) or words[0] not in ("begin", "measured"):
        raise PumpError(E_SYNTAX, usage)
    extra = words[2] if len(words) == 3 else None
    if extra is not None and extra != ("disconnected" if words[0] == "begin" else "confirm"):
        raise PumpError(E_SYNTAX, usage)
    if words[0] == "begin":
        return t.calibrate_begin(integer(words[1], 1000, 200000, "steps"), extra is not None)
    if not t.cal_steps:
        raise PumpError(E_SYNTAX, "calibrate begin STEPS first")
    nl = parse_volume_nl(words[1], "measured volume")
    if nl <= 0:
        raise PumpError(E_RANGE, "measured volume must be above 0")
    spm = (t.cal_steps * 1000000 + nl // 2) // nl
    if spm < 1000 or spm > 1000000:
        raise PumpError(E_RANGE, "that gives %d steps per mL: outside 1000..1000000" % spm)
    t.check_calibration(spm, extra is not None)
    return t.propose_spm(spm)


def register(sh):
    sh.add(
        "rx",
        ANY,
        cmd_rx,
        "rx [drug|limit|catheter|patient|reservoir ...]",
        "the prescription; clinician sets it",
    )
    sh.add(
        "program",
        CLINICIAN,
        cmd_program,
        "program MODE ...|show|confirm [override]|cancel",
        "continuous DAILY, flex HH:MM=RATE..., periodic HH:MM=DOSE/DUR... [basal=DAILY], trial ...",
    )
    sh.add(
        "bolus",
        CLINICIAN,
        cmd_bolus,
        "bolus DOSE [over=DURATION] [override]",
        "clinician bolus (default 15m)",
    )
    sh.add("ptm", ANY, cmd_ptm, "ptm | ptm set dose= lockout= max=", "patient bolus, and its settings")
    sh.add("prime", CLINICIAN, cmd_prime, "prime VOLUME_ML", "priming bolus on a stopped pump")
    sh.add(
        "calibrate",
        CLINICIAN,
        cmd_calibrate,
        "calibrate begin STEPS [disconnected]|measured ML [confirm]",
        "steps per mL",
    )
