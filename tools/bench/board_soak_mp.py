"""Run on the MicroPython unix port by tools/bench/board_soak.py: the soak on the simulator.

The emulated Pico runs a delivering pump at 0.05-0.2x real time, so its hour
is hours of wall time; the same firmware on the `sim` board (virtual time)
runs the same schedule in seconds, in a bounded heap. Not the Pico's heap
(the unix port's objects are 64-bit), but the same allocations over time:
a leak or a fragmenting pattern shows here too. Each simulated minute: a
collection, then the free heap and the largest block a `bytearray` can take
(found by bisection, freed at once), printed as a line `S MINUTE FREE
BLOCK`; at the end one JSON line.

    micropython -X heapsize=512K tools/bench/board_soak_mp.py MINUTES STATE_DIR
"""

import gc
import json
import sys

from firmware import isotime
from firmware.persist.flashfs import Fs
from tools.sim import simrun

SETUP = (
    b"json on",
    b"login clinician 1234",
    b"rx drug morphine 2mg/mL",  # 5 mL/day: the 20 mL reservoir lasts four days ("e": 0.2mg/mL)
    b"program continuous 10mg",
    b"program confirm",
    b"ptm set dose=0.01mg lockout=10m max=8 over=1m",
    b"start",
)
BOLUS = b"bolus 0.01mg over=1m"  # as the emulated soak (tools/bench/board.py)


def largest_block():
    lo, hi = 0, gc.mem_free()
    while hi - lo > 16:
        mid = (lo + hi) // 2
        try:
            b = bytearray(mid)
            del b
            lo = mid
        except MemoryError:
            hi = mid
    return lo


def main(minutes, state, what="bp"):
    """`what`: "b" a clinician bolus (after a login) every 10 minutes, "l" a login alone,
    "p" the patient button every 15 minutes, "e" a tenth of the concentration, so the
    reservoir empties after ~9.6 h and the boluses after it are refused (letters combine;
    "" delivery only)."""
    # the pump's flash in a host directory through the boards' own Fs: with the simulator's
    # files in RAM (MemFs, StateFs) the log's growth would count as the firmware's heap
    opts = {"state": None, "fs": Fs(state), "start": isotime.parse("2026-01-01T00:00:00"), "seed": 1}
    opts["tty"] = "0"
    sim = simrun.Simulator(opts)
    refused = []
    for line in SETUP:
        if "e" in what and line.startswith(b"rx drug"):
            line = b"rx drug morphine 0.2mg/mL"
        r = sim.shell.handle(line)
        if not sim.shell.last_ok:
            refused.append([-1, line.decode(), r])
    boluses = presses = n_refused = 0
    for minute in range(minutes):
        if minute % 10 == 5 and "l" in what:
            sim.shell.handle(b"login clinician 1234")
        if minute % 10 == 5 and "b" in what:
            sim.shell.handle(b"login clinician 1234")  # the last session has timed out
            r = sim.shell.handle(BOLUS)
            boluses += 1
            if not sim.shell.last_ok:
                n_refused += 1
                if len(refused) < 3:  # a few kept: a growing list would be a downward trend of its own
                    refused.append([minute, BOLUS.decode(), r])
        if minute % 15 == 7 and "p" in what:
            sim.shell.handle(b"sim button")
            presses += 1
        sim.run_ms(60000)
        gc.collect()
        free = gc.mem_free()
        # printed, not kept: a growing list of samples would be a downward trend of its own
        print("S", minute, free, largest_block())
    st = json.loads(sim.shell.handle(b"status"))
    print(
        json.dumps(
            {
                "clinician_boluses": boluses,
                "button_presses": presses,
                "refused": refused,
                "refused_count": n_refused,
                "state_at_end": st.get("state"),
                "ptm_24h": st.get("ptm_24h"),
                "delivered_total_steps": st.get("delivered_total_steps"),
            }
        )
    )


main(int(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "bp")
