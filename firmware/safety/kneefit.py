"""Where a blocked line's pressure rise began: a hinge fit on volume bins.

Each bin is the mean pressure (Pa) over a quarter uL of pushed volume, at
the mean motor position of its samples, weighted by its number of samples
(so the fit is nearly the fit of every sample, at a bounded cost). A complete blockage makes pressure flat
until the knee v0, then rise by 1/C per volume: P = b + s * max(0, v - v0).
For each candidate knee the best b and s are a linear least-squares fit, and
the knee kept is the one with the least squared error (the largest
explained variance, compared as exact integer fractions: no float, and the
big integers appear once per detection, outside any interrupt).

A cough or posture spike lifts one or two bins; a second pass drops the
bins more than REJECT times the robust spread above the fit and fits again.
"""

REJECT = 3  # robust sigmas above the fit: a spike, not the line


def _sums(pts, v0):
    n = sx = sy = sxx = sxy = 0
    for v, p, w in pts:
        x = v - v0 if v > v0 else 0
        n += w
        sx += w * x
        sy += w * p
        sxx += w * x * x
        sxy += w * x * p
    return n, sx, sy, sxx, sxy


def _score(pts, v0):
    """(num, den) of the slope num/den, or None: a knee with no positive slope after it."""
    n, sx, sy, sxx, sxy = _sums(pts, v0)
    den = n * sxx - sx * sx
    num = n * sxy - sx * sy
    if den <= 0 or num <= 0:
        return None
    return num, den


def _better(a, b):
    # explained variance num^2/den (n is the same for every candidate)
    return b is None or a[0] * a[0] * b[1] > b[0] * b[0] * a[1]


def _scan(pts, end):
    best = None
    at = -1
    # coarse: at every bin position; then finely between the best one's neighbours
    for i in range(len(pts)):
        sc = _score(pts, pts[i][0])
        if sc is not None and _better(sc, best):
            best, at = sc, i
    if best is None:
        return None
    knee = pts[at][0]
    lo = pts[at - 1][0] if at > 0 else knee
    hi = pts[at + 1][0] if at + 1 < len(pts) else end
    grain = (hi - lo) // 16 or 1
    v0 = lo
    while v0 <= hi:
        sc = _score(pts, v0)
        if sc is not None and _better(sc, best):
            best, knee = sc, v0
        v0 += grain
    num, den = best
    return knee, num, den


def _residuals(pts, knee, num, den):
    """Each bin's residual times n*den (exact integers)."""
    n, sx, sy, _, _ = _sums(pts, knee)
    off = sy * den - num * sx  # n*den*b
    out = []
    for v, p, _ in pts:
        x = v - knee if v > knee else 0
        out.append(n * den * p - off - n * num * x)
    return out, n * den


def level(pts, knee, num, den):
    """The fitted pressure before the knee (Pa): the line's baseline, a mean over many samples."""
    n, sx, sy, _, _ = _sums(pts, knee)
    return (sy * den - num * sx) // (n * den)


def fit(pts, end):
    """pts: [(position steps, mean Pa, samples)] in order; returns (knee steps, num, den) with the slope
    num/den in Pa per step, or None when no rise fits."""
    if len(pts) < 3:
        return None
    got = _scan(pts, end)
    if got is None:
        return None
    res, scale = _residuals(pts, got[0], got[1], got[2])
    spread = sorted(r if r > 0 else -r for r in res)[len(res) // 2]
    limit = REJECT * (spread * 3 // 2 + scale)  # 1.5 x the median |r| is about one sigma; +1 Pa
    keep = [pt for pt, r in zip(pts, res) if r <= limit]
    if len(keep) < len(pts) and len(keep) >= 3:
        again = _scan(keep, end)
        if again is not None:
            return again
    return got
