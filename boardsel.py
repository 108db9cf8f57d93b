"""Pick the board file for the running port, honour safe mode, run the app.

Safe mode (application skipped, REPL free, no watchdog) comes from the pin,
from the flag file `/data/safe_mode`, or from the boot-loop counter after
repeated boots without a stable run (firmware/recovery.py); remove the flag
with `mpremote rm :data/safe_mode` to run the application again.
"""

import sys


def board_module():
    if sys.platform == "rp2":
        from boards import pico

        return pico
    if sys.platform == "esp32":
        from boards import esp32

        return esp32
    raise RuntimeError("no board file for " + sys.platform)


DATA_DIR = "/data"


def main():
    # Collect every 16 KB allocated: imports then fill the holes their own garbage
    # left. Without it the Pico (rp2emu, .mpy) had 107 KB free at build() but in
    # holes under 3 KB, and the trend's arrays failed with MemoryError at boot.
    # (4 KB also boots, but 1.1 s slower; 16 KB leaves a 62 KB largest block.)
    import gc

    gc.threshold(16384)
    mod = board_module()
    from firmware import recovery
    from firmware.flashfs import Fs

    fs = Fs(DATA_DIR)
    why = recovery.safe_mode_reason(fs, pin_low=mod.safe_mode_requested())
    if why:
        print("safe mode (%s): application skipped, REPL free" % why)
        return
    from firmware import app

    app.run(mod.Board(), fs=fs)
