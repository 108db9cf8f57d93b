"""The independent step check: what the STEP pin did against what the engine says and was told.

Each main-loop pass (`service`) it reads the board's independent count (a PIO
state machine on rp2, the pulse counter on esp32, the pins on the sim board:
`board.stepcount`, counts modulo its `modulus`) and the engine's own counters,
and checks three things:

1. Counts agree. The forward and the reverse deltas of both are summed since
   the last trip or start; a difference of more than one step (a read can fall
   between a pulse and the engine's count of it) is a fault. This catches the
   engine's counter slots overwritten, and steps the engine did not count.
2. The rate slots are what `set_rate` last wrote (`engine.shadow`) and the
   fixed slots (ticks per day, tick period, late bound) what they were at boot.
   A rate slot overwritten behind the main loop's back (one step a tick, say)
   makes the engine and the pin agree, so this is what catches it: at the first
   pass after the write.
3. The pin's forward steps stay within what the commanded rate allows. Credit
   accrues at the highest rate set_rate last commanded (rate or `then`, the
   previous pass's too) over the real elapsed time, capped at one late bound
   (1 s) of steps plus SLACK when carried to a later pass, and each forward
   edge spends one; below -SLACK is
   a fault. This catches faults the slots do not show (steps owed overwritten,
   the accumulator pushed) with at most SLACK + one second of the commanded
   rate + one pass of steps beyond what was allowed (docs/safety.md).

A fault disables the driver (EN), stops the engine and raises the high,
stopping `STEP_MISMATCH` alarm (SPEC 7 as amended in docs/safety.md). After
`ack` and `start` it counts from a fresh baseline.

`fwd_total()` is the cumulative forward steps the pin made since boot: a dose
governor counts from it. With no counter (the simulator's closed-form jumps
move no pin) it is the engine's own count.
"""

from firmware.dose import MODE_RUN, MODE_STOP, WRAP

CODE = "STEP_MISMATCH"
MISMATCH = 1  # steps the two counts may differ by at a read
SLACK = 2  # steps beyond the commanded rate's credit: the DDA's phase and a read's skew
_SMALL = (1 << 30) - 1

# slot numbers of the engine's state array (firmware/dose.py; host_tests/safety/test_stepcheck.py checks
# they match: MicroPython keeps `_X = const(...)` out of the module's globals)
SLOTS = {
    "ACC": 0,
    "N": 1,
    "D": 2,
    "CHUNK": 3,
    "OWED": 4,
    "MODE": 6,
    "PEND": 10,
    "PN": 11,
    "PC": 12,
    "BUDGET": 13,
    "PB": 14,
    "THEN": 15,
    "THENC": 16,
    "TICKS": 17,
    "FWD": 18,
    "REV": 19,
    "PERIOD": 22,
    "HALF": 23,
    "BOUND": 24,
    "ALLOW": 25,  # the dose governor's allowance: it checks this one itself
    "HELD": 26,
}
_N = 1
_D = 2
_CHUNK = 3
_PEND = 10
_PN = 11
_PC = 12
_BUDGET = 13
_PB = 14
_THEN = 15
_THENC = 16
_FWD = 18
_REV = 19
_PERIOD = 22
_HALF = 23
_BOUND = 24
_FIXED = (_D, _PERIOD, _HALF, _BOUND)  # set at boot, never changed


