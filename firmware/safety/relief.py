"""The back-off after an occlusion, guarded by the line pressure (SPEC 6).

The detector's back-off (occlusion.relief) is an upper bound: the fitted
rise times the largest compliance, or the volume pushed since the rise
began, less a margin. On a partly blocked stiff line that bound is more
than the line holds, and backing it off blindly draws fluid back from the
patient. So it runs in chunks, and before each one the pressure is read
(a mean of several reads): the back-off ends as soon as the line is within
`guard_pa` of the baseline it had before the blockage, whatever is left of
the bound.

Each chunk is what would lower the pressure by the excess over the guard on
the stiffest line (0.5 uL/kPa): a more compliant line drops less per chunk
and takes a few more, a stiffer one cannot overshoot the guard. The guard
never adds to the bound, so it can only draw back less than the bound
alone; what it leaves in the line (at most guard x compliance, 1 uL at
2 uL/kPa) is released when the blockage clears, within the 2 uL target.

A cough or a strain lifts the patient's pressure, and so the reading, for
seconds: backing off against it would take the line below the patient.
The line's own pressure can only fall once the motor stops: from the fitted
pressure at the stop, each chunk lowers it by at least its volume over the
softest compliance. A reading above that ceiling is the patient's: the
back-off waits (HOLD_SAMPLES at most, then stops), and no chunk is sized on
more than the ceiling. A spike already under way when the motor stopped,
on a partly blocked stiff line, can still take it up to spike x compliance
below the patient (docs/sim_model.md, Limits).
"""

GUARD_PA = 500  # 3.5 sigma of an 8-read mean of the +-1 kPa sensor
C_MIN_NL_KPA = 500  # the stiffest line the pump is specified for
C_MAX_NL_KPA = 2000  # the softest: a chunk lowers the line by at least its volume over this
CEILING_TOL_PA = 1000  # the fit's and the mean's error on the line's pressure at the stop
HOLD_SAMPLES = 48  # 12 s at 4 samples a second: longer than a cough or a strain
READS = 8

GUARD = "guard"  # the line came down to its baseline
BOUND = "bound"  # the detector's whole bound was backed off
SENSOR = "sensor"  # no usable pressure reading: stop backing off (errs toward a bolus)
UNSTEADY = "unsteady"  # the pressure stayed above what the line can hold: stop (errs toward a bolus)
CANCELLED = "cancelled"  # delivery restarted or another stop took over


class Relief:
    def __init__(self, bound_steps, base_pa, steps_per_ml, stop_pa=None, guard_pa=GUARD_PA):
        self.left = bound_steps if bound_steps > 0 else 0
        self.done = 0
        self.base_pa = base_pa
        self.guard_pa = guard_pa
        self._spm = steps_per_ml
        # the highest pressure the line can have now: the fitted pressure at the stop, less
        # what each chunk must at least have lowered it. A reading above it is the patient's
        # (a cough lifts the pressure for seconds): backing off against it would draw back
        self.ceiling_pa = stop_pa + CEILING_TOL_PA if stop_pa is not None else None
        self.holds = 0
        self.end = None  # why it ended (GUARD, BOUND, SENSOR, UNSTEADY, CANCELLED); None while running
        self.last_dp_pa = None  # the last reading above the baseline

    def next(self, p_pa):
        """Steps to back off now, given the line pressure now (0: wait for the next sample, or,
        once `end` is set, done)."""
        if self.end is not None:
            return 0
        if p_pa is None:
            return self.stop(SENSOR)
        if self.ceiling_pa is not None and p_pa > self.ceiling_pa:
            self.holds += 1
            return self.stop(UNSTEADY) if self.holds >= HOLD_SAMPLES else 0
        if self.ceiling_pa is not None and p_pa > self.ceiling_pa - CEILING_TOL_PA:
            p_pa = self.ceiling_pa - CEILING_TOL_PA  # never size a chunk on more than the fitted line
        self.last_dp_pa = p_pa - self.base_pa
        over = self.last_dp_pa - self.guard_pa
        if over <= 0:
            return self.stop(GUARD)
        if self.left <= 0:
            return self.stop(BOUND)
        # the volume that lowers the stiffest line by `over` (outside any interrupt: an
        # intermediate past small ints costs nothing that matters here)
        n = over * C_MIN_NL_KPA * self._spm // 1000000000
        if n < 1:
            n = 1
        if n > self.left:
            n = self.left
        self.left -= n
        self.done += n
        if self.ceiling_pa is not None:
            self.ceiling_pa -= n * 1000000000 // (C_MAX_NL_KPA * self._spm)
        return n

    def stop(self, why):
        if self.end is None:
            self.end = why
        return 0
