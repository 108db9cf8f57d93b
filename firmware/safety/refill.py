"""The refill workflow (SPEC 5): begin, withdrawn, add, confirm or cancel.

Imported at the first `refill` command, not at boot. It stages the withdrawn and added volumes on
`reservoir.refill` and changes nothing else until `confirm`, which hands the new fill to the
reservoir (`Reservoir.refilled`) and the concentration to the therapy.
"""

from firmware.errors import E_CONFIRM, E_RANGE, E_STATE, PumpError
from firmware.jsonout import Dec
from firmware.pump import ALARM, REFILL, RUNNING, STOPPED, SUSPENDED
from firmware.safety.reservoir import NL_PER_ML, capacity_nl

# a withdrawn volume further than this from the tracked one asks for `confirm` (issue 16): the
# larger of 0.5 mL and 10 % of the tracked volume, about what the sensor and a syringe read to
WITHDRAWN_FLOOR_NL = 500000
WITHDRAWN_PCT = 10


def _changed(therapy, conc):
    """Does the refill's concentration differ from the prescription's (ng/mL)?"""
    cur = getattr(therapy, "conc", None)
    new = conc[0] if isinstance(conc, tuple) else conc
    return cur != new


def staged(res):
    if res.refill is None:
        raise PumpError(E_STATE, "no refill open; refill begin first")
    return res.refill


def begin(pump):
    p = pump
    res = pump.reservoir
    if res.refill is not None:
        raise PumpError(E_STATE, "refill already open")
    res.refill = {"prev": p.state, "withdrawn": None, "added": None, "conc": None}
    p.stop("refill_begin", state=REFILL)
    return res.refill


def withdrawn_margin_nl(tracked_nl):
    m = tracked_nl * WITHDRAWN_PCT // 100
    return m if m > WITHDRAWN_FLOOR_NL else WITHDRAWN_FLOOR_NL


def withdrawn(pump, nl, confirm=False):
    """Stage the withdrawn volume; returns (difference from tracked or None, a discrepancy?).

    Beyond the margin it is E_CONFIRM (nothing staged) unless `confirm`: a reservoir that
    gives back more or less than the pump counted may mean drug went into the pocket, or a leak.
    """
    res = pump.reservoir
    r = staged(res)
    v = res.volume_nl()
    if nl > capacity_nl(pump):
        raise PumpError(E_RANGE, "withdrawn volume above the reservoir capacity")
    diff = None if v is None else nl - v
    off = 0 if diff is None else diff if diff > 0 else -diff
    margin = 0 if v is None else withdrawn_margin_nl(v)
    odd = v is not None and off > margin
    if odd and not confirm:
        raise PumpError(
            E_CONFIRM,
            "withdrawn %s mL differs from the %s mL the pump tracked by %s mL, more than %s mL "
            "(the larger of 0.5 mL and 10 %%): check for drug in the pocket or a leak; "
            "refill withdrawn %s confirm to accept" % (_ml(nl), _ml(v), _ml(off), _ml(margin), _ml(nl)),
        )
    r["withdrawn"] = nl
    pump.event("refill_withdrawn", withdrawn_nl=nl, tracked_nl=v, confirmed=odd)
    if odd:
        # an event, not a lasting condition: raised and cleared at once, it stays listed
        # (and sounds, medium) until someone acknowledges it
        pump.alarms.raise_alarm("REFILL_DISCREPANCY", "withdrawn %s mL, tracked %s mL" % (_ml(nl), _ml(v)))
        pump.alarms.clear("REFILL_DISCREPANCY")
    return diff, odd


def add(pump, nl, conc, confirm=False):
    res = pump.reservoir
    r = staged(res)
    cap = capacity_nl(pump)
    if nl <= 0:
        raise PumpError(E_RANGE, "added volume must be above 0")
    if _base_nl(res, r) + nl > cap:
        raise PumpError(E_RANGE, "reservoir would hold more than its %d mL" % (cap // NL_PER_ML))
    t = pump.therapy
    if conc is not None and t is not None:
        f = getattr(t, "check_concentration", None)
        if f is not None:
            # a drug limit, a slip or no prescription refuses it here, before anything changes
            f(conc, confirm)
    r["added"] = nl
    r["conc"] = conc
    f = getattr(t, "stage_conc", None)
    if conc is not None and f is not None:
        f(conc[0] if isinstance(conc, tuple) else conc)
    pump.event("refill_add", added_nl=nl)
    return _base_nl(res, r) + nl


def _base_nl(res, r):
    v = res.volume_nl() or 0
    if r["withdrawn"] is not None:
        v -= r["withdrawn"]
    return v if v > 0 else 0


def confirm(pump, bridge=True):
    p = pump
    res = pump.reservoir
    r = staged(res)
    if r["added"] is None:
        raise PumpError(E_STATE, "nothing added yet; refill add ML first")
    left = _base_nl(res, r)
    new = left + r["added"]
    res.refill = None
    res.refilled(new, added_nl=r["added"], withdrawn_nl=r["withdrawn"], bridge=bridge)
    _resume(p, r["prev"])
    conc = r["conc"]
    t = p.therapy
    f = getattr(t, "refilled", None)
    if f is not None:
        f(left, r["added"], (conc[0] if isinstance(conc, tuple) else conc) if conc is not None else None)
    if conc is not None and t is not None and _changed(t, conc):
        if not bridge:
            p.event("bridge_cancelled", why="nobridge")
        t.concentration_changed(conc, bridge)
    return new


def cancel(pump):
    p = pump
    res = pump.reservoir
    r = staged(res)
    res.refill = None
    pump.event("refill_cancel")
    _resume(p, r["prev"])


def _resume(p, prev):
    if p.alarms.stopping_unacked():
        # a stopping alarm raised before or during the refill holds: only
        # `ack` then `start` resumes (SPEC 7), never the refill's end
        p.engine.stop()
        p.state = ALARM
        return
    if prev in (RUNNING, SUSPENDED) and p.mode != "none":
        if prev == RUNNING:
            p.state = STOPPED
            p.start()
        else:
            p.state = prev
        return
    if prev == ALARM and p.alarms.stopping_unacked():
        p.state = ALARM
        return
    p.state = STOPPED


def _ml(nl):
    return str(Dec((nl + 50) // 100, 4))
