"""Board figures on the emulated Pico (../shared/rp2emu): tick cost, free heap, boot time.

`measure()` is called by tools/bench.py (`make bench`). It starts its own
emulator, deploys with tools/deploy.py, then:

- boot time: emulated microseconds from power-on to the first `status` answer,
  with the 2 s target and whether it is met, for a fresh pump and for one with a
  confirmed prescription (its restore reads and checks more);
- free heap: the firmware booted exactly as main.py does (boardsel, .mpy),
  after three service passes, `gc.mem_free()` and the largest free block;
- tick cost: the dose engine's real handler on a 1 kHz hard `Timer(-1)` with
  a spare pin (GP22) raised and lowered around each call; the GPIO log gives
  each pulse's width in emulated microseconds. The same wrapper around no
  call gives the probe's own cost, subtracted for the net figure.
"""

import json
import re
import sys
import tempfile
import time

from tools import deploy, rp2emu

PROBE_PIN = 22
PHASE_PIN = 21
CLINICAL = 20000  # steps per day: 1 mL/day at 20,000 steps/mL
MAX_RATE = 86400000  # a step every tick
BOOT_TARGET_US = 2000000  # power-on to the first `status` answer; reported, not asserted by a test

HEAP_SCRIPT = """
import gc, micropython
import boardsel
from firmware import console
def serve(pump, shell, board, **kw):
    for i in range(3):
        pump.service()
    gc.collect()
    micropython.mem_info()
    print('HEAP', gc.mem_free())
console.serve = serve
boardsel.main()
"""

TICK_SCRIPT = """
import time
from machine import Pin, Timer
from boards import pico
from firmware.dose import DoseEngine
b = pico.Board()
e = DoseEngine(b.stepper, time, tick_hz=1000, int_limit=b.int_limit)
e.arm(1 << 26)
probe = Pin(%(probe)d, Pin.OUT, value=0)
phase = Pin(%(phase)d, Pin.OUT, value=0)
hi = probe.on
lo = probe.off
tick = e.on_tick
def empty(t):
    hi()
    lo()
def wrapped(t):
    hi()
    tick(t)
    lo()
tm = Timer(-1)
tm.init(mode=Timer.PERIODIC, freq=1000, callback=empty, hard=True)
time.sleep_ms(%(ms)d)
tm.deinit()
for rate in (%(clinical)d, %(max)d):
    e.set_rate(rate)
    e.start()
    phase.toggle()
    tm.init(mode=Timer.PERIODIC, freq=1000, callback=wrapped, hard=True)
    time.sleep_ms(%(ms)d)
    tm.deinit()
    e.stop()
phase.toggle()
print('TICKS done')
"""


def _widths(edges, pin, t0, t1):
    out = []
    up = None
    for t, p, lv in edges:
        if p != pin or t < t0 or t > t1:
            continue
        if lv == 1:
            up = t
        elif up is not None:
            out.append(t - up)
            up = None
    return out


def _stats(ws):
    if not ws:
        return {"n": 0}
    return {"n": len(ws), "worst_us": max(ws), "mean_us": round(sum(ws) / len(ws), 2)}


def tick_cost(emu, ms=1000):
    script = TICK_SCRIPT % {
        "probe": PROBE_PIN,
        "phase": PHASE_PIN,
        "ms": ms,
        "clinical": CLINICAL,
        "max": MAX_RATE,
    }
    out = deploy.mpremote(emu.repl_url, ("exec", script), timeout=600)
    if "TICKS done" not in out:
        raise RuntimeError("tick script failed: %r" % out[-500:])
    if "Traceback" in out or "Uncaught exception" in out:
        raise RuntimeError("exception in the tick handler: %r" % out[-800:])
    edges = emu.edges()
    marks = [t for t, p, _lv in edges if p == PHASE_PIN]
    marks = marks[-3:]
    probe = [t for t, p, lv in edges if p == PROBE_PIN and lv == 1]
    empty = _stats(_widths(edges, PROBE_PIN, probe[0] if probe else 0, marks[0]))
    res = {"probe_only": empty}
    for name, a, b in (("clinical_1ml_day", marks[0], marks[1]), ("max_step_every_tick", marks[1], marks[2])):
        s = _stats(_widths(edges, PROBE_PIN, a, b))
        if s["n"] and empty["n"]:
            s["net_worst_us"] = round(s["worst_us"] - empty["mean_us"], 2)
            s["net_mean_us"] = round(s["mean_us"] - empty["mean_us"], 2)
        res[name] = s
    return res


def heap_after_boot(emu):
    out = deploy.mpremote(emu.repl_url, ("exec", HEAP_SCRIPT), timeout=600)
    m = re.search(r"HEAP (\d+)", out)
    blk = re.search(r"max free sz: (\d+)", out)
    if not m:
        raise RuntimeError("heap probe failed: %r" % out[-800:])
    return {
        "free_bytes": int(m.group(1)),
        "largest_free_block_bytes": int(blk.group(1)) * 16 if blk else None,
    }


def boot_time(emu):
    """Emulated us from power-on to the first answer to `status`."""
    us, con = emu.power_on_to_status()
    con.close()
    return us


def program(emu):
    """Give the pump a confirmed prescription (left stopped), as a clinician would."""
    with emu.console(timeout=120) as con:
        for line in ("json on", "login clinician 1234", "rx drug morphine 0.2mg/mL"):
            con.ok(line)
        con.ok("program continuous 10mg")
        con.ok("program confirm")


def measure(quick=False):
    t = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench_board_") as work:
        with rp2emu.Emulator(work) as emu:
            dep = deploy.deploy(emu.repl_url, quiet=True)
            boot_us = boot_time(emu)
            program(emu)
            boot_rx_us = boot_time(emu)
            heap = heap_after_boot(emu)
            ticks = tick_cost(emu, ms=300 if quick else 1000)
            log = emu.console_log()
    return {
        "board": "rp2emu (MicroPython %s RPI_PICO, emulated RP2040)" % dep["board_version"],
        "deploy_s": dep["seconds"],
        "boot_to_status_us": boot_us,
        "boot_target_us": BOOT_TARGET_US,
        "boot_to_status_programmed_us": boot_rx_us,
        "boot_within_target": max(boot_us, boot_rx_us) <= BOOT_TARGET_US,
        "heap_after_boot": heap,
        "tick_us": ticks,
        "tick_target_worst_us": 20,
        "tracebacks_on_console": log.count("Traceback"),
        "wall_s": round(time.monotonic() - t, 1),
    }


if __name__ == "__main__":
    json.dump(measure(quick="--quick" in sys.argv), sys.stdout, indent=1)
    print()
