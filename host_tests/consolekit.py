"""Fake console streams for the board's console loop (firmware/shell/console.py), on both interpreters."""


class FakeIn:
    """Console bytes, read as the loop asks for them."""

    def __init__(self, data):
        self.data = data
        self.i = 0

    def read(self, n):
        b = self.data[self.i : self.i + n]
        self.i += len(b)
        return b


class FakePoll:
    """Input when there is some; each empty wait moves the kit's clock. After `limit` empty waits
    it raises `stop`: a Ctrl-C by default, or an error where the test expects the loop to have
    stopped by itself."""

    def __init__(self, inp, kit, ms_per_wait=10, limit=3, stop=KeyboardInterrupt):
        self.inp = inp
        self.kit = kit
        self.ms = ms_per_wait
        self.limit = limit
        self.stop = stop
        self.waits = 0

    def poll(self, timeout):
        if self.inp.i < len(self.inp.data):
            return [(0, 1)]
        if timeout:
            self.waits += 1
            self.kit.board.clock.advance_ms(self.ms)
            if self.waits > self.limit:
                raise self.stop
        return []


class Screen:
    """What a VT100 shows for the console's output: the lines, and the cursor on the last one.

    Knows what the console writes: printable ASCII, BS, CR, LF, BEL, `ESC [ n D`, `ESC [ n C`
    and `ESC [ K`; anything else fails the test.
    """

    def __init__(self):
        self.done = []
        self.row = []
        self.col = 0

    def put(self, s):
        i = 0
        while i < len(s):
            c = s[i]
            i += 1
            if c == "\n":
                self.done.append("".join(self.row).rstrip())
                self.row = []
                self.col = 0
            elif c == "\r":
                self.col = 0
            elif c == "\b":
                self.col = self.col - 1 if self.col else 0
            elif c == "\x07":
                pass
            elif c == "\x1b":
                assert s[i] == "[", repr(s)
                j = i + 1
                while s[j].isdigit():
                    j += 1
                n = int(s[i + 1 : j]) if j > i + 1 else 1
                f = s[j]
                i = j + 1
                if f == "D":
                    self.col = self.col - n if self.col > n else 0
                elif f == "C":
                    self.col += n
                elif f == "K":
                    del self.row[self.col :]
                else:
                    raise AssertionError("escape %r" % f)
            else:
                assert 32 <= ord(c) < 127, repr(c)
                while len(self.row) < self.col:
                    self.row.append(" ")
                if self.col < len(self.row):
                    self.row[self.col] = c
                else:
                    self.row.append(c)
                self.col += 1

    def line(self):
        return "".join(self.row).rstrip()
