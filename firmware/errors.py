"""The shell's stable error codes (SPEC 9) and the exception that carries them."""

E_SYNTAX = "E_SYNTAX"
E_UNKNOWN = "E_UNKNOWN"
E_RANGE = "E_RANGE"
E_UNIT = "E_UNIT"
E_AUTH = "E_AUTH"
E_LOCKED = "E_LOCKED"
E_LIMIT = "E_LIMIT"
E_CONFIRM = "E_CONFIRM"
E_STATE = "E_STATE"
E_TOOLONG = "E_TOOLONG"
E_INTERNAL = "E_INTERNAL"


class PumpError(Exception):
    """A refused command: a stable code and a one-line message; nothing changed."""

    def __init__(self, code, msg, why=""):
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.why = why  # a finer reason where a counter needs it (a patient bolus: lockout|max)
