"""Two-generation records: newest valid wins; corrupt, truncated, newer-version and full-flash cases."""

from faultfs import FaultFs, PowerCut

from firmware.persist import store
from firmware.persist.flashfs import MemFs
from firmware.persist.store import Record


def _rec(fs, version=1):
    return Record(fs, "r", 7, version)


def test_roundtrip_and_newest_wins():
    fs = MemFs()
    r = _rec(fs)
    r.save(b"one")
    r.save(b"two")
    r.save(b"three")
    got = _rec(fs).load()
    assert got == (1, b"three")
    assert sorted(fs.files) == ["r.0", "r.1"]


def test_save_overwrites_the_older_slot_only():
    fs = MemFs()
    r = _rec(fs)
    r.save(b"a")
    r.save(b"b")
    newest = [n for n in ("r.0", "r.1") if store.decode(fs.files[n], 7, 1)[2] == b"b"][0]
    r.save(b"c")
    assert store.decode(fs.files[newest], 7, 1)[2] == b"b"  # the previous generation survives


def test_corrupt_byte_falls_back_to_older_and_says_so():
    fs = MemFs()
    r = _rec(fs)
    r.save(b"old payload")
    r.save(b"new payload")
    slot = r.slot(r._newest)
    data = bytearray(fs.files[slot])
    data[14] ^= 0x40
    fs.files[slot] = bytes(data)
    r2 = _rec(fs)
    assert r2.load() == (1, b"old payload")
    assert r2.problems == [(slot, "checksum mismatch")]


def test_truncated_and_empty_files_are_never_used():
    fs = MemFs()
    r = _rec(fs)
    r.save(b"keep me")
    r.save(b"cut short")
    slot = r.slot(r._newest)
    for n in (0, 5, 12, len(fs.files[slot]) - 1):
        fs.files[slot] = fs.files[slot][:n] if n else b""
        r2 = _rec(fs)
        assert r2.load() == (1, b"keep me")
        assert r2.problems and "truncated" in r2.problems[0][1]


def test_newer_version_is_not_half_used():
    fs = MemFs()
    _rec(fs).save(b"v1 data")
    future = _rec(fs, version=2)
    future.load()
    future.save(b"v2 data with fields this firmware does not know")
    r = _rec(fs, version=1)
    assert r.load() == (1, b"v1 data")
    assert "newer" in r.problems[0][1]


def test_none_valid_gives_none_and_lists_both():
    fs = MemFs()
    fs.files["r.0"] = b"garbage that is long enough to have a header"
    fs.files["r.1"] = b"\x00" * 3
    r = _rec(fs)
    assert r.load() is None
    assert r.found and len(r.problems) == 2


def test_fresh_filesystem_is_not_a_problem():
    r = _rec(MemFs())
    assert r.load() is None
    assert not r.found and r.problems == []


def test_next_save_after_fallback_spares_the_good_slot():
    fs = MemFs()
    r = _rec(fs)
    r.save(b"good")
    r.save(b"bad soon")
    bad = r.slot(r._newest)
    fs.files[bad] = fs.files[bad][:-1]
    r2 = _rec(fs)
    r2.load()
    r2.save(b"newer")
    assert _rec(fs).load() == (1, b"newer")
    assert r2.slot(r2._newest) == bad  # written over the spoiled slot, not the good one


def test_sequence_wraps():
    fs = MemFs()
    r = _rec(fs)
    r.seq = 0xFFFFFFFE
    r.save(b"before wrap")
    r.save(b"after wrap")
    assert r.seq == 0
    assert _rec(fs).load() == (1, b"after wrap")


def test_cut_at_every_step_of_a_save_leaves_a_valid_generation():
    for cut in range(1, 4):
        fs = FaultFs()
        r = _rec(fs)
        r.save(b"first")
        r.save(b"second")
        fs.power_on(cut)
        try:
            r.save(b"third")
        except PowerCut:
            pass
        fs.power_on()
        got = _rec(fs).load()
        assert got is not None and got[1] in (b"second", b"third"), (cut, got)


def test_full_filesystem_fails_the_save_and_keeps_the_older():
    fs = FaultFs()
    r = _rec(fs)
    r.save(b"x" * 20)
    r.save(b"y" * 20)
    fs.capacity = fs.used() + 10
    failed = False
    try:
        r.save(b"z" * 200)
    except OSError as e:
        failed = e.args[0] == 28
    assert failed
    assert _rec(fs).load() == (1, b"y" * 20)
