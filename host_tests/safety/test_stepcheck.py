"""The independent step check (firmware/safety/stepcheck.py) on the sim board's pin counter.

The pump is built as on a board (app.build) on the sim board with its STEP
pin counting edges split by DIR (`step_counter=True`), and the tick handler
is driven tick by tick from the virtual clock, with a main-loop pass every
PASS ticks. Faults are written straight into the engine's state array, as a
corrupted RAM word would be. Both interpreters.
"""

import sys

import heap

from boards import sim as simboard
from firmware import app, dose
from firmware.persist.flashfs import MemFs
from firmware.safety import stepcheck
from firmware.safety.governor import Governor
from firmware.safety.stepcheck import SLACK, SLOTS

PASS = 10  # ticks between main-loop passes (a board's loop polls every 10 ms)
BASAL = 1000000  # steps/day: 11.6 steps/s


class Hk:
    def __init__(self, counter=True, fs=None):
        if sys.implementation.name == "micropython":
            heap.collect()  # a whole firmware per test: the port's heap must not fragment
        self.board = simboard.Board(step_counter=counter)
        self.pump, self.sh = app.build(self.board, fs=fs)
        self.board.start_watchdog()  # as console.serve does after build (the self-test asks)
        self.sh.json = True
        self.eng = self.pump.engine
        self.s = self.eng._s
        self.step = self.board.pins["step"]
        self.en = self.board.pins["en"]
        self.events = []
        self.pump.listeners.append(lambda n, f: self.events.append((n, f)))

    def start(self, rate=BASAL):
        self.pump.set_basal(rate, "continuous")
        self.pump.start()

    def run(self, ticks):
        clock = self.board.clock
        tick = self.eng.on_tick
        for i in range(ticks):
            clock.advance_us(1000)
            tick(None)
            if (i + 1) % PASS == 0:
                self.pump.service()

    def codes(self):
        return self.pump.alarms.codes()

    def tripped(self):
        return [f for n, f in self.events if n == "step_mismatch"]


def test_slot_numbers_are_the_engines():
    # MicroPython keeps `_X = const(...)` out of a module's globals: checked where they are visible
    if not hasattr(dose, "_N"):
        return
    for name, i in SLOTS.items():
        assert getattr(dose, "_" + name) == i, name


def test_counts_agree_through_delivery_a_bolus_and_a_back_off():
    k = Hk()
    k.start()
    k.eng.set_rate(BASAL * 40, steps=300, then=BASAL)  # a bolus of 300 steps, then the basal
    k.run(20000)
    k.pump.stop()
    k.run(PASS)
    k.eng.back_off(50)
    k.run(200)
    sc = k.pump.stepcheck
    assert k.tripped() == [] and "STEP_MISMATCH" not in k.codes()
    assert sc.source == "sim"
    assert k.step.fwd > 500
    assert sc.fwd_total() == k.step.fwd == k.pump.ledger.fwd
    assert sc.rev_total() == k.step.rev == k.pump.ledger.rev == 50
    d = {}
    sc.status(k.pump, d)
    assert d["stepcount"] == {"source": "sim", "fwd": k.step.fwd, "rev": 50}


def _caught(k):
    assert len(k.tripped()) == 1, k.tripped()
    a = k.pump.alarms.get("STEP_MISMATCH")
    assert a is not None and a.priority == "high" and a.stops
    assert k.pump.state == "alarm"
    assert k.en.level == 1  # EN off: active low
    assert not k.eng.running()


def test_a_rate_slot_at_one_step_a_tick_is_caught_at_the_next_pass():
    k = Hk()
    k.start()
    k.run(3000)
    assert k.tripped() == []
    f0 = k.step.fwd
    k.run(3)  # the fault lands mid-pass
    k.s[SLOTS["N"]] = k.eng.max_rate()
    k.run(100)
    _caught(k)
    assert k.tripped()[0]["kind"] == "slots"
    extra = k.step.fwd - f0
    assert extra <= PASS, extra  # the steps of the rest of that pass, no more
    f1 = k.step.fwd
    k.run(500)
    assert k.step.fwd == f1  # nothing after


def test_the_forward_counter_slot_overwritten_is_caught():
    k = Hk()
    k.start()
    k.run(3000)
    k.s[SLOTS["FWD"]] = (k.s[SLOTS["FWD"]] + 12345) % dose.WRAP
    k.run(PASS)
    _caught(k)
    assert k.tripped()[0]["kind"] == "counts"


def test_steps_owed_overwritten_are_caught_by_the_rate_bound():
    # the slots set_rate wrote are intact and the engine counts every step it makes: only the
    # pin's count against the commanded rate shows that far too many go out
    k = Hk()
    k.start()
    k.run(3000)
    f0 = k.step.fwd
    k.s[SLOTS["OWED"]] = 500
    k.run(200)
    _caught(k)
    assert k.tripped()[0]["kind"] == "rate"
    extra = k.step.fwd - f0
    # the credit's cap (SLACK, one second of the rate, the phase) + SLACK + one pass of steps
    bound = SLACK + BASAL // 86400 + 1 + SLACK + PASS
    assert extra <= bound, (extra, bound)
    assert extra > SLACK  # and it did let the legitimate slack through


