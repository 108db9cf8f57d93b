"""Boot: restore the pump from its records into a defined state (SPEC 8).

After any reset the pump resumes what it was doing (running, stopped by a
person, `alarm` with its latched alarms; an unfinished refill is cancelled
and it waits stopped), never resumes a bolus (services decide that in their
`restore`/`after_restore`), counts one checkpoint interval at the highest
programmed rate as delivered against the 24 h cap, restores the clock as
uncertain, and raises UNEXPECTED_RESET unless the last record says the
shutdown was commanded. Unusable records are never half-used: the pump
stays stopped with a MEMORY alarm and the log says why.
"""

import json

from firmware.persist import checkpoint as ck
from firmware.pump import ALARM, REFILL, RUNNING, STOPPED, SUSPENDED
from firmware.safety.alarms import Alarm

DAY_MS = 86400000
BOOT_FILE = "boots"
SAFE_FILE = "safe_mode"
BOOT_LIMIT = 5  # boots in a row without a stable run before safe mode
LATE_MARKS = (b'"budget"', b'_done"', b'_cancelled"')  # the log lines _late_budget reads


class AlarmRecords:
    """Saves the latched alarms while `pump.alarms` has no snapshot of its own."""

    persist_key = "alarms"

    def __init__(self, alarms):
        self._a = alarms

    def snapshot(self):
        items = [[a.id, a.code, a.since, a.detail, a.acked, a.active] for a in self._a.items]
        return {"next": self._a._next, "items": items}

    def restore(self, d):
        items = []
        for i, code, since, detail, acked, active in d["items"]:
            a = Alarm(i, code, since, detail)
            a.acked = acked
            a.active = active
            items.append(a)
        self._a.items = items
        self._a._next = d["next"]

    def service(self, pump):
        pass


def worst_case_steps(rate_per_day, interval_ms):
    """Steps one interval at `rate_per_day` can deliver, rounded up."""
    return (rate_per_day * interval_ms + DAY_MS - 1) // DAY_MS


def restore(pump, cp, log, cause="reset"):
    """Read the records and bring the pump up; returns what was done (for the log and tests)."""
    # the boot's own entries reach flash in one write, before the records: a cut
    # before that leaves the records as they were, so the next boot logs them anew
    hold = getattr(log, "hold", None)
    if hold is not None:
        hold()
    try:
        info = _restore(pump, cp, log, cause)
    finally:
        if hold is not None:
            log.release()
    cp.boot_info = info
    cp.enabled = True
    cp._rx_dirty = True
    cp.save()
    return info


def _restore(pump, cp, log, cause):
    t0 = pump.clock.ticks_ms()
    acct = _load(cp.acct, ck.unpack_acct, log)
    bins = _load(cp.bins, ck.unpack_bins, log)
    got = []
    rx = _load(cp.rx, _json, log, got)
    if rx is not None and got[0][0] == cp.rx.version:
        # the boot's checkpoint rewrites `rx` only if the restore changed it (an
        # unchanged one costs a flash write for nothing: ~60 ms on the Pico)
        cp._rx_text = got[0][1]
    info = {"cause": cause, "fresh": not (cp.acct.found or cp.rx.found or cp.bins.found)}
    if acct is not None:
        acct["ledger"] = ck.ledger_state(acct, bins) if bins is not None else None
        if acct["ledger"] is None:
            log.add("record_unusable", {"slot": "bins", "why": "no 24 h bins matching the accounting"})
            acct = None
    bad = []
    if rx is not None:
        _restore_rx(pump, rx, bad, log)
    elif not info["fresh"]:
        bad.append("prescription record")
    clean = False
    if acct is not None:
        clean = _restore_acct(pump, cp, acct, bad, log, info)
    elif not info["fresh"]:
        bad.append("accounting record")
    info["clean"] = clean
    for s in list(pump.services):
        f = getattr(s, "after_restore", None)
        if f is not None:
            f(pump, info)
    if bad:
        pump.stop("memory", state=STOPPED)
        pump.alarms.raise_alarm("MEMORY", "unusable: " + ", ".join(bad))
    elif not info["fresh"] and not clean:
        pump.alarms.raise_alarm("UNEXPECTED_RESET", cause)
    if pump.clock_uncertain:
        pump.alarms.raise_alarm("CLOCK", "clock restored from the last checkpoint")
    info["ms"] = pump.clock.ticks_diff(pump.clock.ticks_ms(), t0)
    pump.event("reset", **info)
    return info


def _json(payload):
    return json.loads(payload)


def _load(rec, parse, log, raw=None):
    got = rec.load()
    for slot, why in rec.problems:
        log.add("record_unusable", {"slot": slot, "why": why})
    if got is None:
        return None
    if raw is not None:
        raw.append(got)  # (version, payload) as read
    try:
        return parse(got[1])
    except (ValueError, KeyError, TypeError) as e:
        log.add("record_unusable", {"slot": rec.name, "why": "does not parse: %r" % e})
        return None


def _restore_services(pump, cls, saved, bad, log):
    for key, s in ck.persisted(pump, cls):
        if key not in saved:
            continue
        try:
            s.restore(saved[key])
        except Exception as e:  # one service's bad record must not stop the boot
            bad.append(key)
            log.add("record_unusable", {"slot": key, "why": "restore failed: %r" % e})


