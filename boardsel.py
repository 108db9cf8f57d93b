"""Pick the board file for the running port, honour the safe-mode pin, run the app."""

import sys


def board_module():
    if sys.platform == "rp2":
        from boards import pico

        return pico
    if sys.platform == "esp32":
        from boards import esp32

        return esp32
    raise RuntimeError("no board file for " + sys.platform)


def main():
    mod = board_module()
    if mod.safe_mode_requested():
        print("safe mode: application skipped, REPL free")
        return
    from firmware import app

    app.run(mod.Board())