def test_a_long_pass_at_a_slow_rate_is_not_a_fault():
    # 20000 steps/day (1 mL/day): a step every 4.3 s. A main-loop pass 60 s late (a slow flash
    # write, the simulator's coarse passes) sees 13 steps; the rate allowed each of them. Seen
    # as STEP_MISMATCH stopping a refill's bridge as the new rate began
    k = Hk()
    k.start(20000)
    clock = k.board.clock
    tick = k.eng.on_tick
    for _ in range(3):
        for _ in range(60000):
            clock.advance_us(1000)
            tick(None)
        k.pump.service()
    assert not k.tripped(), k.tripped()
    assert k.step.fwd >= 3 * 13


def test_a_step_the_engine_never_made_is_caught_but_one_of_read_skew_is_not():
    k = Hk()
    k.start()
    k.run(2000)
    k.pump.stop()
    k.run(PASS)
    k.step(1)  # one edge from outside the engine: within the one step a read may fall between
    k.step(0)
    k.run(PASS)
    assert k.tripped() == []
    k.step(1)
    k.step(0)
    k.run(PASS)
    _caught(k)


def test_after_ack_and_start_it_counts_from_a_fresh_baseline():
    k = Hk()
    k.start()
    k.run(1000)
    k.s[SLOTS["N"]] = k.eng.max_rate()
    k.run(PASS)
    _caught(k)
    k.pump.alarms.ack()
    k.pump.start()
    assert "STEP_MISMATCH" not in k.codes()
    k.run(5000)
    assert len(k.tripped()) == 1
    assert k.pump.state == "running"
    assert k.eng.rate() == BASAL  # start set the commanded rate again


def test_a_changed_fixed_slot_is_caught():
    k = Hk()
    k.start()
    k.run(1000)
    k.s[SLOTS["D"]] = k.s[SLOTS["D"]] // 2  # half the ticks per day: twice the rate
    k.run(PASS)
    _caught(k)


def test_with_no_counter_it_counts_from_the_engine():
    k = Hk(counter=False)
    k.start()
    k.run(5000)
    sc = k.pump.stepcheck
    assert sc.source == "engine"
    assert sc.fwd_total() == k.pump.ledger.fwd > 0
    k.s[SLOTS["N"]] = k.eng.max_rate()  # the slot check works without a counter
    k.run(PASS)
    _caught(k)


def test_the_handler_with_a_counting_step_pin_allocates_nothing():
    try:
        import micropython

        lock, unlock = micropython.heap_lock, micropython.heap_unlock
    except (ImportError, AttributeError):
        return
    k = Hk()
    k.start(k.eng.max_rate())
    clock = k.board.clock
    tick = k.eng.on_tick
    k.run(20)
    lock()
    try:
        for _ in range(500):
            clock.advance_us(1000)
            tick(None)
    finally:
        unlock()
    assert k.step.fwd >= 500


def test_the_simulator_runs_therapy_with_no_false_alarm():
    # closed-form jumps, no pin count: the slot and rate checks still run every step
    from tools.sim.simrun import Simulator

    if sys.implementation.name == "micropython":
        heap.collect()
    sim = Simulator({"start": 1767225600, "seed": 1})
    lines = [
        "login clinician 1234",
        "rx drug morphine 10mg/mL",
        "program continuous 2mg",
        "program confirm",
        "start",
        "bolus 0.5mg over=30m",
        "sim run 1d",
        "program flex 06:00=4mg 22:00=1mg",
        "program confirm",
        "sim run 1d",
        "sim occlude on",
        "sim run 1h",
        "sim occlude off",
        "ack",
        "start",
        "sim run 2h",
        "stop",
        "status",
    ]
    for ln in lines:
        sim.feed((ln + "\n").encode())
    p = sim.pump
    assert p.stepcheck.source == "engine"
    assert p.ledger.fwd > 8000
    assert p.ledger.rev > 0  # the occlusion's back-off ran
    assert "STEP_MISMATCH" not in p.alarms.codes(), p.alarms.codes()


def test_testhook_is_absent_without_the_flag_file():
    k = Hk()
    k.sh.handle(b"login clinician 1234")
    r = k.sh.handle(b"testhook slot N 5")
    assert '"E_UNKNOWN"' in r, r
    assert k.s[SLOTS["N"]] != 5


