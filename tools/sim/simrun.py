"""The simulator: the firmware on the `sim` board, with virtual time under command.

`sim run DURATION` moves the virtual clock in steps no longer than the
board's sampling period, advancing the dose engine in closed form and letting
every service run at each step, so supervision runs as it would on a board.
"""

from boards import sim as simboard
from firmware import app
from firmware.errors import E_RANGE, E_SYNTAX, PumpError
from firmware.persist.flashfs import MemFs
from firmware.shell import ANY
from firmware.shell.lines import LineSplitter
from tools.sim.statefs import StateFs

MAX_RUN_MS = 400 * 86400000


def parse_duration_ms(s):
    units = {"s": 1000, "m": 60000, "h": 3600000, "d": 86400000}
    if len(s) < 2 or s[-1] not in units or not s[:-1].isdigit():
        raise PumpError(E_SYNTAX, "duration like 90s, 15m, 2h or 7d")
    ms = int(s[:-1]) * units[s[-1]]
    if ms <= 0 or ms > MAX_RUN_MS:
        raise PumpError(E_RANGE, "duration must be above 0 and at most 400d")
    return ms


class Simulator:
    def __init__(self, opts):
        self.opts = opts
        self.board = simboard.Board(seed=opts.get("seed", 1))
        self.board.load_model(opts.get("state"))  # the reservoir and battery as the last run left them
        # the pump's flash: --state DIR on the host, else files in RAM (fresh each start)
        self.fs = opts.get("fs") or (StateFs(opts["state"]) if opts.get("state") else MemFs())
        self.boot("power-on")
        self.lines = LineSplitter()
        self.quit = False  # `quit` or `exit` was answered: the entry point ends the session
        if opts.get("rate") is not None and self.pump.mode == "none":
            self._demo_rate(opts["rate"])

    def boot(self, cause):
        """Boot the firmware from its flash files, as a board does after reset."""
        self.pump, self.shell = app.build(self.board, start_time=self.opts["start"], fs=self.fs, cause=cause)
        self.shell.add(
            "sim", ANY, self.cmd_sim, "sim run DURATION|...", "simulator controls (sim board only); help sim"
        )
        from tools.sim.simcmds import USAGES

        self.shell.commands["sim"].detail = "\n  ".join(USAGES)
        for name in ("quit", "exit"):
            self.shell.add(name, ANY, self.cmd_quit, name, "end the simulator (sim board only)")
        self.board.start_ticks(self.pump.engine.on_tick)
        self.board.start_watchdog()  # as console.serve does after build; the self-test asks

    def power_cut(self, ms):
        """Power off for `ms` of virtual time, then boot again (plain mode, logged out)."""
        self.pump.engine.stop()
        self.pump.store.enabled = False  # the old firmware is gone: it writes nothing more
        self.board.stop_ticks()
        self.board.stop_watchdog()  # a reset disarms it: the new boot must arm it again
        self.board.clock.advance_ms(ms)
        # dropped before the new one is built, as RAM is lost: two whole firmwares at once
        # did not fit a fragmented 512 KB heap (the trend's 6 KB array failed)
        del self.pump, self.shell
        self.boot("power-cut")

    def _demo_rate(self, text):
        # --rate ML_PER_DAY: a plain continuous program for first demonstrations
        whole, _, frac = text.partition(".")
        frac = (frac + "000000")[:6]
        if not whole.isdigit() or not frac.isdigit():
            raise SystemExit("--rate wants a decimal mL/day")
        nl = int(whole) * 1000000 + int(frac)
        steps = (nl * self.pump.steps_per_ml + 500000) // 1000000
        self.pump.set_basal(steps, "continuous")
        self.pump.start()

    # ---- time -------------------------------------------------------------

    def step_ms(self):
        return self.board.sample_ms

    def run_ms(self, ms):
        pump = self.pump
        clock = self.board.clock
        per_ms = self.board.tick_hz // 1000
        while ms > 0:
            dt = self.step_ms()
            nxt = self._next_event_ms()
            if nxt is not None and 0 < nxt < dt:
                dt = nxt  # land exactly on a programmed rate change
            if dt > ms:
                dt = ms
            clock.advance_ms(dt)
            pump.engine.advance(dt * per_ms)
            pump.service()
            ms -= dt

    def _next_event_ms(self):
        f = getattr(self.pump.therapy, "next_event_ms", None)
        t = f() if f is not None else None
        # land a step on the checkpoint's due time, as a board's 10 ms loop would
        c = self.pump.store.next_due_ms() if self.pump.store is not None else None
        if c is not None and c > 0 and (t is None or t <= 0 or c < t):
            t = c
        # and on the supervisor's samples while it guards a back-off
        f = getattr(self.pump.safety, "next_due_ms", None)
        s = f() if f is not None else None
        if s is not None and s > 0 and (t is None or t <= 0 or s < t):
            t = s
        return t

    # ---- shell ------------------------------------------------------------

    def feed(self, data):
        out = []
        for line in self.lines.feed(data):
            r = self.shell.handle(line)
            if r is not None:
                out.append(r)
        return out

    def finish(self):
        out = []
        for line in self.lines.flush():
            r = self.shell.handle(line)
            if r is not None:
                out.append(r)
        return out

    def save(self):
        """--state DIR: the flash files and the physical model written there now (the background
        simulator's `sim save` after each pumpctl call), so DIR is as the call left it."""
        self.board.save_model(self.opts.get("state"))
        sync = getattr(self.fs, "sync", None)
        if sync is not None:
            sync()

    def shutdown(self):
        """End of input: a clean shutdown, records and clock saved for the next start."""
        self.pump.engine.stop()
        self.pump.store.shutdown(clock_ok=True)
        self.board.save_model(self.opts.get("state"))
        sync = getattr(self.fs, "sync", None)
        if sync is not None:
            sync()  # --state DIR: the records and log reach the directory

    def cmd_quit(self, sh, words):
        if words:
            raise PumpError(E_SYNTAX, "usage: quit")
        self.quit = True
        return {"quit": True, "text": "simulator ending"}

    def cmd_sim(self, sh, words):
        if not words:
            raise PumpError(E_SYNTAX, "usage: sim run DURATION")
        if words[0] == "run":
            if len(words) != 2:
                raise PumpError(E_SYNTAX, "usage: sim run DURATION")
            ms = parse_duration_ms(words[1])
            self.run_ms(ms)
            return {"ran_ms": ms}
        if words[0] == "power-cut":
            if len(words) > 2:
                raise PumpError(E_SYNTAX, "usage: sim power-cut [DURATION]")
            ms = 0 if len(words) == 1 or words[1] == "0" else parse_duration_ms(words[1])
            self.power_cut(ms)
            return {"power_cut_ms": ms, "text": "power restored; firmware restarted"}
        if words[0] == "save":
            # the host's copy, not the pump's doing: no time moves, nothing is logged
            if len(words) != 1:
                raise PumpError(E_SYNTAX, "usage: sim save")
            self.save()
            return {"saved": bool(self.opts.get("state"))}
        from tools.sim import simcmds

        return simcmds.handle(self, words)
