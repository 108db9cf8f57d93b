"""Core commands: help, version, json, status, start, stop."""

import sys

from firmware import isotime
from firmware.dose import MODE_BACKOFF
from firmware.errors import E_STATE, E_SYNTAX, PumpError
from firmware.pump import ALARM, RUNNING, STOPPED, SUSPENDED, VERSION
from firmware.shell import ANY, CLINICIAN, ROLE_NAMES
from firmware.shell.shell import no_args, unknown
from firmware.volume import steps_to_ml


def _role(c):
    return "any" if c.role == ANY else ROLE_NAMES[c.role]


def cmd_help(sh, words):
    if len(words) > 1:
        raise PumpError(E_SYNTAX, "usage: help [CMD]")
    if words:
        c = sh.command(words[0])
        if c is None:
            raise unknown(sh, words[0])
        d = {
            "command": c.name,
            "usage": c.usage,
            "role": _role(c),
            "help": c.text,
            "text": "%s  (%s)\n  %s" % (c.usage, _role(c), c.detail or c.text),
        }
        if c.detail:
            d["detail"] = c.detail
        return d
    sh.load_all()
    names = sorted(sh.commands)
    lines = ["%-34s %s" % (sh.commands[n].usage, sh.commands[n].text) for n in names]
    return {"commands": names, "text": "\n".join(lines)}


def cmd_version(sh, words):
    no_args(words)
    out = {"version": VERSION, "board": sh.pump.board.name}
    # on a board the code runs from a ROMFS image boardsel checked at boot: its SHA-256 names the build
    sel = sys.modules.get("boardsel")
    if sel is not None and getattr(sel, "image", None):
        out["image"] = sel.image
    return out


def cmd_json(sh, words):
    if len(words) != 1 or words[0] not in ("on", "off"):
        raise PumpError(E_SYNTAX, "usage: json on|off")
    sh.json = words[0] == "on"
    return {"json": sh.json}


def status_fields(pump):
    spm = pump.steps_per_ml
    rate = pump.engine.rate() if pump.state == RUNNING else 0
    now = pump.pump_ms()
    d = {
        "state": pump.state,
        "mode": pump.mode,
        "rate_ml_day": steps_to_ml(rate, spm),
        "delivered_24h_ml": steps_to_ml(pump.ledger.delivered_24h(now), spm),
        "delivered_total_steps": pump.ledger.total_steps,
        "delivered_total_ml": steps_to_ml(pump.ledger.total_steps, spm),
        "steps_per_ml": spm,
        "alarms": [],
        "clock": isotime.fmt(pump.wall()),
        "clock_uncertain": pump.clock_uncertain,
        "dose_unit": None,
        "delivered_24h_dose": None,
        "reservoir_ml": None,
        "days_to_empty": None,
    }
    for s in pump.services:
        f = getattr(s, "status", None)
        if f is not None:
            f(pump, d)
    return d


def cmd_status(sh, words):
    no_args(words)
    return status_fields(sh.pump)


def cmd_start(sh, words):
    override = words == ["override"]
    if not override:
        no_args(words)
    p = sh.pump
    if p.state == RUNNING:
        return {"state": p.state}
    if p.state == SUSPENDED:
        # held by the pump itself (the 24 h cap): a person cannot override it
        raise PumpError(E_STATE, "held by the pump (DOSE_CAP); delivery resumes by itself")
    if p.state not in (STOPPED, ALARM) or p.mode == "none":
        raise PumpError(
            E_STATE, "no confirmed program to start" if p.mode == "none" else "not now: " + p.state
        )
    if p.state == ALARM and p.alarms.stopping_unacked():
        # SPEC 7: a stopping alarm resumes by `start` only once acknowledged
        raise PumpError(E_STATE, "acknowledge the alarm first: ack [ID]")
    r = p.restarts
    note = r.admit(p, override) if r is not None else None
    p.start()
    if r is not None and note is not None:
        r.started(p, note)
    return {"state": p.state}


def cmd_stop(sh, words):
    # open to every role and never locked; extra words are refused like any
    # other command's (SPEC 9: bad input changes nothing), the reply says how
    if words:
        raise PumpError(E_SYNTAX, "usage: stop (no arguments)")
    p = sh.pump
    # suspended (held by the pump, e.g. DOSE_CAP) would resume by itself: a person's
    # stop makes it stay stopped; a prime or calibration runs the motor while stopped
    if p.state in (RUNNING, SUSPENDED) or p.engine.running():
        p.stop("stop")
    elif p.engine.mode() == MODE_BACKOFF or getattr(p.safety, "relief", None) is not None:
        # the back-off after an occlusion, in a chunk or between two: the motor stops, the
        # back-off ends (the supervisor hears the event), the pump stays in its alarm
        p.engine.stop()
        p.event("stop")
    return {"state": p.state}


def register(sh):
    sh.add("help", ANY, cmd_help, "help [CMD]", "list commands, or one command's usage")
    sh.add("version", ANY, cmd_version, "version", "firmware version and board")
    sh.add("json", ANY, cmd_json, "json on|off", "one JSON object per reply")
    sh.add("status", ANY, cmd_status, "status", "state, rate, delivered, reservoir, alarms, clock")
    sh.add(
        "start",
        CLINICIAN,
        cmd_start,
        "start [override]",
        "start the confirmed program or resume after an acked alarm (override: a third restart"
        " into an occlusion within the hour)",
    )
    sh.add("stop", ANY, cmd_stop, "stop", "stop delivery at once (never locked)")
