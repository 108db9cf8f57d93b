"""Run on the MicroPython unix port by tools/bench/shell.py: `status` reply time under a 1 kHz dose loop.

The firmware is built as a board builds it (`app.build` on the sim board),
its engine switched to the real clock and set to its maximum rate (a step
every tick). The unix port has no timer interrupt, so a thread calls the
engine's handler every millisecond as a timer would (`_thread`; the port's
GIL lets it in between bytecodes, much as an IRQ preempts the main loop).
Meanwhile the main thread sends `status` lines through the line splitter
and the shell in JSON mode and times each reply.

Prints one JSON line: reply times, and the handler's own record of ticks
(callbacks, late callbacks, the longest gap) against the engine's tick
counter and the wall clock, so a missed tick shows.
"""

import _thread  # pyright: ignore[reportMissingImports]
import json
import sys
import time

from boards import sim as simboard
from firmware import app
from firmware.dose import WRAP
from firmware.shell.lines import LineSplitter

PERIOD_US = 1000


class Ticker:
    def __init__(self, on_tick):
        self.on_tick = on_tick
        self.running = True
        self.done = False
        self.calls = 0
        self.late = 0  # callbacks more than half a period after their time
        self.max_gap = 0
        self.t0 = 0
        self.t1 = 0

    def loop(self):
        ticks_us = time.ticks_us
        diff = time.ticks_diff
        add = time.ticks_add
        self.t0 = ticks_us()
        due = add(self.t0, PERIOD_US)
        last = self.t0
        while self.running:
            wait = diff(due, ticks_us())
            if wait > 0:
                if wait > 300:
                    time.sleep_us(wait - 200)  # sleeping lets the main thread run
                continue
            now = ticks_us()
            g = diff(now, last)
            last = now
            if g > self.max_gap:
                self.max_gap = g
            if -wait > PERIOD_US // 2:
                self.late += 1
            self.on_tick(None)
            self.calls += 1
            due = add(due, PERIOD_US)
        self.t1 = ticks_us()
        self.done = True


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2]


def time_status(shell, n):
    sp = LineSplitter()
    out = []
    for _ in range(n):
        t = time.ticks_us()
        for line in sp.feed(b"status\n"):
            r = shell.handle(line)
            if not r.startswith('{"ok": true'):
                raise RuntimeError("status failed: " + r[:200])
        out.append(time.ticks_diff(time.ticks_us(), t))
    return out


def run_ticker(e, work):
    """Run `work()` while a thread ticks the engine; the ticker's record and the engine's counts."""
    c0 = e.counters()
    tk = Ticker(e.on_tick)
    _thread.start_new_thread(tk.loop, ())
    time.sleep_ms(20)  # the ticker is running before the work starts
    out = work()
    tk.running = False
    while not tk.done:
        time.sleep_ms(1)
    c1 = e.counters()
    elapsed = time.ticks_diff(tk.t1, tk.t0) // PERIOD_US
    counted = (c1[0] - c0[0]) % WRAP
    dropped = (c1[3] - c0[3]) % WRAP
    rec = {
        "elapsed_ticks_by_clock": elapsed,
        "ticks_counted_by_engine": counted,
        "handler_calls": tk.calls,
        "late_calls": tk.late,
        "max_gap_us": tk.max_gap,
        "dropped_ticks": dropped,
        "steps_emitted": (c1[1] - c0[1]) % WRAP,
        "steps_owed": e.owed(),
        # the engine counts time, not callbacks: a tick is lost only if it was dropped
        # (late beyond the 1 s bound) or the count strays from the clock
        "tick_missed": dropped > 0 or abs(counted - elapsed) > 1,
    }
    return out, rec


def main(n):
    board = simboard.Board()
    pump, shell = app.build(board)
    board.start_watchdog()  # as console.serve does after build (the self-test asks)
    shell.json = True
    e = pump.engine
    # the engine on the real clock: it then accounts for the real time between callbacks
    e._ticks_us = time.ticks_us
    e._ticks_diff = time.ticks_diff
    e._ticks_add = time.ticks_add
    idle = time_status(shell, n)
    e.set_rate(e.max_rate())
    e.start()
    # the emulated timer's own lateness with the main thread asleep, for scale
    _, calm = run_ticker(e, lambda: time.sleep_ms(300))
    loaded, rec = run_ticker(e, lambda: time_status(shell, n))
    e.stop()
    rec.update(
        {
            "replies": n,
            "status_reply_us_median": median(loaded),
            "status_reply_us_max": max(loaded),
            "status_reply_us_median_no_ticks": median(idle),
            "status_reply_us_max_no_ticks": max(idle),
            "rate_steps_per_day": e.max_rate(),
            "ticker_alone_late_calls": calm["late_calls"],
            "ticker_alone_handler_calls": calm["handler_calls"],
            "ticker_alone_max_gap_us": calm["max_gap_us"],
        }
    )
    print(json.dumps(rec))


main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
