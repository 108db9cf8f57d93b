"""Commands: alarms, ack, silence, sensors, selftest, refill."""

from firmware.errors import E_RANGE, E_STATE, E_SYNTAX, PumpError
from firmware.jsonout import Dec
from firmware.parse import decimal, duration_s, integer, keyvals
from firmware.pump import REFILL
from firmware.safety.alarms import DEFAULT_SILENCE_MS, MAX_SILENCE_MS
from firmware.shell import ANY, CLINICIAN
from firmware.shell.shell import no_args, printable


def cmd_alarms(sh, words):
    no_args(words)
    p = sh.pump
    items = p.alarms.listed()
    left = p.alarms.silenced_ms()
    lines = []
    for a in items:
        acked = " (acked)" if a["acked"] else ""
        lines.append("%d %s %s%s since %s" % (a["id"], a["priority"], a["code"], acked, a["since"]))
    if left:
        lines.append("silenced for %d s" % ((left + 999) // 1000))
    return {"alarms": items, "silenced_s": (left + 999) // 1000, "text": "\n".join(lines) or "no alarms"}


def cmd_ack(sh, words):
    p = sh.pump
    if len(words) > 1:
        raise PumpError(E_SYNTAX, "usage: ack [ID]")
    ident = None
    if words:
        ident = integer(words[0], 1, 1 << 30, "alarm id")
        if not [a for a in p.alarms.items if a.id == ident]:
            raise PumpError(E_RANGE, "no alarm with id %d" % ident)
    done = p.alarms.ack(ident)
    return {"acked": done, "alarms": p.alarms.listed()}


def cmd_silence(sh, words):
    p = sh.pump
    if len(words) > 1:
        raise PumpError(E_SYNTAX, "usage: silence [DURATION]")
    ms = DEFAULT_SILENCE_MS
    if words:
        ms = duration_s(words[0], 1, MAX_SILENCE_MS // 1000, "silence") * 1000
    p.alarms.silence(ms)
    return {"silenced_s": ms // 1000}


def _safety(sh):
    s = sh.pump.safety
    if s is None:
        raise PumpError(E_STATE, "safety supervisor not running")
    return s


_UNIT = {"pressure": "pa", "reservoir": "fill_ppm", "battery": "cell_mv"}


def cmd_sensors(sh, words):
    no_args(words)
    return {"sensors": _sensors_fields(_safety(sh), sh.pump)}


def _sensors_fields(sup, pump):
    out = {}
    for name, s in sup.sensors.named():
        if s is None:
            out[name] = {"present": False}
            continue
        d = {"present": True, "raw": s.raw, "health": s.health}
        d["pin_mv"] = s.mv
        d[_UNIT[name]] = s.value
        out[name] = d
    b = pump.board
    out["button"] = "pressed" if sup.button is not None and sup.button.pressed_now() else "released"
    out["diag"] = 1 if b.stepper.stalled() else 0
    out["occlusion_baseline_pa"] = sup.occlusion.baseline()
    return out


def cmd_selftest(sh, words):
    no_args(words)
    p = sh.pump
    s = _safety(sh)
    out = {}
    st = p.board.stepper
    out["motor"] = "stalled" if st.stalled() else ("enabled" if st.enabled() else "ok")
    for name, sensor in s.sensors.named():
        out[name] = "absent" if sensor is None else sensor.health
    s.sound.beep(p.now_ms())
    out["buzzer"] = "beeped"
    store = p.store
    f = getattr(store, "selftest", None) if store is not None else None
    out["flash"] = f() if f is not None else "not checked"
    out["watchdog"] = "fed" if s.watchdog_ok else "starved"
    bad = [k for k in ("pressure", "reservoir", "battery") if out[k] not in ("ok", "absent")]
    if out["motor"] == "stalled" or out["watchdog"] != "fed":
        bad.append("motor" if out["motor"] == "stalled" else "watchdog")
    out["passed"] = not bad
    p.event("selftest", passed=not bad, failed=bad)
    return {"selftest": out}


def _ml(text):
    if text.endswith("mL"):
        text = text[:-2]
    return decimal(text, 6, "volume")


REFILL_USAGE = "begin|withdrawn ML [confirm]|add ML [conc=CONC [confirm]]|confirm [nobridge]|cancel"


def cmd_refill(sh, words):
    p = sh.pump
    r = p.reservoir
    if r is None:
        raise PumpError(E_STATE, "reservoir service not running")
    if not words:
        raise PumpError(E_SYNTAX, "usage: refill " + REFILL_USAGE)
    from firmware.safety import refill as rf  # the workflow, not at boot

    sub, args = words[0], words[1:]
    if sub == "begin":
        no_args(args)
        if p.state == REFILL:
            raise PumpError(E_STATE, "refill already open")
        rf.begin(p)
        return {"state": p.state, "reservoir_ml": _dec(r.volume_nl())}
    if sub == "withdrawn":
        confirm = len(args) == 2 and args[1] == "confirm"
        if len(args) != 1 and not confirm:
            raise PumpError(E_SYNTAX, "usage: refill withdrawn ML [confirm]")
        nl = _ml(args[0])
        rf.staged(r)
        diff, odd = rf.withdrawn(p, nl, confirm)
        out = {"withdrawn_ml": _dec(nl), "tracked_ml": _dec(r.volume_nl()), "discrepancy": odd}
        if diff is not None:
            out["difference_ml"] = _dec(diff)
            out["matches"] = -r.tolerance_nl <= diff <= r.tolerance_nl
        return out
    if sub == "add":
        confirm = len(args) == 3 and args[2] == "confirm"
        if confirm:
            args = args[:2]
        if not args or len(args) > 2:
            raise PumpError(E_SYNTAX, "usage: refill add ML [conc=CONC [confirm]]")
        nl = _ml(args[0])
        conc = None
        if len(args) == 2:
            from firmware.therapy.units import parse_conc

            conc = parse_conc(keyvals(args[1:], ("conc",))["conc"])
        rf.staged(r)
        total = rf.add(p, nl, conc, confirm)
        return {"added_ml": _dec(nl), "reservoir_ml": _dec(total), "concentration_changed": conc is not None}
    if sub == "confirm":
        if len(args) > 1 or (args and args[0] != "nobridge"):
            raise PumpError(E_SYNTAX, "usage: refill confirm [nobridge]")
        new = rf.confirm(p, bridge=not args)
        return {"state": p.state, "reservoir_ml": _dec(new), "bridge": not args}
    if sub == "cancel":
        no_args(args)
        rf.cancel(p)
        return {"state": p.state}
    raise PumpError(E_SYNTAX, "unknown refill step '%s'" % printable(sub, 20))


def _dec(nl):
    return None if nl is None else Dec((nl + 50) // 100 if nl >= 0 else -((-nl + 50) // 100), 4)


def register(sh):
    sh.add("alarms", ANY, cmd_alarms, "alarms", "active and latched alarms")
    sh.add("ack", ANY, cmd_ack, "ack [ID]", "acknowledge one alarm, or all")
    sh.add("silence", ANY, cmd_silence, "silence [DURATION]", "hold the alarm sound (default 2m, at most 2h)")
    sh.add("sensors", ANY, cmd_sensors, "sensors", "raw and scaled readings, sensor health")
    sh.add("selftest", CLINICIAN, cmd_selftest, "selftest", "motor, sensors, buzzer, flash, watchdog")
    sh.add(
        "refill",
        CLINICIAN,
        cmd_refill,
        "refill " + REFILL_USAGE,
        "refill the reservoir; delivery pauses meanwhile",
    )
