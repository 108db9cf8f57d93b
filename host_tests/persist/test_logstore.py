"""The log's two rings (issue 16 item 6): protected entries survive any number of routine ones,
an old single-ring log is read after an upgrade, and a cut at any write step loses nothing."""

import json

from faultfs import FaultFs, PowerCut
from persistkit import LogPump, World

from firmware.persist import eventlog
from firmware.persist.eventlog import EventLog, encode_line
from firmware.persist.flashfs import MemFs


def _log(fs, segments=5, segment_bytes=400, routine=3, routine_bytes=300):
    return EventLog(fs, LogPump(), segments, segment_bytes, routine, routine_bytes)


class _CallFs(FaultFs):
    """Notes whether the last call was a whole-file write (a ring's rotation) or an append."""

    def write(self, name, data):
        self.last_call = "write"
        FaultFs.write(self, name, data)

    def append(self, name, data):
        self.last_call = "append"
        FaultFs.append(self, name, data)


class _ReadFs(MemFs):
    def __init__(self):
        MemFs.__init__(self)
        self.reads = []

    def read(self, name):
        self.reads.append(name)
        return MemFs.read(self, name)


def test_routine_entries_never_push_out_protected_ones():
    fs = MemFs()
    log = _log(fs)
    log.add("alarm", {"code": "OCCLUSION"})
    log.add("refused", {"cmd": "bolus 9mg", "code": "E_LIMIT"})
    log.add("program", {"mode": "continuous"})
    for i in range(2000):
        log.add("login" if i % 2 else "logout", {"role": "clinician"})
        log.add("button", {})
    names = [e[3] for e in log.entries()]
    assert names[:3] == ["alarm", "refused", "program"], names[:5]
    assert len(names) > 3 and set(names[3:]) <= {"login", "logout", "button"}
    # the routine ring stays within its own bound
    assert log.routine.used() <= 3 * 300
    seqs = [e[0] for e in log.entries()]
    assert seqs == sorted(seqs) and seqs[-1] == log.seq - 1


def test_a_passed_self_test_is_routine_a_failed_one_protected():
    assert eventlog.is_routine("selftest", {"passed": True})
    assert not eventlog.is_routine("selftest", {"passed": False, "failed": ["image"]})
    assert not eventlog.is_routine("some_new_event", {})  # anything not named routine is kept
    assert eventlog.is_routine("login", {})


def test_protected_ring_keeps_all_but_its_oldest_segment_when_full():
    fs = MemFs()
    log = _log(fs, segments=6, segment_bytes=500)
    for i in range(400):
        log.add("alarm", {"i": i})
        kept = [e for e in log.entries() if e[3] == "alarm"]
        assert kept[-1][4]["i"] == i
        if i > 100:
            # five full segments at least (each full but for less than one line), contiguous
            longest = max(len(encode_line(e)) for e in kept)
            assert sum(len(encode_line(e)) for e in kept) >= 5 * (500 - longest), (i, len(kept))
            assert [e[4]["i"] for e in kept] == list(range(kept[0][4]["i"], i + 1))
    assert log.protected.used() <= 6 * 500


def test_boot_reads_a_few_segments_of_a_full_ring_not_all():
    fs = _ReadFs()
    log = _log(fs, segments=48, segment_bytes=400)
    for i in range(48 * 6 + 17):  # turned: the head is somewhere in the middle
        log.add("alarm", {"i": i})
    fs.reads = []
    log2 = _log(fs, segments=48, segment_bytes=400)
    prot = [n for n in fs.reads if n.startswith(eventlog.PROTECTED_PREFIX)]
    assert len(prot) <= 8, prot  # log2(48) + the head's own read
    assert log2.seq == log.seq
    assert log2.protected._cur == log.protected._cur
    fs.reads = []
    got = log2.last(3)
    assert [e[4]["i"] for e, _ in got] == [48 * 6 + 14, 48 * 6 + 15, 48 * 6 + 16]
    assert len([n for n in fs.reads if n.startswith(eventlog.PROTECTED_PREFIX)]) <= 2


def test_head_found_for_every_position_of_the_ring():
    for total in range(1, 130, 3):
        fs = MemFs()
        log = _log(fs, segments=7, segment_bytes=200)
        for i in range(total):
            log.add("alarm" if i % 3 else "login", {"i": i})
        log2 = _log(fs, segments=7, segment_bytes=200)
        assert log2.seq == total, total
        assert log2.protected._cur == log.protected._cur, total
        assert log2.entries() == log.entries(), total


def test_a_damaged_first_line_does_not_hide_the_head():
    fs = MemFs()
    log = _log(fs, segments=6, segment_bytes=400)
    for i in range(70):
        log.add("alarm", {"i": i})
    name = eventlog.PROTECTED_PREFIX + "0"
    raw = bytearray(fs.files[name])
    raw[3] = ord("#")  # the first line's number
    fs.files[name] = bytes(raw)
    log2 = _log(fs, segments=6, segment_bytes=400)
    assert log2.seq == 70 and log2.protected._cur == log.protected._cur


def _old_ring(fs, total, segments=4, segment_bytes=4096):
    """The log as the firmware before the protected ring wrote it: one ring of `log.N`."""
    cur = 0
    size = 0
    t = 1767225600
    names = ("login", "rx_drug", "alarm", "program", "start", "logout", "ptm_given", "refused")
    for seq in range(total):
        line = encode_line([seq, t + 60 * seq, 0, names[seq % len(names)], {"who": "pump", "n": seq}])
        name = eventlog.PREFIX + str(cur)
        if size and size + len(line) > segment_bytes:
            cur = (cur + 1) % segments
            size = 0
            name = eventlog.PREFIX + str(cur)
            fs.write(name, line)
        else:
            fs.append(name, line)
        size += len(line)
    return cur


