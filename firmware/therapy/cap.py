"""The rolling 24 h cap: what may still be delivered, from the pump's own ledger.

The ledger counts net steps in 10-minute bins of pump time (`time set` does
not move them) plus steps assumed after a reset. Boluses are admitted only
if every later 24 h window stays within the cap with the basal at its fullest
(the largest daily figure of any program confirmed in the window), so the
basal alone never has to be held, except after a reset's assumed steps.
"""

from firmware.errors import E_LIMIT, PumpError
from firmware.ledger import BIN_MS
from firmware.pump import RUNNING, STOPPED, SUSPENDED
from firmware.therapy import limits
from firmware.therapy.units import show, steps_ng

WINDOW_MS = 86400000 + BIN_MS  # a record older than this is out of every bin the ledger sums


def prune(records, now_ms):
    """Drop [pump_ms, value] records that no 24 h window can still hold."""
    while records and now_ms - records[0][0] >= WINDOW_MS:
        records.pop(0)


def total(records, now_ms):
    prune(records, now_ms)
    s = 0
    for r in records:
        s += r[1]
    return s


def peak(records, now_ms, current, i=1):
    """The largest field `i` of the records still in the window, and `current`."""
    prune(records, now_ms)
    m = current
    for r in records:
        if len(r) > i and r[i] > m:
            m = r[i]
    return m


def bin_slack(max_rate):
    """Steps one ledger bin can hold at `max_rate`: the ledger's 24 h sums span up to one
    bin more than 24 h, so the basal's own steady state reads that much over its daily dose; plus
    a few steps for the phase of the step train at the window's two ends and at each rate change."""
    return (max_rate * BIN_MS + 86400000 - 1) // 86400000 + 3


# ---- the cap of the therapy service `t` ------------------------------------


def check_window(t, p, spm):
    # a new program may not make the basal cross the cap with the boluses still in the window
    now = t.pump.pump_ms()
    c = limits.cap_steps(t.drug, t.soft_daily, peak(t.cap_hist, now, p.daily_steps()), t.conc, spm)
    if used(t, now, p.daily_steps()) > c:
        raise PumpError(
            E_LIMIT,
            "the boluses of the last 24 h plus this program would exceed the 24 h cap; wait or lower it",
        )


def used(t, now, daily):
    """Steps a later 24 h window may hold before anything new: the boluses and assumed steps of
    the window, and the basal at its fullest: the largest daily program of the window, or what
    the basal gave in the last 24 h plus a whole day of `daily`, whichever is smaller."""
    bol = total(t.boluses, now)
    led = t.pump.ledger
    delivered = led.delivered_24h(now)
    assumed = led.counted_24h(now) - delivered
    past = delivered - bol - total(t.excluded, now)
    basal = (past if past > 0 else 0) + daily
    top = peak(t.cap_hist, now, daily)
    return bol + assumed + (top if top < basal else basal)


def cap_steps(t):
    now = t.pump.pump_ms()
    pd = peak(t.cap_hist, now, t.prog.daily_steps() if t.prog else 0)
    return limits.cap_steps(t.drug, t.soft_daily, pd, t.conc, t.pump.steps_per_ml)


def admit(t, steps, what):
    now = t.pump.pump_ms()
    c = t.cap_steps()
    u = used(t, now, t.prog.daily_steps() if t.prog else 0)
    if u + steps > c:
        room = c - u
        spm = t.pump.steps_per_ml
        raise PumpError(
            E_LIMIT,
            "%s would cross the 24 h cap %s (room now %s)"
            % (
                what,
                show(steps_ng(c, t.conc, spm), t.unit),
                show(steps_ng(room if room > 0 else 0, t.conc, spm), t.unit),
            ),
        )


def guard(t, pump):
    now = pump.pump_ms()
    off = pump.wall() - now // 1000
    if t._wall_off is not None and (off - t._wall_off > 1 or t._wall_off - off > 1):
        t._doubt_until = now + WINDOW_MS  # `time set` may repeat a time-of-day step
    t._wall_off = off
    if pump.state == RUNNING and now >= t._doubt_until:
        return  # bolus admission alone keeps every window within the cap
    c = t.cap_steps()
    counted = pump.ledger.counted_24h(now) - total(t.excluded, now)
    # the ledger's oldest bin may hold basal from before the window, at any rate the window ran
    slack = bin_slack(peak(t.cap_hist, now, t.prog.max_rate(), 2))
    if pump.state == RUNNING and counted > c + slack:
        t._cancel_budget("dose_cap")
        pump.stop("dose_cap", state=SUSPENDED)
        t.capped = True
        if pump.alarms is not None:
            pump.alarms.raise_alarm("DOSE_CAP", "24 h count reached the cap; basal held")
    elif pump.state == SUSPENDED and t.capped and counted + slack <= c:
        t.capped = False
        pump.state = STOPPED
        pump.start()
        t._applied = pump.basal
        if pump.alarms is not None:
            pump.alarms.clear("DOSE_CAP")
        pump.event("dose_cap_resume")


def assumed(t, now):
    led = t.pump.ledger
    return led.counted_24h(now) - led.delivered_24h(now)
