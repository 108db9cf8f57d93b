"""Helpers for the shell tests: a pump on the sim board, lines in, replies out. Both interpreters."""

import json
import sys

import heap

from boards import sim as simboard
from firmware import app, jsonout


class Kit:
    def __init__(self, json_mode=True, watchdog=True):
        if sys.implementation.name == "micropython":
            heap.collect()  # many pumps per test: the port's 512 KB heap must not fragment
        self.board = simboard.Board()
        self.pump, self.sh = app.build(self.board)
        if watchdog:
            self.board.start_watchdog()  # as console.serve does after build (the self-test asks)
        self.events = []
        self.refused = 0
        self.pump.listeners.append(self._on_event)
        self.sh.json = json_mode

    def _on_event(self, name, fields):
        if name == "refused":  # counted, not kept: the fuzz refuses hundreds of lines (512 KB heap)
            self.refused += 1
            return
        self.events.append((name, fields))

    def raw(self, b):
        """Answer one raw line (bytes, or lines.TOOLONG)."""
        return self.sh.handle(b)

    def say(self, text):
        return self.sh.handle(text.encode())

    def js(self, text):
        """Send a line in JSON mode and return the decoded reply (checked for form)."""
        r = self.say(text)
        return check_json(r)

    def code(self, text):
        d = self.js(text)
        return None if d["ok"] else d["code"]

    def advance_ms(self, ms):
        """Move the virtual clock in main-loop-sized steps, servicing as a board would."""
        while ms > 0:
            dt = 1000 if ms > 1000 else ms
            self.board.clock.advance_ms(dt)
            self.pump.service()
            ms -= dt

    def login(self, pin="1234"):
        d = self.js("login clinician " + pin)
        assert d["ok"], d
        return d

    def count(self, name):
        if name == "refused":
            return self.refused
        return len([e for e in self.events if e[0] == name])


def check_json(r):
    """One JSON object on one line, `ok` first, no NaN or Infinity."""
    assert r is not None, "no reply"
    assert "\n" not in r and "\r" not in r, r
    assert r.startswith('{"ok": '), r
    d = json.loads(r)
    assert finite(d), r
    assert isinstance(d, dict) and d["ok"] in (True, False), r
    if not d["ok"]:
        assert d["code"].startswith("E_") and isinstance(d["error"], str) and d["error"], r
    return d


def finite(v):
    """No NaN or Infinity anywhere in a decoded reply (CPython's json reads them as floats)."""
    if isinstance(v, float):
        return v == v and v - v == 0.0
    if isinstance(v, dict):
        return all(finite(x) for x in v.values())
    if isinstance(v, list):
        return all(finite(x) for x in v)
    return True


def canon(v):
    """A comparable form of a reply value: dicts as sorted pairs, Dec as its numbers (no JSON text)."""
    if isinstance(v, dict):
        return tuple(sorted((k, canon(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return tuple(canon(x) for x in v)
    if isinstance(v, jsonout.Dec):
        return ("Dec", v.value, v.scale)
    return v


def snapshot(kit):
    """Everything a refused line must leave alone (SPEC 9), as one comparable tuple.

    Status without the clock, the prescription (through the registry's own
    `rx`, if registered), alarms, the auth state without the failed-login
    count and lock, the role, JSON mode, and every event but `login_failed`.
    A refused therapy request is logged too (`refused`, issue 16) and a refused
    patient bolus press counted as demand (`ptm_presses` and the refusal counts):
    those are the record of the refusal, not a change it made.
    """
    sh = kit.sh
    st = dict(sh.commands["status"].fn(sh, []))
    st.pop("clock", None)
    st.pop("text", None)
    for k in ("ptm_presses", "ptm_refused_lockout", "ptm_refused_max"):
        st.pop(k, None)
    parts = [canon(st)]
    rx = sh.commands.get("rx")
    if rx is not None and kit.pump.therapy is not None:
        d = dict(rx.fn(sh, []))
        d.pop("text", None)
        parts.append(canon(d))
    a = kit.pump.auth
    snap = dict(a.snapshot())
    snap.pop("failures")
    snap.pop("lock_until")
    snap["last_ms"] = a.last_ms
    parts.append(canon(snap))
    parts.append(canon([al.fields(str) for al in kit.pump.alarms.items]))
    parts.append((sh.role, sh.json))
    parts.append(len([e for e in kit.events if e[0] not in ("login_failed", "refused")]))
    log = kit.pump.log
    if log is not None and hasattr(log, "__len__"):
        parts.append(len(log) - kit.count("login_failed") - kit.count("refused"))
    return tuple(parts)
