"""Issue 16 item 4: ack + start into a line still blocked, again and again (SPEC 6, docs/safety.md)."""

from safetykit import HOUR_MS, SKit


def blocked():
    k = SKit(rate=None)
    k.ok("ack")
    k.login()
    k.ok("rx drug morphine 1mg/mL")
    k.ok("program continuous 10mg")  # 10 mL/day: the line blocks again within minutes
    k.ok("program confirm")
    k.ok("start")
    k.run(2 * HOUR_MS)
    k.model.occlude("complete")
    return k


def occluded_again(k):
    t = k.run_until(lambda: k.sim.pump.alarms.get("OCCLUSION") is not None, 2 * HOUR_MS, step_ms=1000)
    assert t is not None and k.sim.pump.state == "alarm"
    return t


def restart(k):
    k.login()  # a session may have idled out while the line was blocked
    k.ok("ack")
    return k.js("start")


def test_a_third_restart_within_the_hour_is_refused_and_says_why():
    k = blocked()
    for n in (1, 2):
        occluded_again(k)
        assert restart(k) == {"ok": True, "state": "running"}, n
    occluded_again(k)
    pushed = k.pump.ledger.fwd
    d = restart(k)
    assert d["ok"] is False and d["code"] == "E_STATE", d
    assert "occlusion not resolved" in d["error"] and "start override" in d["error"]
    assert k.pump.state == "alarm" and not k.pump.engine.running()
    k.run(10 * 60000)
    assert k.pump.ledger.fwd == pushed  # nothing more pushed into the blockage
    ev = k.named("occlusion_restart")
    assert [e["n"] for e in ev] == [1, 2] and not any(e["override"] for e in ev)
    ref = k.named("refused")
    assert len(ref) == 1 and ref[0]["cmd"] == "start" and ref[0]["code"] == "E_STATE"


def test_a_clinician_overrides_it_explicitly_and_it_is_logged():
    k = blocked()
    for _ in range(2):
        occluded_again(k)
        restart(k)
    occluded_again(k)
    k.model.occlude(None)  # the clinician flushed the catheter: only they can know
    assert restart(k)["ok"] is False
    d = k.js("start override")
    assert d == {"ok": True, "state": "running"}, d
    ev = k.named("occlusion_restart")
    assert len(ev) == 3 and ev[2]["override"] is True and ev[2]["n"] == 3
    log = k.ok("log 20")["entries"]
    assert [e for e in log if e["event"] == "occlusion_restart" and e["detail"].get("override") is True]
    k.run(HOUR_MS)
    assert k.pump.state == "running" and k.pump.alarms.get("OCCLUSION") is None


def test_restarts_older_than_an_hour_do_not_count():
    k = blocked()
    for _ in range(2):
        occluded_again(k)
        restart(k)
    occluded_again(k)
    k.run(HOUR_MS)  # the pump waits in its alarm; the two restarts leave the window
    assert restart(k)["ok"] is True


def test_start_override_on_an_ordinary_stop_is_a_plain_start_and_bad_words_are_refused():
    k = SKit(rate="1")
    k.ok("ack")
    k.login()
    k.ok("stop")
    assert k.js("start now")["code"] == "E_SYNTAX"
    assert k.js("start override extra")["code"] == "E_SYNTAX"
    assert k.js("start override") == {"ok": True, "state": "running"}
    assert k.named("occlusion_restart") == []


def test_a_power_cut_does_not_hand_out_two_more_restarts():
    k = blocked()
    for _ in range(2):
        occluded_again(k)
        restart(k)
    occluded_again(k)
    k.run(5000)  # the alarm's checkpoint is written at the next pass
    k.ok("sim power-cut 1m")
    k.pump, k.sh = k.sim.pump, k.sim.shell  # the firmware booted again
    k.sh.json = True
    assert k.pump.state == "alarm"
    assert k.sim.pump.alarms.get("OCCLUSION") is not None
    assert restart(k)["code"] == "E_STATE"
