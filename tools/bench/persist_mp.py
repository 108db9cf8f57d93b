"""Persistence figures on the MicroPython unix port (run by tools/bench/persist.py).

argv: STATE_DIR BOOTS CHECKPOINTS. Prints one JSON line: the restart time
(build + restore from a host-directory flash with full records and a full
log ring) and the cost of one checkpoint: straight to a host directory (as
littlefs on a board), through the simulator's batched `--state` and in RAM.
"""

import json
import sys
import time

import persistkit

from firmware.persist.flashfs import Fs, MemFs
from tools.sim.statefs import StateFs


def _program(w):
    for line in ("login clinician 1234", "rx drug morphine 10mg/mL", "program continuous 10mg"):
        w.cmd(line)
    w.cmd("program confirm")
    w.cmd("start")


def restart_ms(state, boots):
    w = persistkit.World(Fs(state))
    _program(w)
    w.run(3600000)
    log = w.pump.log
    while log.seq < 400:  # fill the ring: boot reads every segment
        log.add("filler", {"n": log.seq, "text": "x" * 40})
    worst = 0
    total = 0
    for _ in range(boots):
        t0 = time.ticks_us()
        w.reboot()
        dt = time.ticks_diff(time.ticks_us(), t0)
        total += dt
        worst = max(worst, dt)
        assert w.pump.state == "running"
    return worst, total // boots


def checkpoint_us(fs, n):
    w = persistkit.World(fs)
    _program(w)
    w.run(600000)
    cp = w.pump.store
    t0 = time.ticks_us()
    for i in range(n):
        if i % 10 == 0:
            cp.bins_bin = None  # a 10-minute bin rolls every 10th checkpoint: the bins record too
        cp.save()
    return time.ticks_diff(time.ticks_us(), t0) // n, len(fs.read("acct.0") or b"")


def main(argv):
    state, boots, n = argv[0], int(argv[1]), int(argv[2])
    worst, mean = restart_ms(state, boots)
    host_us, size = checkpoint_us(Fs(state + "/cp"), n)
    sim_us, _ = checkpoint_us(StateFs(state + "/sim"), n)
    ram_us, _ = checkpoint_us(MemFs(), n)
    out = {
        "restart_worst_us": worst,
        "restart_mean_us": mean,
        "boots": boots,
        "checkpoint_us_host_dir": host_us,
        "checkpoint_us_ram": ram_us,
        "checkpoint_us_sim_state_dir": sim_us,
        "acct_record_bytes": size,
    }
    print(json.dumps(out))


main(sys.argv[1:])
