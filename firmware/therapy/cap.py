"""The rolling 24 h cap: what may still be delivered, from the pump's own ledger.

The ledger counts net steps in 10-minute bins of pump time (`time set` does
not move them) plus steps assumed after a reset. Boluses are admitted only
if every later 24 h window stays within the cap with the basal at its fullest
(the largest daily figure of any program confirmed in the window), so the
basal alone never has to be held, except after a reset's assumed steps.

Steps are worth dose only at a concentration: after a change (`t.conc_hist`, kept with the
prescription so it is on flash together with the new concentration) every count from before it
is valued at the concentration it was given at, in steps of the current one, rounded up (a ledger
bin or a record on the change's own millisecond at the higher of the two): the cap holds dose.
"""

from firmware.errors import E_LIMIT, PumpError
from firmware.ledger import BIN_MS, NBINS
from firmware.therapy import limits_module
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


def peak(records, now_ms, current, i=1, t=None):
    """The largest field `i` of the records still in the window, and `current` (with the therapy
    `t`: each in steps of the current concentration)."""
    prune(records, now_ms)
    m = current
    for r in records:
        if len(r) > i:
            v = r[i] if t is None else now_steps(t, r[i], r[0], r[0])
            if v > m:
                m = v
    return m


# ---- counts from before a concentration change ------------------------------


def prune_conc(t, now_ms):
    # a change older than every bin and record still read values nothing any more
    h = t.conc_hist
    while h and now_ms - h[0][0] >= WINDOW_MS + BIN_MS:
        h.pop(0)


def conc_span(t, a, b):
    """(lowest, highest) concentration in force at any pump ms in [a, b], both ends included."""
    lo = hi = 0
    prev = None
    for x, c in t.conc_hist:  # [ms of the change, concentration before it], oldest first
        if (prev is None or b >= prev) and a <= x:
            lo = c if lo == 0 or c < lo else lo
            hi = c if c > hi else hi
        prev = x
    if prev is None or b >= prev:
        lo = t.conc if lo == 0 or t.conc < lo else lo
        hi = t.conc if t.conc > hi else hi
    return lo, hi


def now_steps(t, steps, a, b, low=False):
    """`steps` given in [a, b], in steps of the current concentration: valued at the highest
    concentration of the span, rounded up (`low`: the lowest, rounded down, for counts the cap
    subtracts); a negative count (back-off) at the lowest, rounded up."""
    if not t.conc_hist or steps == 0 or not t.conc:
        return steps
    lo, hi = conc_span(t, a, b)
    c = lo if low or steps < 0 else hi
    if low:
        return steps * c // t.conc
    return -((-steps * c) // t.conc)


def rec_total(t, records, now_ms, low=False):
    """Sum of [pump_ms, steps] records still in the window, in steps of the current concentration."""
    prune(records, now_ms)
    s = 0
    for r in records:
        s += now_steps(t, r[1], r[0], r[0], low)
    return s


def ledger_24h(t, now_ms):
    """(delivered, assumed) of the ledger's 24 h window, in steps of the current concentration."""
    led = t.pump.ledger
    d = led.delivered_24h(now_ms)
    a = led.counted_24h(now_ms) - d
    prune_conc(t, now_ms)
    if not t.conc_hist:
        return d, a
    d = a = 0
    b = led._bin
    for k in range(b - NBINS + 1, b + 1):
        i = k % NBINS
        a0, a1 = k * BIN_MS, (k + 1) * BIN_MS - 1
        d += now_steps(t, led._bins[i], a0, a1)
        a += now_steps(t, led._assumed[i], a0, a1)
    return d, a


def bin_slack(max_rate):
    """Steps one ledger bin can hold at `max_rate`: the ledger's 24 h sums span up to one
    bin more than 24 h, so the basal's own steady state reads that much over its daily dose; plus
    a few steps for the phase of the step train at the window's two ends and at each rate change."""
    return (max_rate * BIN_MS + 86400000 - 1) // 86400000 + 3


# ---- the cap of the therapy service `t` ------------------------------------


def check_window(t, p, spm):
    # a new program may not make the basal cross the cap with the boluses still in the window
    now = t.pump.pump_ms()
    c = limits_module().cap_steps(
        t.drug, t.soft_daily, peak(t.cap_hist, now, p.daily_steps(), 1, t), t.conc, spm
    )
    if used(t, now, p.daily_steps()) > c:
        raise PumpError(
            E_LIMIT,
            "the boluses of the last 24 h plus this program would exceed the 24 h cap; wait or lower it",
        )


def used(t, now, daily):
    """Steps a later 24 h window may hold before anything new: the boluses and assumed steps of
    the window, and the basal at its fullest: the largest daily program of the window, or what
    the basal gave in the last 24 h plus a whole day of `daily`, whichever is smaller."""
    bol = rec_total(t, t.boluses, now)
    delivered, assumed = ledger_24h(t, now)
    past = delivered - bol - rec_total(t, t.excluded, now, True)
    basal = (past if past > 0 else 0) + daily
    top = peak(t.cap_hist, now, daily, 1, t)
    return bol + assumed + (top if top < basal else basal)


def cap_steps(t):
    now = t.pump.pump_ms()
    pd = peak(t.cap_hist, now, t.prog.daily_steps() if t.prog else 0, 1, t)
    return limits_module().cap_steps(t.drug, t.soft_daily, pd, t.conc, t.pump.steps_per_ml)


def admit(t, steps, what):
    governed(t, steps, what)
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


def governed(t, steps, what):
    """Refuse up front what the dose governor would hold part-way: the drug already out of the tip
    in the last 24 h (plug flow, every kind of step) leaves less room than `steps`."""
    g = t.pump.governor
    if g is None:
        return
    room = g.room_steps()
    if steps > room:
        spm = t.pump.steps_per_ml
        raise PumpError(
            E_LIMIT,
            "%s would cross the 24 h limit (room now %s)" % (what, show(steps_ng(room, t.conc, spm), t.unit)),
        )


def assumed(t, now):
    return ledger_24h(t, now)[1]
