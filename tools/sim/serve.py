"""The background simulator behind `pumpctl --state DIR`: one simulated pump on a `socket://` URL.

    python -m tools.sim.serve --state DIR [--detach]

It runs the simulator (tools/sim/simmain.py on the MicroPython unix port,
piped, so virtual time moves only with `sim run`, SPEC 10) for as long as it
lives, and relays one TCP client at a time on 127.0.0.1 to the simulator's
shell, as a USB-serial bridge relays a board's. pumpctl reaches it with the
`socket://127.0.0.1:PORT` URL it writes to `DIR/.simserve` (JSON: url, pid,
the host's boot id), the way it reaches a board; tools/pumpctl/simserver.py
starts, finds, checks and stops it.

- While no client is connected the simulator's output goes nowhere; a new
  client lines up with the shell itself (pumpctl's marker, conn.SerialLink).
- When a client leaves, `sim save` writes the pump's flash files and its
  physical model to DIR, so DIR is always as the last call left it: a host
  that loses power loses nothing a call saw, and the next call boots from it
  as a board after a power cut.
- SIGTERM, SIGINT or SIGHUP (`pumpctl --state DIR sim stop`, a host shutting
  down, a closed terminal) end the simulator's input: it shuts the pump down
  cleanly (records and clock saved, no unexpected-reset alarm at the next
  start), then `DIR/.simserve` is removed. If this process is killed outright
  the simulator sees its input end all the same and shuts down cleanly.

`--detach` forks into the background (a new session, so a terminal's Ctrl-C
or hang-up does not reach it) and exits 0 once the simulator answers and the
URL file is written, or 1 with one line `E_SIM: ...` on stderr if it did not
come up.
"""

import json
import os
import select
import selectors
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if ROOT not in sys.path:  # run as a file as well as with -m
    sys.path.insert(0, ROOT)

from tools.sim import launch  # noqa: E402

INFO = ".simserve"  # the URL file; a dot name, so the simulator's StateFs does not take it for flash
LOG = ".simserve.log"  # the simulator's stderr and this relay's own notes
PROMPT = b"pump> "
BOOT_S = 60.0  # the simulator's first prompt within this (a cold start takes about 1 s)
SEND_S = 30.0  # a client that reads nothing for this long is dropped