def test_testhook_with_the_flag_file_overwrites_a_slot_and_logs_it():
    fs = MemFs()
    fs.write(app.TESTHOOK_FLAG, b"1")
    k = Hk(fs=fs)
    assert '"E_AUTH"' in k.sh.handle(b"testhook slot N 5")  # clinician only
    k.sh.handle(b"login clinician 1234")
    r = k.sh.handle(b"testhook slot n 86400000")
    assert '"ok": true' in r, r
    assert k.s[SLOTS["N"]] == 86400000
    used = [f for n, f in k.events if n == "testhook"]
    assert used == [{"slot": "N", "was": 0, "value": 86400000}], used
    assert '"E_RANGE"' in k.sh.handle(b"testhook slot NOPE 1")
    assert '"E_RANGE"' in k.sh.handle(b"testhook slot N -1")
    assert '"E_SYNTAX"' in k.sh.handle(b"testhook N 1")
    # the boot said hooks were on, and the use is on the log too
    logged = [str(e) for e in k.pump.log.entries()]
    assert [e for e in logged if "testhooks_enabled" in e], logged[-5:]
    assert [e for e in logged if "testhook" in e and "86400000" in e], logged[-5:]


def test_the_testhook_group_registers_exactly_its_names():
    from firmware.shell.shell import Shell

    k = Hk()
    sh = Shell(k.pump)
    app.group_loader("cmd_testhook")(sh)
    hooks = [n for _m, when, names in app.COMMANDS if when == app.TESTHOOK for n in names]
    assert sorted(sh.commands) == hooks
    assert stepcheck.CODE == "STEP_MISMATCH"


class FakePCNT:
    """esp32.PCNT as documented: a 16-bit counter, back to 0 at `max`; a mode pin can hold it."""

    INCREMENT = 1
    DECREMENT = 2
    IGNORE = 0
    NORMAL = 0
    REVERSE = 1
    HOLD = 2

    def __init__(self, unit):
        self.unit = unit
        self.cfg = {}
        self.v = 0
        self.max = 0
        self.running = False

    def init(self, **kw):
        if "max" in kw:
            self.max = kw["max"]
            self.v = 0  # setting a limit resets the counter
        for k in kw:
            self.cfg[k] = kw[k]

    def start(self):
        self.running = True

    def value(self):
        return self.v

    def deinit(self):
        self.running = False

    def edge(self, rising):
        c = self.cfg
        act = c.get("rising" if rising else "falling", 0)
        mode = c["mode_high"] if c["mode_pin"]() else c["mode_low"]
        if not self.running or act == 0 or mode == self.HOLD:
            return
        if mode == self.REVERSE:
            act = 3 - act
        self.v += 1 if act == self.INCREMENT else -1
        if self.max and self.v >= self.max:
            self.v = 0


class PcntPin(simboard.SimPin):
    def __init__(self):
        super().__init__(0)
        self.units = []

    def __call__(self, x=None):
        if x is None:
            return self.level
        v = 1 if x else 0
        if v != self.level:
            for u in self.units:
                u.edge(v == 1)
        self.level = v
        return None


def test_the_pcnt_counter_splits_by_dir_and_folds_its_16_bit_wrap():
    from drivers.stepcount_pcnt import MODULUS, PcntStepCount
    from drivers.stepper import Stepper

    k = Hk(counter=False)
    pin = PcntPin()
    dirp = k.board.pins["dir"]
    f, r = FakePCNT(0), FakePCNT(1)
    pin.units = [f, r]
    ctr = PcntStepCount(f, r, pin, dirp)
    assert f.cfg["mode_low"] == f.HOLD and f.cfg["mode_high"] == f.NORMAL
    assert r.cfg["mode_high"] == r.HOLD and f.max == MODULUS == 32000
    # the engine on this pin, and the check reading this counter
    k.board.stepper = st = Stepper(pin, dirp, k.board.pins["en"])
    eng = dose.DoseEngine(st, k.board.clock)
    k.pump.engine = k.eng = eng
    k.s = eng._s
    k.pump.ledger = type(k.pump.ledger)(eng)
    sc = stepcheck.StepCheck(k.pump, ctr)
    k.pump.services.remove(k.pump.stepcheck)
    k.pump.services.insert(0, sc)  # before the governor, as stepcheck.attach puts it
    k.pump.stepcheck = sc
    # a new engine: a new governor to arm it (the old one's allowance belongs to the old engine)
    k.pump.services.remove(k.pump.governor)
    k.pump.governor = Governor(k.pump)
    k.pump.services.insert(1, k.pump.governor)
    assert sc.source == "pcnt"
    k.start(eng.max_rate())  # a step every tick: two 16-bit wraps in 70 s
    k.run(70000)
    k.pump.stop()
    k.run(PASS)
    eng.back_off(40)
    k.run(100)
    assert k.tripped() == [], k.tripped()
    assert sc.fwd_total() == k.pump.ledger.fwd >= 69000
    assert sc.rev_total() == 40
    assert f.v == sc.fwd_total() % MODULUS
