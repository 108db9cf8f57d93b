"""A plain-text progress bar on stderr, so stdout stays the command's result."""

import sys


class Bar:
    def __init__(self, total, label="", width=30, out=None):
        self.total = max(1, total)
        self.label = label
        self.width = width
        self.out = out or sys.stderr
        self.done = 0
        # redraw in place on a terminal; a log file gets only the finished bar
        self.live = hasattr(self.out, "isatty") and self.out.isatty()

    def update(self, done, note=""):
        self.done = min(done, self.total)
        if self.live:
            self._draw(note)

    def _draw(self, note):
        filled = self.width * self.done // self.total
        pct = 100 * self.done // self.total
        self.out.write(
            "\r%s [%s%s] %3d%% %s" % (self.label, "#" * filled, "." * (self.width - filled), pct, note)
        )
        self.out.flush()

    def finish(self, note=""):
        self.done = self.total
        self._draw(note)
        self.out.write("\n")
        self.out.flush()
