"""A Ctrl-C caught by a hard interrupt callback, handed on to the console loop.

MicroPython raises a pending KeyboardInterrupt in whatever bytecode runs
next. When Ctrl-C arrives while the main loop is inside a long C call (a
flash write, a GC, a hash), that is a hard timer's callback: on the Pico
(rp2emu) 20 of 20 Ctrl-C sent during a 30 KB sha256 were raised in a 10 ms
bytecode timer callback, which printed "Uncaught exception in IRQ callback
handler", stopped that timer for good (the alarm sound with it) and left the
application running, so `mpremote` could not enter the raw REPL. Viper
callbacks (the dose tick) never see it. A bytecode callback catches it and
calls `caught()`; the console loop asks `take()` every pass and raises it.
"""

_flag = bytearray(1)  # preallocated: `caught` runs in a hard interrupt and must not allocate


def caught():
    _flag[0] = 1


def take():
    """True once after a callback caught a Ctrl-C."""
    if _flag[0]:
        _flag[0] = 0
        return True
    return False
