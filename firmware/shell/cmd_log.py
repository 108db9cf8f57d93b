"""Commands `log [N]`, `log since ISO`, `time` and `time set ISO`."""

from firmware import isotime
from firmware.errors import E_AUTH, E_RANGE, E_STATE, E_SYNTAX, PumpError
from firmware.shell import ANY, CLINICIAN

DEFAULT_N = 20
MAX_N = 500


def _fields(e, store):
    d = {"seq": e[0], "time": isotime.fmt(e[1]), "event": e[3], "detail": e[4], "store": store}
    if e[2]:
        d["clock_uncertain"] = True
    return d


def _line(e):
    parts = ["%d %s%s %s" % (e[0], isotime.fmt(e[1]), "?" if e[2] else "", e[3])]
    detail = e[4]
    if isinstance(detail, dict):
        for k in sorted(detail):
            parts.append("%s=%s" % (k, detail[k]))
    return " ".join(parts)


def _parse_time(s):
    try:
        return isotime.parse(s)
    except ValueError:
        raise PumpError(E_SYNTAX, "time like 2026-01-01T08:30:00") from None


def cmd_log(sh, words):
    log = sh.pump.log
    if log is None:
        raise PumpError(E_STATE, "no event log on this pump")
    if words and words[0] == "since":
        if len(words) != 2:
            raise PumpError(E_SYNTAX, "usage: log since ISO")
        # the newest MAX_N at or after the time (a clock set back may interleave older ones)
        es = log.last(MAX_N, since_wall=_parse_time(words[1]))
    else:
        if len(words) > 1:
            raise PumpError(E_SYNTAX, "usage: log [N] | log since ISO")
        n = DEFAULT_N
        if words:
            if not words[0].isdigit() or len(words[0]) > 6:
                raise PumpError(E_SYNTAX, "N is a whole number of entries")
            n = int(words[0])
            if n < 1 or n > MAX_N:
                raise PumpError(E_RANGE, "N must be 1 to %d" % MAX_N)
        es = log.last(n)
    text = "\n".join(_line(e) for e, _ in es) if es else "log empty"
    return {"entries": [_fields(e, s) for e, s in es], "count": len(es), "lost": log.lost, "text": text}


def cmd_time(sh, words):
    p = sh.pump
    if not words:
        return {
            "clock": isotime.fmt(p.wall()),
            "uncertain": p.clock_uncertain,
            "text": isotime.fmt(p.wall()) + (" (uncertain: time set ISO)" if p.clock_uncertain else ""),
        }
    if words[0] != "set" or len(words) != 2:
        raise PumpError(E_SYNTAX, "usage: time | time set ISO")
    if sh.role < CLINICIAN:
        raise PumpError(E_AUTH, "'time set' needs the clinician role; login clinician PIN")
    t = _parse_time(words[1])
    old = p.wall()
    was = p.clock_uncertain
    p.set_wall(t, uncertain=False)
    p.event("time_set", old=isotime.fmt(old), new=isotime.fmt(t), was_uncertain=was)
    if p.alarms.get("CLOCK") is not None:
        p.alarms.clear("CLOCK")
    return {"clock": isotime.fmt(t), "uncertain": False}


def register(sh):
    sh.add("log", ANY, cmd_log, "log [N] | log since ISO", "event and audit log (newest last)")
    sh.add("time", ANY, cmd_time, "time | time set ISO", "the clock; setting it needs a clinician")
