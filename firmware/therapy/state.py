"""The therapy's saved state (plain dicts for the persistence records).

`snapshot`/`restore`: the prescription, saved when it changes (record class "rx"). `Acct`: the
accounting the cap needs (boluses, patient boluses, priming, programs still in the window, a trial
in progress), saved with every checkpoint (record class "acct"). Times are pump ms.
"""

from firmware.therapy import cap, druglib_module
from firmware.therapy.program import build

DAY_MS = 86400000


def snapshot(t):
    return {
        "v": 1,
        "drug": t.drug.name if t.drug else "",
        "conc": t.conc,
        "unit": t.unit,
        "soft": [t.soft_daily, t.soft_bolus],
        "catheter_nl": t.catheter_nl,
        "capacity_nl": t.capacity_nl,
        "patient": t.patient,
        "by": t.changed_by,
        "at": t.changed_at,
        "spm": t.pump.steps_per_ml,
        "ptm": [t.ptm_dose, t.ptm_lockout, t.ptm_max, t.ptm_over],
        "prog": list(t.prog.words) if t.prog else [],
        # with the concentration, in the same record: the cap never sees one without the other
        "conc_hist": [list(x) for x in t.conc_hist],
        "suspect": t.suspect_conc,
    }


def restore(t, d):
    drug = druglib_module().load(d["drug"]) if d.get("drug") else None
    prog = build(d["prog"], d["conc"], d["spm"]) if d["prog"] and drug else None
    t.drug = drug
    t.conc, t.unit = d["conc"], d["unit"]
    t.soft_daily, t.soft_bolus = d["soft"]
    t.catheter_nl, t.patient = d["catheter_nl"], d["patient"]
    t.capacity_nl = d.get("capacity_nl", t.capacity_nl)
    t.changed_by, t.changed_at = d["by"], d["at"]
    t.pump.steps_per_ml = d["spm"]
    t.ptm_dose, t.ptm_lockout, t.ptm_max, t.ptm_over = d["ptm"]
    t.prog = prog
    t.conc_hist = [list(x) for x in d.get("conc_hist", [])]
    t.suspect_conc = d.get("suspect", 0)
    t._applied = -1
    t.kind = ""
    t.pump.mode = prog.name() if prog else "none"
    t.pump.basal = t._scheduled() if prog else 0


class Acct:
    """The therapy's accounting, saved with every checkpoint: boluses, patient boluses,
    priming, programs of the last 24 h (for the cap), a trial in progress. Times are pump ms."""

    persist_key = "therapy_acct"
    persist_class = "acct"

    def __init__(self, therapy):
        self._t = therapy

    def service(self, pump):
        pass

    def snapshot(self):
        t = self._t
        now = t.pump.pump_ms()
        for r in (t.boluses, t.excluded, t.cap_hist):
            cap.prune(r, now)
        t.ptm_times = [x for x in t.ptm_times if now - x < DAY_MS]
        return {
            "ptm": list(t.ptm_times),
            "boluses": [list(b) for b in t.boluses],
            "excluded": [list(b) for b in t.excluded],
            "cap": [list(b) for b in t.cap_hist],
            "trial": list(t._trial) if t._trial else [],
            "capped": 1 if t.capped else 0,
            "doubt": t._doubt_until,
            "bridge": _bridge(t),
            "primed": t.primed_nl,
            "demand": t.ptm_demand + [t.ptm_since],
        }

    def restore(self, d):
        t = self._t
        t.ptm_times = list(d["ptm"])
        t.boluses = [list(b) for b in d["boluses"]]
        t.excluded = [list(b) for b in d["excluded"]]
        t.cap_hist = [list(b) for b in d["cap"]]
        t._trial = list(d["trial"]) if d["trial"] and t.prog is not None else None
        t.capped = bool(d["capped"])
        t._doubt_until = d.get("doubt", 0)
        b = d.get("bridge") or []
        t._saved_bridge = list(b) if b else None
        t.primed_nl = d.get("primed", 0)
        dm = d.get("demand") or [0, 0, 0, 0, 0]
        t.ptm_demand = list(dm[:4])
        t.ptm_since = dm[4]


def _bridge(t):
    # [old rate, steps left, old ng/mL] of a bridge running or waiting, else []
    b = t._bridge_left()
    if b is None or not b[0]:
        return []
    rate = t.kind_info.get("rate", 0) if t.kind == "bridge" else t._bridge[0]
    return [rate, b[0], b[1]]