class StepCheck:
    def __init__(self, pump, counter=None):
        self._pump = pump
        self._eng = pump.engine
        self._ctr = counter
        self.source = counter.name if counter is not None else "engine"
        s = self._eng._s
        self._fixed = [s[i] for i in _FIXED]
        self._d = s[_D]
        self._tick_hz = self._eng.tick_hz
        self._late_s = max(1, s[_BOUND] // self._tick_hz)
        self._fwd = 0
        self._rev = 0
        self._s = s
        self._ef = s[_FWD]
        self._er = s[_REV]
        c = counter.counts() if counter is not None else (0, 0)
        self._pf = c[0]
        self._pr = c[1]
        self._held = False  # tripped, until the next start
        self.trips = 0
        pump.listeners.append(self._on_event)
        self._fresh()

    # ---- baselines ------------------------------------------------------------

    def _take(self):
        """Read both counts; add the steps since the last read to the totals and the differences."""
        s = self._s
        ef = s[_FWD]  # the engine first: a step between the reads shows as the pin ahead
        er = s[_REV]
        ctr = self._ctr
        dfe = (ef - self._ef) % WRAP
        dre = (er - self._er) % WRAP
        self._ef = ef
        self._er = er
        if ctr is None:
            self._fwd += dfe
            self._rev += dre
            return dfe
        c = ctr.counts()
        m = ctr.modulus
        pf = (c[0] - self._pf) % m
        pr = (c[1] - self._pr) % m
        self._pf = c[0]
        self._pr = c[1]
        self._df += dfe - pf
        self._dr += dre - pr
        self._fwd += pf
        self._rev += pr
        return pf

    def _fresh(self):
        """Judge from here on: no difference carried, credit for the first step only."""
        self._df = 0  # engine minus pin, forward, since the baseline
        self._dr = 0
        self._credit = 1  # the accumulator's phase: the first step may fall on the first tick
        self._num = 0  # credit's fraction, in steps x ticks per day
        self._t_us = self._pump.clock.ticks_us()
        self._frac_us = 0
        self._rate = self._allowed_rate()

    def _on_event(self, name, fields):
        if name == "start":
            a = self._pump.alarms.get(CODE)
            if a is not None and a.acked:
                self._pump.alarms.clear(CODE)
            self._take()
            self._fresh()
            self._held = False

    # ---- the pass ---------------------------------------------------------------

    def fwd_total(self):
        """Forward steps since boot, as the independent counter saw them (else the engine's)."""
        return self._fwd

    def rev_total(self):
        return self._rev

    def service(self, pump):
        pf = self._take()
        if self._held and self._eng.mode() == MODE_STOP:
            # tripped and still stopped: a fault that stays (a slot left wrong) is one alarm, not
            # one a pass; if anything moves the motor again before a `start`, it is judged again
            self._fresh()
            return
        if self._df > MISMATCH or self._df < -MISMATCH or self._dr > MISMATCH or self._dr < -MISMATCH:
            self._trip(
                "counts", "engine %+d forward, %+d reverse against the STEP pin" % (self._df, self._dr)
            )
            return
        why = self._slots()
        if why is not None:
            self._trip("slots", why)
            return
        over = self._spend(pf)
        if over is not None:
            self._trip("rate", over)

    def _slots(self):
        s = self._s
        f = self._fixed
        if s[_D] != f[0] or s[_PERIOD] != f[1] or s[_HALF] != f[2] or s[_BOUND] != f[3]:
            return "a fixed slot (ticks per day, tick period, late bound) changed since boot"
        rate, pc, pb, then, thenc = self._eng.shadow
        if s[_PN] != rate or s[_PC] != pc or s[_PB] != pb or s[_THEN] != then or s[_THENC] != thenc:
            return "pending rate slots differ from the last set_rate"
        if not s[_PEND]:
            # taken by the handler: the rate, or `then` once the budget is spent
            if s[_N] != rate and s[_N] != then:
                return "rate slot %d steps/day, set_rate said %d (then %d)" % (s[_N], rate, then)
            if s[_CHUNK] != pc and s[_CHUNK] != thenc:
                return "chunk slot differs from the last set_rate"
            if s[_BUDGET] > pb or s[_BUDGET] < 0:
                return "budget slot %d above the %d set" % (s[_BUDGET], pb)
        return None

    def _allowed_rate(self):
        # forward steps per day the engine may make now: none unless it runs forward
        if self._eng.mode() != MODE_RUN:
            return 0
        rate, _pc, _pb, then, _thenc = self._eng.shadow
        return rate if rate > then else then

    def _spend(self, steps):
        clock = self._pump.clock
        now = clock.ticks_us()
        us = clock.ticks_diff(now, self._t_us) + self._frac_us
        self._t_us = now
        per = 1000000 // self._tick_hz
        ticks = us // per if us > 0 else 0
        self._frac_us = us - ticks * per if us > 0 else 0
        rate = self._allowed_rate()
        r = rate if rate > self._rate else self._rate  # a change during the interval: the higher
        self._rate = rate
        d = self._d
        # credit += ticks * r / d, exactly, in chunks whose products stay small ints on the board
        num = self._num
        got = 0
        if r:
            chunk = (_SMALL - d) // r
            while ticks > 0:
                m = ticks if ticks < chunk else chunk
                a = num + m * r
                q = a // d
                num = a - q * d
                got += q
                ticks -= m
        self._num = num
        # the credit carried from earlier passes is capped (a long idle banks nothing); what this
        # interval earned is spent whole: a pass tens of seconds long (the simulator's, a slow
        # flash write) moves that many steps of a slow rate, each one allowed
        cap = SLACK + (r // 86400) * self._late_s + 1
        credit = self._credit
        if credit > cap:
            credit = cap
        credit += got - steps
        self._credit = credit
        if credit < -SLACK:
            return "%d forward steps beyond the %d steps/day commanded" % (-credit, r)
        return None

    def _trip(self, kind, why):
        p = self._pump
        eng = self._eng
        eng.stop()  # no step after this; disables the driver
        p.board.stepper.disable()  # EN off whatever the engine's own state says
        self.trips += 1
        self._held = True
        p.event("step_mismatch", kind=kind, detail=why)
        p.alarms.raise_alarm(CODE, why)
        self._fresh()

    def status(self, pump, d):
        d["stepcount"] = {"source": self.source, "fwd": self._fwd, "rev": self._rev}


def attach(pump):
    sc = StepCheck(pump, getattr(pump.board, "stepcount", None))
    pump.stepcheck = sc
    # before the governor, which counts from it: the count it reads must be no older than the
    # engine count the allowance is armed from, or a pass of steps would go uncounted
    pump.services.insert(0, sc)
    return sc
