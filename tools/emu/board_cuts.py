"""Power cuts aimed at the firmware's flash writes, on the emulated Pico (../shared/rp2emu).

A command that changes therapy (`bolus`, `program confirm`) writes a checkpoint
and log entries before it replies (firmware/persist/__init__.py flushes after every
command). `aimed_cut` sends the command with the board's clock paused,
resumes it, lets `offset_us` of emulated time pass and cuts the power. The
emulator's flash counters, read in the same control-port packet as the cut
(no emulated time between them), say where the cut landed:

- "before": no erase nor program since the command arrived;
- "erase": the last flash operation was a sector erase, so that sector is blank
  and none of its new content is on it yet (the emulator holds the CPU 45 ms
  per 4 KB erase, so a cut aimed into that stall lands right after it);
- "program": the last operation programmed pages and the reply had not left
  (0.8 ms per 256-byte page);
- "after": the command's reply reached the console: its writes were done.

The emulator runs each erase or program as one step, so no cut lands inside a
single one: "erase" is the nearest to a cut mid-erase (sector blank, nothing
rewritten). `check_restart` then waits for the board to boot and checks what
SPEC 8 asks of a restart. Used by host_tests/board (a short sweep) and by
tools/bench/board_cuts.py (`make bench`, a longer one).
"""

import time

from firmware.persist.checkpoint import INTERVAL_MS, SLACK_MS
from firmware.persist.recovery import BOOT_LIMIT
from tools.emu import rp2emu

DAY_MS = 86400000
BOLUS = "bolus 0.01mg"  # 0.05 mL at 0.2 mg/mL: 1,000 steps over the default 15 minutes
BOLUS_STEPS = 1000
BOLUS_S = 900
PROGRAMS = ("continuous 10mg", "continuous 12mg")  # a rate change alternates between these
KINDS = ("bolus", "rate")
# a bound that catches a hang or a boot loop, as in the board suite (boot time is a bench figure)
BOOT_HANG_US = 10000000
REPL_PROMPT = rp2emu.REPL_PROMPT
# entries read back after a restart: the boot writes ~5 (alarms, reset, login) after the
# command's own; `log` costs ~50 ms of emulated time per entry on the board
LOG_N = 12
# emulated us from the command reaching the board, as measured on this rig: a bolus's
# first flash write comes at ~70-95 ms (parsing, checks and the event before it), its
# last at ~115-120 ms; a rate change writes from ~85 ms, its three sector erases end at
# ~90-115, ~160 and ~250-300 ms, and it replies at ~210-300 ms
WINDOWS = {"bolus": (60000, 130000), "rate": (80000, 300000)}


def steps_day(ml_day, spm):
    """A status rate (mL/day, a JSON decimal) in steps/day, rounded up."""
    return int(ml_day * spm + 0.999)


def loss_bound(rate_steps_day):
    """The documented worst case: one checkpoint interval (plus the loop's slack) at the
    highest rate the pump could run (firmware/persist/checkpoint.py, firmware/persist/recovery.py)."""
    return (rate_steps_day * (INTERVAL_MS + SLACK_MS) + DAY_MS - 1) // DAY_MS


def setup(con):
    """The prescription every cut starts from: morphine, 10 mg/day continuous, running."""
    con.call("stop")  # the drug changes only while stopped (an error if it already is)
    con.ok("rx drug morphine 0.2mg/mL")
    con.ok("program continuous 10mg")
    con.ok("program confirm")
    con.ok("start")


def _last_op(before, now, last):
    # the kind of the newest flash operation between two counter readings
    if now == before:
        return last
    if now[1] != before[1]:
        return "program"  # an erase is followed by programs into its sector: program is the newer
    return "erase"


