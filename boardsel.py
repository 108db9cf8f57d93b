"""Pick the board file for the running port, honour safe mode, run the app.

Safe mode (application skipped, REPL free, no watchdog) comes from the pin,
from the flag file `/data/safe_mode`, or from the boot-loop counter after
repeated boots without a stable run (firmware/recovery.py), or from an
application image that failed its check at boot (appimage.py: redeploy);
remove the flag with `mpremote rm :data/safe_mode` to run the application
again. `import boardsel; boardsel.safe_mode` at the REPL says why it was
skipped (the printed line is gone on USB before a host connects).
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


safe_mode = None  # why the application was skipped at this boot (`import boardsel` at the REPL)


def _safe(why):
    # printed, and kept: on USB the message goes out before a host has the console open
    global safe_mode
    if why:
        safe_mode = why
        print("safe mode (%s): application skipped, REPL free" % why)
    return why


def _image_refused():
    # boot.py mounted the application's image, or refused it as damaged: never run a
    # damaged image's code, and nothing else of the application is on the board
    m = sys.modules.get("appimage")
    if m is not None:
        return m.error
    import os

    try:
        os.stat("appimage.mpy")
    except OSError:
        return None  # a loose tree copied by hand, no image
    return "the app image loader did not import (boot.py): redeploy"


def main():
    # Collect every 32 KB allocated: imports then fill the holes their own garbage
    # left. Without it the Pico (rp2emu, .mpy) had 107 KB free at build() but in
    # holes under 3 KB, and the trend's arrays failed with MemoryError at boot.
    # Boot to `status` / largest free block after boot (rp2emu): 16 KB 2.51 s / 59 KB,
    # 24 KB 2.39 s / 50 KB, 32 KB 2.32 s / 42 KB, 48 KB 2.24 s / 39 KB (2.27 s / 34 KB
    # with a collect after the imports), 64 KB and that collect 2.20 s / 26 KB: 32 KB
    # is the fastest that keeps 40 KB. (Those times are from before the application
    # image: the imports then cost 1.6 s of lookups; docs/boards.md.)
    import gc

    gc.threshold(32768)
    if _safe(_image_refused()):
        return
    mod = board_module()
    from firmware import recovery
    from firmware.flashfs import Fs

    fs = Fs(DATA_DIR)
    if _safe(recovery.safe_mode_reason(fs, pin_low=mod.safe_mode_requested())):
        return
    from firmware import app

    app.run(mod.Board(), fs=fs)
