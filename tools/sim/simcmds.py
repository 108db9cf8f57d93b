"""The simulator's fault-injection commands (SPEC 10), driving the physical model.

`sim occlude on|off|partial`, `sim leak ML_PER_DAY`, `sim fault
pressure|reservoir|battery stuck|open|ok`, `sim fault image corrupt|ok` and `sim fault enable
stuck|ok` (the board's flash image, the driver's EN line: the self-test's faults),
`sim stall on|off`, `sim battery VOLTS`, `sim button`, `sim refill ML` / `sim withdraw ML`
(the syringe at the port), and
`sim model [compliance=UL_PER_KPA]` (the model's state, for the bench).
Each moves no virtual time, except `sim button`, a press held for 100 ms as
a finger would.
"""

from firmware.errors import E_RANGE, E_SYNTAX, PumpError
from firmware.parse import decimal

# every `sim` command, for `help sim` (host_tests/host/test_sim_console.py checks it against the dispatchers)
USAGES = (
    "sim run DURATION             move virtual time (90s, 15m, 2h, 7d)",
    "sim power-cut [DURATION]     power off that long, then boot again",
    "sim save                     write --state DIR now",
    "sim occlude on|off|partial   block the catheter",
    "sim leak ML_PER_DAY          a leak at the catheter",
    "sim fault pressure|reservoir|battery stuck|open|ok",
    "sim fault image corrupt|ok   the flash image the self-test checks",
    "sim fault enable stuck|ok    the driver's EN line",
    "sim stall on|off             the motor stalls",
    "sim battery VOLTS            the cell's voltage",
    "sim button                   press the patient button (100 ms)",
    "sim refill ML                the syringe adds drug at the port",
    "sim withdraw ML              the syringe draws drug out",
    "sim model [compliance=UL_PER_KPA]  the physical model's state",
    "quit | exit                  end the simulator (a clean shutdown, as end of input)",
)

PRESS_MS = 100
PASS_MS = 10  # the board's main loop passes every ~10 ms


def _onoff(words, usage):
    if len(words) != 2 or words[1] not in ("on", "off"):
        raise PumpError(E_SYNTAX, usage)
    return words[1] == "on"


def handle(sim, words):
    board = sim.board
    m = board.sync()
    cmd = words[0]
    if cmd == "occlude":
        if len(words) != 2 or words[1] not in ("on", "off", "partial"):
            raise PumpError(E_SYNTAX, "usage: sim occlude on|off|partial")
        m.occlude({"on": "complete", "off": None, "partial": "partial"}[words[1]])
        f = m.fields()
        return {
            "occlusion": m.occlusion,
            "released_ul": f["released_ul"],
            "drawn_back_ul": f["drawn_back_ul"],
        }
    if cmd == "leak":
        if len(words) != 2:
            raise PumpError(E_SYNTAX, "usage: sim leak ML_PER_DAY")
        nl_day = decimal(words[1], 6, "leak")
        if nl_day > 100000000:
            raise PumpError(E_RANGE, "leak at most 100 mL/day")
        m.leak_ul_s = nl_day / 1000.0 / 86400.0
        return {"leak_ml_day": words[1]}
    if cmd == "fault" and len(words) == 3 and words[1] in ("image", "enable"):
        return _board_fault(board, words[1], words[2])
    if cmd == "fault":
        if len(words) != 3 or words[1] not in m.faults or words[2] not in ("stuck", "open", "ok"):
            raise PumpError(E_SYNTAX, "usage: sim fault pressure|reservoir|battery stuck|open|ok")
        m.faults[words[1]] = words[2]
        return {"sensor": words[1], "fault": words[2]}
    if cmd == "stall":
        m.stall = _onoff(words, "usage: sim stall on|off")
        return {"stall": m.stall}
    if cmd == "battery":
        if len(words) != 2:
            raise PumpError(E_SYNTAX, "usage: sim battery VOLTS")
        mv = decimal(words[1], 3, "battery volts")
        if mv > 5000:
            raise PumpError(E_RANGE, "battery at most 5 V")
        m.battery_v = mv / 1000.0
        return {"battery_mv": mv}
    if cmd == "button":
        if len(words) != 1:
            raise PumpError(E_SYNTAX, "usage: sim button")
        _press(sim)
        return {"button": "pressed", "held_ms": PRESS_MS}
    if cmd == "refill":
        # the syringe at the port: the drug the firmware's `refill add` is told about
        if len(words) != 2:
            raise PumpError(E_SYNTAX, "usage: sim refill ML")
        nl = decimal(words[1], 6, "volume")
        room = m.capacity_ul - m.reservoir_ul
        m.reservoir_ul += nl / 1000.0 if nl / 1000.0 < room else room
        return {"reservoir_ul": m.fields()["reservoir_ul"]}
    if cmd == "withdraw":
        # the syringe drawing the old drug out at the port before a refill
        if len(words) != 2:
            raise PumpError(E_SYNTAX, "usage: sim withdraw ML")
        ul = decimal(words[1], 6, "volume") / 1000.0
        m.reservoir_ul = m.reservoir_ul - ul if ul < m.reservoir_ul else 0.0
        return {"reservoir_ul": m.fields()["reservoir_ul"]}
    if cmd == "model":
        if len(words) > 2:
            raise PumpError(E_SYNTAX, "usage: sim model [compliance=UL_PER_KPA]")
        if len(words) == 2:
            k, _, v = words[1].partition("=")
            if k != "compliance":
                raise PumpError(E_SYNTAX, "usage: sim model [compliance=UL_PER_KPA]")
            c = decimal(v, 3, "compliance")
            if c < 100 or c > 5000:
                raise PumpError(E_RANGE, "compliance 0.1..5 uL/kPa")
            m.compliance = c / 1000.0
        return {"model": m.fields()}
    raise PumpError(E_SYNTAX, "unknown sim command '%s'" % cmd[:20])


def _board_fault(board, what, how):
    # faults of the board, not the physical pump: the image on flash, the driver's EN line
    if what == "image":
        if how not in ("corrupt", "ok"):
            raise PumpError(E_SYNTAX, "usage: sim fault image corrupt|ok")
        board.corrupt_image(how == "corrupt")
        return {"image": how}
    if how not in ("stuck", "ok"):
        raise PumpError(E_SYNTAX, "usage: sim fault enable stuck|ok")
    pin = board.pins["en"]
    pin.stuck = pin.level if how == "stuck" else None
    return {"enable": how}


def _press(sim):
    board = sim.board
    pin = board.button
    cap = board.step_cap_ms
    board.step_cap_ms = PASS_MS
    try:
        pin(0)
        sim.run_ms(PRESS_MS)
        pin(1)
        sim.run_ms(PASS_MS)
    finally:
        board.step_cap_ms = cap
