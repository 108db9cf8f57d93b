"""The pump's `log` reply as CSV rows: time and event first, every other field after."""

import csv
import json


def entries(reply):
    """The list of log entries in a `log` reply, whatever key holds it."""
    for key in ("entries", "log", "events"):
        if isinstance(reply.get(key), list):
            return reply[key]
    for v in reply.values():
        if isinstance(v, list):
            return v
    return []


def write(path, rows):
    first = ["seq", "time", "event"]
    keys = []
    for r in rows:
        if isinstance(r, dict):
            for k in r:
                if k not in keys:
                    keys.append(k)
    cols = [k for k in first if k in keys] + sorted(k for k in keys if k not in first)
    if not cols:
        cols = ["entry"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            if not isinstance(r, dict):
                r = {"entry": r}
            w.writerow([_cell(r.get(k)) for k in cols])


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return v
