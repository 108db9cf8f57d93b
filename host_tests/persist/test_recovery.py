"""Boot after a reset: the defined state of SPEC 8, worst-case accounting, alarms, clock, safe mode."""

import json

from faultfs import FaultFs, PowerCut
from persistkit import World

from firmware.persist import recovery
from firmware.persist.flashfs import MemFs


def _running(w, dose="10mg"):
    w.cmd("login clinician 1234")
    w.cmd("rx drug morphine 10mg/mL")
    w.cmd("program continuous " + dose)
    w.cmd("program confirm")
    w.cmd("start")
    assert w.pump.state == "running"


def _cut(w, ms=0):
    w.reboot()
    if ms:
        w.sim.board.clock.advance_ms(ms)


def test_fresh_pump_boots_stopped_without_reset_alarms():
    w = World()
    p = w.pump
    assert p.state == "stopped" and p.mode == "none"
    assert "UNEXPECTED_RESET" not in p.alarms.codes() and "MEMORY" not in p.alarms.codes()
    assert p.store.boot_info["fresh"] is True


def test_running_pump_resumes_basal_and_counts_worst_case():
    w = World()
    _running(w)
    w.run(600000)
    w.pump.engine.stop()  # nothing more is delivered: the last checkpoint is exact
    before = w.pump.ledger.total_steps
    _cut(w)
    p = w.pump
    assert p.state == "running" and p.mode == "continuous" and p.engine.running()
    assert p.basal == 20000
    assumed = p.store.boot_info["assumed_steps"]
    assert assumed == (20000 * 60000 + 86399999) // 86400000  # one interval at the program's rate
    assert p.ledger.counted_24h(p.pump_ms()) - p.ledger.delivered_24h(p.pump_ms()) == assumed
    assert before - p.ledger.total_steps <= assumed
    codes = p.alarms.codes()
    assert "UNEXPECTED_RESET" in codes and "CLOCK" in codes
    assert p.clock_uncertain


def test_stopped_by_a_person_stays_stopped_but_still_counts_the_worst_case():
    w = World()
    _running(w)
    w.run(120000)
    w.cmd("stop")
    _cut(w)
    p = w.pump
    assert p.state == "stopped" and not p.engine.running()
    assert p.store.boot_info["assumed_steps"] > 0  # never zero while a program exists


def test_stopping_alarm_comes_back_latched_in_state_alarm():
    w = World()
    _running(w)
    w.pump.alarms.raise_alarm("OCCLUSION", "test")
    assert w.pump.state == "alarm"
    w.run(5000)
    _cut(w)
    p = w.pump
    assert p.state == "alarm" and not p.engine.running()
    a = p.alarms.get("OCCLUSION")
    assert a is not None and not a.acked


def test_refill_in_progress_is_cancelled_and_pump_waits_stopped():
    w = World()
    _running(w)
    r = w.cmd("refill begin")
    assert w.pump.state == "refill", r
    _cut(w)
    p = w.pump
    assert p.state == "stopped" and not p.engine.running()
    assert p.store.boot_info.get("refill_cancelled") is True


def test_bolus_in_progress_is_never_resumed():
    w = World()
    _running(w)
    w.cmd("bolus 0.5mg over=10m")
    w.run(120000)
    assert w.pump.engine.rate() > 20000, "bolus should be running"
    _cut(w)
    p = w.pump
    w.run(1000)
    assert p.state == "running" and p.engine.rate() == 20000  # back to the basal, no bolus
    assumed = p.store.boot_info["assumed_steps"]
    assert assumed > (20000 * 60000) // 86400000  # the bolus rate counted as the worst case
    assert p.store.boot_info.get("bolus_dropped") is True
    ev = [e for e in p.log.entries() if e[3] == "bolus_not_resumed"]
    assert len(ev) == 1 and ev[0][4]["steps_left"] > 0 and ev[0][4]["rate_steps_day"] > 20000


