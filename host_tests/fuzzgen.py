"""Hostile shell lines for the fuzz tests, built from the registry's own command names.

`rnd` is anything with `below(n)`: a seeded `rig.Lcg` on MicroPython, or a
hypothesis draw under CPython (so failures shrink). New commands are fuzzed
as soon as they are registered. Both interpreters.
"""

from shellkit import check_json, snapshot

from firmware.shell import lines

WORDS = (
    "on",
    "off",
    "begin",
    "confirm",
    "cancel",
    "show",
    "set",
    "drug",
    "limit",
    "catheter",
    "patient",
    "continuous",
    "flex",
    "periodic",
    "trial",
    "single",
    "multi",
    "override",
    "nobridge",
    "withdrawn",
    "add",
    "measured",
    "since",
    "run",
    "clinician",
    "morphine",
    "baclofen",
    "ziconotide",
    "clonidine",
    "bupivacaine",
    "water",
    "all",
    "pressure",
    "reservoir",
    "battery",
    "stuck",
    "open",
    "ok",
    "help",
)
NUMBERS = (
    "0",
    "1",
    "2",
    "7",
    "10",
    "15",
    "20",
    "40",
    "100",
    "1234",
    "0.5",
    "19.2",
    "0.001",
    "-1",
    "-0",
    "+5",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e3",
    "1E-3",
    "0x10",
    "0b1",
    "0o7",
    "1_000",
    "1.5.5",
    ".5",
    "5.",
    "00012",
    "9" * 30,
    "99999999999",
    "2147483648",
    "1073741824",
    "\u0661\u0662",
    "\u00bd",
    "1,5",
    "\uff11",
)
UNITS = (
    "",
    "mg",
    "mcg",
    "mL",
    "ml",
    "ug",
    "kg",
    "g",
    "mg/mL",
    "mcg/mL",
    "mg/ml",
    "s",
    "m",
    "h",
    "d",
    "w",
    "ms",
    "%",
    "mL/day",
    "/",
)
KEYS = (
    "max_daily",
    "max_bolus",
    "dose",
    "lockout",
    "max",
    "over",
    "every",
    "count",
    "days",
    "basal",
    "conc",
    "rate",
    "",
    "x",
)
PINS = ("1234", "0000", "9999", "123", "123456789", "12a4", "-123", "12345678", "", "1234 1234")
ESCAPES = (
    b"\x1b[A",
    b"\x1b[2J",
    b"\x1b]0;x\x07",
    b"\x08",
    b"\x7f",
    b"\x00",
    b"\x03",
    b"\x04",
    b"\x1a",
    b"\x0b",
    b"\x0c",
    b"\x1c",
    b"\xc2\x85",
    b"\xc2\x9b",
    b"\xe2\x80\xa8",
    b"\xef\xbb\xbf",
    b"\t",
)
BAD_UTF8 = (
    b"\xff",
    b"\xfe",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\x80",
    b"\xe2\x82",
    b"\xf8\x88\x80\x80\x80",
)
TIMES = (
    "00:00",
    "12:30",
    "23:59",
    "24:00",
    "12:60",
    "1:05",
    "12:5",
    "-1:00",
    "12:30=2mg",
    "08:00=1mg/15m",
    "2026-01-01T00:00:00",
    "2026-13-01T00:00:00",
    "2026-02-30T25:61:61",
    "1970-01-01T00:00:00",
)


# valid uses from SPEC 9: mutated one token at a time, they reach each command's deeper checks
TEMPLATES = (
    "rx drug morphine 10mg/mL",
    "rx limit max_daily=10mg max_bolus=1mg",
    "rx catheter 0.5",
    "rx patient P001",
    "program continuous 2mg",
    "program flex 08:00=2mg 20:00=1mg",
    "program periodic 08:00=0.5mg/15m 20:00=0.5mg/15m basal=1mg",
    "program trial single 0.1mg/15m",
    "program trial multi 0.1mg/15m every=1d count=3",
    "program trial continuous 1mg days=3",
    "program show",
    "program confirm",
    "program confirm override",
    "program cancel",
    "bolus 0.1mg",
    "bolus 0.1mg over=30m",
    "bolus 0.1mg override",
    "ptm",
    "ptm set dose=0.1mg lockout=1h max=4",
    "prime 0.1",
    "refill begin",
    "refill withdrawn 5",
    "refill add 19 conc=10mg/mL",
    "refill confirm nobridge",
    "refill cancel",
    "calibrate begin 2000",
    "calibrate measured 0.1",
    "sensors",
    "alarms",
    "ack",
    "ack 1",
    "silence 30m",
    "log 5",
    "log since 2026-01-01T00:00:00",
    "time",
    "time set 2026-01-01T08:00:00",
    "selftest",
    "login clinician 1234",
    "passwd 1234 4321",
    "json on",
    "help status",
    "trend",
    "stop",
    "start",
    "status",
)


def mutate(rnd, line):
    """One small change to a valid line: a value, a unit, a token dropped, added or doubled."""
    words = line.split(" ")
    k = rnd.below(6)
    i = 1 + rnd.below(len(words) - 1) if len(words) > 1 else 0
    w = words[i]
    if k == 0:  # the number of a value made nasty, its unit kept
        j = 0
        while j < len(w) and (w[j].isdigit() or w[j] == "."):
            j += 1
        eq = w.find("=") + 1
        if eq and j == 0:
            j = eq
            while j < len(w) and (w[j].isdigit() or w[j] == "."):
                j += 1
            words[i] = w[:eq] + _pick(rnd, NUMBERS) + w[j:]
        else:
            words[i] = _pick(rnd, NUMBERS) + w[j:]
    elif k == 1:  # the unit changed
        j = len(w)
        while j > 0 and not w[j - 1].isdigit():
            j -= 1
        words[i] = w[:j] + _pick(rnd, UNITS)
    elif k == 2 and len(words) > 1:
        del words[i]
    elif k == 3:
        words.insert(i, token(rnd))
    elif k == 4:
        words.append(w)
    else:
        words[i] = token(rnd)
    return " ".join(words)


