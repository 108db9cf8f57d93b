"""Shared argument parsing: plain decimals to scaled integers, durations, times.

No float anywhere: '19.2' with scale 3 is 19200 on every port. Refused:
signs other than none, exponents, hex, nan/inf, empty parts, more decimals
than the scale can hold exactly. Errors are PumpError with a stable code.
"""

from firmware.errors import E_RANGE, E_SYNTAX, E_UNIT, PumpError

MAX_DIGITS = 12  # far above any dose; keeps every value a small int on the boards' hosts


def decimal(text, scale, what="number"):
    """'12.5' -> 12500 for scale 3. ValueError-free: raises PumpError."""
    whole, dot, frac = text.partition(".")
    if dot and not frac:
        raise PumpError(E_SYNTAX, "%s '%s' is not a plain decimal" % (what, _show(text)))
    if not whole or not _digits(whole) or (frac and not _digits(frac)):
        raise PumpError(E_SYNTAX, "%s '%s' is not a plain decimal" % (what, _show(text)))
    if len(whole) > MAX_DIGITS:
        raise PumpError(E_RANGE, "%s '%s' is too large" % (what, _show(text)))
    if len(frac) > scale:
        extra = frac[scale:]
        if extra.strip("0"):
            raise PumpError(
                E_RANGE, "%s '%s' has more decimals than allowed (%d)" % (what, _show(text), scale)
            )
        frac = frac[:scale]
    return int(whole) * 10**scale + (int(frac + "0" * (scale - len(frac))) if scale else 0)


def integer(text, lo, hi, what="number"):
    if not text or not _digits(text) or len(text) > MAX_DIGITS:
        raise PumpError(E_SYNTAX, "%s '%s' is not a whole number" % (what, _show(text)))
    v = int(text)
    if v < lo or v > hi:
        raise PumpError(E_RANGE, "%s %d out of range %d..%d" % (what, v, lo, hi))
    return v


def split_unit(text, units):
    """'15mg' -> ('15', 'mg') for the longest unit in `units` that ends the text."""
    best = None
    for u in units:
        if text.endswith(u) and len(text) > len(u) and (best is None or len(u) > len(best)):
            best = u
    if best is None:
        if text and (_digits(text[:1]) or text[:1] == "."):
            raise PumpError(E_UNIT, "'%s' needs a unit: %s" % (_show(text), ", ".join(units)))
        raise PumpError(E_SYNTAX, "'%s' is not a value with a unit" % _show(text))
    return text[: -len(best)], best


_DUR = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_s(text, lo=1, hi=400 * 86400, what="duration"):
    """'90s', '15m', '2h', '7d' -> seconds."""
    if len(text) < 2 or text[-1] not in _DUR:
        if text and _digits(text):
            raise PumpError(E_UNIT, "%s '%s' needs a unit: s, m, h or d" % (what, _show(text)))
        raise PumpError(E_SYNTAX, "%s '%s': use 90s, 15m, 2h or 7d" % (what, _show(text)))
    n = text[:-1]
    if not _digits(n) or len(n) > 9:
        raise PumpError(E_SYNTAX, "%s '%s': use 90s, 15m, 2h or 7d" % (what, _show(text)))
    s = int(n) * _DUR[text[-1]]
    if s < lo or s > hi:
        raise PumpError(E_RANGE, "%s %s out of range" % (what, _show(text)))
    return s


def hhmm(text):
    """'HH:MM' -> minutes after midnight."""
    if len(text) != 5 or text[2] != ":" or not _digits(text[:2]) or not _digits(text[3:]):
        raise PumpError(E_SYNTAX, "time '%s' is not HH:MM" % _show(text))
    h, m = int(text[:2]), int(text[3:])
    if h > 23 or m > 59:
        raise PumpError(E_RANGE, "time '%s' out of range 00:00..23:59" % _show(text))
    return h * 60 + m


def keyvals(words, allowed):
    """['a=1', 'b=2'] -> {'a': '1', 'b': '2'}; unknown or repeated keys refused."""
    out = {}
    for w in words:
        k, eq, v = w.partition("=")
        if not eq or not v:
            raise PumpError(E_SYNTAX, "expected key=value, got '%s'" % _show(w))
        if k not in allowed:
            raise PumpError(E_SYNTAX, "unknown setting '%s'; allowed: %s" % (_show(k), ", ".join(allowed)))
        if k in out:
            raise PumpError(E_SYNTAX, "'%s' given twice" % _show(k))
        out[k] = v
    return out


def _digits(s):
    for c in s:
        if c < "0" or c > "9":
            return False
    return bool(s)


def _show(s, limit=30):
    out = []
    for ch in s[:limit]:
        out.append(ch if 32 <= ord(ch) < 127 else "?")
    return "".join(out)
