"""Issue 16 item 10 (amends SPEC 5): the pocket-fill check at refill.

A withdrawn volume that differs from the pump's tracked volume by more than max(0.5 mL, 10 % of
the tracked volume) is refused with E_CONFIRM showing both figures, and nothing changes; with
`refill withdrawn ML confirm` it is taken, logged with both figures, and raises the medium
alarm REFILL_DISCREPANCY (delivery continues; latched until acknowledged).
"""

from safetykit import HOUR_MS, SKit


def kit():
    k = SKit(rate=None)
    k.ok("ack")
    k.login()
    k.ok("rx drug morphine 10mg/mL")
    k.ok("program continuous 2mg")
    k.ok("program confirm")
    k.ok("start")
    k.run(HOUR_MS)
    k.login()
    return k


def test_discrepancy_needs_confirmation_and_changes_nothing():
    k = kit()
    k.ok("refill begin")
    tracked = k.pump.reservoir.volume_nl()
    assert 19000000 < tracked < 20000000
    d = k.js("refill withdrawn 15")
    assert not d["ok"] and d["code"] == "E_CONFIRM", d
    assert "15.0 mL" in d["error"] and ("%d.%d" % (tracked // 1000000, tracked // 100000 % 10)) in d["error"]
    assert "refill withdrawn 15.0 confirm" in d["error"]
    assert k.pump.reservoir.refill["withdrawn"] is None
    assert k.named("refill_withdrawn") == [] and k.alarm("REFILL_DISCREPANCY") is None


def test_confirmed_discrepancy_is_logged_and_alarms():
    k = kit()
    k.ok("refill begin")
    tracked = k.pump.reservoir.volume_nl()
    w = k.ok("refill withdrawn 15 confirm")
    assert w["withdrawn_ml"] == 15.0 and w["discrepancy"] is True
    ev = k.named("refill_withdrawn")
    assert len(ev) == 1 and ev[0]["withdrawn_nl"] == 15000000 and ev[0]["tracked_nl"] == tracked
    assert ev[0]["confirmed"] is True
    a = k.alarm("REFILL_DISCREPANCY")
    assert a is not None and a.priority == "medium" and not a.stops and not a.acked
    st = k.ok("status")
    assert [x["code"] for x in st["alarms"] if x["code"] == "REFILL_DISCREPANCY"] == ["REFILL_DISCREPANCY"]
    k.ok("refill add 15")
    k.ok("refill confirm")
    assert k.pump.state == "running"  # a medium alarm: delivery goes on
    k.ok("ack")
    assert k.alarm("REFILL_DISCREPANCY") is None


def test_within_the_margin_no_question():
    k = kit()
    k.ok("refill begin")
    w = k.ok("refill withdrawn 18.2")  # about 1.8 mL under 19.99: within 10 % of the tracked volume
    assert w["discrepancy"] is False
    assert k.alarm("REFILL_DISCREPANCY") is None
    k.ok("refill cancel")


def test_half_a_millilitre_floor_on_a_low_reservoir():
    k = kit()
    k.ok("refill begin")
    k.ok("refill withdrawn 19.99")
    k.ok("refill add 3")
    k.ok("refill confirm")  # tracked now about 3 mL: 10 % is 0.3 mL, the floor 0.5 mL holds
    k.login()
    k.ok("refill begin")
    assert k.js("refill withdrawn 3.6")["code"] == "E_CONFIRM"
    assert k.ok("refill withdrawn 3.4")["discrepancy"] is False
    assert k.ok("refill withdrawn 2.4 confirm")["discrepancy"] is True  # a corrected figure, asked again
    assert k.alarm("REFILL_DISCREPANCY") is not None
