"""The command shell: a line in, exactly one reply out (none for a blank line).

Commands live in a registry: name, role, handler, usage and help in one
place. A handler gets the words after the command and returns a dict of
reply fields, or raises PumpError with a stable code; any other exception is
caught and answered as E_INTERNAL, so a bad line never reaches the REPL.
Handlers check everything before they change anything.
"""

from firmware import jsonout
from firmware.errors import E_AUTH, E_INTERNAL, E_SYNTAX, E_TOOLONG, E_UNKNOWN, PumpError
from firmware.lines import MAX_LINE, TOOLONG

PATIENT = 0
CLINICIAN = 1
ANY = PATIENT
ROLE_NAMES = ("patient", "clinician")


class Command:
    def __init__(self, name, role, fn, usage, text):
        self.name = name
        self.role = role
        self.fn = fn
        self.usage = usage
        self.text = text


class Shell:
    def __init__(self, pump):
        self.pump = pump
        self.json = False
        self.role = PATIENT
        self.commands = {}
        self.before = []  # hooks(shell) run before every command (idle logout, ...)

    def add(self, name, role, fn, usage, text):
        self.commands[name] = Command(name, role, fn, usage, text)

    def handle(self, raw):
        """Answer one line (bytes or TOOLONG); None for a blank line."""
        try:
            return self._reply(self._run(raw))
        except PumpError as e:
            return self._error(e.code, e.msg)
        except KeyboardInterrupt:
            raise
        except Exception as e:  # a bug must not reach the console as a traceback
            self.pump.event("internal_error", error=repr(e))
            return self._error(E_INTERNAL, "internal error: " + type(e).__name__)

    def _run(self, raw):
        if raw is TOOLONG:
            raise PumpError(E_TOOLONG, "line longer than %d bytes" % MAX_LINE)
        try:
            line = raw.decode()
        except UnicodeError:
            raise PumpError(E_SYNTAX, "line is not valid UTF-8") from None
        words = line.split()
        if not words:
            return None
        for ch in line:
            if ch != "\t" and (ord(ch) < 32 or ord(ch) == 127):
                raise PumpError(E_SYNTAX, "control character in line")
        for h in self.before:
            h(self)
        cmd = self.commands.get(words[0])
        if cmd is None:
            raise PumpError(E_UNKNOWN, "unknown command '%s'; try help" % printable(words[0]))
        if cmd.role > self.role:
            raise PumpError(E_AUTH, "'%s' needs the clinician role; login clinician PIN" % cmd.name)
        out = cmd.fn(self, words[1:])
        return {} if out is None else out

    def _reply(self, data):
        if data is None:
            return None
        if self.json:
            d = dict(data)
            d.pop("text", None)
            d["ok"] = True
            return jsonout.encode(d)
        return human(data)

    def _error(self, code, msg):
        if self.json:
            return jsonout.encode({"ok": False, "code": code, "error": msg})
        return "error %s: %s" % (code, msg)


def printable(s, limit=40):
    out = []
    for ch in s[:limit]:
        out.append(ch if 32 <= ord(ch) < 127 else "?")
    return "".join(out)


def human(data):
    """Readable reply: a handler's own `text`, else `key: value` lines."""
    if "text" in data:
        return data["text"]
    if not data:
        return "ok"
    lines = []
    for k in sorted(data):
        v = data[k]
        if isinstance(v, (dict, list)):
            v = jsonout.encode(v)
        elif v is None:
            v = "-"
        lines.append("%s: %s" % (k, v))
    return "\n".join(lines)


def no_args(words):
    if words:
        raise PumpError(E_SYNTAX, "unexpected argument '%s'" % printable(words[0]))
