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
