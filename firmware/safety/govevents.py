"""The dose governor's rare turns (firmware/safety/governor.py), moved whole out of its pass:
another drug (the window rescaled to the new hard limit), another line volume (the line
revalued), an allowance changed behind it (STEP_MISMATCH) and the limit reached (DOSE_CAP).
Imported at the first of them, not at boot; the fields are the governor's.
"""

from firmware.pump import RUNNING, SUSPENDED
from firmware.safety.governor import FG_PER_NG


def rescale(g, new, old, now):
    # another drug: what the window and the line hold of the old one counts as the same
    # share of the new drug's hard limit (each drug as a fraction of its own limit, the sum
    # at most one), rounded towards counting more
    up = lambda x: (x * new + old - 1) // old  # noqa: E731
    g.F = up(g.F)
    g._curve.scale(new, old)
    if g._line is not None:
        g._line.scale(new, old)
    g._intake.scale(new, old)
    for r in g._assumed:
        r[1] = up(r[1])
    g._curve.jump(now, g.F)
    g.pump.event("governor_rescaled", old_ng=old, new_ng=new)


def revalue(g, vol):
    fg = g._intake.revalue(vol, g.pump.pump_ms())
    if fg:
        g.pump.event("line_revalued", new_nl=vol, ng=(fg + FG_PER_NG - 1) // FG_PER_NG)
    return fg


def tampered(g, pump, eng):
    # only this service writes the allowance: a changed one is a fault in the engine's state
    # (a stray write, a test hook), not a figure to trust for another pass
    eng.stop()
    pump.event("allowance_fault", found=eng.allow_end(), armed=g._armed)
    if pump.alarms is not None:
        pump.alarms.raise_alarm("STEP_MISMATCH", "the engine's dose allowance changed behind the governor")


def cap(g, pump):
    lim = g.limit_fg
    if pump.state == RUNNING:
        pump.stop("dose_cap", state=SUSPENDED)
        g.capped = True
    else:
        pump.engine.stop()  # a priming or calibration run: ends here, pump stays as it was
        pump.event("dose_cap", state=pump.state)
    if pump.alarms is not None:
        pump.alarms.raise_alarm(
            "DOSE_CAP",
            "24 h dose reached the limit %s; delivery held" % _mg(lim),
        )


def _mg(fg):
    if fg is None:
        return "?"
    ng = fg // FG_PER_NG
    return "%d.%03d mg" % (ng // 1000000, (ng // 1000) % 1000)
