"""Occlusion detection from line pressure against the volume pushed.

Two tests, on integers (pressure in Pa, volume in motor steps):

- absolute: the pressure stays `abs_pa` above the baseline for `abs_samples`
  samples in a row (a fast rise at priming rates);
- rise per volume: a blocked compliant line rises by dV / C (C 0.5-2 uL/kPa),
  so 20 uL raise it only 10-40 kPa, far below any absolute threshold. The
  samples are grouped into volume quanta (at least 1 uL, `quantum_ms` and two
  samples each) and each quantum keeps its minimum: a cough or posture spike
  is shorter than a quantum, so the minimum ignores it while a real rise lifts
  every sample. The baseline is the lowest quantum of the window; occlusion
  is declared when the last `rise_quanta` quanta all sit `rise_pa` above it.

The back-off's bound (SPEC 6) is the smaller of the rise times the line's
compliance and the volume pushed since the rise began. The compliance here
is the configured upper bound (2 uL/kPa), not the line's own: on a stiff
line (0.5 uL/kPa) partly blocked, the smaller term is then what was pushed,
and backing all of it off would draw back what leaked through (0.2 uL at
24 mL/day, about 1.6 uL at 48). So the bound is only the most the back-off
may take: relief.py runs it in chunks and stops when the line's pressure is
back at the baseline the fit found (`base_pa`), which a partial blockage
reaches before the bound. Where the rise began comes from a hinge fit on volume bins
(kneefit.py): dating it from the quanta alone put it up to 6 uL early and
drew that much back. The fit's own error is then taken off (MARGIN_NL), so
it falls on the side of a small bolus when the line clears (target at most
2 uL) rather than fluid drawn from the patient. The margin was chosen on the
sim model's 3,600 blockages in `make bench` (tools/bench/backoff.py), where
the fit dated the rise up to 0.9 uL early and up to 1.1 uL late (0.9 uL
still drew back 0.02 uL once in 3,600).
"""

from array import array

from firmware.safety import kneefit

try:
    from typing import Any  # noqa: F401  (type comments below; absent on the boards)
except ImportError:
    pass

WINDOW = 24  # quanta kept: 24 uL at least, beyond the 20 uL target
BINS = 96  # fit bins kept (a quarter uL each): the rise and a baseline before it, 24 uL
BIN_MAX_SAMPLES = 2048  # keeps a bin's pressure sum a small int (2048 x 300 kPa < 2**30)
REBASE = 1 << 28  # bin positions are kept relative to a base moved on before they leave small ints
MARGIN_NL = 1000


