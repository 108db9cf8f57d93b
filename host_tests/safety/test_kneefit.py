"""The hinge fit that dates the start of a blocked line's rise."""

from firmware.safety import kneefit


def hinge(knee, slope_num, slope_den, n=60, every=5, base=1500, w=3):
    return [
        (v, base + (slope_num * (v - knee) // slope_den if v > knee else 0), w)
        for v in range(0, n * every, every)
    ]


def test_a_clean_hinge_gives_its_knee_and_slope():
    for knee in (100, 133, 201, 250):
        got = kneefit.fit(hinge(knee, 100, 1), 300)
        assert got is not None
        k, num, den = got
        assert abs(k - knee) <= 1, (knee, got)
        assert abs(num * 100 // den - 10000) <= 150, got  # 100 Pa a step


def test_a_flat_line_has_no_knee():
    pts = [(v, 1500 + (v * 7919) % 5 - 2, 3) for v in range(0, 300, 5)]
    got = kneefit.fit(pts, 300)
    # noise may fit some slope; none that would date a rise inside the flat data with any weight
    assert got is None or got[1] * 300 // got[2] < 200


def test_too_few_bins_is_no_fit():
    assert kneefit.fit([(0, 1500, 1), (5, 1600, 1)], 10) is None


def test_a_cough_on_the_baseline_does_not_move_the_knee():
    pts = hinge(200, 50, 1)
    spiky = [(v, p + (4000 if 100 <= v < 115 else 0), w) for v, p, w in pts]
    k = kneefit.fit(spiky, 300)[0]
    assert abs(k - 200) <= 2, k


def test_weights_count_samples():
    # a heavy flat bin right before the knee pins the baseline; the knee stays put
    pts = hinge(150, 80, 1)
    heavy = [(v, p, 200 if v == 145 else w) for v, p, w in pts]
    k = kneefit.fit(heavy, 300)[0]
    assert abs(k - 150) <= 1, k
