"""The rolling 24 h cap: what may still be delivered, from the pump's own ledger.

The ledger counts net steps in 10-minute bins of pump time (`time set` does
not move them) plus steps assumed after a reset. Boluses are admitted only
if every later 24 h window stays within the cap with the basal at its fullest
(the largest daily figure of any program confirmed in the window), so the
basal alone never has to be held, except after a reset's assumed steps.
"""

from firmware.ledger import BIN_MS

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
