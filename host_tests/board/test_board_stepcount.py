# cpython-only: drives the emulated Pico (node subprocess, sockets)
"""The independent step count on the real rp2 build: a PIO state machine on STEP (GP2), split by DIR.

One deploy with the fault-injection flag file on the board's flash (the
module's fixture), then: the PIO's count against the STEP edges in the
emulator's GPIO log; a rate slot overwritten and the forward-counter slot
overwritten, each caught with the driver disabled (EN high) and
`STEP_MISMATCH` raised. Edges and times are emulated, from the GPIO log.

Runs on the session's emulated Pico after test_board.py (which leaves it in
safe mode with a damaged image) or alone: the fixture deploys again either way.
"""

import pytest

from tools import deploy
from tools.deploy import mpremote
from tools.emu import rp2emu

STEP = rp2emu.PIN_STEP
EN = rp2emu.PIN_EN
ONE_PER_TICK = 86400000  # steps/day at 1 kHz: a step every tick
# the most STEP edges a slot fault may make before EN goes high: the steps of the main-loop
# passes between the write and the check at 1 kHz: the write comes inside a shell command, whose
# log entry and checkpoint reach flash before the next pass (47-142 measured on this rig: up to
# about five 45 ms sector erases when the filesystem does extra work)
MAX_EXTRA = 250

FLAG = """import os
try:
    os.mkdir('/data')
except OSError:
    pass
with open('/data/testhooks', 'w') as f:
    f.write('1')
print('FLAGGED')
"""


@pytest.fixture(scope="module")
def hooked(board):
    board.close_console()
    assert "FLAGGED" in mpremote(board.emu.repl_url, ("exec", FLAG), timeout=120)
    # a fresh image whatever an earlier test left; its reset boots with the flag in place
    board.deployed = deploy.deploy(board.emu.repl_url, quiet=True)
    con = board.shell()
    con.ok("rx drug morphine 0.2mg/mL")
    con.ok("program continuous 10mg")
    con.ok("program confirm")
    con.call("ack")
    return board


def _count(con):
    st = con.ok("status")
    return st["stepcount"], st["delivered_total_steps"]


def _codes(st):
    return [a["code"] for a in st["alarms"]]


def test_the_pio_counts_every_step_edge_of_a_delivery(hooked):
    emu = hooked.emu
    con = hooked.shell()
    c0, d0 = _count(con)
    assert c0["source"] == "pio"
    t0 = emu.now_us()
    con.ok("start")
    con.ok("bolus 0.01mg over=1m")  # 1,000 steps a minute on top of the basal: ~28 steps/s
    emu.wait_us(2000000)
    con.ok("stop")
    emu.wait_us(100000)
    t1 = emu.now_us()
    c1, d1 = _count(con)
    edges = len(emu.rising(STEP, t0, t1))
    print("PIO forward count %d, GPIO log rising STEP edges %d" % (c1["fwd"] - c0["fwd"], edges))
    assert edges >= 40, edges
    assert c1["fwd"] - c0["fwd"] == edges
    assert c1["rev"] == c0["rev"]
    assert d1 - d0 == edges  # and the engine agrees (no alarm)
    assert "STEP_MISMATCH" not in _codes(con.ok("status"))


def _fault(hooked, slot, value):
    """Run, overwrite `slot`, return (STEP edges from the write to EN high, status after)."""
    emu = hooked.emu
    con = hooked.shell()
    con.call("ack")
    con.ok("start")
    emu.wait_us(200000)
    t_hook = emu.now_us()
    r = con.ok("testhook slot %s %d" % (slot, value))
    assert r["value"] == value
    emu.wait_us(100000)
    st = con.ok("status")
    t_end = emu.now_us()
    ups = [t for t in emu.rising(EN, t_hook, t_end)]
    assert ups, "EN never went high (driver still enabled)"
    extra = len(emu.rising(STEP, t_hook, ups[0]))
    after = len(emu.rising(STEP, ups[0] + 2000, t_end))
    assert after == 0, after
    assert emu.level_at(EN, t_end) == 1
    return extra, st


def test_a_rate_slot_overwritten_is_caught_within_a_bounded_number_of_steps(hooked):
    extra, st = _fault(hooked, "N", ONE_PER_TICK)
    print("rate slot at one step a tick: %d STEP edges from the write to EN high" % extra)
    assert "STEP_MISMATCH" in _codes(st)
    assert st["state"] == "alarm"
    assert extra <= MAX_EXTRA, extra


def test_the_forward_counter_slot_overwritten_is_caught(hooked):
    extra, st = _fault(hooked, "FWD", 12345)
    print("forward counter slot overwritten: %d STEP edges from the write to EN high" % extra)
    assert "STEP_MISMATCH" in _codes(st)
    assert st["state"] == "alarm"
    assert extra <= MAX_EXTRA, extra
    con = hooked.shell()
    con.call("ack")
    con.call("stop")


def test_the_dose_allowance_slot_overwritten_is_caught(hooked):
    # the governor's allowance set far beyond what it armed: it finds its own figure changed at
    # the next pass, stops the engine and disables the driver (docs/safety.md)
    extra, st = _fault(hooked, "ALLOW", 500000000)
    print("allowance slot overwritten: %d STEP edges from the write to EN high" % extra)
    assert "STEP_MISMATCH" in _codes(st)
    assert st["state"] == "alarm"
    assert extra <= MAX_EXTRA, extra
    log = hooked.shell().ok("log 20")["entries"]
    assert "allowance_fault" in [e["event"] for e in log]
    con = hooked.shell()
    con.call("ack")
    con.call("stop")


def test_the_pio_program_is_what_this_firmware_assembles(hooked):
    # drivers/stepcount_pio.py ships the program and the read instructions as words (assembling
    # them at boot cost 40 ms): this firmware's own rp2.asm_pio must still make the same.
    # Last in the file: it leaves the board at the REPL (a boot or deploy brings the app back).
    con = hooked.shell(login=False)
    con.stop_app()
    hooked.close_console()
    out = mpremote(hooked.emu.repl_url, ("exec", CHECK_PROGRAM), timeout=120)
    assert "MATCH True" in out, out


CHECK_PROGRAM = "from drivers import stepcount_pio\nprint('MATCH', stepcount_pio.matches())\n"
