"""Log capacity for `make bench` (issue 16 item 6): the log filled through the simulator.

Two figures, each on a fresh simulated pump (the firmware in-process, its flash in RAM,
the ring sizes of firmware/persist/__init__.py, the Pico's):

- `typical_days_held`: days of typical use the log holds whole. A typical day: the
  patient presses for a bolus 6 times (one inside the lockout, refused), and once a
  week a clinician logs in, reads `status` and the log, changes the program and logs
  out; every 30 days a refill visit (and a fresh cell for the sim's battery). A day counts if
  every entry of it is readable; equal to `days_run`, the log had not yet turned.
- `protected_entries_held`: alarm and therapy entries kept, filled through the shell
  (refused boluses, program changes, alarms raised and acknowledged) until the
  protected ring has turned twice, then 5,000 routine entries (logins, logouts): the
  least readable after the turn, and whether the routine flood removed any.

Also the flash the log takes against the littlefs of the ROMFS build (1152 KB).
"""

import json
import sys

from tools.bench.persist import _paths

DAY_MS = 86400000
LITTLEFS_BYTES = 1152 * 1024


def _world():
    _paths()
    from persistkit import World  # pyright: ignore[reportMissingImports]

    from firmware.persist.flashfs import MemFs

    w = World(MemFs())
    for line in (
        "login clinician 1234",
        "rx drug morphine 10mg/mL",
        "program continuous 2mg",
        "program confirm",
        "ptm set dose=0.1mg lockout=2h max=6",
        "start",
        "logout",
    ):
        w.cmd(line)
    return w


def _day(w, day):
    ms = 0
    for at_h in (8, 11, 12, 15, 19, 22):  # 12:00 falls inside 11:00's 2 h lockout
        w.run(at_h * 3600000 - ms)
        ms = at_h * 3600000
        w.cmd("ptm")
    if day % 7 == 6:
        for line in ("login clinician 1234", "status", "log 20"):
            w.cmd(line)
        w.cmd("program continuous %dmg" % (2 + day // 7 % 2))
        w.cmd("program confirm")
        w.cmd("logout")
    if day % 30 == 29:
        _refill(w)
    w.run(DAY_MS - ms)


def _refill(w):
    # the monthly visit: reservoir drawn and filled (the sim's syringe too), the cell changed
    w.cmd("login clinician 1234")
    w.cmd("sim battery 4.1")
    w.cmd("refill begin")
    ml = json.loads(w.cmd("json on") and w.cmd("status"))["reservoir_ml"]
    for line in ("refill withdrawn %s" % ml, "sim withdraw %s" % ml, "refill add 18", "sim refill 18"):
        w.cmd(line)
    w.cmd("refill confirm")
    w.cmd("json off")
    w.cmd("logout")


def _complete_days(log, starts):
    have = set(e[0] for e, _ in log.last(1 << 30))
    held = 0
    for d in range(len(starts) - 1, 0, -1):
        if all(s in have for s in range(starts[d - 1], starts[d])):
            held += 1
        else:
            break
    return held


def _turned(ring):
    return ring.used() > (ring.segments - 1) * ring.segment_bytes


def typical(days):
    w = _world()
    log = w.pump.log
    starts = [log.seq]
    per_day = []
    for d in range(days):
        _day(w, d)
        starts.append(log.seq)
        per_day.append(starts[-1] - starts[-2])
    es = log.last(1 << 30)
    prot = [e for e, s in es if s == "protected"]
    rout = [e for e, s in es if s == "routine"]
    return {
        "days_run": days,
        "typical_days_held": _complete_days(log, starts),  # equal to days_run: not reached yet
        "entries_per_day": round(sum(per_day) / len(per_day), 1),
        "routine_entries_held": len(rout),
        "protected_entries_held": len(prot),
        "protected_ring_turned": _turned(log.protected),
        "routine_ring_turned": _turned(log.routine),
    }


def protected(quick=False):
    w = _world()
    log = w.pump.log
    ring = log.protected
    cap = ring.segments * ring.segment_bytes
    w.cmd("login clinician 1234")
    least = None
    bytes_written = 0
    i = 0
    while bytes_written < (1 if quick else 2) * cap:
        k = i % 4
        if k == 0:
            w.cmd("bolus 20mg")  # over the hard limit: refused, logged
        elif k == 1:
            w.cmd("program continuous %dmg" % (2 + i % 3))
            w.cmd("program confirm")
        elif k == 2:
            w.pump.alarms.raise_alarm("SENSOR_FAULT", "bench fill %d" % i)
        else:
            w.cmd("ack")
            w.cmd("login clinician 1234")
        i += 1
        if i % 50 == 0:
            kept = [e for e, s in log.last(1 << 30) if s == "protected"]
            if _turned(ring) and kept[0][0] > 0:
                least = len(kept) if least is None else min(least, len(kept))
        bytes_written = _written(ring)
    kept = [e for e, s in log.last(1 << 30) if s == "protected"]
    before = [e[0] for e in kept]
    for _ in range(2500):
        w.cmd("logout")
        w.cmd("login clinician 1234")
    after = [e[0] for e, s in log.last(1 << 30) if s == "protected"]
    sizes = [len(json.dumps(e)) + 10 for e in kept]
    return {
        "protected_entries_held": least if least is not None else len(kept),
        "protected_entries_now": len(kept),
        "mean_line_bytes": round(sum(sizes) / len(sizes)),
        "ring_bytes": cap,
        "routine_flood_entries": 5000,
        "protected_removed_by_routine_flood": len([s for s in before if s not in set(after)]),
    }


_total = {}


def _written(ring):
    # bytes appended to the protected ring so far: its used bytes plus every segment it dropped
    t = _total.setdefault(id(ring), [0, ring._cur, ring._size])
    if ring._cur != t[1]:
        t[0] += t[2]
        t[1] = ring._cur
    t[2] = ring._size
    return t[0] + ring._size


def measure(quick=False):
    from firmware import persist

    log_bytes = (
        persist.LOG_SEGMENTS * persist.LOG_SEGMENT_BYTES
        + persist.ROUTINE_SEGMENTS * persist.ROUTINE_SEGMENT_BYTES
        + 4 * 4096  # the read-only ring of an upgraded pump
    )
    return {
        "typical_use": typical(10 if quick else 200),  # past the turn of both rings
        "alarm_therapy_fill": protected(quick),
        "log_flash_bytes_at_most": log_bytes,
        "littlefs_bytes": LITTLEFS_BYTES,
        "log_flash_fraction": round(log_bytes / LITTLEFS_BYTES, 3),
        "targets": {"protected_entries": 1000, "typical_days": 30},
    }


if __name__ == "__main__":
    print(json.dumps(measure("--quick" in sys.argv), indent=1))
