"""Weeks of delivery with a power cut every few hours, landing at random points (inside writes too).

30 days on CPython; 1 on micropython (its 512 KB test heap fragments over many reboots; the
arithmetic is the same).
"""

import sys

import rig
from faultfs import FaultFs, PowerCut
from persistkit import World

DAY_MS = 86400000
RATE = 10000  # 5 mg/day of morphine 10 mg/mL: 0.5 mL/day, 15 of the 20 mL in 30 days
DAYS = 1 if sys.implementation.name == "micropython" else 30


def _run(days, seed):
    g = rig.Lcg(seed)
    fs = FaultFs(rng=g)
    w = World(fs)
    for line in ("login clinician 1234", "rx drug morphine 10mg/mL", "program continuous 5mg"):
        w.cmd(line)
    w.cmd("program confirm")
    w.cmd("start")
    clock = w.sim.board.clock
    t0 = clock.now_us // 1000
    off_ms = 0
    cuts = 0
    assumed = 0
    end = days * DAY_MS
    while clock.now_us // 1000 - t0 - off_ms < end:
        # arm a cut a few hours of writes ahead: it lands on a random write step
        fs.power_on(1 + g.below(180 * 5))
        try:
            while clock.now_us // 1000 - t0 - off_ms < end:
                w.run(60000)
        except PowerCut:
            cuts += 1
            down = g.below(3) * 60000  # off for 0 to 2 minutes: nothing is delivered meanwhile
            w.reboot()
            clock.advance_ms(down)
            off_ms += down
            assumed += w.pump.store.boot_info.get("assumed_steps", 0)
            assert "MEMORY" not in w.pump.alarms.codes()
            assert w.pump.state == "running", (w.pump.state, w.pump.alarms.codes())
    fs.power_on()
    on_ms = clock.now_us // 1000 - t0 - off_ms
    return w, cuts, assumed, on_ms


def test_thirty_days_of_cuts_deliver_the_program_never_more():
    w, cuts, assumed, on_ms = _run(DAYS, 11)
    programmed = RATE * on_ms // DAY_MS
    truth = w.emitted()
    recorded = w.pump.ledger.total_steps
    assert cuts >= DAYS * 3, cuts  # a cut every few hours
    assert truth <= programmed, (truth, programmed)  # never above the program
    assert truth >= programmed - cuts - 1  # a restart costs under one step of DDA phase
    # the pump's own record loses at most one checkpoint interval per cut, never gains
    per_cut = (RATE * 60000 + DAY_MS - 1) // DAY_MS
    assert truth - cuts * per_cut <= recorded <= truth, (recorded, truth, cuts)
    assert assumed >= truth - recorded  # the cap counted at least what the records lost
    log = w.pump.log.entries()
    assert log and log[-1][0] == w.pump.log.seq - 1