def test_clean_shutdown_is_not_unexpected_and_keeps_the_clock():
    w = World()
    _running(w)
    w.run(3600000)
    w.sim.shutdown()
    total = w.pump.ledger.total_steps
    wall = w.pump.wall()
    w.reboot()
    p = w.pump
    codes = p.alarms.codes()
    assert "UNEXPECTED_RESET" not in codes and "CLOCK" not in codes and "MEMORY" not in codes
    assert not p.clock_uncertain and p.wall() == wall
    assert p.ledger.total_steps == total and p.state == "running"
    assert "assumed_steps" not in p.store.boot_info
    _cut(w)  # the marker is consumed: a later cut is unexpected again
    assert "UNEXPECTED_RESET" in w.pump.alarms.codes()


def test_clock_restored_uncertain_until_time_set():
    w = World()
    _running(w)
    w.run(7200000)
    _cut(w, ms=3 * 3600000)
    w.cmd("json on")
    t = json.loads(w.cmd("time"))
    assert t["uncertain"] is True and t["clock"] <= "2026-01-01T02:00:00"
    r = json.loads(w.cmd("time set 2026-01-01T05:00:00"))
    assert not r["ok"] and r["code"] == "E_AUTH"
    assert "CLOCK" in w.pump.alarms.codes()
    w.cmd("login clinician 1234")
    r = json.loads(w.cmd("time set 2026-01-01T25:00:00"))
    assert not r["ok"] and r["code"] == "E_SYNTAX"
    r = json.loads(w.cmd("time set 2026-01-01T05:00:00"))
    assert r["ok"] and r["clock"] == "2026-01-01T05:00:00"
    assert not w.pump.clock_uncertain
    a = w.pump.alarms.get("CLOCK")
    assert a is None or not a.active
    ev = [e for e in w.pump.log.entries() if e[3] == "time_set"][-1]
    assert ev[4]["new"] == "2026-01-01T05:00:00" and ev[4]["who"] == "clinician"


