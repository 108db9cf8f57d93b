"""Power cuts aimed at flash writes on the emulated Pico: the larger sweep for `make bench`.

`measure()` is called by tools/bench. It starts its own emulator, deploys
with tools/deploy, programs the pump (morphine, 10 mg/day, running) and
runs `CUTS` aimed cuts (tools/emu/board_cuts.py), a bolus and a rate change in
turn, their offsets spread over each command's write window. It reports how
many cuts were tried, how many landed after a sector erase or a page program
(the write unfinished), before the first write or after the reply, how many
restarts failed a check (and the first few failures), the worst accounting
loss against the STEP edges the board made, and its documented bound.
The board suite (host_tests/board) runs a 3-cut version of the same sweep.
"""

import json
import sys
import tempfile
import time

from tools import deploy
from tools.emu import board_cuts, rp2emu

CUTS = 12  # ~20 s of wall time each on this emulator (a boot is ~2.4 s emulated, ~11 s wall)


def measure(quick=False, cuts=None):
    n = cuts if cuts is not None else (2 if quick else CUTS)
    t = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench_cuts_") as work:
        with rp2emu.Emulator(work) as emu:
            deploy.deploy(emu.repl_url, quiet=True)
            _, con = emu.power_on_to_status()
            con.ok("json on")
            con.ok("login clinician 1234")
            board_cuts.setup(con)
            con, figs, fails = board_cuts.sweep(emu, con, board_cuts.plan(n))
            con.close()
    res: dict[str, object] = dict(board_cuts.summary(figs, fails))
    res["first_failures"] = fails[:5]
    res["cuts_detail"] = [
        "%s aimed %d us landed %d us %s (erased %d B, programmed %d B) loss %d"
        % (f["kind"], a[1], f["landed_us"], f["landed"], f["erased"], f["programmed"], f["loss_steps"])
        for f, a in zip(figs, board_cuts.plan(n))
    ]
    res["wall_s"] = round(time.monotonic() - t, 1)
    return res


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else None
    json.dump(measure(cuts=n), sys.stdout, indent=1)
    print()
