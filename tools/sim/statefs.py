"""The simulator's `--state DIR`: the pump's flash kept in RAM and written to DIR in batches.

A checkpoint a virtual minute is 43,200 file writes in 30 simulated days;
written one by one to a host directory they would cost more than the whole
speed budget. So files live in RAM (the firmware sees the same calls as on
a board) and the changed ones go to DIR every `batch` writes and at the
clean shutdown at end of input. `sim power-cut` is simulated inside the
process, so it needs no disk; killing the process loses at most one batch.
"""

import os

from firmware.persist.flashfs import Fs, MemFs


class StateFs(MemFs):
    def __init__(self, root, batch=64):
        super().__init__()
        self._disk = Fs(root)
        self._dirty = {}
        self._batch = batch
        self._n = 0
        try:
            names = os.listdir(root)
        except OSError:
            names = []
        for name in names:
            if name.startswith("."):
                continue  # the host's files beside the flash (the background simulator's URL, lock, log)
            data = self._disk.read(name)
            if data is not None:
                self.files[name] = data

    def write(self, name, data):
        MemFs.write(self, name, data)
        self._touch(name)

    def append(self, name, data):
        MemFs.append(self, name, data)
        self._touch(name)

    def remove(self, name):
        MemFs.remove(self, name)
        self._touch(name)

    def _touch(self, name):
        self._dirty[name] = True
        self._n += 1
        if self._n >= self._batch:
            self.sync()

    def sync(self):
        """Write every changed file to the directory."""
        for name in self._dirty:
            data = self.files.get(name)
            if data is None:
                self._disk.remove(name)
            else:
                self._disk.write(name, data)
        self._dirty = {}
        self._n = 0