def _restore_rx(pump, rx, bad, log):
    p = rx.get("pump", {})
    pump.basal = p.get("basal", 0)
    pump.mode = p.get("mode", "none")
    pump.steps_per_ml = p.get("steps_per_ml", pump.steps_per_ml)
    _restore_services(pump, "rx", rx.get("svc", {}), bad, log)


def _restore_acct(pump, cp, a, bad, log, info):
    flags = a["flags"]
    clean = bool(flags & ck.F_CLEAN)
    pump.pump_ms_base = a["pump_ms"] - pump.uptime.ms
    pump.ledger.restore(a["ledger"])
    cp.bins_bin = pump.ledger._bin
    exact = clean and flags & ck.F_CLOCK_OK
    pump.set_wall(a["wall"], uncertain=not exact or bool(flags & ck.F_UNCERTAIN))
    _restore_services(pump, "acct", a["svc"], bad, log)
    late = _late_budget(log, a["svc"].get("log"))
    if late is not None:
        # a bolus (priming, bridge) started after the record: its log entry reached flash,
        # the checkpoint that followed it did not. It was running at the cut, as if recorded
        a["rate"] = max(a["rate"], late.get("rate", 0))
        a["budget"] += late["steps"]
        ex = getattr(pump.therapy, "excluded", None)
        if late["kind"] in ("prime", "calibrate") and ex is not None:
            # not given to the patient: off the 24 h cap from its start, as a recorded one is
            ex.append([a["pump_ms"], late["steps"]])
    if not clean:
        # power was on for up to one interval after the record: count the worst
        rate = max(a["rate"], a["basal"], pump.basal)
        f = getattr(pump.therapy, "worst_case_rate", None)
        if f is not None:
            rate = max(rate, f())
        steps = worst_case_steps(rate, cp.interval_ms)
        if a["budget"]:
            # a step budget (priming at the engine's top speed, a bolus) ends when it is spent:
            # no more than what it had left, then the basal for the rest of the interval. A
            # priming's left-over is already in the therapy's excluded records (the whole budget
            # is, from its start), so it is counted here but not against the cap
            f = getattr(pump.therapy, "worst_case_basal_rate", None)
            base = max(a["basal"], pump.basal, f() if f is not None else 0)
            bounded = a["budget"] + worst_case_steps(base, cp.interval_ms)
            steps = bounded if bounded < steps else steps
        pump.ledger.assume(steps, pump.pump_ms())
        info["assumed_steps"] = steps
    if a["budget"] or a["rate"] > a["basal"]:
        # a bolus (or priming, bridge) was running: it is never resumed nor repeated
        log.add(
            "bolus_not_resumed",
            {
                "rate_steps_day": a["rate"],
                "basal_steps_day": a["basal"],
                "steps_left": a["budget"],
                "after_checkpoint": late is not None,
            },
        )
        info["bolus_dropped"] = True
    st = a["state"]
    info["was"] = st
    if bad:
        return clean
    if st == REFILL:
        info["refill_cancelled"] = True
    elif st == ALARM or pump.alarms.stopping_unacked():
        pump.engine.stop()
        pump.state = ALARM
    elif st in (RUNNING, SUSPENDED) and pump.mode != "none":
        pump.start()
    return clean


def _late_budget(log, saved):
    """The fields of a step budget started after the checkpoint and not ended before the cut, or None."""
    since = getattr(log, "since", None)
    if saved is None or since is None:
        return None  # a record from before the log's numbering was checkpointed
    late = None
    for e in since(saved.get("seq", 0), LATE_MARKS):
        name, f = e[3], e[4]
        if not isinstance(f, dict):
            continue
        if f.get("budget") is True and isinstance(f.get("steps"), int):
            late = (name, f)
        elif late is not None and name in (late[0] + "_done", late[0] + "_cancelled"):
            late = None
    if late is None:
        return None
    out = dict(late[1])
    out["kind"] = late[0]
    return out


# ---- boot-loop counter and safe mode (before the application runs) -----------


def boot_count(fs):
    raw = fs.read(BOOT_FILE)
    try:
        return int(raw) if raw else 0
    except ValueError:
        return 0  # a torn write: count afresh rather than trap the board


def note_boot(fs):
    n = boot_count(fs) + 1
    fs.write(BOOT_FILE, b"%d" % n)
    return n


def boot_ok(fs):
    """The application ran stably: crashes before this count towards safe mode."""
    if boot_count(fs):
        fs.write(BOOT_FILE, b"0")


def safe_mode_reason(fs, pin_low=False, limit=BOOT_LIMIT):
    """Why the application must be skipped at this boot, or None.

    The flag file stays until someone removes it (mpremote rm :data/safe_mode),
    so a board that fell into safe mode after a boot loop stays there.
    """
    if pin_low:
        return "safe-mode pin held low"
    if fs.exists(SAFE_FILE):
        return "flag file " + SAFE_FILE
    n = note_boot(fs)
    if n >= limit:
        fs.write(SAFE_FILE, b"boot loop: %d boots without a stable run\n" % n)
        fs.write(BOOT_FILE, b"0")
        return "boot loop (%d boots)" % n
    return None