def _spoil(fs, names):
    for n in names:
        if n in fs.files:
            d = bytearray(fs.files[n])
            d[len(d) // 2] ^= 0xFF
            fs.files[n] = bytes(d)


def test_all_records_corrupt_gives_memory_alarm_and_a_stopped_pump():
    w = World()
    _running(w)
    w.run(300000)
    _spoil(w.fs, ["acct.0", "acct.1", "rx.0", "rx.1"])
    _cut(w)
    p = w.pump
    assert "MEMORY" in p.alarms.codes()
    assert p.state == "alarm" and not p.engine.running()
    bad = [e for e in p.log.entries() if e[3] == "record_unusable"]
    assert len(bad) >= 4


def test_one_corrupt_generation_falls_back_without_alarm():
    w = World()
    _running(w)
    w.run(300000)
    newest = w.pump.store.acct.slot(w.pump.store.acct._newest)
    _spoil(w.fs, [newest])
    _cut(w)
    p = w.pump
    assert "MEMORY" not in p.alarms.codes() and p.state == "running" and p.basal == 20000


def test_records_from_a_newer_firmware_are_refused():
    w = World()
    _running(w)
    w.run(60000)
    for n in ("rx.0", "rx.1"):
        d = bytearray(w.fs.files[n])
        d[2] = 9  # version byte: the checksum also fails, either way never used
        w.fs.files[n] = bytes(d)
    _cut(w)
    p = w.pump
    assert "MEMORY" in p.alarms.codes() and p.state == "alarm"


def test_full_flash_raises_memory_and_keeps_the_prescription():
    fs = FaultFs()
    w = World(fs)
    _running(w)
    w.run(120000)
    fs.capacity = fs.used() - 10  # the next record write cannot fit
    w.run(120000)
    assert "MEMORY" in w.pump.alarms.codes() and w.pump.state == "alarm"
    fs.capacity = None
    _cut(w)
    assert w.pump.basal == 20000 and w.pump.mode == "continuous"


def test_boot_loop_counter_drops_to_safe_mode_and_stays():
    fs = MemFs()
    reasons = [recovery.safe_mode_reason(fs, limit=3) for _ in range(3)]
    assert reasons[:2] == [None, None] and "boot loop" in reasons[2]
    assert "flag file" in recovery.safe_mode_reason(fs, limit=3)
    fs.remove(recovery.SAFE_FILE)
    assert recovery.safe_mode_reason(fs, limit=3) is None
    recovery.boot_ok(fs)
    assert recovery.boot_count(fs) == 0
    assert recovery.safe_mode_reason(fs, pin_low=True) == "safe-mode pin held low"


def test_torn_boot_counter_counts_afresh():
    fs = MemFs()
    fs.write(recovery.BOOT_FILE, b"\xff\x00")
    assert recovery.boot_count(fs) == 0
    assert recovery.safe_mode_reason(fs) is None and recovery.boot_count(fs) == 1


def test_checkpoints_at_most_once_an_interval_while_delivering():
    fs = FaultFs(trace=True)
    w = World(fs)
    _running(w)
    fs.trace = []
    w.run(3600000)
    acct = [t for t in fs.trace if t[1] == "open" and t[2].startswith("acct.")]
    assert 55 <= len(acct) <= 62, len(acct)  # one a minute (59 s), not one per loop pass
    bins = [t for t in fs.trace if t[1] == "open" and t[2].startswith("bins.")]
    assert 5 <= len(bins) <= 7, len(bins)  # one per 10-minute bin


def test_a_command_change_is_on_flash_before_its_reply():
    w = World()
    _running(w)
    seq = w.pump.store.rx.seq
    w.cmd("program continuous 12mg")
    w.cmd("program confirm")
    assert w.pump.store.rx.seq > seq
    saved = w.pump.store.rx.load()
    assert saved is not None and b"12mg" in saved[1]


def test_cut_inside_the_boot_counter_write_never_traps_the_board():
    for cut in range(1, 4):
        fs = FaultFs()
        recovery.safe_mode_reason(fs)
        fs.power_on(cut)
        try:
            recovery.safe_mode_reason(fs)
        except PowerCut:
            pass
        fs.power_on()
        assert recovery.safe_mode_reason(fs) is None, cut
        assert 1 <= recovery.boot_count(fs) <= 3


def test_boot_rewrites_rx_only_when_the_restore_changed_it():
    fs = FaultFs(trace=True)
    w = World(fs)
    fs.power_on()
    _running(w)
    opened = []
    for _i in range(3):
        n = len(fs.trace)
        w.reboot()
        opened.append(set(t[2] for t in fs.trace[n:] if t[1] == "open"))
        assert w.pump.state == "running" and w.pump.basal > 0
    # the first boot latches UNEXPECTED_RESET and CLOCK (rx changes); the later ones change nothing in rx
    assert "rx.0" in opened[0] or "rx.1" in opened[0], opened
    for o in opened[1:]:
        assert "rx.0" not in o and "rx.1" not in o, opened
        assert "acct.0" in o or "acct.1" in o, opened
    w.pump.alarms.ack()
    w.cmd("stop")
    w.reboot()
    assert w.pump.state == "stopped"  # what changed after the skipped writes is still saved


def test_the_boots_own_entries_carry_the_restored_clock_and_log_time_never_goes_back():
    # the boot logs (DEFAULT_PIN, the restore's own) before the clock is restored: those entries
    # were stamped with the boot's start time, a day before the entries around them
    w = World()
    _running(w)
    w.run(86400000)
    _cut(w)
    w.run(60000)
    entries = w.pump.log.entries()
    walls = [e[1] for e in entries]
    back = [
        (entries[i - 1][3], entries[i][3], walls[i - 1] - walls[i])
        for i in range(1, len(walls))
        if walls[i] < walls[i - 1]
    ]
    assert not back, "log time goes back: %s" % back
    pin = [e for e in entries if e[3] == "alarm" and e[4].get("code") == "DEFAULT_PIN"]
    # a day on, less the checkpoint interval the restored clock may lag by
    assert len(pin) == 2 and pin[1][1] > walls[0] + 86400 - 120, pin
