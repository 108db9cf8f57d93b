"""Run on the MicroPython unix port by tools/bench: the firmware's memory budget.

Boots the simulator (the firmware as a board builds it) inside a bounded
heap (`micropython -X heapsize=...`), then runs a simulated week of
continuous delivery in hourly slices with shell traffic between them, and
prints one JSON line: free heap after boot, the lowest free heap after a
collection (live data) and the lowest seen before one (live data plus
garbage), and the trend buffer's RAM.
"""

import gc
import json
import sys

from firmware import isotime
from tools.sim import simrun

TRAFFIC = (b"status", b"trend 0", b"log 20", b"alarms", b"help", b"sensors", b"rx")


def main(days, rate):
    gc.collect()
    base_alloc = gc.mem_alloc()
    opts = {"state": None, "start": isotime.parse("2026-01-01T00:00:00"), "seed": 1, "rate": rate, "tty": "0"}
    sim = simrun.Simulator(opts)
    sim.shell.json = True
    gc.collect()
    heap_total = gc.mem_free() + gc.mem_alloc()
    free_after_boot = gc.mem_free()
    alloc_boot = gc.mem_alloc() - base_alloc
    t = sim.pump.trend
    low_live = free_after_boot
    low_any = low_live
    error = None
    try:
        for _ in range(days * 24):
            sim.run_ms(3600000)
            low_any = min(low_any, gc.mem_free())
            for line in TRAFFIC:
                sim.shell.handle(line)
                low_any = min(low_any, gc.mem_free())
            gc.collect()
            low_live = min(low_live, gc.mem_free())
    except MemoryError as e:
        error = "MemoryError: %s" % e
    out = {
        "heap_total": heap_total,
        "free_after_boot": free_after_boot,
        "used_after_boot": heap_total - free_after_boot,
        "highest_used_live": heap_total - low_live,
        "firmware_alloc_after_boot": alloc_boot,
        "trend_bytes": t.nbytes() if t is not None else None,
        "trend_capacity_samples": t.capacity if t is not None else None,
        "days": days,
        "lowest_free_live": low_live,
        "lowest_free_any": low_any,
        "delivered_total_steps": sim.pump.ledger.total_steps,
        "error": error,
    }
    print(json.dumps(out))


main(int(sys.argv[1]) if len(sys.argv) > 1 else 7, sys.argv[2] if len(sys.argv) > 2 else "1")
