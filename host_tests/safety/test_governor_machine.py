# cpython-only: hypothesis drives every command that moves or changes drug
"""The dose governor's invariant as a state machine: any sequence of programs of every mode and
switches between them, boluses, ptm and the button, priming, calibration runs, refills with
concentration changes (slips confirmed, bridges kept or skipped), time set, stop and start, and
power cuts of random length keeps every trailing 24 h window of the drug out of the tip (the
test's own plug-flow reference, from the engine's step record) within the hard limit."""

from governor_ops import Session
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

small = st.integers(0, 1000)


class GovernorMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.s = Session()

    @rule(kind=st.integers(0, 3), a=small, b=small, override=st.booleans())
    def program(self, kind, a, b, override):
        self.s.program(kind, a, b, override)

    @rule()
    def start(self):
        self.s.start()

    @rule()
    def stop(self):
        self.s.stop()

    @rule(a=small, b=small)
    def bolus(self, a, b):
        self.s.bolus(a, b)

    @rule()
    def ptm(self):
        self.s.ptm()

    @rule()
    def button(self):
        self.s.button()

    @rule(a=small)
    def prime(self, a):
        self.s.prime(a)

    @rule(a=small)
    def calibrate(self, a):
        self.s.calibrate(a)

    @rule(c=small, nobridge=st.booleans(), add=small)
    def refill(self, c, nobridge, add):
        self.s.refill(c, nobridge, add)

    @rule(a=small)
    def time_set(self, a):
        self.s.time_set(a)

    @rule(minutes=st.integers(0, 180))
    def power_cut(self, minutes):
        self.s.power_cut(minutes)

    @rule(minutes=st.integers(1, 720))
    def wait(self, minutes):
        self.s.wait(minutes)

    @invariant()
    def within_the_hard_limit(self):
        self.s.check()


GovernorMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_governor_machine = GovernorMachine.TestCase
