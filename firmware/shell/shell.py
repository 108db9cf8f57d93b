"""The command shell: a line in, exactly one reply out (none for a blank line).

Commands live in a registry: name, role, handler, usage and help in one
place. A handler gets the words after the command and returns a dict of
reply fields, or raises PumpError with a stable code; any other exception is
caught and answered as E_INTERNAL, so a bad line never reaches the REPL.
Handlers check everything before they change anything.
"""

from firmware import jsonout
from firmware.errors import E_AUTH, E_INTERNAL, E_SYNTAX, E_TOOLONG, E_UNKNOWN, PumpError
from firmware.shell import PATIENT
from firmware.shell.lines import MAX_LINE, TOOLONG, valid_utf8

# commands whose refusal is logged (issue 16): each would have changed therapy. The log's `who`
# says who asked; `rx` alone and `program show` are views, not requests; a line the shell could
# not read as a request (E_SYNTAX, E_UNKNOWN, E_TOOLONG) asked for no change it could name, and
# would let a noisy console push the log's real entries out
AUDITED = ("bolus", "ptm", "program", "rx", "refill", "prime", "calibrate", "start")
UNREAD = (E_SYNTAX, E_TOOLONG, E_UNKNOWN)


class Command:
    def __init__(self, name, role, fn, usage, text, load=None):
        self.name = name
        self.role = role
        self.fn = fn
        self.usage = usage
        self.text = text
        self.load = load  # set on a placeholder: what imports and registers the real command
        self.detail = None  # longer text for `help NAME` (the simulator's list of `sim` commands)


class Shell:
    def __init__(self, pump):
        self.pump = pump
        self.json = False
        self.role = PATIENT
        self.commands = {}
        self.before = []  # hooks(shell) run before every command (idle logout, ...)
        self.after = []  # hooks(shell) run after a command succeeded (idle timer, ...)
        self.done = []  # hooks(shell) run after every line, answered or refused (the flush to flash)
        self.acting = False  # True while a line is answered: the log's `who` is then the role
        self.last_ok = None
        self._words = None  # the line being answered, for the refusal's log entry

    def add(self, name, role, fn, usage, text):
        self.commands[name] = Command(name, role, fn, usage, text)

    def lazy(self, names, load):
        """Commands whose module is imported at their first use, not at boot.

        Each import costs the Pico 10-80 ms of flash lookups and loading, and
        the pump must answer `status` within 2 s of power-on (SPEC 8), so
        command groups nobody needs before then wait: `load(shell)` imports
        the group and registers `names` (the same names, a test checks). Until
        then each name holds a placeholder, so `help`, the registry and
        unknown-command errors see every command. Never called from an
        interrupt: only the shell's own dispatch loads.
        """
        for n in names:
            self.commands[n] = Command(n, PATIENT, self._stub(n), n, "", load)

    def _stub(self, name):
        # the placeholder's handler, for callers that take `commands[name].fn` directly
        def run(sh, words):
            c = self.command(name)
            if c is None:
                raise unknown(self, name)
            return c.fn(sh, words)

        return run

    def command(self, name):
        """The registered command `name` (its group imported first if lazy), or None."""
        c = self.commands.get(name)
        if c is None or c.load is None:
            return c
        load = c.load
        load(self)
        for n in [k for k in self.commands if self.commands[k].load is load]:
            del self.commands[n]  # a name its group did not register is unknown, not a loop
        return self.commands.get(name)

    def load_all(self):
        """Import every lazy group (`help` lists every command's usage)."""
        for n in list(self.commands):
            self.command(n)

    def handle(self, raw):
        """Answer one line (bytes or TOOLONG); None for a blank line.

        `last_ok` says how the line went: True, False (refused), None (blank).
        The `done` hooks run before the reply is returned, so what the line
        changed is on flash before anyone reads the reply.
        """
        self.acting = True
        try:
            reply = self._answer(raw)
        finally:
            self.acting = False
        for h in self.done:
            h(self)
        return reply

    def _answer(self, raw):
        self.last_ok = False
        self._words = None
        was_json = self.json
        try:
            data = self._run(raw)
            if data is None:
                self.last_ok = None
                return None
            # `json off` is still answered in JSON: a tool reading JSON sees its reply
            reply = self._reply(data, was_json or self.json)
            self.last_ok = True
            for h in self.after:
                h(self)
            return reply
        except PumpError as e:
            self._audit(e.code)
            return self._error(e.code, e.msg)
        except KeyboardInterrupt:
            raise
        except Exception as e:  # a bug must not reach the console as a traceback
            self.pump.event("internal_error", error=repr(e))
            return self._error(E_INTERNAL, "internal error: " + type(e).__name__)

    def _run(self, raw):
        if raw is TOOLONG:
            raise PumpError(E_TOOLONG, "line longer than %d bytes" % MAX_LINE)
        line = check_line(raw)
        if line is None:
            return None
        words = split_words(line)
        self._words = words
        for h in self.before:
            h(self)
        cmd = self.command(words[0])
        if cmd is None:
            raise unknown(self, words[0])
        # the role is checked before the handler looks at any value
        if cmd.role > self.role:
            raise PumpError(E_AUTH, "'%s' needs the clinician role; login clinician PIN" % cmd.name)
        out = cmd.fn(self, words[1:])
        return {} if out is None else out

    def _audit(self, code):
        w = self._words
        if not w or code in UNREAD or w[0] not in AUDITED or len(w) == 1 and w[0] == "rx":
            return
        if w[0] == "program" and len(w) > 1 and w[1] == "show":
            return
        self.pump.event("refused", cmd=printable(" ".join(w), 60), code=code)

    def _reply(self, data, as_json):
        if as_json:
            d = dict(data)
            d.pop("text", None)
            d["ok"] = True
            return jsonout.encode(d)
        return human(data)

    def _error(self, code, msg):
        if self.json:
            return jsonout.encode({"ok": False, "code": code, "error": msg})
        return "error %s: %s" % (code, msg)


