# Put on the emulated Pico as main.py by tools/bench/board_profile.py (with COLLECT set):
# the real boot (boardsel.main, as main.py runs it) with every first import and every
# boot phase timed and weighed, printed as one PROFILE line after the first `status`.
#
# An import hook (builtins.__import__) times each import that adds modules; a module's own
# share is its import less the imports it made. The phases are the calls of boardsel._run,
# app.build and app.run, wrapped where they are looked up. COLLECT = 1 collects before and
# after each import and phase, so the bytes are what stays allocated (its times are not the
# boot's); COLLECT = 0 leaves the collector to the boot's own threshold: those times are.
import builtins
import gc
import sys
import time

COLLECT = 0  # replaced by the host
_ticks = time.ticks_us
_diff = time.ticks_diff
T_MAIN = _ticks()  # microseconds since the chip's reset (its timer starts with it)
A_MAIN = gc.mem_alloc()
MODS = {}  # module names (comma-joined) -> [own us, own bytes, with deps us, with deps bytes]
PHASES = []  # [name, start us since power-on, us, bytes]
_imp = builtins.__import__
_stack = []
_known = set(sys.modules)
_after = {}  # module name -> patch applied once it is imported
_done = []  # set once the PROFILE line is out: nothing more is recorded


def _alloc():
    # gc.mem_alloc walks the whole allocation table (4 ms on the Pico): weighed runs only
    if COLLECT:
        gc.collect()
        return gc.mem_alloc()
    return 0


def _mark():
    a = _alloc()
    return _ticks(), a


def _hook(name, g=None, loc=None, fromlist=(), level=0):
    n0 = len(sys.modules)
    # modules still importing (the ones this import sits inside) are theirs, not its
    busy = [k for k in sys.modules if k not in _known] if n0 != len(_known) else ()
    t, a = _mark()
    _stack.append([0, 0])
    try:
        return _imp(name, g, loc, fromlist, level)
    finally:
        dt = _diff(_ticks(), t)
        da = _alloc() - a
        kids = _stack.pop()
        if len(sys.modules) != n0:
            new = [k for k in sys.modules if k not in _known and k not in busy]
            for k in new:
                _known.add(k)
            new.sort()
            MODS[",".join(new) or name] = [dt - kids[0], da - kids[1], dt, da]
            if _stack:
                _stack[-1][0] += dt
                _stack[-1][1] += da
        for k in list(_after):
            # a module is in sys.modules while it is still importing (a circular import):
            # patched once the name its patch needs, defined last, is there
            m = sys.modules.get(k)
            if m is not None and hasattr(m, _after[k][0]):
                _after.pop(k)[1](m)


def _timed(label, f):
    def w(*a, **kw):
        t, m = _mark()
        try:
            return f(*a, **kw)
        finally:
            dt = _diff(_ticks(), t)
            if not _done:
                PHASES.append([label, t, dt, _alloc() - m])

    return w


def _wrap(obj, attr, label=None):
    f = getattr(obj, attr, None)
    if f is not None:  # an older tree may not have it
        setattr(obj, attr, _timed(label or attr, f))


def _app(app):
    for attr in ("Pump", "Shell", "Auth", "add_commands", "build"):
        _wrap(app, attr)
    for mod, attrs in (
        (app.persist, ("attach", "boot", "on_stable")),
        (app.trend, ("attach",)),
        (app.safety, ("attach",)),
        (app.therapy, ("attach",)),
        (getattr(app, "selftest", None), ("attach",)),
    ):
        for attr in attrs if mod is not None else ():
            _wrap(mod, attr, mod.__name__.rsplit(".", 1)[-1] + "." + attr)
    if hasattr(app, "selftest"):
        _selftest(app.selftest)
    pump = app.Pump

    def make(*a, **kw):
        p = pump(*a, **kw)
        g = getattr(p, "governor", None)
        if g is None:
            return p
        once = _timed("governor.service (build)", g.service)

        def first(pump):
            del g.service
            return once(pump)

        g.service = first
        return p

    app.Pump = make


def _selftest(mod):
    st = mod.SelfTest
    guard = st._guard

    def _guard(self, r, name, fn):
        return guard(self, r, name, _timed("selftest." + name, fn))

    st._guard = _guard


def _pump(mod):
    service = mod.Pump.service

    def first(self):
        # the first pass, each service timed: it runs before the console reads the first line
        mod.Pump.service = service
        t, m = _mark()
        for s in self.services:
            s.service = _timed("pass1." + type(s).__name__, s.service)
        try:
            service(self)
        finally:
            for s in self.services:
                del s.service
            PHASES.append(["first pass", t, _diff(_ticks(), t), _alloc() - m])

    mod.Pump.service = first


def _console(mod):
    serve = mod.serve

    def profiled(pump, shell, board, **kw):
        handle = shell.handle
        start = _ticks()

        def first(line):
            t, m = _mark()
            try:
                return handle(line)
            finally:
                PHASES.append(["first line (" + line.decode() + ")", t, _diff(_ticks(), t), _alloc() - m])
                PHASES.append(["serve to first line", start, _diff(t, start), 0])
                del shell.handle
                _report()

        shell.handle = first
        return serve(pump, shell, board, **kw)

    mod.serve = profiled


def _report():
    import json

    import boardsel

    builtins.__import__ = _imp
    _done.append(1)
    t = _ticks()
    boardsel.check_image()  # again, timed: boot.py's image hash, before main.py
    check = _diff(_ticks(), t)
    gc.collect()
    out = {
        "collect": COLLECT,
        "main_py_at_us": T_MAIN,
        "alloc_at_main_py": A_MAIN,
        "check_image_us": check,
        "modules": MODS,
        "phases": PHASES,
        "free_after_first_line": gc.mem_free(),
    }
    print("PROFILE " + json.dumps(out))


_after["firmware.app"] = ("run", _app)
_after["firmware.pump"] = ("Pump", _pump)
_after["firmware.shell.console"] = ("serve", _console)
builtins.__import__ = _hook
import boardsel  # noqa: E402  (boot.py has imported and run it: the image is checked)

boardsel.main()
