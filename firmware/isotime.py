"""ISO 8601 (UTC, seconds) to and from Unix seconds, in integers on every port.

Boards differ in their epoch (2000 on some ports), so the firmware keeps its
own: days from the civil calendar (H. Hinnant's algorithm).
"""


def days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


def _digits(s, a, b):
    part = s[a:b]
    if len(part) != b - a:
        raise ValueError("bad time")
    for c in part:
        if c < "0" or c > "9":
            raise ValueError("bad time")
    return int(part)


def parse(s):
    """'2026-01-01T08:30:00' (optional Z, optional seconds) -> Unix seconds; ValueError if not."""
    if s.endswith("Z"):
        s = s[:-1]
    if len(s) == 10:
        s += "T00:00:00"
    if len(s) == 16:
        s += ":00"
    if len(s) != 19 or s[4] != "-" or s[7] != "-" or s[10] not in "T " or s[13] != ":" or s[16] != ":":
        raise ValueError("bad time")
    y, mo, d = _digits(s, 0, 4), _digits(s, 5, 7), _digits(s, 8, 10)
    h, mi, se = _digits(s, 11, 13), _digits(s, 14, 16), _digits(s, 17, 19)
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and se < 60 and 2000 <= y <= 2099):
        raise ValueError("bad time")
    if civil_from_days(days_from_civil(y, mo, d)) != (y, mo, d):
        raise ValueError("bad time")
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se


def fmt(t):
    days, sec = divmod(t, 86400)
    y, m, d = civil_from_days(days)
    return "%04d-%02d-%02dT%02d:%02d:%02d" % (y, m, d, sec // 3600, sec // 60 % 60, sec % 60)


def seconds_of_day(t):
    return t % 86400
