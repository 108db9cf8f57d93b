"""The event log: a bounded ring on flash that survives cuts and reads back in order."""

import json

from faultfs import FaultFs, PowerCut
from persistkit import LogPump, World

from firmware.jsonout import Dec
from firmware.persist import eventlog
from firmware.persist.eventlog import EventLog
from firmware.persist.flashfs import MemFs


def _log(fs=None, segments=3, segment_bytes=400):
    return EventLog(fs if fs is not None else MemFs(), LogPump(), segments, segment_bytes)


def test_entries_read_back_with_fields_and_time():
    log = _log()
    log.add("program", {"old": 1, "new": Dec(25, 1), "words": ["continuous", "2mg"]})
    es = log.entries()
    assert len(es) == 1
    seq, wall, unc, name, f = es[0]
    assert (seq, wall, unc, name) == (0, 1767225600, 0, "program")
    assert f["new"] == "2.5" and f["old"] == 1 and f["words"] == ["continuous", "2mg"]


def test_ring_never_grows_past_its_bound_and_keeps_order():
    fs = MemFs()
    log = _log(fs)
    for i in range(500):
        log.add("e", {"i": i})
        total = sum(len(d) for d in fs.files.values())
        assert total <= 3 * 400, total
    es = log.entries()
    seqs = [e[0] for e in es]
    assert seqs == sorted(seqs) and seqs[-1] == 499
    assert seqs == list(range(seqs[0], 500))  # contiguous: only the oldest were dropped
    assert len(es) > 10


def test_reopened_log_continues_its_sequence():
    fs = MemFs()
    log = _log(fs)
    for i in range(40):
        log.add("e", {"i": i})
    log2 = _log(fs)
    log2.add("after", {})
    es = log2.entries()
    assert es[-1][0] == 40 and es[-1][3] == "after"
    assert es[-2][0] == 39


def test_torn_last_line_is_skipped_and_next_entry_starts_fresh():
    fs = MemFs()
    log = _log(fs, segment_bytes=4000)
    log.add("a", {})
    log.add("b", {})
    name = eventlog.PROTECTED_PREFIX + "0"
    fs.files[name] = fs.files[name][:-7]  # a cut in the middle of appending "b"
    log2 = _log(fs, segment_bytes=4000)
    assert [e[3] for e in log2.entries()] == ["a"]
    log2.add("c", {})
    assert [e[3] for e in log2.entries()] == ["a", "c"]


def test_damaged_byte_loses_one_entry_only():
    fs = MemFs()
    log = _log(fs, segment_bytes=4000)
    for n in ("a", "b", "c"):
        log.add(n, {"x": 1})
    name = eventlog.PROTECTED_PREFIX + "0"
    raw = bytearray(fs.files[name])
    i = raw.index(b'"b"')
    raw[i + 1] = ord("B")
    fs.files[name] = bytes(raw)
    assert [e[3] for e in _log(fs, segment_bytes=4000).entries()] == ["a", "c"]


def test_cut_at_every_step_of_appends_keeps_the_log_readable():
    for cut in range(1, 13):
        fs = FaultFs()
        log = _log(fs, segment_bytes=300)
        for i in range(6):
            log.add("before", {"i": i})
        fs.power_on(cut)
        try:
            for i in range(4):
                log.add("during", {"i": i})
        except PowerCut:
            pass
        fs.power_on()
        log2 = _log(fs, segment_bytes=300)
        log2.add("after", {})
        es = log2.entries()
        seqs = [e[0] for e in es]
        assert seqs == sorted(seqs), (cut, seqs)
        assert es[-1][3] == "after"
        assert [e for e in es if e[3] == "before"], cut


class _CountFs(MemFs):
    def __init__(self):
        MemFs.__init__(self)
        self.calls = 0

    def write(self, name, data):
        self.calls += 1
        MemFs.write(self, name, data)

    def append(self, name, data):
        self.calls += 1
        MemFs.append(self, name, data)


def test_held_entries_read_back_as_if_added_one_by_one_in_fewer_writes():
    plain = MemFs()
    one = _log(plain, segment_bytes=300)
    held_fs = _CountFs()
    held = _log(held_fs, segment_bytes=300)
    for i in range(3):
        one.add("before", {"i": i})
        held.add("before", {"i": i})
    held.hold()
    calls = held_fs.calls
    for i in range(8):  # crosses a segment boundary
        one.add("boot", {"i": i})
        held.add("boot", {"i": i})
    assert held_fs.calls == calls  # nothing reaches flash while held
    assert [e[3] for e in held.entries()] == ["before"] * 3
    held.release()
    assert 1 <= held_fs.calls - calls < 8
    assert held.entries() == one.entries()
    assert held_fs.files == plain.files
    held.add("after", {})
    one.add("after", {})
    assert _log(held_fs, segment_bytes=300).entries() == one.entries()


