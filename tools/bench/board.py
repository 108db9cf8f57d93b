"""Board figures on the emulated Pico (../shared/rp2emu): tick cost, free heap, boot time.

`measure()` is called by tools/bench (`make bench`). It starts its own
emulator, deploys with tools/deploy, then:

- boot time: emulated microseconds from power-on to the first `status` answer,
  with the 1 s target and whether it is met, for a fresh pump and for one with a
  confirmed prescription (its restore reads and checks more);
- free heap: the firmware booted exactly as main.py does (boardsel, .mpy),
  after three service passes, `gc.mem_free()` and the largest free block;
- tick cost: the dose engine's real handler on a 1 kHz hard `Timer(-1)` with
  a spare pin (GP22) raised and lowered around each call; the GPIO log gives
  each pulse's width in emulated microseconds. The same wrapper around no
  call gives the probe's own cost, subtracted for the net figure;
- soak (`soak()`, `python -m tools.bench.board --soak MINUTES`): the pump
  booted as main.py does and delivering (10 mg/day, a clinician bolus every
  10 minutes, the patient button every 15), its console driven from the host;
  once a minute of emulated time the main loop collects and prints the free
  heap and the largest free block; the figures are those samples and their
  least-squares slope per hour.
"""

import json
import re
import sys
import tempfile
import time

from tools import deploy
from tools.emu import rp2emu

PROBE_PIN = 22
PHASE_PIN = 21
CLINICAL = 20000  # steps per day: 1 mL/day at 20,000 steps/mL
MAX_RATE = 86400000  # a step every tick
# power-on to the first `status` answer (issue 19; it was 2 s): reported, not asserted by a test
BOOT_TARGET_US = 1000000

HEAP_SCRIPT = """
import gc, micropython
import boardsel
from firmware.shell import console
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


# The real main loop with one addition: once a minute of the board's own time a
# collection and a heap sample (free bytes, largest free block in 16-byte blocks).
SOAK_SCRIPT = """
import gc, micropython, time
import boardsel
from firmware.shell import console
_serve = console.serve
def serve(pump, shell, board, **kw):
    svc = pump.service
    last = [time.ticks_ms()]
    def service():
        svc()
        now = time.ticks_ms()
        if time.ticks_diff(now, last[0]) >= 60000:
            last[0] = now
            gc.collect()
            print('SOAK', now, gc.mem_free())
            micropython.mem_info()
    pump.service = service
    return _serve(pump, shell, board, **kw)
