"""Shared parsing, both interpreters: decimals without float, durations, times."""

from firmware import parse
from firmware.errors import E_RANGE, E_SYNTAX, E_UNIT, PumpError


def code_of(fn, *args):
    try:
        fn(*args)
    except PumpError as e:
        return e.code
    return None


def test_decimal_exact():
    assert parse.decimal("19.2", 3) == 19200
    assert parse.decimal("0.05", 6) == 50000
    assert parse.decimal("7", 0) == 7
    assert parse.decimal("1.500", 1) == 15
    # 0.1 + 0.2 style trouble cannot happen: 7 significant digits on a board float
    assert parse.decimal("12345678.9", 1) == 123456789


def test_decimal_refusals():
    for bad in ("", ".5", "5.", "-1", "+1", "1e3", "0x10", "nan", "inf", "1,5", "1.2.3", " 1"):
        assert code_of(parse.decimal, bad, 3) == E_SYNTAX, bad
    assert code_of(parse.decimal, "1.2345", 3) == E_RANGE
    assert code_of(parse.decimal, "9" * 13, 3) == E_RANGE


def test_units_and_durations_and_times():
    assert parse.split_unit("15mg", ("mg", "mcg", "mL")) == ("15", "mg")
    assert parse.split_unit("15mcg", ("mg", "mcg", "mL")) == ("15", "mcg")
    assert code_of(parse.split_unit, "15", ("mg",)) == E_UNIT
    assert code_of(parse.split_unit, "15kg", ("mg",)) == E_UNIT
    assert parse.duration_s("90s") == 90 and parse.duration_s("15m") == 900
    assert parse.duration_s("2h") == 7200 and parse.duration_s("7d") == 604800
    assert code_of(parse.duration_s, "0s") == E_RANGE
    assert code_of(parse.duration_s, "15") == E_UNIT
    assert code_of(parse.duration_s, "1.5h") == E_SYNTAX
    assert parse.hhmm("23:59") == 1439 and parse.hhmm("00:00") == 0
    assert code_of(parse.hhmm, "24:00") == E_RANGE
    assert code_of(parse.hhmm, "7:00") == E_SYNTAX
    assert parse.keyvals(["a=1", "b=x"], ("a", "b")) == {"a": "1", "b": "x"}
    assert code_of(parse.keyvals, ["a=1", "a=2"], ("a",)) == E_SYNTAX
    assert code_of(parse.keyvals, ["c=1"], ("a",)) == E_SYNTAX
