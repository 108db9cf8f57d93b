"""The one steps<->volume conversion (firmware/volume.py), on both interpreters."""

from firmware import jsonout
from firmware.therapy import units
from firmware.volume import ml_dec, nl_to_steps, steps_to_ml, steps_to_nl


def _half_away(num, den):
    # the rounding SPEC 3 asks for, written out: nearest, a half away from zero
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return -q if num < 0 else q


def test_steps_to_nl_rounds_to_the_nearest_nl_for_odd_and_even_calibrations():
    for spm in (1, 3, 7, 20000, 20001, 33333, 1000000, 3000001):
        for steps in list(range(-40, 41)) + [86400000, 86400001, 123456789]:
            if steps >= 0:
                assert steps_to_nl(steps, spm) == _half_away(steps * 1000000, spm), (steps, spm)
            # below zero (a net withdrawal) a half goes up, as the ledger's own sums do
            assert steps_to_nl(steps, spm) == (steps * 2000000 + spm) // (2 * spm), (steps, spm)


def test_the_therapy_names_are_the_same_functions():
    assert units.steps_nl is steps_to_nl
    assert units.ml_dec is ml_dec
    assert units.steps_of("nl", 250000, 1, 20000) == nl_to_steps(250000, 20000) == 5000


def test_every_ml_field_is_shown_to_the_nl():
    # one step at 20,000 steps/mL is 50 nL: status and the program's reply say the same figure
    assert jsonout.encode(steps_to_ml(1, 20000)) == "0.00005"
    assert jsonout.encode(steps_to_ml(4001, 20000)) == "0.20005"
    assert jsonout.encode(steps_to_ml(4001, 20000)) == jsonout.encode(ml_dec(units.steps_nl(4001, 20000)))
    assert jsonout.encode(steps_to_ml(-3, 20000)) == "-0.00015"
