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


def measure(quick=False):
    from tools.bench import micropython

    d = micropython("shell_mp.py", ["30" if quick else "500"], timeout=600)
    d["port"] = "micropython unix port, ticks from a thread (GIL), engine on the real clock"
    return d


if __name__ == "__main__":
    print(json.dumps(measure(), indent=1, sort_keys=True))
