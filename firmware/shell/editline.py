"""Line editing for a person at a serial terminal (text mode only; JSON mode never gets here).

Keys: printable bytes insert at the cursor; left/right (`ESC [ D`/`ESC [ C`),
Home/End (`ESC [ H`/`ESC [ F`, `ESC [ 1 ~`/`ESC [ 4 ~`, `ESC O H`/`ESC O F`,
Ctrl-A/Ctrl-E), Delete (`ESC [ 3 ~`), backspace (BS or DEL), Ctrl-U (erase
from the cursor back to the start), up/down through the last HISTORY lines.
Any other escape sequence is dropped whole, so an arrow key never reaches the
shell as a control character.

Columns: every byte takes one column except a UTF-8 continuation byte, which
joins the byte before it; anything not printable ASCII is shown as `?` and a
tab as a space, so the cursor arithmetic holds on any terminal. The line keeps
the real bytes: the shell still judges them (E_SYNTAX for a control byte).
Lines that hold a PIN (`login`, `passwd`) are not kept in the history.
"""

from firmware.shell.lines import MAX_LINE, TOOLONG

HISTORY = 8  # lines kept for up/down: at most 8 x MAX_LINE bytes
SECRET = (b"login", b"passwd")
CSI = "\x1b["


def _glyph(b):
    if 32 <= b < 127:
        return chr(b)
    if b == 9:
        return " "
    if 0x80 <= b < 0xC0:
        return ""  # a continuation byte: its character already took a column
    return "?"


def _cols(buf, a, b):
    n = 0
    for i in range(a, b):
        if not 0x80 <= buf[i] < 0xC0:
            n += 1
    return n


def _keep(line):
    w = line.split()
    return bool(w) and w[0] not in SECRET