def _pick(rnd, seq):
    return seq[rnd.below(len(seq))]


def token(rnd):
    k = rnd.below(8)
    if k == 0:
        return _pick(rnd, WORDS)
    if k in (1, 2):
        return _pick(rnd, NUMBERS) + _pick(rnd, UNITS)
    if k == 3:
        return _pick(rnd, KEYS) + "=" + _pick(rnd, NUMBERS) + _pick(rnd, UNITS)
    if k == 4:
        return _pick(rnd, TIMES)
    if k == 5:
        return _pick(rnd, NUMBERS) + _pick(rnd, UNITS) + "/" + _pick(rnd, NUMBERS) + _pick(rnd, UNITS)
    if k == 6:
        return _pick(rnd, PINS)
    return _pick(rnd, WORDS) + _pick(rnd, NUMBERS)


def garbage(rnd, n):
    return bytes(rnd.below(256) for _ in range(n))


def gen_line(rnd, names):
    """One hostile line as bytes (it may hold CR/LF: the splitter decides)."""
    names = sorted(names)
    kind = rnd.below(16)  # 12..15: mutated valid lines
    name = _pick(rnd, names)
    words = [name] + [token(rnd) for _ in range(rnd.below(5))]
    if kind == 0:  # a command with plausible and implausible values
        return " ".join(words).encode()
    if kind == 1:  # binary garbage
        return garbage(rnd, rnd.below(40))
    if kind == 2:  # long lines, around and far past the limit
        base = (" ".join(words) + " ").encode()
        n = 190 + rnd.below(30) if rnd.below(2) else 200 + rnd.below(600)
        return (base * (n // len(base) + 1))[:n]
    if kind == 3:  # unknown command: a near miss, a case change, or noise
        k = rnd.below(4)
        bad = (name + "x", name.upper(), name[:-1] or "q", "frob" + name)[k]
        return " ".join([bad] + words[1:]).encode()
    if kind == 4:  # an escape or control sequence spliced in
        b = " ".join(words).encode()
        i = rnd.below(len(b) + 1)
        return b[:i] + _pick(rnd, ESCAPES) + b[i:]
    if kind == 5:  # bytes that are not UTF-8
        b = " ".join(words).encode()
        i = rnd.below(len(b) + 1)
        return b[:i] + _pick(rnd, BAD_UTF8) + b[i:]
    if kind == 6:  # missing arguments
        return " ".join(words[: 1 + rnd.below(2)]).encode()
    if kind == 7:  # extra arguments
        return " ".join(words + ["zz"] * (1 + rnd.below(6))).encode()
    if kind == 8:  # login and passwd with every kind of PIN
        if rnd.below(2):
            return (
                "login " + _pick(rnd, ("clinician", "patient", "admin", "")) + " " + _pick(rnd, PINS)
            ).encode()
        return ("passwd " + _pick(rnd, PINS) + " " + _pick(rnd, PINS)).encode()
    if kind == 9:  # subcommand words with nasty numbers
        return (name + " " + _pick(rnd, WORDS) + " " + _pick(rnd, NUMBERS) + _pick(rnd, UNITS)).encode()
    if kind == 10:  # odd spacing and separators
        sep = _pick(rnd, ("  ", "\t", " \t ", ",", ";", "=", "\u00a0", "\u3000"))
        return sep.join(words).encode()
    if kind == 11:
        return b"\x00" * (1 + rnd.below(10))
    return mutate(rnd, _pick(rnd, TEMPLATES)).encode()


SETUP_THERAPY = (
    "login clinician 1234",
    "rx drug morphine 10mg/mL",
    "program continuous 2mg",
    "program confirm",
    "start",
)


def setup(kit, variant):
    """Start states: patient or clinician, human or JSON, with or without a running program."""
    if variant & 2:
        for line in SETUP_THERAPY:
            kit.say(line)  # commands not written yet just answer an error
    if variant & 1:
        kit.say("login clinician 1234")
    else:
        kit.say("logout")
    kit.sh.json = bool(variant & 4)


KNOWN = (
    "E_SYNTAX",
    "E_UNKNOWN",
    "E_RANGE",
    "E_UNIT",
    "E_AUTH",
    "E_LOCKED",
    "E_LIMIT",
    "E_CONFIRM",
    "E_STATE",
    "E_TOOLONG",
)


def check_line(kit, raw):
    """Send one generated line through the splitter and the shell; check every reply.

    Returns the number of refused lines. A refused line must change nothing
    but the failed-login count and its log entry.
    """
    sp = lines.LineSplitter()
    pieces = sp.feed(raw + b"\n")
    refused = 0
    for piece in pieces:
        before = snapshot(kit)
        was_json = kit.sh.json
        r = kit.sh.handle(piece)
        ok = kit.sh.last_ok
        if piece is not lines.TOOLONG and not piece.strip(b" \t"):
            assert r is None and ok is None, piece
            continue
        assert r is not None, piece
        if was_json:
            d = check_json(r)
            assert d["ok"] == ok, (piece, r)
            code = None if ok else d["code"]
        else:
            assert not r.startswith("{") or ok, (piece, r)
            code = None if ok else r.split(":", 1)[0][len("error ") :]
            if not ok:
                assert r.startswith("error E_") and "\n" not in r, (piece, r)
        if not ok:
            refused += 1
            assert code in KNOWN, (piece, r)
            after = snapshot(kit)
            assert after == before, (piece, r, before, after)
    return refused
