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
