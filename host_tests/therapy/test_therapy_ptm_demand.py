"""Issue 16 item 2 (amends SPEC 9's `status`): patient bolus demand against delivery.

`status` reports, since the patient bolus was last set up (`ptm set`): presses, given, refused
by the lockout, refused by the daily maximum; they survive a reset. A module of its own: its
power cut builds a second firmware, which wants a heap no earlier test has fragmented
(micropython's 512 KB).
"""

from therapy_kit import TKit

MIN = 60000


def _demand(st):
    return st["ptm_presses"], st["ptm_given"], st["ptm_refused_lockout"], st["ptm_refused_max"]


def _refused(k):
    return [e[4] for e in k.pump.log.entries() if e[3] == "refused"]


def test_patient_bolus_demand_in_status():
    k = TKit()
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    k.ok("ptm set dose=0.1mg lockout=2m max=2 over=1m")
    st = k.ok("status")
    assert _demand(st) == (0, 0, 0, 0)
    assert st["ptm_counts_since"] == st["clock"]
    k.ok("ptm")
    k.run(70000)  # the bolus is over, the lockout not
    assert k.code("ptm") == "E_STATE"  # locked out
    assert k.code("ptm") == "E_STATE"
    k.run(2 * MIN)
    k.ok("ptm")
    k.run(3 * MIN)  # past the lockout again
    assert k.code("ptm") == "E_LIMIT"  # two a day at most
    st = k.ok("status")
    assert _demand(st) == (5, 2, 2, 1)
    k.power_cut()  # the counts are accounting: they survive a reset
    st = k.ok("status")
    assert _demand(st) == (5, 2, 2, 1)
    k.ok("ptm set dose=0.1mg lockout=2m max=3 over=1m")  # new settings: counted afresh
    assert k.ok("status")["ptm_presses"] == 0
    # each refused press is also in the log (read last: the whole log is a heap's worth of strings)
    assert len([x for x in _refused(k) if x["cmd"] == "ptm"]) == 3
