"""The pressure-guarded back-off: stops at the baseline's guard, never past its bound."""

from firmware.safety import relief as rl

SPM = 20000  # 0.05 uL a step
BASE = 1500  # Pa


def run(bound, stored_ul, c_ul_kpa, leak=0.0, read=None):
    """A lumped line (pressure = base + stored / C) backed off chunk by chunk; returns (relief, stored)."""
    r = rl.Relief(bound, BASE, SPM)
    chunks = 0
    while True:
        p = BASE + int(stored_ul / c_ul_kpa * 1000) if read is None else read(stored_ul)
        n = r.next(p)
        if r.end is not None:
            return r, stored_ul, chunks
        chunks += 1
        stored_ul -= n * 1000.0 / SPM
        stored_ul -= stored_ul * leak  # a partial blockage lets some through between samples


def test_a_stiff_partly_blocked_line_stops_at_the_guard_before_the_bound():
    # 10 uL pushed since the knee, 4 uL of it still in a 0.5 uL/kPa line (8 kPa up): the bound
    # (pushed, less the margin) is 9 uL, which would draw 5 uL back from the patient
    r, left, _ = run(bound=180, stored_ul=4.0, c_ul_kpa=0.5, leak=0.01)
    assert r.end == rl.GUARD and r.left > 0
    assert 0 <= left <= rl.GUARD_PA / 1000 * 0.5  # nothing drawn back, at most guard x C left


def test_a_complete_blockage_backs_off_its_whole_bound_when_the_line_holds_more():
    # a soft line (2 uL/kPa) holding 12.5 uL: the bound (11 uL) ends first, 1.5 uL left (0.75 kPa)
    r, left, chunks = run(bound=220, stored_ul=12.5, c_ul_kpa=2.0)
    assert r.end == rl.BOUND and r.done == 220 and r.left == 0
    assert abs(left - 1.5) < 1e-9
    assert 3 < chunks < 40  # a soft line takes several chunks: each is sized for the stiffest


def test_on_the_stiffest_line_one_chunk_lands_on_the_guard():
    r, left, chunks = run(bound=1000, stored_ul=10.0, c_ul_kpa=rl.C_MIN_NL_KPA / 1000)
    assert r.end == rl.GUARD and chunks == 1
    assert abs(left - rl.GUARD_PA / 1000 * rl.C_MIN_NL_KPA / 1000) <= 0.05  # within a step


def test_the_guard_never_backs_off_more_than_the_bound():
    for c in (0.5, 1.0, 2.0):
        for bound in (0, 1, 7, 100, 400):
            r, _, _ = run(bound=bound, stored_ul=30.0, c_ul_kpa=c)
            assert r.done <= bound and r.done + r.left == bound


def test_no_reading_stops_the_back_off_at_once():
    r, left, chunks = run(bound=200, stored_ul=5.0, c_ul_kpa=1.0, read=lambda s: None)
    assert r.end == rl.SENSOR and r.done == 0 and chunks == 0 and left == 5.0


def test_a_line_already_at_its_baseline_is_not_backed_off():
    r = rl.Relief(200, BASE, SPM)
    assert r.next(BASE + rl.GUARD_PA) == 0 and r.end == rl.GUARD and r.done == 0
    assert r.next(BASE + 50000) == 0  # ended: stays ended


def test_a_cough_during_the_back_off_is_waited_out_not_backed_off_against():
    # a soft line (2 uL/kPa) partly blocked: it holds 12 uL (6 kPa) but 20 uL were pushed, so
    # only the pressure stops the back-off. A 3 kPa cough lifts the readings from the third
    # sample for ten samples: against it the guard alone would take the line 5 uL below
    stored = [12.0]
    seen = [0]

    def read():
        seen[0] += 1
        cough = 3000 if 3 <= seen[0] <= 12 else 0
        return BASE + int(stored[0] / 2.0 * 1000) + cough

    r = rl.Relief(400, BASE, SPM, stop_pa=BASE + 6000)
    while r.end is None:
        stored[0] -= r.next(read()) * 1000.0 / SPM
    assert r.holds >= 5 and r.end == rl.GUARD, (r.holds, r.end)
    assert 0 <= stored[0] <= 1.0, stored[0]  # at most guard x C left, nothing drawn back


def test_a_pressure_that_never_comes_down_stops_the_back_off():
    r = rl.Relief(1000, BASE, SPM, stop_pa=BASE + 8000)
    assert r.next(BASE + 8000) > 0
    for _ in range(rl.HOLD_SAMPLES):
        assert r.next(BASE + 8000) == 0  # the chunk should have lowered it: not the line
    assert r.end == rl.UNSTEADY


def test_no_chunk_is_sized_on_more_than_the_fitted_stop_pressure():
    a = rl.Relief(1000, BASE, SPM, stop_pa=BASE + 8000)
    b = rl.Relief(1000, BASE, SPM, stop_pa=BASE + 8000)
    assert a.next(BASE + 8000) == b.next(BASE + 8900)  # 0.9 kPa of cough at the stop: ignored