def aimed_cut(emu, con, kind, offset_us):
    """Run `kind` ("bolus" or "rate") and cut the power `offset_us` after the board got it.

    Returns what the restart check needs: the state before, the cut's instant and
    flash counters, and where it landed. The console is left on the rebooting board.
    """
    rx0 = con.ok("rx")["prescription"]
    programs = [rx0["program"]]
    if kind == "bolus":
        cmd, marker = BOLUS, b'"over_s"'
    else:
        new = PROGRAMS[1] if rx0["program"] == PROGRAMS[0] else PROGRAMS[0]
        con.ok("program " + new)
        programs.append(new)
        cmd, marker = "program confirm", b'"daily_dose"'
    log0 = con.ok("log 1")["entries"]
    t_a = emu.now_us()
    st0 = con.ok("status")
    fo = emu.status()["flash_ops"]
    start = (fo["erase"], fo["program"])
    emu.ctl("pause")
    try:
        con.write(cmd.encode() + b"\r\n")
        time.sleep(0.05)  # the console bytes reach the emulator before its clock runs again
    finally:
        t0 = emu.ctl("resume")["t_us"]
    seen = start
    last = "before"
    while True:
        s = emu.status()
        now = (s["flash_ops"]["erase"], s["flash_ops"]["program"])
        last = _last_op(seen, now, last)
        seen = now
        if s["t_us"] - t0 >= offset_us:
            break
    cut, _ = emu.ctl_many({"cmd": "status"}, {"cmd": "power_cycle", "off_us": 0})
    now = (cut["flash_ops"]["erase"], cut["flash_ops"]["program"])
    last = _last_op(seen, now, last)
    # what the board wrote before the cut is on the socket already; the new boot prints
    # nothing for over a second of emulated time
    early = con.drain(0.3)
    if marker in early:
        landed = "after"
    else:
        landed = last
    return {
        "kind": kind,
        "cmd": cmd,
        "offset_us": offset_us,
        "t_a": t_a,
        "t_cmd": t0,
        "t_cut": cut["t_us"],
        "landed_us": cut["t_us"] - t0,
        "erased": now[0] - start[0],
        "programmed": now[1] - start[1],
        "landed": landed,
        "st0": st0,
        "rx0": rx0,
        "programs": programs,
        "log_seq0": log0[-1]["seq"] if log0 else -1,
    }


def check_restart(emu, con, cut):
    """Boot after `cut` and check the restart; returns (figures, failures)."""
    fails = []
    boot_us = emu.await_status(con, cut["t_cut"])
    if boot_us >= BOOT_HANG_US:
        fails.append("first status %d us after the cut" % boot_us)
    con.ok("json on")
    con.ok("login clinician 1234")
    st = con.ok("status")
    t_b = emu.now_us()
    rx = con.ok("rx")["prescription"]
    log = con.ok("log %d" % LOG_N)
    st0 = cut["st0"]
    rx0 = cut["rx0"]
    spm = st0["steps_per_ml"]

    codes = [a["code"] for a in st["alarms"]]
    if "UNEXPECTED_RESET" not in codes:
        fails.append("no UNEXPECTED_RESET after the cut: %s" % codes)
    if st["state"] != "running":
        fails.append("state %r after the cut (was running)" % st["state"])
    for k in ("drug", "concentration", "concentration_unit", "limits", "mode", "steps_per_ml"):
        if rx.get(k) != rx0.get(k):
            fails.append("prescription %s %r, was %r" % (k, rx.get(k), rx0.get(k)))
    if rx["program"] not in cut["programs"]:
        fails.append("program %r is neither of %r" % (rx["program"], cut["programs"]))
    # a bolus is never resumed after a reset: the pump runs its basal alone
    if st.get("bolus") is not None:
        fails.append("bolus %r running after the cut" % st["bolus"])
    if st["rate_ml_day"] != st["basal_ml_day"]:
        fails.append("rate %r is not the basal %r" % (st["rate_ml_day"], st["basal_ml_day"]))

    # accounting against the STEP edges the board really made between the two statuses:
    # the ledger never counts a step not made, and loses at most the documented bound
    made = len(emu.rising(rp2emu.PIN_STEP, cut["t_a"], t_b))
    counted = st["delivered_total_steps"] - st0["delivered_total_steps"]
    loss = made - counted
    rate = max(steps_day(st0["basal_ml_day"], spm), steps_day(st["basal_ml_day"], spm))
    if cut["kind"] == "bolus":
        rate += BOLUS_STEPS * 86400 // BOLUS_S + 1
    bound = loss_bound(rate)
    if counted > made:
        fails.append("ledger counts %d steps, the board made %d (double count)" % (counted, made))
    if loss > bound:
        fails.append("accounting lost %d steps, bound %d" % (loss, bound))

    entries = log.get("entries") or []
    seqs = [e["seq"] for e in entries]
    if not entries:
        fails.append("event log empty after the cut")
    if seqs != sorted(set(seqs)):
        fails.append("event log out of order: %s" % seqs)
    new = [e["event"] for e in entries if e["seq"] > cut["log_seq0"]]
    if entries and entries[0]["seq"] > cut["log_seq0"] + 1:
        fails.append("more than %d entries since the command: cannot check them all" % LOG_N)
    if "reset" not in new:
        fails.append("no reset entry logged after the cut: %s" % new)
    if new.count("bolus") > 1:
        fails.append("bolus logged %d times for one command" % new.count("bolus"))
    fig = {
        "kind": cut["kind"],
        "landed": cut["landed"],
        "landed_us": cut["landed_us"],
        "erased": cut["erased"],
        "programmed": cut["programmed"],
        "boot_us": boot_us,
        "made": made,
        "counted": counted,
        "loss_steps": loss,
        "bound_steps": bound,
        "program_after": rx["program"],
    }
    return fig, fails


