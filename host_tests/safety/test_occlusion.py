"""Occlusion: the detector on synthetic lines, and the whole pump against the sim model."""

from safetykit import HOUR_MS, SKit

from firmware.safety import occlusion
from firmware.safety.occlusion import Occlusion

SPM = 20000  # steps per mL: 20 steps a uL


def feed(det, samples):
    """samples: (pressure Pa, net steps) every 30 s; returns the first detection and its index."""
    for i, (p, s) in enumerate(samples):
        hit = det.sample(p, s, 30000, 20000)
        if hit is not None:
            return hit, i
    return None, None


def line(c_ul_kpa, n, block_at, steps_per_sample=10, base=1500):
    """A line that blocks at sample `block_at`: pressure rises by the pushed volume over C."""
    out = []
    for i in range(n):
        steps = i * steps_per_sample
        p = base
        if i >= block_at:
            pushed_ul = (steps - block_at * steps_per_sample) / 20.0
            p += int(pushed_ul / c_ul_kpa * 1000)
        out.append((p, steps))
    return out


def test_rise_per_volume_catches_a_blockage_far_below_the_threshold():
    for c in (0.5, 1.0, 2.0):
        det = Occlusion(SPM)
        samples = line(c, 400, 100)
        hit, i = feed(det, samples)
        assert hit is not None and hit["kind"] == "rise", c
        pushed = samples[i][1] - 100 * 10  # steps into the blockage
        assert pushed <= 20 * 20, (c, pushed)
        assert hit["dp_pa"] < 50000  # long before any absolute threshold
        back = det.relief(samples[i][1])
        # the fit finds where the rise began on a clean line; the back-off is that, less the margin
        assert abs(hit["pushed_steps"] - pushed) <= 1, (c, hit)  # a bin's mean position rounds
        want = hit["pushed_steps"] - occlusion.MARGIN_NL * SPM // 1000000
        assert want - 2 <= back <= want, (c, hit)  # at C = 2 uL/kPa the rise x C bound is as large
        assert hit["backoff_steps"] == back


def test_back_off_never_exceeds_what_went_into_the_blockage():
    # noise of +-1 kPa on the line: whatever the fit says, nothing is drawn back and at most
    # 2 uL is left to come out as a bolus
    for c in (0.5, 1.0, 2.0):
        for seed in (1, 2, 3, 4, 5):
            det = Occlusion(SPM)
            x = seed * 7919
            hit = None
            s = 0
            i = 0
            for i in range(4000):
                x = (x * 1103515245 + 12345) & 0x7FFFFFFF
                s = i * 2  # 0.1 uL a sample
                p = 1500 + (x >> 8) % 2001 - 1000
                if s > 3000:
                    p += (s - 3000) * 1000 // int(c * 20)
                hit = det.sample(p, s, 2000, 20000)
                if hit is not None:
                    break
            assert hit is not None, (c, seed)
            pushed = s - 3000
            back = det.relief(s)
            assert back <= pushed, (c, seed, back, pushed)
            assert pushed - back <= 2 * 20, (c, seed, back, pushed)


