"""The host-side trend record: per-minute samples kept beyond what the pump holds.

The pump keeps a ring of trend samples (firmware/trend.py); `pumpctl trend`,
`plot` and `report` append every sample they fetch to a CSV (by default
`trend.csv` in the --state folder, else the file given with --record), one
row per minute, so a plot or report can span longer than the ring. Rows
already held (same minute) are not written again. Columns: the trend
fields, `alarms` as the integer bitmask; the header names them.
"""

import csv
import os


def load(path):
    """{minute: row} from the record (empty when there is none)."""
    out = {}
    if not path or not os.path.exists(path):
        return out
    with open(path, newline="") as f:
        rows = csv.reader(f)
        head = next(rows, None)
        if not head:
            return out
        for r in rows:
            vals = [None if c == "" else int(c) for c in r]
            out[vals[0]] = vals
    return out


def write_csv(path, samples, fields):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(fields)
        for s in samples:
            w.writerow(["" if v is None else v for v in s])


def append(path, samples, fields):
    """Add the samples not yet in the record; returns how many were added."""
    have = load(path)
    new = [s for s in samples if s[0] not in have]
    if not new:
        return 0
    fresh = not os.path.exists(path)
    with open(path, "a", newline="") as f:
        w = csv.writer(f)
        if fresh:
            w.writerow(fields)
        for s in sorted(new):
            w.writerow(["" if v is None else v for v in s])
    return len(new)


def merged(path, samples):
    """The record's samples and the pump's, one per minute (the pump's win), oldest first."""
    rows = load(path)
    for s in samples:
        rows[s[0]] = list(s)
    return [rows[k] for k in sorted(rows)]


def default_path(args):
    if getattr(args, "record", None):
        return args.record
    if getattr(args, "state", None):
        return os.path.join(args.state, "trend.csv")
    return None
