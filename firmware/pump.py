"""The pump: engine, accounting and clocks, and the services that run beside them.

`service()` is the main loop's one call: it folds the engine's counters and
lets each service (therapy, safety, alarms, store...) do what is due. It never
blocks; the board's main loop and the simulator both call it.
"""

try:
    from typing import Any  # noqa: F401  (type comments below; absent on the boards)
except ImportError:
    pass

from firmware import isotime
from firmware.dose import DoseEngine
from firmware.ledger import Ledger
from firmware.safety.alarms import Alarms
from firmware.safety.governor import Governor

VERSION = "0.1.0"

STOPPED = "stopped"
RUNNING = "running"
SUSPENDED = "suspended"
REFILL = "refill"
ALARM = "alarm"


class Uptime:
    """Monotonic milliseconds since boot, folded from the wrapping ticks_ms.

    ticks_diff is only right for spans below 2**29 ms (6.2 days), so the main
    loop folds often; the total is an ordinary int that may grow past 2**30
    (outside any interrupt handler, where a long int is allowed).
    """

    def __init__(self, clock):
        self._clock = clock
        self._last = clock.ticks_ms()
        self.ms = 0

    def update(self):
        now = self._clock.ticks_ms()
        d = self._clock.ticks_diff(now, self._last)
        if d > 0:
            self.ms += d
            self._last = now
        return self.ms


class Pump:
    def __init__(self, board, start_time=None):
        self.board = board
        self.clock = board.clock
        self.engine = DoseEngine(board.stepper, board.clock, tick_hz=board.tick_hz, int_limit=board.int_limit)
        self.ledger = Ledger(self.engine)
        self.uptime = Uptime(board.clock)
        self.pump_ms_base = 0  # pump time carried across resets (persistence restores it)
        self._wall_base = start_time if start_time is not None else isotime.parse("2026-01-01T00:00:00")
        self._wall_at_ms = 0
        self.clock_uncertain = False
        self.state = STOPPED
        self.steps_per_ml = board.default_steps_per_ml
        self.basal = 0  # steps per day of the confirmed program (therapy sets it)
        self.mode = "none"
        self.services = []
        self.listeners = []  # callables(event, fields): the event log subscribes
        # services set by app.build; None until their issue lands
        self.alarms = Alarms(self)
        self.services.append(self.alarms)
        self.auth = None  # type: Any
        self.therapy = None  # type: Any
        self.reservoir = None  # type: Any
        self.safety = None  # type: Any
        self.store = None  # type: Any
        self.log = None  # type: Any
        self.trend = None  # type: Any
        self.stepcheck = None  # type: Any  # the independent step count (safety.attach)
        self.restarts = None  # type: Any  # restarts into an occlusion (safety.attach)
        self.power = None  # type: Any  # the battery block and its line fault (safety.attach)
        self.selftest = None  # type: Any  # the power-on self-test and periodic checks (app.build)
        # the dose governor is part of every pump, its first service: it arms the engine's
        # allowance on every pass, and the engine moves nothing until it has
        self.governor = Governor(self)
        self.services.insert(0, self.governor)

    # ---- time ----------------------------------------------------------------

    def now_ms(self):
        return self.uptime.ms

    def pump_ms(self):
        """The pump's own elapsed time: monotonic across resets, unmoved by `time set`."""
        return self.pump_ms_base + self.uptime.ms

    def wall(self):
        """Unix seconds of the wall clock."""
        return self._wall_base + (self.uptime.ms - self._wall_at_ms) // 1000

    def wall_at(self, ms):
        """Unix seconds of the wall clock at uptime `ms` (earlier ones too: the boot's own log)."""
        return self._wall_base + (ms - self._wall_at_ms) // 1000

    def wall_frac_ms(self):
        """Milliseconds since the wall clock's last whole second (0..999)."""
        return (self.uptime.ms - self._wall_at_ms) % 1000

    def set_wall(self, unix_s, uncertain=False):
        self._wall_base = unix_s
        self._wall_at_ms = self.uptime.ms
        self.clock_uncertain = uncertain

    # ---- events --------------------------------------------------------------

    def event(self, name, **fields):
        for f in self.listeners:
            f(name, fields)

    # ---- delivery ------------------------------------------------------------

    def set_basal(self, steps_per_day, mode):
        self.basal = steps_per_day
        self.mode = mode
        if self.state == RUNNING:
            self.engine.set_rate(steps_per_day)

    def start(self):
        if self.state == RUNNING:
            return
        self.engine.set_rate(self.basal)
        self.engine.start()
        self.state = RUNNING
        self.event("start")

    def stop(self, why="stop", state=STOPPED):
        self.engine.stop()
        self.state = state
        self.event(why)

    def alarm_stop(self, code):
        """A stopping alarm: the motor stops within one tick; `start` resumes after ack."""
        self.engine.stop()
        if self.state != ALARM:
            self.state = ALARM
            self.event("alarm_stop", code=code)

    def account(self):
        """Take the steps made so far into the ledger, the step check and the governor now: before
        a change of drug, concentration or calibration, so no step is valued at the new one."""
        self.uptime.update()
        self.ledger.fold(self.pump_ms())
        if self.stepcheck is not None:
            self.stepcheck.service(self)
        self.governor.service(self)

    def service(self):
        self.uptime.update()
        self.ledger.fold(self.pump_ms())
        for s in self.services:
            s.service(self)
        # defence in depth: whatever path restarted the motor, an unacknowledged
        # stopping alarm keeps it stopped (SPEC 7)
        if self.state == RUNNING or self.engine.running():
            held = self.alarms.stopping_unacked()
            if held:
                self.alarm_stop(held[0].code)