def repl_line(con, line, timeout=120):
    """One line typed at the board's friendly REPL (`>>> `); returns what it printed."""
    con.write(line.encode() + b"\r\n")
    out = con.read_until(REPL_PROMPT, timeout)
    return out.decode("utf-8", "replace")


def reset_boot_counter(emu, con):
    """Stop the application with Ctrl-C, zero its boot-loop counter from the REPL as its own
    stable run would (recovery.boot_ok), and power it up again; returns the new console.

    The sweep's restarts come in a row, each before the pump's 30 s stable run, and
    BOOT_LIMIT of them rightly drop the board into safe mode; waiting the stable run out
    costs ~2 minutes of wall time per 4 cuts on this emulator, this ~15 s.
    """
    con.stop_app()
    out = repl_line(con, "from firmware.persist import recovery; from firmware.persist.flashfs import Fs")
    out += repl_line(con, "recovery.boot_ok(Fs('/data')); print('boots', recovery.boot_count(Fs('/data')))")
    if "boots 0" not in out:
        raise rp2emu.EmuError("could not reset the boot counter: %r" % out[-400:])
    con.close()
    _, con = emu.power_on_to_status()
    con.ok("json on")
    con.ok("login clinician 1234")
    return con


def sweep(emu, con, plan):
    """One aimed cut per (kind, offset_us) of `plan`; returns (console, figures, failures).

    `con` is a logged-in console in JSON mode, on the pump set up by `setup`; the
    returned one is too (a boot-counter reset opens a new one).
    """
    figs = []
    fails = []
    unstable = BOOT_LIMIT  # boots since the counter was last zeroed: unknown before the sweep
    for kind, off in plan:
        if unstable >= BOOT_LIMIT - 1:
            con = reset_boot_counter(emu, con)
            unstable = 1
        cut = aimed_cut(emu, con, kind, off)
        unstable += 1
        fig, bad = check_restart(emu, con, cut)
        figs.append(fig)
        fails += ["%s at %d us (%s): %s" % (kind, off, fig["landed"], b) for b in bad]
    return con, figs, fails


def plan(n, windows=WINDOWS):
    """`n` cuts, the kinds in turn, each kind's offsets spread evenly over its write window."""
    per = {}
    for i in range(n):
        k = KINDS[i % len(KINDS)]
        per[k] = per.get(k, 0) + 1
    out = []
    seen = {}
    for i in range(n):
        k = KINDS[i % len(KINDS)]
        lo, hi = windows[k]
        j = seen.get(k, 0)
        seen[k] = j + 1
        out.append((k, lo + (hi - lo) * (2 * j + 1) // (2 * per[k])))
    return out


def summary(figs, fails):
    """The counts `make bench` reports."""
    landed = [f["landed"] for f in figs]
    return {
        "cuts": len(figs),
        "in_erase": landed.count("erase"),
        "in_program": landed.count("program"),
        "before_write": landed.count("before"),
        "after_reply": landed.count("after"),
        "failures": len(fails),
        "worst_loss_steps": max([f["loss_steps"] for f in figs] or [0]),
        "loss_bound_steps": min([f["bound_steps"] for f in figs] or [0]),
        "worst_boot_us": max([f["boot_us"] for f in figs] or [0]),
        "double_counts": len([f for f in figs if f["counted"] > f["made"]]),
    }