def test_partial_blockage_back_off_is_capped_by_the_rise_times_the_largest_compliance():
    # a line whose pressure rises at half what a 2 uL/kPa blockage would give: fluid still
    # gets through, so only about half of what was pushed is stored
    det = Occlusion(SPM)
    samples = line(4.0, 2000, 100)
    hit, i = feed(det, samples)
    assert hit is not None
    pushed = samples[i][1] - 1000
    back = det.relief(samples[i][1])
    margin = occlusion.MARGIN_NL * SPM // 1000000
    assert abs(hit["pushed_steps"] - pushed) <= 1
    assert abs(back - (pushed // 2 - margin)) <= 2, (back, pushed)


def test_flat_noisy_line_with_spikes_never_trips():
    det = Occlusion(SPM)
    x = 12345
    for i in range(20000):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        p = 1500 + (x >> 8) % 2000 - 1000  # +-1 kPa noise
        if i % 97 == 0:
            p += 4000  # a cough caught by one sample
        assert det.sample(p, i * 10, 30000, 20000) is None, i
    assert 500 <= det.baseline() <= 1000  # the lowest quantum minimum: near the noise floor


def test_absolute_threshold_held_for_samples():
    det = Occlusion(SPM)
    for i in range(3):
        assert det.sample(1000, i, 250, 20000 * 4320) is None
    hits = [det.sample(80000, 10 + i, 250, 20000 * 4320) for i in range(3)]
    assert hits[0] is None and hits[1] is None and hits[2]["kind"] == "absolute"


def test_reset_gives_a_fresh_baseline():
    det = Occlusion(SPM)
    feed(det, line(1.0, 60, 10**6))
    assert det.baseline() == 1500
    det.reset()
    assert det.baseline() is None


def occluded_kit(rate, compliance=1.0):
    k = SKit(rate=rate)
    k.model.compliance = compliance
    k.ok("ack")
    k.run(2 * HOUR_MS)
    k.model.occlude("complete")
    return k


def test_pump_stops_backs_off_and_alarms_at_low_flow():
    k = occluded_kit("0.1", compliance=2.0)
    t = k.run_until(lambda: k.alarm("OCCLUSION") is not None, 24 * HOUR_MS, step_ms=600000)
    assert t is not None
    a = k.alarm("OCCLUSION")
    assert a.priority == "high" and k.pump.state == "alarm"
    assert k.model.pushed_at_stop is not None and k.model.pushed_at_stop <= 20
    ev = k.named("occlusion")
    assert len(ev) == 1 and ev[0]["backoff_steps"] > 0
    k.run(60000)  # the guarded back-off runs a chunk per sample
    rel = k.named("occlusion_relief")
    assert len(rel) == 1 and rel[0]["end"] in ("guard", "bound"), rel
    assert rel[0]["steps"] + rel[0]["bound_left"] == ev[0]["backoff_steps"]
    assert k.pump.ledger.rev == rel[0]["steps"] > 0  # the back-off really ran, in reverse
    assert k.model.x >= 0  # nothing drawn back from the patient
    assert len(k.alarm_events("OCCLUSION")) == 1
    k.model.occlude(None)
    assert k.model.released_ul <= 2


def test_start_before_ack_is_refused_then_resumes_and_redetects():
    k = occluded_kit("10")
    k.run_until(lambda: k.alarm("OCCLUSION") is not None, 4 * HOUR_MS)
    k.login()
    assert k.js("start")["code"] == "E_STATE"
    assert k.pump.state == "alarm"
    k.ok("ack")
    k.ok("start")
    assert k.pump.state == "running"
    assert k.alarm("OCCLUSION") is None  # fresh baseline, fresh alarm if it is still there
    k.run_until(lambda: k.alarm("OCCLUSION") is not None, 4 * HOUR_MS)
    a = k.alarm("OCCLUSION")
    assert a is not None and not a.acked and k.pump.state == "alarm"
    assert len(k.alarm_events("OCCLUSION")) == 2
    # cleared: ack, start, and delivery goes on with no new alarm
    k.model.occlude(None)
    k.ok("ack")
    k.ok("start")
    before = k.pump.ledger.total_steps
    k.run(6 * HOUR_MS)
    assert k.pump.state == "running" and k.alarm("OCCLUSION") is None
    assert k.pump.ledger.total_steps - before >= 6 * 10 * 20000 // 24 - 1


def test_priming_rate_is_caught_by_the_absolute_threshold():
    k = SKit(rate="1")
    k.ok("ack")
    k.model.occlude("complete")
    k.pump.set_basal(20000 * 1440, "continuous")  # 1 mL/min, a priming rate
    k.run_until(lambda: k.alarm("OCCLUSION") is not None, 60000, step_ms=250)
    assert k.alarm("OCCLUSION") is not None
    assert k.named("occlusion")[0]["kind"] == "absolute"


def test_partial_occlusion_at_high_flow_is_caught():
    k = occluded_kit("10")
    k.model.occlude("partial")
    t = k.run_until(lambda: k.alarm("OCCLUSION") is not None, 12 * HOUR_MS)
    assert t is not None and k.pump.state == "alarm"
    ev = k.named("occlusion")[0]
    # a partial blockage lets fluid through: the back-off is capped by dP x C, not all pushed
    assert ev["backoff_steps"] <= ev["pushed_steps"]


def test_a_failed_relief_still_stops_and_alarms_with_no_back_off():
    k = occluded_kit("10")

    def boom(steps):
        raise MemoryError("no block for the fit")

    k.pump.safety.occlusion.relief = boom
    t = k.run_until(lambda: k.alarm("OCCLUSION") is not None, 4 * HOUR_MS)
    assert t is not None and k.pump.state == "alarm"
    assert not k.pump.engine.running()
    ev = k.named("occlusion")
    assert len(ev) == 1 and ev[0]["backoff_steps"] == 0 and ev[0]["pushed_steps"] == -1
    assert k.pump.ledger.rev == 0  # nothing drawn back


def test_a_stiff_line_partly_blocked_is_backed_off_to_its_baseline_not_past_it():
    # the bound (the pushed volume) is more than such a line holds: the guard stops it
    k = occluded_kit("24", compliance=0.5)
    k.model.occlude("partial")
    t = k.run_until(lambda: k.alarm("OCCLUSION") is not None, 12 * HOUR_MS, step_ms=250)
    assert t is not None
    k.run(60000)
    ev = k.named("occlusion")[0]
    rel = k.named("occlusion_relief")
    assert len(rel) == 1 and rel[0]["end"] == "guard" and rel[0]["bound_left"] > 0, (ev, rel)
    assert rel[0]["dp_pa"] <= 500
    assert k.model.x >= 0, k.model.x  # the line is not below the patient's pressure


def test_a_restart_during_the_back_off_ends_it():
    k = occluded_kit("10", compliance=2.0)
    k.run_until(lambda: k.alarm("OCCLUSION") is not None, 4 * HOUR_MS, step_ms=250)
    assert k.pump.safety.relief is not None  # a soft line takes several chunks
    k.login()
    k.ok("ack")
    k.ok("start")
    rel = k.named("occlusion_relief")
    assert len(rel) == 1 and rel[0]["end"] == "cancelled"
    assert k.pump.safety.relief is None and k.pump.engine.running()


def _relieving_kit():
    k = occluded_kit("10", compliance=2.0)
    k.run_until(lambda: k.alarm("OCCLUSION") is not None, 4 * HOUR_MS, step_ms=250)
    assert k.pump.safety.relief is not None  # a soft line takes several chunks
    return k


def _reversed_after(k, ms):
    k.run(ms)
    return k.pump.engine.counters()[2]


def test_a_persons_stop_during_the_back_off_stops_the_motor():
    k = _relieving_kit()
    k.login()
    assert k.ok("stop")["state"] == "alarm"  # the occlusion still holds it
    rev = _reversed_after(k, 0)
    assert _reversed_after(k, 30000) == rev  # no chunk after the stop
    rel = k.named("occlusion_relief")
    assert len(rel) == 1 and rel[0]["end"] == "cancelled"
    assert rel[0]["steps"] == rev  # what the motor really reversed, not what was asked


def test_another_stopping_alarm_during_the_back_off_ends_it():
    k = _relieving_kit()
    k.pump.alarms.raise_alarm("BATTERY_CRITICAL", "cell 3300 mV")
    rev = _reversed_after(k, 0)
    assert k.pump.safety.relief is None and not k.pump.engine.mode()
    assert _reversed_after(k, 30000) == rev
    assert k.named("occlusion_relief")[0]["end"] == "cancelled"


def test_a_persons_stop_between_two_chunks_ends_the_back_off_too():
    k = _relieving_kit()
    while k.pump.engine.mode():  # the first chunk runs out: the motor is still until the next sample
        k.run(1)
    assert k.pump.safety.relief is not None
    k.login()
    rev = _reversed_after(k, 0)
    assert k.ok("stop")["state"] == "alarm"
    assert _reversed_after(k, 30000) == rev
    assert k.named("occlusion_relief")[0]["end"] == "cancelled"
