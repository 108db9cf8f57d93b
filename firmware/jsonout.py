"""One-line JSON out, the same bytes on every port.

MicroPython's dict has no insertion order and its floats are single
precision, so replies are encoded here: keys sorted (with `ok` first) and
decimals carried as `Dec` (an integer and a scale), never as float.
"""


class Dec:
    """An exact decimal: value / 10**scale."""

    def __init__(self, value, scale):
        self.value = value
        self.scale = scale

    def __str__(self):
        v = self.value
        sign = "-" if v < 0 else ""
        v = -v if v < 0 else v
        p = 10**self.scale
        whole, frac = divmod(v, p)
        if self.scale == 0:
            return sign + str(whole) + ".0"
        f = ("%0" + str(self.scale) + "d") % frac
        f = f.rstrip("0") or "0"
        return sign + str(whole) + "." + f

    def __eq__(self, other):
        return isinstance(other, Dec) and self.value * 10**other.scale == other.value * 10**self.scale


def _str(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20 or o == 0x7F:
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def encode(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, Dec):
        return str(v)
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, dict):
        keys = sorted(v)
        if "ok" in v:
            keys.remove("ok")
            keys.insert(0, "ok")
        return "{" + ", ".join(_str(k) + ": " + encode(v[k]) for k in keys) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(encode(x) for x in v) + "]"
    raise TypeError("cannot encode")
