"""Safety: sensors and their health, occlusion, stall, battery, the dose-loop watch,
the independent step check, alarm annunciation and the supervisor that feeds the watchdog.

`attach(pump)` wires it all onto a pump (app.build calls it).
"""


def attach(pump):
    from firmware.safety import stepcheck
    from firmware.safety.power import Power
    from firmware.safety.reservoir import Reservoir
    from firmware.safety.restarts import Restarts
    from firmware.safety.supervisor import Supervisor
    from firmware.safety.unguarded import Unguarded

    pump.safety = Supervisor(pump)
    pump.services.append(pump.safety)
    pump.power = Power(pump)  # the battery block; a battery line fault names the battery
    pump.services.append(pump.power)
    pump.services.append(Unguarded(pump))  # after the supervisor: it reads the health just sampled
    stepcheck.attach(pump)  # the STEP pin's own count against the engine's (docs/safety.md)
    pump.reservoir = Reservoir(pump)
    pump.services.append(pump.reservoir)
    pump.restarts = Restarts(pump)  # restarts into an unresolved occlusion (issue 16)
    pump.services.append(pump.restarts)
    t = pump.trend
    if t is not None:  # the trend log records pressure (0.1 kPa) and reservoir (uL)
        t.pressure_fn = _pressure_kpa10
        t.reservoir_fn = _reservoir_ul


def _pressure_kpa10(pump):
    pa = pump.safety.sensors.pressure_pa()
    return None if pa is None else pa // 100


def _reservoir_ul(pump):
    nl = pump.reservoir.volume_nl()
    return None if nl is None else nl // 1000
