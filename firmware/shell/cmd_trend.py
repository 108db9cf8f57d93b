"""`trend [SINCE] [N]`: per-minute samples from index SINCE, for `pumpctl plot` to page through."""

from firmware.errors import E_RANGE, E_STATE, E_SYNTAX, PumpError
from firmware.shell import ANY
from firmware.trend import CODES, FIELDS

PAGE = 60  # samples a reply: about 2 KB of JSON, one line the host reads at once


def _number(w, what):
    if not w.isdigit() or len(w) > 9:
        raise PumpError(E_SYNTAX, "%s is a whole number" % what)
    return int(w)


def cmd_trend(sh, words):
    t = sh.pump.trend
    if t is None:
        raise PumpError(E_STATE, "no trend buffer on this pump")
    if len(words) > 2:
        raise PumpError(E_SYNTAX, "usage: trend [SINCE] [N]")
    since = _number(words[0], "SINCE") if words else t.first()
    n = _number(words[1], "N") if len(words) > 1 else PAGE
    if n < 1 or n > PAGE:
        raise PumpError(E_RANGE, "N must be 1 to %d" % PAGE)
    rows = t.since(since, n)
    start = max(since, t.first())
    nxt = start + len(rows)
    d = {
        "first": t.first(),
        "start": start,
        "next": nxt,
        "count": t.count,
        "interval_s": 60,
        "fields": list(FIELDS),
        "alarm_codes": list(CODES),
        "steps_per_ml": sh.pump.steps_per_ml,
        "samples": rows,
    }
    d["text"] = "trend: samples %d..%d of %d (held from %d)" % (start, nxt, t.count, t.first())
    return d


def register(sh):
    sh.add("trend", ANY, cmd_trend, "trend [SINCE] [N]", "per-minute delivery, pressure, reservoir, alarms")
