"""The background simulators (tools/sim/serve.py) this test process started, found and stopped.

A test that calls `pumpctl --state DIR` leaves DIR's simulator running, as a
user's would be. conftest marks this pytest process in the environment, every
simulator started from it inherits the mark, and after each test the ones
carrying it are stopped the way a user stops one (`pumpctl --state DIR sim
stop`). Found through /proc (Linux); elsewhere nothing is found.
"""

import os
import uuid

MARK = "ITPUMP_TEST_PROCESS"


def new_mark():
    return "%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])


def running(mark=None):
    """[(pid, DIR)] of this user's background simulators, those carrying `mark` if given."""
    found = []
    try:
        pids = [int(n) for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return found
    want = None if mark is None else ("%s=%s" % (MARK, mark)).encode()
    for pid in pids:
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read().split(b"\0")
            if b"tools.sim.serve" not in cmd or b"--state" not in cmd:
                continue
            if want is not None:
                with open("/proc/%d/environ" % pid, "rb") as f:
                    if want not in f.read().split(b"\0"):
                        continue
        except OSError:
            continue  # gone, or another user's
        found.append((pid, cmd[cmd.index(b"--state") + 1].decode()))
    return found


def stop_mine(mark):
    from tools.pumpctl import simserver

    for _pid, state in running(mark):
        fd = simserver.lock(state, 120.0)
        try:
            simserver.stop(state)
        finally:
            simserver.unlock(fd)
