"""The sim's physical model on its own: line pressure, occlusion, leak, battery, sensor voltages."""

from tools.sim.model import Model

STEPS_PER_UL = 20


def quiet(m):
    """No spikes or noise, so a single reading shows the physics."""
    m.spike_every_s = 1e12
    m._spike_next = 1e12
    m.noise_kpa = 0.0
    m.offset_kpa = 0.0
    m.res_noise_mv = 0.0
    m.res_offset_mv = 0.0
    m.bat_noise_mv = 0.0
    return m


def kpa_of(raw):
    mv = raw * 3300 / 65535
    return (mv - 330) * 300 / 2640


def test_open_line_sits_at_the_intrathecal_pressure():
    m = quiet(Model(seed=3))
    for _ in range(100):
        m.step(30000, 7, 0, True)  # 1 mL/day
    assert 0.7 <= m.line_kpa() <= 2.0
    assert abs(m.x) < 0.01  # catheter resistance negligible at this flow
    assert abs(m.delivered_ul - 100 * 7 / STEPS_PER_UL) < 0.05


def test_complete_occlusion_rises_by_volume_over_compliance():
    for c in (0.5, 1.0, 2.0):
        m = quiet(Model(compliance=c))
        m.occlude("complete")
        base = m.line_kpa()
        m.step(60000, 200, 0, True)  # 10 uL
        rise = m.line_kpa() - base
        assert abs(rise - 10 / c) < 0.3, (c, rise)  # efficiency under 1 % lower at this pressure
        assert m.delivered_ul == 0
        m.step(1000, 0, 200, False)  # backing off 10 uL
        assert abs(m.x) < 0.3
        m.occlude(None)
        assert m.released_ul is not None and m.released_ul < 0.3


def test_back_pressure_lowers_the_stroke_volume():
    m = quiet(Model())
    m.occlude("complete")
    m.x = 300.0  # 300 kPa in the line at C = 1
    assert abs(m.efficiency() - 0.5) < 1e-6


def test_leak_drains_the_reservoir_not_the_patient():
    m = quiet(Model())
    m.leak_ul_s = 1000.0 / 86400
    for _ in range(24):
        m.step(3600000, 0, 0, False)
    assert abs(m.reservoir_ul - 19000) < 1
    assert m.delivered_ul == 0


def test_sensor_voltages_follow_the_pico_table():
    m = quiet(Model())
    assert abs(kpa_of(m.read("pressure")) - m.line_kpa()) < 0.2
    mv = m.read("reservoir") * 3300 / 65535
    assert abs(mv - 2970) < 2  # full
    m.battery_v = 3.7
    assert abs(m.read("battery") * 3300 / 65535 - 1850) < 2  # 1:2 divider


def test_faults_stuck_and_open():
    m = Model(seed=9)
    a = m.read("pressure")
    m.faults["pressure"] = "stuck"
    assert m.read("pressure") == a and m.read("pressure") == a
    m.faults["pressure"] = "open"
    assert m.read("pressure") == 0
    m.faults["pressure"] = "ok"
    seen = set(m.read("pressure") for _ in range(20))
    assert len(seen) > 3  # noise: a real ADC never sits still


def test_noise_is_seeded_and_spikes_are_short_and_few():
    a = Model(seed=5)
    b = Model(seed=5)
    c = Model(seed=6)
    ra = [a.read("pressure") for _ in range(50)]
    assert ra == [b.read("pressure") for _ in range(50)]
    assert ra != [c.read("pressure") for _ in range(50)]
    m = Model(seed=2)
    m.noise_kpa = 0.0
    high = 0
    for _ in range(36000):  # 10 h at 1 s
        m.step(1000, 0, 0, False)
        if m.line_kpa() - m.p_it_mean > 1.5:
            high += 1
    # about 6 spikes an hour of 1-10 s: a few hundred seconds in 10 h, never most of it
    assert 50 < high < 1500, high


def test_stall_moves_nothing_and_raises_diag():
    m = quiet(Model())
    m.stall = True
    m.step(60000, 200, 0, True)
    assert m.pushed_ul == 0 and m.reservoir_ul == 20000 and m.diag() == 1
