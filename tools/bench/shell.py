"""The shell's figure for `make bench`: `status` reply time while the dose loop runs at its maximum rate.

`measure()` runs tools/bench/shell_mp.py on the MicroPython unix port and
returns its numbers (microseconds; tick counts), asserting nothing. On the
port a thread stands in for the timer interrupt and the GIL lets it in only
between bytecodes, so `late_calls`/`max_gap_us` are an upper bound on what a
board's hard IRQ would see; `ticker_alone_*` shows the emulation's own
lateness with the main thread asleep. `tick_missed` compares the engine's
tick counter with the elapsed wall clock and its dropped-tick counter.
"""

import json
import os
import subprocess

from tools.sim import launch


def measure(quick=False):
    n = "30" if quick else "500"
    res = subprocess.run(
        [
            launch.micropython_path(),
            "-X",
            "heapsize=1M",
            os.path.join(launch.ROOT, "tools", "bench", "shell_mp.py"),
            n,
        ],
        env=launch.env(),
        cwd=launch.ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = res.stdout.strip().splitlines()
    if res.returncode != 0 or not lines:
        raise RuntimeError("bench_shell_mp failed: " + (res.stdout + res.stderr)[-800:])
    d = json.loads(lines[-1])
    d["port"] = "micropython unix port, ticks from a thread (GIL), engine on the real clock"
    return d


if __name__ == "__main__":
    print(json.dumps(measure(), indent=1, sort_keys=True))
