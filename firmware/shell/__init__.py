"""The console and everything behind it (SPEC 9); here only the two roles.

The roles live in the package itself so that what needs them (auth, the
persistence's log entries, the command modules) imports no more than these
four names, never the shell: importing `firmware.shell.x` runs this file first.
"""

PATIENT = 0
CLINICIAN = 1
ANY = PATIENT
ROLE_NAMES = ("patient", "clinician")
