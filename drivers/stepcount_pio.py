"""An independent STEP count on the RP2040: a PIO state machine counts the STEP pin's rising edges.

The dose engine's interrupt drives STEP and counts its own steps; this counts
what the pin really did, in hardware that runs none of the engine's code. At
each rising edge of STEP the machine reads DIR with `jmp pin`: a forward step
decrements X, a reverse one Y (PIO has no increment; both start at 0 and count
down). Six instructions; a pulse needs only a few 8 ns cycles high and low.

The main loop reads the registers without stopping the machine: `in_(x, 30)`
and `push` executed through SMx_INSTR put X's low 30 bits in the RX FIFO (ISR
is empty after each push, so nothing else is in the word), then the same for
Y. The counts are kept modulo 2**30, so each read is a small int on the board;
`counts()` returns them counting up, and the caller differences them modulo
MODULUS often enough (2**30 steps is 12 days at one step per 1 ms tick).

The board passes the state machine's id and the pins (boards/pico.py).
"""

from array import array

import rp2

# assemble()'s names (wait, jmp, pin, x_dec...) are injected by @rp2.asm_pio, not imported
# ruff: noqa: F821
# pyright: reportUndefinedVariable=false

MODULUS = 1 << 30
_MASK = MODULUS - 1

# The program and the three words the main loop executes, as MicroPython 1.28's assembler
# makes them (`assemble()` is the source; the board test checks they still agree): assembling
# at boot cost the Pico 10 ms for the program and 10 ms for each asm_pio_encode.
PROGRAM = [
    array("H", [0x2020, 0x20A0, 0x00C5, 0x0080, 0x0000, 0x0040]),
    -1,
    -1,
    -1,
    0x5000,
    0,
    None,
    None,
    None,
]
IN_X = 0x403E  # in_(x, 30)
IN_Y = 0x405E  # in_(y, 30)
PUSH = 0x8000  # push(noblock): a full FIFO must never stall the counting program


def assemble():
    """(program, [IN_X, IN_Y, PUSH]) assembled from source on the board."""

    @rp2.asm_pio()
    def count_edges():
        label("top")
        wait(0, pin, 0)
        wait(1, pin, 0)  # a rising edge of STEP (the machine's in_base)
        jmp(pin, "fwd")  # DIR (the jmp pin) read at the edge
        jmp(y_dec, "top")  # reverse: Y counts down
        jmp("top")
        label("fwd")
        jmp(x_dec, "top")  # forward: X counts down (from 0 it falls through and wraps to the top)

    words = [rp2.asm_pio_encode(i, 0) for i in ("in_(x, 30)", "in_(y, 30)", "push(noblock)")]
    return count_edges, words


def matches():
    """True when PROGRAM and the words are what this board's assembler makes."""
    prog, words = assemble()
    p = list(prog)  # pyright: ignore[reportArgumentType]  (the stubs make it opaque; it is a list)
    return list(p[0]) == list(PROGRAM[0]) and p[4:] == PROGRAM[4:] and words == [IN_X, IN_Y, PUSH]


class PioStepCount:
    name = "pio"
    modulus = MODULUS

    def __init__(self, sm_id, step_pin, dir_pin, forward_level=1):
        self._sm = rp2.StateMachine(
            sm_id,
            PROGRAM,  # pyright: ignore[reportArgumentType]  (asm_pio's own list, made by hand)
            in_base=step_pin,
            jmp_pin=dir_pin,
            in_shiftdir=rp2.PIO.SHIFT_LEFT,
        )
        self._x_is_fwd = forward_level == 1
        self._sm.active(1)

    def _read(self, instr):
        sm = self._sm
        sm.exec(instr)
        sm.exec(PUSH)
        return (-sm.get()) & _MASK

    def counts(self):
        """(forward, reverse) rising STEP edges since start, each modulo MODULUS."""
        sm = self._sm
        while sm.rx_fifo():  # a word left by an interrupted read would pair X with Y
            sm.get()
        x = self._read(IN_X)
        y = self._read(IN_Y)
        return (x, y) if self._x_is_fwd else (y, x)

    def deinit(self):
        self._sm.active(0)
