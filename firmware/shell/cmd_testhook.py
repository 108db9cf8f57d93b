"""Fault injection for the board tests: `testhook slot NAME VALUE` overwrites one engine slot.

Absent in normal use: app.build registers the command only when the flag file
`testhooks` (FLAG) is in the pump's data directory on flash, which only a
person with the REPL (`mpremote`) can put there, and the boot logs that hooks
are enabled. Every use is logged with the slot's old and new value. Clinician
only. The write goes straight into the live state array, behind the main
loop's back, as a corrupted RAM word or a bug elsewhere would.
"""

from firmware.errors import E_RANGE, E_SYNTAX, PumpError
from firmware.safety.stepcheck import SLOTS
from firmware.shell import CLINICIAN

FLAG = "testhooks"
NAMES = ("testhook",)  # what register() adds (app.build wires it lazily)


def cmd_testhook(sh, words):
    if len(words) != 3 or words[0] != "slot":
        raise PumpError(E_SYNTAX, "usage: testhook slot NAME VALUE")
    name = words[1].upper()
    if name not in SLOTS:
        raise PumpError(E_RANGE, "slot one of " + " ".join(sorted(SLOTS)))
    v = words[2]
    if not v.isdigit() or len(v) > 9:
        raise PumpError(E_RANGE, "value 0..999999999")
    value = int(v)
    s = sh.pump.engine._s
    i = SLOTS[name]
    was = s[i]
    s[i] = value
    sh.pump.event("testhook", slot=name, was=was, value=value)
    return {"slot": name, "index": i, "was": was, "value": value}


def register(shell):
    usage = "testhook slot NAME VALUE"
    shell.add("testhook", CLINICIAN, cmd_testhook, usage, "overwrite an engine slot (fault injection)")
