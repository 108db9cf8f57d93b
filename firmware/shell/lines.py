"""Console bytes to lines: CR, LF or CRLF ends a line; over 200 bytes is too long.

Bytes are taken as they come (NUL and control bytes stay in the line). A line
that ran past the limit is reported once, as TOOLONG, when it finally ends.
"""

MAX_LINE = 200
TOOLONG = object()


class LineSplitter:
    def __init__(self, limit=MAX_LINE):
        self._buf = bytearray()
        self._limit = limit
        self._over = False
        self._after_cr = False

    def feed(self, data):
        """Return the complete lines in `data` (bytes, or TOOLONG)."""
        out = []
        for b in data:
            if b == 10 and self._after_cr:
                self._after_cr = False
                continue
            self._after_cr = b == 13
            if b == 10 or b == 13:
                out.append(TOOLONG if self._over else bytes(self._buf))
                self._buf = bytearray()
                self._over = False
            elif not self._over:
                if len(self._buf) >= self._limit:
                    self._over = True
                    self._buf = bytearray()
                else:
                    self._buf.append(b)
        return out

    def pending(self):
        """A partial line is waiting (end of input flushes it)."""
        return bool(self._buf) or self._over

    def flush(self):
        if not self.pending():
            return []
        line = TOOLONG if self._over else bytes(self._buf)
        self._buf = bytearray()
        self._over = False
        return [line]


def valid_utf8(b):
    """Strict UTF-8 (RFC 3629), the same answer on both interpreters.

    MicroPython's bytes.decode() accepts overlong forms, surrogates and code
    points above U+10FFFF that CPython refuses, so the shell checks here first.
    """
    i = 0
    n = len(b)
    while i < n:
        c = b[i]
        if c < 0x80:
            i += 1
            continue
        if 0xC2 <= c <= 0xDF:
            need, lo, hi = 1, 0x80, 0xBF
        elif 0xE0 <= c <= 0xEF:
            need = 2
            lo = 0xA0 if c == 0xE0 else 0x80
            hi = 0x9F if c == 0xED else 0xBF
        elif 0xF0 <= c <= 0xF4:
            need = 3
            lo = 0x90 if c == 0xF0 else 0x80
            hi = 0x8F if c == 0xF4 else 0xBF
        else:
            return False
        if i + need >= n:
            return False
        if not lo <= b[i + 1] <= hi:
            return False
        for j in range(i + 2, i + 1 + need):
            if not 0x80 <= b[j] <= 0xBF:
                return False
        i += 1 + need
    return True
