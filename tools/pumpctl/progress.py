"""A plain-text progress bar on stderr, so stdout stays the command's result."""

import sys


class Bar:
    def __init__(self, total, label="", width=30, out=None):
        self.total = max(1, total)
        self.label = label
        self.width = width
        self.out = out or sys.stderr
        self.done = 0

    def update(self, done, note=""):
        self.done = min(done, self.total)
        filled = self.width * self.done // self.total
        pct = 100 * self.done // self.total
        self.out.write(
            "\r%s [%s%s] %3d%% %s" % (self.label, "#" * filled, "." * (self.width - filled), pct, note)
        )
        self.out.flush()

    def finish(self, note=""):
        self.update(self.total, note)
        self.out.write("\n")
        self.out.flush()
