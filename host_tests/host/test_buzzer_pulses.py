# cpython-only: the board suite's edge-log helper (imports mpremote)
"""The board suite's buzzer pulse measure: a pulse the window cuts at either end is not measured."""

import importlib.util
import os

from tools.emu import rp2emu

_spec = importlib.util.spec_from_file_location(
    "board_suite",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "board", "test_board.py"),
)
board_suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(board_suite)  # type: ignore[union-attr]


class EdgeLog:
    def __init__(self, pulses):
        # a 2 kHz tone: an edge every 250 us while a pulse sounds
        self._edges = []
        for start, width in pulses:
            t = start
            while t <= start + width:
                self._edges.append((t, rp2emu.PIN_BUZZER, 1))
                t += 250

    def edges(self):
        return self._edges


def test_whole_pulses_are_measured_and_cut_ones_are_not():
    emu = EdgeLog([(0, 150000), (400000, 150000), (800000, 150000), (1200000, 150000)])
    # the window opens inside the first pulse and closes inside the last
    got = board_suite.buzzer_pulses(emu, 100000, 1250000)
    assert got == [(400000, 150000), (800000, 150000)]


def test_a_window_opening_between_pulses_keeps_the_first():
    emu = EdgeLog([(0, 150000), (400000, 150000)])
    assert board_suite.buzzer_pulses(emu, 300000, 1000000) == [(400000, 150000)]
