"""Seeded fuzz of the shell on both interpreters: every refused line changes nothing.

The hypothesis version (test_fuzz_shell_hyp.py, CPython) runs 20,000 lines;
this one runs the same generator from a seeded Lcg so the port is covered.
"""

from fuzzgen import check_line, gen_line, setup
from rig import Lcg
from shellkit import Kit

LINES_PER_STATE = 250


def _run(seed, variants):
    rnd = Lcg(seed)
    total = refused = 0
    for v in variants:
        kit = Kit()
        setup(kit, v)
        for _ in range(LINES_PER_STATE):
            refused += check_line(kit, gen_line(rnd, kit.sh.commands))
            total += 1
    return total, refused


def test_fuzz_patient_and_clinician():
    total, refused = _run(11, (0, 1, 4, 5))
    assert total == 4 * LINES_PER_STATE
    # the generator is hostile: most lines must be refused, or it is not testing much
    assert refused > total // 2


def test_fuzz_with_a_program_running():
    total, refused = _run(23, (2, 3, 6, 7))
    assert refused > total // 2


def test_fuzz_more_seeds():
    total, refused = _run(97, (1, 5, 7, 0))
    assert refused > total // 2