def unknown(sh, name):
    """E_UNKNOWN for `name`, naming the nearest command when one is near (a typo)."""
    best = None
    far = 3 if len(name) > 4 else 2  # at most 2 edits (1 for a short word) from a command
    if len(name) <= 20:
        for n in sh.commands:
            d = distance(name, n, far)
            if d < far:
                best, far = n, d
    msg = "unknown command '%s'; " % printable(name)
    if best is not None:
        return PumpError(E_UNKNOWN, msg + "did you mean '%s'?" % best)
    return PumpError(E_UNKNOWN, msg + "try help")


def distance(a, b, cap):
    """Edit distance of `a` and `b` with adjacent swaps (Damerau), or `cap` once it is that far."""
    if abs(len(a) - len(b)) >= cap:
        return cap
    prev2 = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            c = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + c)
            if prev2 is not None and c and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            row[j] = v
        if min(row) >= cap:
            return cap
        prev2, prev = prev, row
    return min(prev[len(b)], cap)


def check_line(raw):
    """The line as text, None if blank (only spaces and tabs), or PumpError E_SYNTAX.

    Checked on the bytes so both interpreters agree: CPython's split() takes
    \\x1c-\\x1f and \\x85 as spaces and MicroPython's decode() takes overlong
    UTF-8, so neither is left to decide.
    """
    blank = True
    for b in raw:
        if b != 32 and b != 9:
            blank = False
            if b < 32 or b == 127:
                raise PumpError(E_SYNTAX, "control character 0x%02x in line" % b)
    if blank:
        return None
    if not valid_utf8(raw):
        raise PumpError(E_SYNTAX, "line is not valid UTF-8")
    line = raw.decode()
    for ch in line:
        if 0x80 <= ord(ch) <= 0x9F:  # C1 controls (NEL, CSI...) are control characters too
            raise PumpError(E_SYNTAX, "control character U+%04X in line" % ord(ch))
    return line


def split_words(line):
    """Words separated by spaces and tabs only (no other character splits)."""
    return [w for w in line.replace("\t", " ").split(" ") if w]


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
