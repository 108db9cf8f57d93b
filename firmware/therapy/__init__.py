"""Therapy: the prescription, the delivery modes and the dose limits (SPEC 3, 4, 9)."""


def attach(pump):
    """Create the therapy service (app.build calls this; its commands: firmware/shell/cmd_therapy.py)."""
    from firmware.therapy.service import Therapy
    from firmware.therapy.state import Acct

    t = Therapy(pump)
    pump.therapy = t
    pump.services.append(t)
    pump.services.append(Acct(t))
    return t


# The dose limits and the drug library are imported when a drug is first set or
# restored, not at boot: a pump with no prescription answers `status` without
# them (each import costs the Pico tens of ms of the 2 s of SPEC 8). Main loop
# and shell only, never an interrupt.


def limits_module():
    from firmware.therapy import limits

    return limits


def druglib_module():
    from firmware.therapy import druglib

    return druglib