def test_an_old_single_ring_log_reads_back_after_the_upgrade_and_new_entries_go_to_their_ring():
    fs = FaultFs()
    cur = _old_ring(fs, 260)  # 4 x 4 KB turned: the head is not the last segment
    assert cur < 3 and eventlog.PREFIX + "3" in fs.files, cur
    old = EventLog(fs, LogPump(), 48, 4096, 4, 4096).entries()
    assert len(old) > 150 and old[-1][0] == 259
    w = World(fs)  # the new firmware boots on that flash
    es = w.pump.log.entries()
    assert es[: len(old)] == old  # every old entry, in order
    new = es[len(old) :]
    assert new and all(e[0] >= 260 for e in new)
    w.cmd("login clinician 1234")
    w.cmd("rx drug morphine 10mg/mL")
    w.cmd("json on")
    got = w.pump.log.last(1000)  # what `log N` reads, without the shell's reply
    assert [e[0] for e, _ in got[: len(old)]] == [e[0] for e in old]
    assert all(store == "before_upgrade" for _, store in got[: len(old)])  # still in the old files
    r = json.loads(w.cmd("log 5"))
    assert r["ok"], r
    by = {e["event"]: e["store"] for e in r["entries"]}
    assert by["login"] == "routine" and by["rx_drug"] == "protected", by
    assert [e["seq"] for e in r["entries"]] == [e[0] for e, _ in got[-5:]]
    # the new rings are new files; the old ones are never written again
    assert any(n.startswith(eventlog.PROTECTED_PREFIX) for n in fs.files)
    assert any(n.startswith(eventlog.ROUTINE_PREFIX) for n in fs.files)
    w.reboot()
    assert w.pump.log.entries()[: len(old)] == old


def _readable(fs):
    """{seq: file} of every entry whose line checks, in any ring file."""
    out = {}
    for name in fs.files:
        if name.split(".")[0] + "." in (eventlog.PREFIX, eventlog.PROTECTED_PREFIX, eventlog.ROUTINE_PREFIX):
            for line in bytes(fs.files[name]).split(b"\n"):
                e = eventlog.decode_line(line)
                if e is not None:
                    out[e[0]] = name
    return out


def _after_cut(fs, committed):
    """The log read after the cut: every committed entry but those in the file the cut hit."""
    cut_name = fs.trace[-1][2] if fs.trace and fs.dead and fs.last_call == "write" else None
    fs.power_on()
    log2 = _log(fs)
    es = log2.entries()
    seqs = [e[0] for e in es]
    assert seqs == sorted(seqs), seqs
    have = set(seqs)
    for seq in committed:
        if seq not in have:
            # a rotation overwrites that ring's oldest segment: those were being dropped
            assert committed[seq] == cut_name, (seq, committed[seq], cut_name)
    log2.add("alarm", {"after": 1})
    log2.add("login", {"after": 1})
    es2 = log2.entries()
    assert es2[-2][3] == "alarm" and es2[-1][3] == "login"
    assert not seqs or es2[-2][0] > seqs[-1]
    assert log2.routine.name(log2.routine._cur).startswith(eventlog.ROUTINE_PREFIX)
    assert bytes(fs.files[log2.routine.name(log2.routine._cur)]).endswith(b"\n")
    return log2


PATTERN = ("alarm", "login", "refused", "program", "button", "logout", "alarm")


def test_cut_at_every_write_step_of_both_rings_loses_no_committed_entry():
    for cut in range(1, 130):
        fs = _CallFs(trace=True)
        log = _log(fs)
        for i in range(30):
            log.add(PATTERN[i % len(PATTERN)], {"i": i})
        committed = _readable(fs)
        fs.power_on(cut)
        fs.trace = []
        try:
            for i in range(30, 70):
                log.add(PATTERN[i % len(PATTERN)], {"i": i})
                committed = _readable(fs)
        except PowerCut:
            pass
        _after_cut(fs, committed)


def test_cut_at_every_step_of_a_release_into_both_rings():
    for cut in range(1, 14):
        fs = _CallFs(trace=True)
        log = _log(fs)
        for i in range(12):
            log.add("alarm" if i % 2 else "login", {"i": i})
        committed = _readable(fs)
        log.hold()
        for i in range(9):
            log.add("reset" if i % 2 else "button", {"i": i})
        fs.power_on(cut)
        fs.trace = []
        try:
            log.release()
        except PowerCut:
            pass
        _after_cut(fs, committed)


def test_the_old_log_is_never_written_again_and_outlives_both_rings_turning():
    fs = MemFs()
    _old_ring(fs, 230)
    before = dict((n, bytes(d)) for n, d in fs.files.items())
    log = _log(fs)
    old = log.entries()
    assert len(old) > 150
    for i in range(300):
        log.add("alarm" if i % 2 else "login", {"i": i})
    assert all(bytes(fs.files[n]) == d for n, d in before.items())
    es = log.entries()
    assert es[: len(old)] == old and es[len(old)][0] >= 230  # the new rings dropped their own oldest
    seqs = [e[0] for e in es]
    assert seqs == sorted(seqs)
    assert _log(fs).seq == log.seq