class Occlusion:
    def __init__(
        self,
        steps_per_ml,
        rise_pa=4000,
        rise_quanta=2,
        band_pa=500,
        quantum_ms=15000,
        abs_pa=50000,
        abs_samples=3,
        compliance_nl_kpa=2000,
        rise_max_ml_day=48,
    ):
        self.rise_pa = rise_pa
        self.rise_quanta = rise_quanta
        self.band_pa = band_pa
        self.quantum_ms = quantum_ms
        self.abs_pa = abs_pa
        self.abs_samples = abs_samples
        self.compliance_nl_kpa = compliance_nl_kpa
        self.set_steps_per_ml(steps_per_ml, rise_max_ml_day)
        # a ring of closed bins, allocated once: a list of tuples made one by one while pumping
        # left long-lived small objects all over the heap, and a 1 MB heap could no longer
        # give 21 KB in one block (the trend's save at shutdown failed)
        self._bv = array("i", [0] * BINS)  # mean position, steps after _vbase
        self._bp = array("i", [0] * BINS)  # mean Pa
        self._bw = array("i", [0] * BINS)  # samples
        self.reset()

    def set_steps_per_ml(self, steps_per_ml, rise_max_ml_day=48):
        self.steps_per_ml = steps_per_ml
        self.quantum_steps = steps_per_ml // 1000 or 1  # 1 uL
        self.bin_steps = steps_per_ml // 4000 or 1
        self.rise_max_rate = rise_max_ml_day * steps_per_ml

    def reset(self):
        """A fresh baseline (after start, a rate jump from stopped, an ack and restart)."""
        self._mins = []  # per closed quantum: [min Pa, start steps]
        self._qmin = None
        self._qstart = None
        self._qms = 0
        self._qn = 0
        self._above = 0
        self._bhead = self._bcount = 0  # the ring of closed bins: oldest, how many
        self._vbase = None  # type: Any
        self._b0 = None  # type: Any  # open bin: first position, sum of offsets, sum of Pa, samples
        self._bsv = self._bsp = self._bn = 0
        self.last = None  # type: Any  # what the last detection saw, for the log

    def baseline(self):
        m = self._mins
        if len(m) <= self.rise_quanta:
            return m[0][0] if m else self._qmin
        b = m[0][0]
        for i in range(1, len(m) - self.rise_quanta):
            if m[i][0] < b:
                b = m[i][0]
        return b

    def sample(self, p_pa, steps, dt_ms, rate):
        """One pressure sample while pumping forward; returns a detection dict or None."""
        self._bin(p_pa, steps)
        if self._qstart is None:
            self._qstart = steps
            self._qmin = p_pa
            self._qms = 0
            self._qn = 0
        if p_pa < self._qmin:
            self._qmin = p_pa
        self._qms += dt_ms
        self._qn += 1
        base = self.baseline()
        if base is None:
            base = p_pa
        # absolute test on raw samples
        if p_pa - base >= self.abs_pa:
            self._above += 1
            if self._above >= self.abs_samples:
                return self._detect("absolute", p_pa, base, steps)
        else:
            self._above = 0
        if steps - self._qstart < self.quantum_steps or self._qms < self.quantum_ms or self._qn < 2:
            return None
        # close the quantum
        self._mins.append([self._qmin, self._qstart])
        if len(self._mins) > WINDOW:
            self._mins.pop(0)
        self._qstart = steps
        self._qmin = p_pa
        self._qms = 0
        self._qn = 0
        if rate > self.rise_max_rate or len(self._mins) <= self.rise_quanta:
            return None
        base = self.baseline()
        m = self._mins
        for i in range(len(m) - self.rise_quanta, len(m)):
            if m[i][0] - base < self.rise_pa:
                return None
        return self._detect("rise", p_pa, base, steps)

    def _bin(self, p_pa, steps):
        if self._vbase is None:
            self._vbase = steps
        rel = steps - self._vbase
        if rel > REBASE:
            self._rebase(rel)
            rel = steps - self._vbase
        if self._b0 is None:
            self._b0 = rel
            self._bsv = self._bsp = self._bn = 0
        self._bsv += rel - self._b0
        self._bsp += p_pa
        self._bn += 1
        if rel - self._b0 >= self.bin_steps or self._bn >= BIN_MAX_SAMPLES:
            if self._bcount < BINS:
                i = (self._bhead + self._bcount) % BINS
                self._bcount += 1
            else:
                i = self._bhead  # the oldest goes
                self._bhead = (i + 1) % BINS
            n = self._bn
            self._bv[i] = self._b0 + self._bsv // n
            self._bp[i] = self._bsp // n
            self._bw[i] = n
            self._b0 = None

    def _rebase(self, shift):
        for j in range(self._bcount):
            i = (self._bhead + j) % BINS
            self._bv[i] -= shift
        if self._b0 is not None:
            self._b0 -= shift
        self._vbase += shift

    def _points(self):
        """The bins oldest first, the open one last: [(position after _vbase, mean Pa, samples)]."""
        pts = []
        for j in range(self._bcount):
            i = (self._bhead + j) % BINS
            pts.append((self._bv[i], self._bp[i], self._bw[i]))
        n = self._bn
        if self._b0 is not None and n:
            pts.append((self._b0 + self._bsv // n, self._bsp // n, n))
        return pts

    def _detect(self, kind, p_pa, base, steps):
        self.last = {"kind": kind, "dp_pa": p_pa - base, "at_steps": steps, "p_pa": p_pa}
        return self.last

    def relief(self, steps):
        """The back-off for the last detection, in steps: called once the motor has stopped, as
        the fit takes longer than a tick on a board. Fills in the detection's log fields."""
        hit = self.last
        base = self._vbase if self._vbase is not None else steps
        pts = self._points()
        got = kneefit.fit(pts, steps - base)
        if got is None:
            pushed, stored = self._quanta_rise(hit["dp_pa"], steps)
            # the quanta's baseline is a minimum, below the line's mean: the guard then
            # stops later, never sooner than the bound alone would
            hit["base_pa"] = hit["p_pa"] - hit["dp_pa"]
            hit["stop_pa"] = hit["p_pa"]
        else:
            knee, num, den = got
            hit["base_pa"] = kneefit.level(pts, knee, num, den)
            # the fitted line's pressure where the motor stopped: one noisy sample could be a cough
            hit["stop_pa"] = hit["base_pa"] + num * (steps - base - knee) // den
            pushed = steps - base - knee
            cmax = self.compliance_nl_kpa * self.steps_per_ml  # steps per kPa, x 10**6
            # the fitted rise over the pushed volume times the largest compliance
            stored = num * pushed * cmax // (den * 1000000000)
        margin = MARGIN_NL * self.steps_per_ml // 1000000
        back = (stored if stored < pushed else pushed) - margin
        if back < 0:
            back = 0
        hit["pushed_steps"] = pushed
        hit["backoff_steps"] = back
        return back

    def _quanta_rise(self, dp, steps):
        # too few bins to fit (an absolute hit soon after a start): the rise began in the last
        # quantum still at the baseline's level, judged against the lower quartile of the
        # earlier quanta so the noise between quanta does not push the start back
        m = self._mins
        early = sorted(q[0] for q in m[: len(m) - self.rise_quanta]) if len(m) > self.rise_quanta else []
        ref = early[len(early) // 4] if early else self.baseline()
        start = m[0][1] if m else self._qstart
        for mn, st in m:
            if ref is None or mn - ref <= self.band_pa:
                start = st
        return steps - start, dp * self.compliance_nl_kpa * self.steps_per_ml // 1000000000
