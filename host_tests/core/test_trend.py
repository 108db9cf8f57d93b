"""Trend buffer and the `trend` command: per-minute samples, ring, paging, bad input. Both interpreters."""

import json

from boards import sim as simboard
from firmware.pump import Pump
from firmware.shell import cmd_trend
from firmware.shell.shell import Shell
from firmware.trend import CODES, MINUTE_MS, NO_PRESSURE, Trend


def make(capacity=1500, steps_per_day=20000):
    board = simboard.Board()
    pump = Pump(board)
    t = Trend(capacity)
    pump.trend = t
    pump.services.append(t)
    if steps_per_day:
        pump.set_basal(steps_per_day, "continuous")
        pump.start()
    return board, pump, t


def run(board, pump, ms, step=1000):
    # as the simulator does: the clock, the engine in closed form, then every service
    while ms > 0:
        dt = step if step < ms else ms
        board.clock.advance_ms(dt)
        pump.engine.advance(dt * (board.tick_hz // 1000))
        pump.service()
        ms -= dt


def test_one_sample_a_minute_with_that_minutes_steps():
    board, pump, t = make(steps_per_day=1440 * 7)  # 7 steps a minute exactly
    run(board, pump, 10 * MINUTE_MS)
    # the first pass takes the baseline; then one sample for each minute that ended
    assert t.count == 10
    rows = t.since(0, 100)
    assert [r[1] for r in rows] == [7] * 10
    assert sum(r[1] for r in rows) == pump.ledger.total_steps
    minutes = [r[0] for r in rows]
    assert minutes == list(range(minutes[0], minutes[0] + 10))
    assert minutes[-1] == pump.wall() // 60


def test_steps_sum_matches_ledger_at_an_uneven_rate():
    board, pump, t = make(steps_per_day=20000)  # 13.9 steps a minute
    run(board, pump, 3 * 60 * MINUTE_MS)
    rows = t.since(0, 1000)
    assert len(rows) == 180
    assert sum(r[1] for r in rows) == pump.ledger.total_steps
    assert {r[1] for r in rows} <= {13, 14}


def test_ring_keeps_the_newest_and_pages_from_the_oldest_held():
    board, pump, t = make(capacity=5, steps_per_day=1440)
    run(board, pump, 12 * MINUTE_MS)
    assert t.count == 12
    assert t.first() == 7
    rows = t.since(0, 100)  # an index already overwritten starts at the oldest held
    assert len(rows) == 5
    assert rows[-1][0] - rows[0][0] == 4
    assert t.since(10, 1) == [t.since(0, 100)[3]]
    assert t.since(12, 5) == []


def test_readings_from_hooks_unknown_and_clamped():
    board, pump, t = make()
    run(board, pump, MINUTE_MS + 1000)
    assert t.since(0, 1)[0][2:4] == [None, None]
    t.pressure_fn = lambda p: 123
    t.reservoir_fn = lambda p: 19500
    run(board, pump, MINUTE_MS)
    assert t.since(1, 1)[0][2:4] == [123, 19500]
    t.pressure_fn = lambda p: 10**9
    t.reservoir_fn = lambda p: -5
    run(board, pump, MINUTE_MS)
    assert t.since(2, 1)[0][2:4] == [32767, 0]
    assert NO_PRESSURE < -32767


def test_alarm_mask_marks_active_alarms():
    board, pump, t = make()
    run(board, pump, MINUTE_MS + 1000)
    before = t.since(0, 1)[0][4]
    pump.alarms.raise_alarm("OCCLUSION", "test")
    run(board, pump, MINUTE_MS)
    mask = t.since(1, 1)[0][4]
    assert mask & (1 << CODES.index("OCCLUSION"))
    assert not before & (1 << CODES.index("OCCLUSION"))


def test_capacity_covers_a_day_and_reports_its_ram():
    t = Trend()
    assert t.capacity * MINUTE_MS >= 24 * 3600 * 1000
    assert t.nbytes() == t.capacity * 14


def shell_for(pump):
    sh = Shell(pump)
    sh.json = True
    cmd_trend.register(sh)
    return sh


def test_trend_command_pages_through_every_sample():
    board, pump, t = make()
    run(board, pump, 150 * MINUTE_MS)
    sh = shell_for(pump)
    got = []
    since = 0
    while True:
        d = json.loads(sh.handle(("trend %d" % since).encode()))
        assert d["ok"] and d["fields"][1] == "steps" and d["alarm_codes"] == list(CODES)
        if not d["samples"]:
            break
        assert d["start"] == since and d["next"] == since + len(d["samples"])
        got += d["samples"]
        since = d["next"]
    assert len(got) == t.count == 150
    assert sum(r[1] for r in got) == pump.ledger.total_steps


def test_trend_command_refuses_bad_input_with_one_code():
    board, pump, t = make()
    run(board, pump, 3 * MINUTE_MS)
    sh = shell_for(pump)
    for line, code in (
        ("trend x", "E_SYNTAX"),
        ("trend -1", "E_SYNTAX"),
        ("trend 0 0", "E_RANGE"),
        ("trend 0 61", "E_RANGE"),
        ("trend 0 1 2", "E_SYNTAX"),
        ("trend 1e3", "E_SYNTAX"),
    ):
        d = json.loads(sh.handle(line.encode()))
        assert not d["ok"] and d["code"] == code, (line, d)
    assert t.count == 3
    d = json.loads(sh.handle(b"trend 0 2"))
    assert len(d["samples"]) == 2


def test_trend_command_without_buffer_is_a_state_error():
    pump = Pump(simboard.Board())
    d = json.loads(shell_for(pump).handle(b"trend"))
    assert d["code"] == "E_STATE"


def test_history_survives_a_commanded_shutdown_once():
    from firmware.persist.flashfs import MemFs

    fs = MemFs()
    board, pump, t = make()
    t._fs = fs
    pump.listeners.append(t.on_event)
    t.pressure_fn = lambda p: 15
    run(board, pump, 30 * MINUTE_MS)
    before = t.since(0, 100)
    pump.event("shutdown", clock_ok=True)
    assert fs.exists("trend.bin")
    board2, pump2, t2 = make()
    t2._fs = fs
    assert t2.load()
    run(board2, pump2, 2 * MINUTE_MS)
    assert t2.count == 32
    assert t2.since(0, 30) == before
    assert not fs.exists("trend.bin")  # taken once: a later boot starts empty
    board3, pump3, t3 = make()
    t3._fs = fs
    assert not t3.load()
    run(board3, pump3, 2 * MINUTE_MS)
    assert t3.count == 2


def test_a_damaged_history_file_is_ignored():
    from firmware.persist.flashfs import MemFs

    fs = MemFs()
    fs.write("trend.bin", b"TRD1" + b"\x00" * 40)
    board, pump, t = make()
    t._fs = fs
    assert not t.load()
    run(board, pump, 2 * MINUTE_MS)
    assert t.count == 2


def test_a_history_saved_before_the_wider_alarm_mask_still_loads():
    # a pump upgraded in place: its last shutdown wrote TRD1, the alarm mask 16-bit
    import struct
    from array import array

    from firmware.persist.flashfs import MemFs

    cap = 4
    parts = [struct.pack("<4sII", b"TRD1", cap, 3)]
    for t, v in zip("iihHH", (29000000, 7, 15, 1234, 5)):
        parts.append(bytes(array(t, [v] * cap)))
    fs = MemFs()
    fs.write("trend.bin", b"".join(parts))
    t = Trend(cap, fs=fs)
    assert t.load()
    assert t.count == 3
    rows = t.since(0, 10)
    assert [r[1] for r in rows] == [7, 7, 7] and [r[4] for r in rows] == [5, 5, 5]
