"""A soak on the emulated Pico (../shared/rp2emu) for `make bench`: the heap over an hour of delivery.

`measure()` is called by tools/bench.py. It starts its own emulator, deploys
with tools/deploy.py and runs tools/bench_board.soak(): the pump delivering
10 mg/day with a clinician bolus every 10 minutes and the patient button every
15, the free heap and the largest free block sampled (after a collection) once
a minute of emulated time, and their least-squares slope per hour. A flat or
rising slope is what the issue asks for; fragmentation shows as a falling
largest block.

The emulator runs a delivering pump at about 0.2x real time, so the hour of
`MINUTES` costs about five hours of wall time; `--quick` runs 3 minutes, and
`BENCH_SOAK_MINUTES=N make bench` runs N (the figure then says how many).

    python -m tools.bench_board_soak [MINUTES [PARTIAL.json]]
"""

import json
import os
import sys

from tools import bench_board

MINUTES = int(os.environ.get("BENCH_SOAK_MINUTES", "60"))


def measure(quick=False, minutes=None, partial=None):
    return bench_board.measure_soak(minutes or (3 if quick else MINUTES), partial=partial)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else None
    json.dump(measure(minutes=n, partial=sys.argv[2] if len(sys.argv) > 2 else None), sys.stdout, indent=1)
    print()