def boot_id():
    """This boot of the host (Linux), so a URL file from before a reboot is known stale; else ""."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


class Stop(Exception):
    pass


def _stop(signum, frame):
    raise Stop()


def _deaf():
    # the simulator leaves stopping to this relay: a host shutting down sends SIGTERM to every
    # process at once, and the relay's answer (the end of the simulator's input) is the clean
    # shutdown that saves the records; the simulator's own default would cut it dead
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


class Relay:
    def __init__(self, state, log):
        self.state = state
        self.log = log
        self.sim = None
        self.srv = None
        self.client = None
        self.sel = selectors.DefaultSelector()

    def note(self, text):
        self.log.write("%s simserve[%d]: %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), os.getpid(), text))
        self.log.flush()

    def start(self):
        """The simulator up to its first prompt, the listening socket, and the URL file written."""
        self.sim = subprocess.Popen(
            launch.command(["--state", self.state]),
            env=launch.env(),
            cwd=launch.ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            bufsize=0,
            preexec_fn=_deaf,
        )
        assert self.sim.stdout is not None
        out = self.sim.stdout.fileno()
        limit = time.monotonic() + BOOT_S
        seen = b""
        while PROMPT not in seen:
            left = limit - time.monotonic()
            if left <= 0:
                raise RuntimeError("no prompt from the simulator within %.0f s" % BOOT_S)
            r, _, _ = select.select([out], [], [], left)
            if r:
                data = os.read(out, 65536)
                if not data:
                    raise RuntimeError(
                        "the simulator ended at start (see %s)" % os.path.join(self.state, LOG)
                    )
                seen += data
        self.srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        url = "socket://127.0.0.1:%d" % self.srv.getsockname()[1]
        info = {"url": url, "pid": os.getpid(), "sim_pid": self.sim.pid, "boot_id": boot_id()}
        tmp = os.path.join(self.state, INFO + ".tmp")
        with open(tmp, "w") as f:
            f.write(json.dumps(info) + "\n")
        os.replace(tmp, os.path.join(self.state, INFO))
        self.note("serving %s on %s (simulator pid %d)" % (self.state, url, self.sim.pid))
        self.sel.register(self.srv, selectors.EVENT_READ, "accept")
        self.sel.register(out, selectors.EVENT_READ, "sim")

    def to_sim(self, data):
        assert self.sim is not None and self.sim.stdin is not None
        try:
            self.sim.stdin.write(data)
            self.sim.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise Stop() from None

    def drop_client(self):
        if self.client is None or self.srv is None:
            return
        self.sel.unregister(self.client)
        self.client.close()
        self.client = None
        # the next client waits in the listen queue until this one has gone: one shell, one user
        self.sel.register(self.srv, selectors.EVENT_READ, "accept")
        # DIR as this call left it; a blank line first ends anything the client left half typed
        self.to_sim(b"\nsim save\n")

    def serve(self):
        assert self.sim is not None and self.sim.stdout is not None and self.srv is not None
        out = self.sim.stdout.fileno()
        while True:
            for key, _ in self.sel.select():
                if key.data == "accept":
                    c, _ = self.srv.accept()
                    c.settimeout(SEND_S)
                    self.sel.unregister(self.srv)
                    self.client = c
                    self.sel.register(c, selectors.EVENT_READ, "client")
                elif key.data == "sim":
                    data = os.read(out, 65536)
                    if not data:
                        self.note("the simulator ended")
                        return
                    if self.client is not None:
                        try:
                            self.client.sendall(data)
                        except OSError:
                            self.drop_client()
                elif key.data == "client" and self.client is not None:
                    try:
                        data = self.client.recv(65536)
                    except OSError:
                        data = b""
                    if data:
                        self.to_sim(data)
                    else:
                        self.drop_client()

    def finish(self):
        """End of the simulator's input: its clean shutdown, then the URL file goes."""
        if self.client is not None:
            self.client.close()
        if self.srv is not None:
            self.srv.close()
        if self.sim is not None:
            try:
                if self.sim.stdin is not None:
                    self.sim.stdin.close()
            except OSError:
                pass
            try:
                if self.sim.stdout is not None:
                    self.sim.stdout.read()  # the shutdown's replies, to nowhere
                rc = self.sim.wait(timeout=120)
                self.note("the simulator shut down (exit status %d)" % rc)
            except subprocess.TimeoutExpired:
                self.sim.kill()
                self.note("the simulator did not shut down within 120 s: killed")
        path = os.path.join(self.state, INFO)
        try:
            with open(path) as f:
                mine = json.loads(f.read()).get("pid") == os.getpid()
        except (OSError, ValueError):
            mine = False
        if mine:
            os.remove(path)


def run(state, ready_fd=None):
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGHUP, _stop)
    log = open(os.path.join(state, LOG), "a")
    relay = Relay(state, log)
    try:
        try:
            relay.start()
        except (OSError, RuntimeError) as e:
            relay.note("cannot start: %s" % e)
            if ready_fd is not None:
                os.write(ready_fd, ("E_SIM: cannot start the simulator for %s: %s\n" % (state, e)).encode())
            return 1
        if ready_fd is not None:
            os.write(ready_fd, b"ok\n")
            os.close(ready_fd)
            ready_fd = None
        relay.serve()
    except Stop:
        relay.note("stopping")
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second stop must not cut the clean shutdown
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        relay.finish()
        log.close()
    return 0


def detach(state):
    """Fork into the background; the parent exits once the child has said whether it came up."""
    r, w = os.pipe()
    child = os.fork()
    if child > 0:
        os.close(w)
        said = b""
        while True:
            b = os.read(r, 4096)
            if not b:
                break
            said += b
        os.waitpid(child, 0)
        text = said.decode(errors="replace").strip()
        if text == "ok":
            return 0
        sys.stderr.write((text or "E_SIM: the background simulator ended at start") + "\n")
        return 1
    os.close(r)
    os.setsid()  # no terminal: a Ctrl-C or hang-up there is not for the simulator
    if os.fork() > 0:
        os._exit(0)  # the grandchild is adopted by init: nobody has to wait for it
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.chdir("/")
    try:
        run(state, ready_fd=w)
    finally:
        os._exit(0)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    background = "--detach" in argv
    if background:
        argv.remove("--detach")
    if len(argv) != 2 or argv[0] != "--state":
        sys.stderr.write("E_USAGE: python -m tools.sim.serve --state DIR [--detach]\n")
        return 2
    state = os.path.abspath(argv[1])
    os.makedirs(state, exist_ok=True)
    if background:
        return detach(state)
    return run(state)


if __name__ == "__main__":
    sys.exit(main())
