"""The stub-checked calls run against the fakes (both interpreters)."""

import stubcheck


def test_fakes_accept_every_stub_checked_call():
    level, raw, cause, uid = stubcheck.exercise()
    assert level == 2  # a pulled-up input reads 1, both ways of reading
    assert raw == 0
    assert cause is True
    assert len(uid) == 8