console.serve = serve
boardsel.main()
"""
SOAK_BOLUS = "bolus 0.01mg over=1m"  # 0.05 mL: 1,000 steps over a minute on top of the basal
# the schedule (also tools/bench/board_soak_mp.py's): a bolus at minutes 5, 15, 25...; the button
# at 7, 22, 37... (a 1-minute patient bolus, 10 minutes' lockout): never two boluses at once


def _slope_per_hour(points):
    """Least-squares slope of (minute, value) points, in value per hour."""
    n = len(points)
    if n < 2:
        return None
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if not sxx:
        return None
    return round(60 * sum((p[0] - mx) * (p[1] - my) for p in points) / sxx, 1)


def parse_soak(log):
    """(minute, free bytes, largest free block bytes) of each SOAK sample in a console log."""
    out = []
    t0 = None
    for m in re.finditer(r"SOAK (\d+) (\d+)\r?\n(?:.*\r?\n){0,6}?.*max free sz: (\d+)", log):
        t = int(m.group(1))
        t0 = t if t0 is None else t0
        out.append((round((t - t0) / 60000), int(m.group(2)), int(m.group(3)) * 16))
    return out


def soak(emu, minutes=60, progress=None):
    """Deliver for `minutes` of emulated time with boluses; the heap sampled every minute.

    `progress(figures)`, if given, gets the figures so far after every emulated minute (the
    emulator runs a delivering pump at about 0.2x real time: an emulated hour is ~5 h)."""
    from mpremote.transport_serial import SerialTransport

    program(emu)
    log0 = len(emu.console_log())
    t = SerialTransport(emu.repl_url, timeout=10)
    try:
        t.enter_raw_repl(soft_reset=True, timeout_overall=120)
        t.exec_raw_no_follow(SOAK_SCRIPT)
    finally:
        t.close()
    boluses = presses = refused = 0
    wall = time.monotonic()
    with emu.console(timeout=120) as con:
        # held by the USB link until the shell, still booting, reads it
        # the boot's alarms (CLOCK, UNEXPECTED_RESET) acked: their sound is not what is soaked
        setup = (
            "json on",
            "login clinician 1234",
            "ack",
            "ptm set dose=0.01mg lockout=10m max=8 over=1m",
            "start",
        )
        for line in setup:
            con.ok(line)
        for minute in range(minutes):
            if minute % 10 == 5:
                con.call("login clinician 1234")  # the last session has timed out
                if not con.call(SOAK_BOLUS).get("ok"):
                    refused += 1
                boluses += 1
            if minute % 15 == 7:
                emu.set_pin(rp2emu.PIN_BUTTON, 0)
                emu.wait_us(300000)
                emu.release_pin(rp2emu.PIN_BUTTON)
                presses += 1
            emu.wait_us(60000000, timeout=3600)
            if progress is not None:
                part = _soak_figures(parse_soak(emu.console_log()[log0:]), minute + 1, {})
                part.update(clinician_boluses=boluses, boluses_refused=refused, button_presses=presses)
                part["wall_s"] = round(time.monotonic() - wall, 1)
                progress(part)
        st = con.ok("status")
        con.ctrl_c()
        con.read_until(rp2emu.REPL_PROMPT, timeout=120)
    out = _soak_figures(parse_soak(emu.console_log()[log0:]), minutes, st)
    out.update(clinician_boluses=boluses, boluses_refused=refused, button_presses=presses)
    out["wall_s"] = round(time.monotonic() - wall, 1)
    return out


def _soak_figures(samples, minutes, st):
    free = [(m, f) for m, f, _ in samples]
    block = [(m, b) for m, _, b in samples]
    return {
        "emulated_minutes": minutes,
        "samples": len(samples),
        "ptm_24h": st.get("ptm_24h"),
        "state_at_end": st.get("state"),
        "alarms_at_end": sorted(a["code"] for a in st.get("alarms", [])),
        "delivered_total_steps": st.get("delivered_total_steps"),
        "free_bytes": {"first": free[0][1], "last": free[-1][1], "min": min(f for _, f in free)}
        if free
        else {},
        "largest_block_bytes": {"first": block[0][1], "last": block[-1][1], "min": min(b for _, b in block)}
        if block
        else {},
        "free_slope_bytes_per_hour": _slope_per_hour(free),
        "largest_block_slope_bytes_per_hour": _slope_per_hour(block),
        "per_minute": samples,
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
        "board": "rp2emu (MicroPython %s RPI_PICO_ROMFS, emulated RP2040)" % dep["board_version"],
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


def measure_soak(minutes=60, partial=None):
    """The soak on a fresh emulator; `partial` (a path) gets the figures so far every minute."""

    def progress(figs):
        if partial is not None:
            with open(partial, "w") as f:
                json.dump(figs, f, indent=1)
        print(
            "soak: %d min, %.0f s" % (figs["emulated_minutes"], figs["wall_s"]), file=sys.stderr, flush=True
        )

    with tempfile.TemporaryDirectory(prefix="bench_soak_") as work:
        with rp2emu.Emulator(work) as emu:
            deploy.deploy(emu.repl_url, quiet=True)
            return soak(emu, minutes, progress if partial else None)


if __name__ == "__main__":
    if "--soak" in sys.argv:
        i = sys.argv.index("--soak")
        part = sys.argv[i + 2] if len(sys.argv) > i + 2 else None
        json.dump(measure_soak(int(sys.argv[i + 1]), partial=part), sys.stdout, indent=1)
    else:
        json.dump(measure(quick="--quick" in sys.argv), sys.stdout, indent=1)
    print()
