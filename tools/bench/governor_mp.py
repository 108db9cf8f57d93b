"""Run on the MicroPython unix port by tools/bench/governor.py: the dose governor's cost per
main-loop pass.

A pump built as a board builds it (`app.build` on the sim board), morphine 10 mg/mL on a
1 mL catheter, a 15 mg/day program running (the window full: the allowance is worked out at the
limit on every pass), a refill's worth of old drug in the line. Each pass advances the engine by
one 10 ms main-loop interval in closed form and times `governor.service` alone.

Prints one JSON line: mean and worst microseconds per pass, and the vertices kept.
"""

import json
import sys
import time

from boards import sim as simboard
from firmware import app


def main(n):
    board = simboard.Board()
    pump, shell = app.build(board)
    board.start_watchdog()  # as console.serve does after build (the self-test asks)
    shell.json = True
    for line in (
        "login clinician 1234",
        "rx drug morphine 10mg/mL",
        "rx catheter 1",
        "program continuous 15mg",
        "program confirm",
        "start",
    ):
        shell.handle(line.encode())
    clock = board.clock
    g = pump.governor
    # a day and a bit at the limit first, in 10 s passes
    for _ in range(8700):
        clock.advance_ms(10000)
        pump.engine.advance(10000)
        pump.service()
    total = worst = 0
    for _ in range(n):
        clock.advance_ms(10)
        pump.engine.advance(10)
        pump.uptime.update()
        pump.ledger.fold(pump.pump_ms())
        t0 = time.ticks_us()
        g.service(pump)
        dt = time.ticks_diff(time.ticks_us(), t0)
        total += dt
        worst = dt if dt > worst else worst
        for s in pump.services:
            if s is not g:
                s.service(pump)
    print(
        json.dumps({"passes": n, "mean_us": total // n, "worst_us": worst, "vertices": len(g._curve.verts)})
    )


main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
