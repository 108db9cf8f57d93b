"""The background simulator of `--state DIR`: started by the first call, found, checked, stopped.

One simulated pump per DIR lives in a background process (tools/sim/serve.py)
between pumpctl calls, and pumpctl reaches it as it reaches a board: the
`socket://127.0.0.1:PORT` URL in `DIR/.simserve`. Each call holds
`DIR/.pumpctl.lock` (an flock) from before it looks for the simulator to
after it has let go of it, so two calls on one DIR take turns: the second
waits, and neither can start a second simulator on the same flash files.
"""

import json
import os
import signal
import subprocess
import sys
import time

from tools.sim import launch, serve

LOCK = ".pumpctl.lock"
WAIT_NOTE_S = 1.0  # say that we wait for another call after this long
STOP_S = 120.0  # a clean shutdown writes the trend and records: seconds, not minutes


class Error(Exception):
    """Raised as conn.PumpError by the caller: a code and a one-line message."""

    def __init__(self, code, msg):
        super().__init__("%s: %s" % (code, msg))
        self.code = code
        self.msg = msg


def state_dir(state):
    # a relative DIR means the caller's directory; the simulator runs elsewhere
    return os.path.abspath(state)


def lock(state, timeout):
    """This call's turn on DIR: an open file holding an exclusive flock (closing it lets go)."""
    import fcntl

    state = state_dir(state)
    try:
        os.makedirs(state, exist_ok=True)
        fd = os.open(os.path.join(state, LOCK), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise Error(
            "E_SIM", "cannot use %s as the simulator's folder: %s" % (state, (e.strerror or str(e)).lower())
        ) from None
    limit = time.monotonic() + timeout
    said = False
    start = time.monotonic()
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            pass
        now = time.monotonic()
        if now > limit:
            os.close(fd)
            raise Error(
                "E_BUSY",
                "another pumpctl call has held %s for %.0f s (--timeout to wait longer)"
                % (state, now - start),
            )
        if not said and now - start > WAIT_NOTE_S:
            print("pumpctl: waiting for another pumpctl call on %s" % state, file=sys.stderr)
            said = True
        time.sleep(0.05)


def unlock(fd):
    os.close(fd)  # the flock goes with the last descriptor


def info(state):
    """DIR/.simserve as written by the background simulator, or None."""
    try:
        with open(os.path.join(state_dir(state), serve.INFO)) as f:
            d = json.loads(f.read())
    except (OSError, ValueError):
        return None
    return d if isinstance(d, dict) and "url" in d and "pid" in d else None


def alive(state, d):
    """Is the simulator that wrote `d` still serving DIR? A file of another user is an error."""
    path = os.path.join(state_dir(state), serve.INFO)
    try:
        owner = os.stat(path).st_uid
    except OSError:
        return False
    if owner != os.getuid():
        raise Error(
            "E_SIM",
            "the simulator of %s belongs to another user (uid %d): use a folder of your own" % (state, owner),
        )
    boot = serve.boot_id()
    if boot and d.get("boot_id") and d["boot_id"] != boot:
        return False  # written before the host last booted: that process is gone
    pid = d.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # the pid now belongs to someone else's process: ours has ended
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().split(b"\0")
    except OSError:
        return True  # no /proc (macOS): the pid is alive, and the connection will tell
    return b"tools.sim.serve" in cmd and state_dir(state).encode() in cmd


def clear(state):
    try:
        os.remove(os.path.join(state_dir(state), serve.INFO))
    except OSError:
        pass


def ensure(state):
    """The URL of DIR's simulator, started first if none is alive. Call with the lock held."""
    state = state_dir(state)
    d = info(state)
    if d is not None and alive(state, d):
        return d["url"]
    clear(state)  # stale: a dead process, an earlier boot of the host, a pid reused
    try:
        p = subprocess.run(
            [sys.executable, "-m", "tools.sim.serve", "--state", state, "--detach"],
            cwd=launch.ROOT,
            env=launch.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=serve.BOOT_S + 30,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Error("E_SIM", "cannot start the background simulator: %s; run make venv" % e) from None
    if p.returncode != 0:
        lines = [x for x in p.stderr.splitlines() if x.strip()]
        last = lines[-1] if lines else "exit status %d" % p.returncode
        if last.startswith("E_SIM: "):
            last = last[len("E_SIM: ") :]
        raise Error("E_SIM", "%s; run make venv (log: %s)" % (last, os.path.join(state, serve.LOG)))
    d = info(state)
    if d is None:
        raise Error("E_SIM", "the background simulator wrote no %s" % os.path.join(state, serve.INFO))
    return d["url"]


def stop(state, timeout=STOP_S):
    """End DIR's simulator cleanly (SIGTERM: it shuts the pump down and saves). Call with the lock held.

    Returns the pid stopped, or None when none was running (a stale file is removed).
    """
    state = state_dir(state)
    d = info(state)
    if d is None or not alive(state, d):
        clear(state)
        return None
    pid = d["pid"]
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        clear(state)
        return None
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            clear(state)  # it removes the file itself; this is for one killed on the way
            return pid
        time.sleep(0.05)
    raise Error("E_SIM", "the simulator (pid %d) did not shut down within %.0f s" % (pid, timeout))
