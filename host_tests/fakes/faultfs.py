"""A filesystem fake that cuts the power at a chosen step of any write.

It offers the firmware's filesystem calls (read, write, append, remove,
exists, size) over files in RAM. Every write is three steps, as on flash:
open (a `write` truncates), the data (a cut here leaves a prefix of it, as a
raw flash page program would), and close. `cut_at=N` makes the N-th step
cut the power: the step's partial effect stays and `PowerCut` (a
BaseException, so no `except Exception` in the firmware swallows it) is
raised; every later call raises too until `power_on()`. `capacity` bytes
make writes past it fail with ENOSPC after writing what fits.
"""

ENOSPC = 28


class PowerCut(BaseException):
    pass


class FaultFs:
    def __init__(self, cut_at=None, capacity=None, rng=None, trace=False):
        self.files = {}
        self.cut_at = cut_at
        self.capacity = capacity
        self.rng = rng  # an object with below(n): where in the data a cut lands
        self.steps = 0
        self.dead = False
        self.trace = [] if trace else None  # (step, kind, name) of every write step

    # ---- fault control ----------------------------------------------------

    def power_on(self, cut_at=None):
        self.dead = False
        self.cut_at = cut_at
        self.steps = 0

    def _alive(self):
        if self.dead:
            raise PowerCut()

    def _step(self, kind, name):
        """Count a step; True if the power dies at it."""
        self._alive()
        self.steps += 1
        if self.trace is not None:
            self.trace.append((self.steps, kind, name))
        return self.cut_at is not None and self.steps == self.cut_at

    def _die(self):
        self.dead = True
        raise PowerCut()

    def used(self):
        return sum(len(d) for d in self.files.values())

    def _put(self, name, data):
        # grow the file in place (a bytearray): rebuilding it per append fragments
        # the micropython test heap over weeks of simulated writes
        buf = self.files[name]
        if not isinstance(buf, bytearray):  # a test put bytes there by hand
            buf = self.files[name] = bytearray(buf)
        room = None
        if self.capacity is not None:
            room = self.capacity - (self.used() - len(buf))
        if room is not None and len(buf) + len(data) > room:
            buf.extend(data[: max(0, room - len(buf))])
            raise OSError(ENOSPC)
        if self._step("data", name):
            k = self.rng.below(len(data) + 1) if self.rng is not None else len(data) // 2
            buf.extend(data[:k])
            self._die()
        buf.extend(data)

    # ---- the firmware's calls ---------------------------------------------

    def read(self, name):
        self._alive()
        d = self.files.get(name)
        return None if d is None else bytes(d)

    def write(self, name, data):
        if self._step("open", name):
            self.files[name] = bytearray()
            self._die()
        self.files[name] = bytearray()
        self._put(name, data)
        if self._step("close", name):
            self._die()

    def append(self, name, data):
        if self._step("open", name):
            self._die()
        if name not in self.files:
            self.files[name] = bytearray()
        self._put(name, data)
        if self._step("close", name):
            self._die()

    def remove(self, name):
        if self._step("remove", name):
            self._die()
        self.files.pop(name, None)

    def exists(self, name):
        self._alive()
        return name in self.files

    def size(self, name):
        self._alive()
        d = self.files.get(name)
        return 0 if d is None else len(d)
