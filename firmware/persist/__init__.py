"""Wiring of persistence: the event log, the checkpoint service, and boot.

`attach` is called by app.build before the other services are added;
`boot` after all of them, so every service's record is restored.
"""

from firmware.persist import checkpoint, eventlog, recovery
from firmware.persist.flashfs import MemFs
from firmware.shell import ROLE_NAMES

# the protected ring: 48 x 4 KB (littlefs blocks), 188 KB kept after its oldest segment is
# dropped, over 1,000 alarm and therapy entries; the routine ring 8 x 4 KB, months of logins
# and button presses (docs/safety.md, "Log capacity")
LOG_SEGMENTS = 48
LOG_SEGMENT_BYTES = 4096
ROUTINE_SEGMENTS = 8
ROUTINE_SEGMENT_BYTES = 4096


def attach(pump, shell, fs=None):
    """Give the pump its log and checkpoint service (in RAM when no filesystem is given)."""
    if fs is None:
        fs = MemFs()
    board = pump.board
    log = eventlog.EventLog(
        fs,
        pump,
        segments=getattr(board, "log_segments", LOG_SEGMENTS),
        segment_bytes=getattr(board, "log_segment_bytes", LOG_SEGMENT_BYTES),
        routine_segments=getattr(board, "log_routine_segments", ROUTINE_SEGMENTS),
        routine_bytes=getattr(board, "log_routine_bytes", ROUTINE_SEGMENT_BYTES),
    )
    # who acts: the shell's role while a command runs, else the pump itself
    log.who = lambda: ROLE_NAMES[shell.role] if shell.acting else "pump"
    # every entry until boot's restore is done (auth's DEFAULT_PIN alarm, the
    # restore's own) reaches flash in one append: each costs the Pico 60-150 ms
    # of the 2 s it has to answer (SPEC 8); recovery.restore releases them
    log.hold()
    cp = checkpoint.Checkpoint(fs, pump)
    pump.log = log
    pump.store = cp
    pump.listeners.append(log.on_event)
    pump.listeners.append(cp.on_event)
    pump.services.append(cp)
    pump.services.append(log)  # its numbering goes into each checkpoint
    if getattr(pump.alarms, "persist_key", None) is None:
        pump.services.append(recovery.AlarmRecords(pump.alarms))
    # what a command changed reaches flash before its reply is written: a cut
    # after a clinician saw "ok" never loses the change
    shell.done.append(lambda sh: cp.flush())
    return cp


def boot(pump, cause="reset"):
    """Restore from flash; call once every service is attached."""
    return recovery.restore(pump, pump.store, pump.log, cause)


def on_stable(pump):
    """After a stable run the boot-loop counter starts again from zero (boards only)."""
    cp = pump.store
    cp.on_stable = lambda: recovery.boot_ok(cp.fs)
