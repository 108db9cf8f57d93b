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

import rp2

# the program's names (wait, jmp, pin, x_dec...) are injected by @rp2.asm_pio, not imported
# ruff: noqa: F821
# pyright: reportUndefinedVariable=false

MODULUS = 1 << 30
_MASK = MODULUS - 1


@rp2.asm_pio()
def _count_edges():
    label("top")
    wait(0, pin, 0)
    wait(1, pin, 0)  # a rising edge of STEP (the machine's in_base)
    jmp(pin, "fwd")  # DIR (the jmp pin) read at the edge
    jmp(y_dec, "top")  # reverse: Y counts down
    jmp("top")
    label("fwd")
    jmp(x_dec, "top")  # forward: X counts down (from 0 it falls through and wraps to the top)


class PioStepCount:
    name = "pio"
    modulus = MODULUS

    def __init__(self, sm_id, step_pin, dir_pin, forward_level=1):
        self._sm = rp2.StateMachine(
            sm_id, _count_edges, in_base=step_pin, jmp_pin=dir_pin, in_shiftdir=rp2.PIO.SHIFT_LEFT
        )
        # encoded once: a string given to exec() is assembled by Python code on every call
        self._read_x = rp2.asm_pio_encode("in_(x, 30)", 0)
        self._read_y = rp2.asm_pio_encode("in_(y, 30)", 0)
        # noblock: a full FIFO must never stall the counting program
        self._push = rp2.asm_pio_encode("push(noblock)", 0)
        self._x_is_fwd = forward_level == 1
        self._sm.active(1)

    def _read(self, instr):
        sm = self._sm
        sm.exec(instr)
        sm.exec(self._push)
        return (-sm.get()) & _MASK

    def counts(self):
        """(forward, reverse) rising STEP edges since start, each modulo MODULUS."""
        sm = self._sm
        while sm.rx_fifo():  # a word left by an interrupted read would pair X with Y
            sm.get()
        x = self._read(self._read_x)
        y = self._read(self._read_y)
        return (x, y) if self._x_is_fwd else (y, x)

    def deinit(self):
        self._sm.active(0)
