# cpython-only: a TCP bridge to the simulator, driven through pyserial's socket:// URL.
"""pumpctl over `socket://HOST:PORT`: the serial path (pyserial), lined up with the shell and answered."""

import json
import socket
import subprocess
import threading

from tools.pumpctl import cli
from tools.sim import launch


class Bridge:
    """Accepts one TCP client and relays it to a fresh simulator's stdin/stdout, like a board's USB port."""

    def __init__(self, banner=b""):
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.banner = banner
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def url(self):
        return "socket://127.0.0.1:%d" % self.port

    def _serve(self):
        c, _ = self.srv.accept()
        p = subprocess.Popen(
            launch.command([]),
            env=launch.env(),
            cwd=launch.ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert p.stdin is not None and p.stdout is not None
        c.sendall(self.banner)  # noise before the shell, as a board prints after reset

        def up():
            assert p.stdout is not None
            while True:
                b = p.stdout.read1(4096)
                if not b:
                    break
                c.sendall(b)

        threading.Thread(target=up, daemon=True).start()
        while True:
            b = c.recv(4096)
            if not b:
                break
            p.stdin.write(b)
            p.stdin.flush()
        p.stdin.close()
        p.wait(timeout=60)
        c.close()
        self.srv.close()


def test_status_over_a_socket_url(capsys):
    b = Bridge(banner=b"MicroPython v1.28.0\r\npump> garbage\r\n")
    rc = cli.main(["--port", b.url(), "--timeout", "30s", "status", "--json"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    d = json.loads(out)
    assert d["state"] == "stopped" and d["clock"] == "2026-01-01T00:00:00"


def test_pump_error_over_a_socket_url(capsys):
    b = Bridge()
    rc = cli.main(["--port", b.url(), "--timeout", "30s", "send", "rx", "drug", "morphine", "10mg/mL"])
    out, err = capsys.readouterr()
    assert rc == 1 and err.startswith("E_AUTH: ")
