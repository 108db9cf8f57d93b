"""A soak on the emulated Pico (../shared/rp2emu) for `make bench`: the heap over an hour of delivery.

`measure()` is called by tools/bench. It starts its own emulator, deploys
with tools/deploy and runs tools.bench.board.soak(): the pump delivering
10 mg/day with a clinician bolus every 10 minutes and the patient button every
15, the free heap and the largest free block sampled (after a collection) once
a minute of emulated time, and their least-squares slope per hour. A flat or
rising slope is what the issue asks for; fragmentation shows as a falling
largest block.

The emulator runs a delivering pump at about 0.2x real time, so the hour of
`MINUTES` costs about five hours of wall time; `--quick` runs 3 minutes, and
`BENCH_SOAK_MINUTES=N make bench` runs N (the figure then says how many).

The same schedule also runs on the simulator (`sim_soak`, the unchanged
firmware on the MicroPython unix port, tools/bench/board_soak_mp.py), where an
hour and a day of virtual time take seconds: not the Pico's heap (64-bit
objects, a 512 KB heap), but the same allocations over time, so a leak shows
there first. Its variants split the causes: delivery alone is flat; each
accepted bolus keeps ~76 bytes there while it is in the 24 h cap's window
(`therapy.boluses`), so the heap falls for a day and is flat after; refused
boluses (after the reservoir emptied) keep nothing.

    python -m tools.bench.board_soak [MINUTES [PARTIAL.json]]
"""

import json
import os
import subprocess
import sys
import tempfile

from tools.bench import board as bench_board

MINUTES = int(os.environ.get("BENCH_SOAK_MINUTES", "60"))
SIM_HEAP = "512K"  # the firmware and the simulator need 368 KB on the 64-bit port (bench memory)


def sim_soak(minutes, what="bp", heap=SIM_HEAP):
    """The soak's schedule on the simulator; the same figures as the emulated soak."""
    from tools.sim import launch

    with tempfile.TemporaryDirectory(prefix="soak_fs_") as fs:
        argv = [launch.micropython_path(), "-X", "heapsize=" + heap]
        argv += [os.path.join(launch.ROOT, "tools", "bench", "board_soak_mp.py"), str(minutes), fs, what]
        res = subprocess.run(
            argv, env=launch.env(), cwd=launch.ROOT, capture_output=True, text=True, timeout=1800
        )
    lines = res.stdout.splitlines()
    samples = [tuple(int(x) for x in ln.split()[1:]) for ln in lines if ln.startswith("S ")]
    try:
        end = json.loads(lines[-1]) if lines else {}
    except ValueError:
        end = {"error": (lines[-1] + res.stderr)[-300:]}
    if res.returncode != 0:
        end["error"] = (res.stdout + res.stderr).strip().splitlines()[-1][:300]
    st = {"state": end.get("state_at_end"), "ptm_24h": end.get("ptm_24h")}
    st["delivered_total_steps"] = end.get("delivered_total_steps")
    out = bench_board._soak_figures(samples, minutes, st)
    out["simulated_minutes"] = out.pop("emulated_minutes")
    out.update({k: v for k, v in end.items() if k not in out})
    out["heap"] = heap
    out["schedule"] = what
    del out["per_minute"]  # the trend is the slope; 1,440 rows are not a figure
    return out


def measure(quick=False, minutes=None, partial=None):
    n = minutes or (3 if quick else MINUTES)
    return {
        "emulated_pico": bench_board.measure_soak(n, partial=partial),
        "sim_unix_port_1h": sim_soak(60),
        "sim_unix_port_24h": sim_soak(20 if quick else 1440),
        "sim_unix_port_24h_boluses_only": sim_soak(20 if quick else 1440, "b"),
        "sim_unix_port_24h_delivery_only": sim_soak(20 if quick else 1440, ""),
        "sim_unix_port_48h_boluses_refused_after_empty": sim_soak(20 if quick else 2880, "be"),
    }


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else None
    json.dump(measure(minutes=n, partial=sys.argv[2] if len(sys.argv) > 2 else None), sys.stdout, indent=1)
    print()
