"""The simulator's entry point on the MicroPython unix port.

Reads shell lines from stdin (a terminal: virtual time follows wall time; a
pipe: virtual time moves only with `sim run`), answers each, and at end of
input, `quit` or `exit` shuts the pump down cleanly.

On a terminal (launch.py has put it in cbreak mode, no echo) the board's own
console does the echo, the line editing, the banner and the alarm lines, so
`make sim` behaves as the board's serial console; Ctrl-D on an empty line is
end of input. A pipe gets the plain loop: no echo, no banner, replies only.
"""

import select
import sys

from firmware import isotime
from tools.sim import simrun


def parse_args(argv):
    opts = {"state": None, "start": "2026-01-01T00:00:00", "seed": 1, "rate": None, "tty": "0"}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and a[2:] in opts and i + 1 < len(argv):
            opts[a[2:]] = argv[i + 1]
            i += 2
        else:
            raise SystemExit("usage: sim [--state DIR] [--start ISO] [--seed N] [--rate ML_PER_DAY]")
    opts["start"] = isotime.parse(opts["start"])
    opts["seed"] = int(opts["seed"])
    return opts


def main(argv):
    import gc

    # collect every 64 KB allocated, as the boards do (boardsel.py, 32 KB): left to fill the whole
    # heap between collections, the sim's garbage scattered the long-lived objects over all of it,
    # and after 2 h at 10 mL/day the largest free block of 1 MB was 18 KB; the trend's 21 KB save
    # at the clean shutdown then failed. With the threshold it stays above 340 KB.
    gc.threshold(65536)
    opts = parse_args(argv)
    sim = simrun.Simulator(opts)
    out = sys.stdout
    inp = sys.stdin.buffer
    interactive = opts["tty"] == "1"
    poll = select.poll()
    poll.register(inp, select.POLLIN)
    if interactive:
        import utime

        last = utime.ticks_ms()
        from firmware.shell.console import Console

        con = Console(sim.pump, sim.shell, None, out.write, None)
        con.banner()
    out.write("pump> ")
    try:
        while not sim.quit:
            if interactive:
                ready = poll.poll(100)
                now = utime.ticks_ms()
                sim.run_ms(utime.ticks_diff(now, last))
                last = now
                if not ready:
                    continue
            data = inp.read(1)
            if not data:
                break
            if interactive:
                if data == b"\x04" and (con.editor is None or not con.editor.pending()):
                    out.write("\n")
                    break
                con.feed(data)
                if con.pump is not sim.pump:  # `sim power-cut` booted a new firmware
                    con.shell = sim.shell
                    con.listen(sim.pump)
                continue
            for reply in sim.feed(data):
                out.write(reply + "\n")
                if not sim.quit:
                    out.write("pump> ")
    except KeyboardInterrupt:
        out.write("\n")  # Ctrl-C on the terminal: a commanded stop, saved like end of input
    for reply in sim.finish():
        out.write(reply + "\n")
    sim.shutdown()


main(sys.argv[1:])
