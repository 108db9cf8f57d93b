"""Serial ports: the candidate boards present, the one picked when --port is left out, port errors.

The list comes from pyserial's `serial.tools.list_ports`. A Raspberry Pi Pico
running MicroPython shows USB vendor 0x2E8A; an ESP32 DevKitC shows the
vendor of its USB-UART bridge (Silicon Labs, WCH, FTDI) or Espressif's own.
"""

import errno as _errno
import os
import re

PICO_VID = 0x2E8A
VENDORS = {
    PICO_VID: "Raspberry Pi (Pico)",
    0x303A: "Espressif (ESP32)",
    0x10C4: "Silicon Labs USB-UART (ESP32 DevKitC)",
    0x1A86: "WCH USB-UART (ESP32 DevKitC)",
    0x0403: "FTDI USB-UART",
}


def present():
    """[(device, vid or None, description)] for every serial port the system lists, sorted by device."""
    try:
        from serial.tools import list_ports

        found = list_ports.comports()
    except Exception:  # a platform pyserial cannot enumerate: no list, the error still says what failed
        return []
    return sorted((p.device, p.vid, p.description or "") for p in found)


def candidates(ports=None):
    """The ports whose USB vendor is one of a supported board's."""
    return [p for p in (present() if ports is None else ports) if p[1] in VENDORS]


def picos(ports=None):
    return [p for p in (present() if ports is None else ports) if p[1] == PICO_VID]


def describe(port):
    device, vid, desc = port
    kind = VENDORS.get(vid, "USB %04X" % vid if vid is not None else "not USB")
    return "%s  %s%s" % (device, kind, ("  " + desc) if desc and desc != "n/a" else "")


def summary(ports=None):
    """One line: the ports that are present, for an error message."""
    ports = present() if ports is None else ports
    if not ports:
        return "no serial ports present"
    return "ports present: " + ", ".join(p[0] + (" (Pico)" if p[1] == PICO_VID else "") for p in ports)


def reason(exc):
    """The OS's words for why a port did not open ('no such file or directory', 'connection refused')."""
    errno = getattr(exc, "errno", None)
    text = str(exc)
    if errno in (_errno.EBUSY, _errno.EAGAIN) or "exclusively lock" in text:
        return "busy (another program has it open)"
    if errno == _errno.EACCES:
        return "permission denied (Linux: add yourself to the dialout group)"
    if isinstance(errno, int) and errno > 0:
        return os.strerror(errno).lower()
    m = re.search(r"\[Errno -?\d+\] ([^:'\]]+)", text)
    if m:
        return m.group(1).strip().lower()
    return text.rsplit(": ", 1)[-1].strip() or exc.__class__.__name__