def test_cut_at_every_step_of_a_release_keeps_the_log_readable():
    for cut in range(1, 10):
        fs = FaultFs()
        log = _log(fs, segment_bytes=300)
        for i in range(4):
            log.add("before", {"i": i})
        log.hold()
        for i in range(5):
            log.add("boot", {"i": i})
        fs.power_on(cut)
        try:
            log.release()
        except PowerCut:
            pass
        fs.power_on()
        log2 = _log(fs, segment_bytes=300)
        log2.add("after", {})
        es = log2.entries()
        seqs = [e[0] for e in es]
        assert seqs == sorted(seqs), (cut, seqs)
        assert es[-1][3] == "after"
        assert [e for e in es if e[3] == "before"], cut


def test_full_flash_counts_lost_entries_without_raising():
    fs = FaultFs()
    log = _log(fs, segment_bytes=4000)
    log.add("a", {})
    fs.capacity = fs.used() + 5
    log.add("b", {"long": "x" * 50})
    assert log.lost == 1
    fs.capacity = None
    log.add("c", {})
    assert [e[3] for e in log.entries()] == ["a", "c"]


def test_log_command_n_since_and_errors():
    w = World()
    w.cmd("login clinician 1234")
    w.cmd("rx drug morphine 10mg/mL")
    w.run(3600000)
    w.cmd("login clinician 1234")
    w.cmd("rx patient P-17")
    w.cmd("json on")
    r = json.loads(w.cmd("log 2"))
    assert r["ok"] and r["count"] == 2
    assert r["entries"][-1]["seq"] > r["entries"][0]["seq"]
    allr = json.loads(w.cmd("log since 2026-01-01T00:30:00"))
    assert allr["count"] >= 1
    assert all(e["time"] >= "2026-01-01T00:30:00" for e in allr["entries"])
    assert any(e["event"] == "login" for e in allr["entries"])
    early = json.loads(w.cmd("log since 2026-01-01T00:00:00"))
    assert early["count"] > allr["count"]
    for bad, code in (
        ("log 0", "E_RANGE"),
        ("log x", "E_SYNTAX"),
        ("log since", "E_SYNTAX"),
        ("log since 2026-13-01", "E_SYNTAX"),
        ("log 1 2", "E_SYNTAX"),
        ("log -1", "E_SYNTAX"),
    ):
        r = json.loads(w.cmd(bad))
        assert not r["ok"] and r["code"] == code, (bad, r)


def test_log_records_who_and_failed_logins():
    w = World()
    w.cmd("login clinician 9999")
    w.cmd("login clinician 1234")
    w.cmd("rx drug morphine 10mg/mL")
    es = w.pump.log.entries()
    names = [e[3] for e in es]
    assert any("fail" in n for n in names), names
    drug = [e for e in es if e[3] == "rx_drug"][-1]
    assert drug[4]["who"] == "clinician"
    boot = [e for e in es if e[3] == "reset"][-1]
    assert boot[4]["who"] == "pump"


def test_since_reads_back_only_as_far_as_it_must_and_decodes_only_what_is_asked():
    fs = MemFs()
    log = _log(fs)
    for i in range(60):  # several segments: the ring has turned
        log.add("bolus" if i % 7 == 0 else "e", {"i": i, "budget": True} if i % 7 == 0 else {"i": i})
    got = log.since(50)
    assert [e[0] for e in got] == list(range(50, 60))
    marked = log.since(40, (b'"budget"',))
    assert [e[0] for e in marked] == [42, 49, 56] and all(e[3] == "bolus" for e in marked)
    assert log.since(60) == []
    # a damaged line after seq is skipped, not taken as the end of the search
    name = eventlog.PROTECTED_PREFIX + str(log.protected._cur)
    raw = fs.read(name)
    assert b'"i": 58,' in raw
    fs.write(name, raw.replace(b'"i": 58,', b'"i": 5X,'))
    assert [e[0] for e in log.since(55)] == [55, 56, 57, 59]


def test_since_is_not_cut_short_by_a_damaged_number():
    fs = MemFs()
    log = _log(fs, segments=3, segment_bytes=4000)
    for i in range(20):
        log.add("e", {"i": i})
    name = eventlog.PROTECTED_PREFIX + str(log.protected._cur)
    raw = fs.read(name)
    assert raw.count(b"[19, ") == 1
    fs.write(name, raw.replace(b"[19, ", b"[1, "))  # the newest line's number, its check now fails
    assert [e[0] for e in log.since(14)] == [14, 15, 16, 17, 18]