class Editor:
    def __init__(self, write, limit=MAX_LINE):
        self._write = write
        self._limit = limit
        self.buf = bytearray()
        self.cur = 0  # byte offset of the cursor in buf
        self.over = False  # the line ran past the limit: TOOLONG at Enter
        self.history = []
        self._hi = 0  # position in history while browsing; len(history) = the line being typed
        self._draft = b""
        self._esc = 0  # 0 none, 1 after ESC, 2 in `ESC [` (params in _param), 3 after `ESC O`
        self._param = 0
        self._cr = False

    def feed(self, data):
        """Edit with `data`; return the lines it completed (bytes, or TOOLONG)."""
        out = []
        for b in data:
            line = self.key(b)
            if line is not None:
                out.append(line)
        return out

    def key(self, b):
        """One byte from the terminal; the finished line when it was Enter, else None."""
        if self._esc:
            if self._escape(b):
                return None
        if b == 13 or b == 10:
            after_cr = self._cr
            self._cr = b == 13
            if b == 10 and after_cr:
                return None  # the LF of a CRLF
            return self._enter()
        self._cr = False
        if b == 27:
            self._esc = 1
        elif b == 8 or b == 127:
            self._backspace()
        elif b == 1:
            self._move(0)
        elif b == 5:
            self._move(len(self.buf))
        elif b == 21:
            self._kill()
        else:
            self._insert(b)
        return None

    # ---- escape sequences ------------------------------------------------

    def _escape(self, b):
        # True when the byte belonged to the sequence
        s = self._esc
        if s == 1:
            if b == 91:  # [
                self._esc, self._param = 2, 0
                return True
            if b == 79:  # O
                self._esc = 3
                return True
            self._esc = 0  # a lone ESC: dropped, the byte is a key of its own
            return False
        if s == 2 and 48 <= b <= 57:
            self._param = self._param * 10 + b - 48 if self._param < 1000 else self._param
            return True
        if s != 3 and 32 <= b < 64:
            self._esc = 4  # other parameter bytes (modifiers, `?`): the first number stands
            return True
        self._esc = 0
        if 64 <= b <= 126:
            self._final(b, self._param if s != 3 else 0)
            return True
        if b == 27:
            self._esc = 1
            return True
        return False  # a broken sequence: the byte is a key of its own

    def _final(self, b, p):
        n = len(self.buf)
        if b == 68:  # D
            self._move(self._prev(self.cur))
        elif b == 67:  # C
            self._move(self._next(self.cur))
        elif b == 72 or (b == 126 and p in (1, 7)):  # H, 1~, 7~
            self._move(0)
        elif b == 70 or (b == 126 and p in (4, 8)):  # F, 4~, 8~
            self._move(n)
        elif b == 126 and p == 3 and self.cur < n:  # Delete
            self._delete(self.cur, self._next(self.cur))
        elif b == 65:  # A
            self._browse(-1)
        elif b == 66:  # B
            self._browse(1)

    # ---- editing ---------------------------------------------------------

    def _prev(self, i):
        i -= 1
        while i > 0 and 0x80 <= self.buf[i] < 0xC0:
            i -= 1
        return i if i > 0 else 0

    def _next(self, i):
        n = len(self.buf)
        if i < n:
            i += 1
        while i < n and 0x80 <= self.buf[i] < 0xC0:
            i += 1
        return i

    def _move(self, to):
        if to < self.cur:
            self._left(_cols(self.buf, to, self.cur))
        elif to > self.cur:
            self._write(self._text(self.cur, to))
        self.cur = to

    def _left(self, n):
        if n == 1:
            self._write("\b")
        elif n:
            self._write("%s%dD" % (CSI, n))

    def _text(self, a, b):
        buf = self.buf
        return "".join([_glyph(buf[i]) for i in range(a, b)])

    def _insert(self, b):
        if self.over:
            return
        if len(self.buf) >= self._limit:
            self.over = True  # reported once, at Enter, as E_TOOLONG
            self._write("\x07")
            return
        if self.cur == len(self.buf):
            self.buf.append(b)  # typing at the end, the usual case: no tail to redraw
            self.cur += 1
            self._write(_glyph(b))
            return
        self.buf[self.cur : self.cur] = bytes((b,))
        self.cur += 1
        tail = self._text(self.cur, len(self.buf))
        self._write(_glyph(b) + tail)
        self._left(_cols(self.buf, self.cur, len(self.buf)))

    def _delete(self, a, b):
        # the bytes a..b go; the cursor ends at a (it is there or at b already)
        if self.cur == b:
            self._left(_cols(self.buf, a, b))
        gone = _cols(self.buf, a, b)
        self.buf[a:b] = b""
        self.cur = a
        tail = self._text(a, len(self.buf))
        self._write(tail + " " * gone)
        self._left(_cols(self.buf, a, len(self.buf)) + gone)

    def _backspace(self):
        if self.over or self.cur == 0:
            return
        if self.cur == len(self.buf) and self.buf[-1] < 0x80:
            self.buf = self.buf[:-1]
            self.cur -= 1
            self._write("\b \b")  # the usual echo at the end of the line
            return
        self._delete(self._prev(self.cur), self.cur)

    def _kill(self):
        if self.over:
            self.over = False
            self.buf = bytearray()
            self.cur = 0
            return
        if self.cur:
            self._delete(0, self.cur)

    def _replace(self, line):
        # the whole line becomes `line`, cursor at its end
        self._left(_cols(self.buf, 0, self.cur))
        old = _cols(self.buf, 0, len(self.buf))
        self.buf = bytearray(line)
        self.cur = len(line)
        new = _cols(self.buf, 0, len(self.buf))
        self._write(self._text(0, len(self.buf)) + " " * (old - new if old > new else 0))
        self._left(old - new if old > new else 0)

    def _browse(self, d):
        h = self.history
        i = self._hi + d
        if i < 0 or i > len(h) or self.over:
            return
        if self._hi == len(h):
            self._draft = bytes(self.buf)
        self._hi = i
        self._replace(h[i] if i < len(h) else self._draft)

    def _enter(self):
        self._write("\n")  # the boards' sys.stdout turns LF into CRLF itself
        line = TOOLONG if self.over else bytes(self.buf)
        if line is not TOOLONG and _keep(line):
            h = self.history
            if not h or h[-1] != line:
                h.append(line)
                if len(h) > HISTORY:
                    h.pop(0)
        self.buf = bytearray()
        self.cur = 0
        self.over = False
        self._hi = len(self.history)
        self._draft = b""
        return line

    def redraw(self, prompt):
        """The prompt and the line typed so far again, cursor where it was (after a note)."""
        n = len(self.buf)
        self._write(prompt + self._text(0, n))
        self._left(_cols(self.buf, self.cur, n))

    def pending(self):
        return bool(self.buf) or self.over
