# cpython-only: the pumpctl command line on the host.
"""`pumpctl deploy` hands the port and its own options to tools/deploy (issue 9's tool)."""

import sys
import types

from tools.pumpctl import cli


def test_deploy_passes_port_and_options_to_tools_deploy(capsys):
    calls = []
    fake = types.ModuleType("tools.deploy")
    fake.main = lambda argv: calls.append(argv) or 0  # type: ignore[attr-defined]
    saved = sys.modules.get("tools.deploy")
    sys.modules["tools.deploy"] = fake
    try:
        rc = cli.main(["--port", "socket://127.0.0.1:2217", "deploy", "--no-reset"])
    finally:
        if saved is None:
            del sys.modules["tools.deploy"]
        else:
            sys.modules["tools.deploy"] = saved
    assert rc == 0
    assert calls == [["--port", "socket://127.0.0.1:2217", "--no-reset"]]


def test_deploy_failure_is_a_nonzero_exit(capsys):
    fake = types.ModuleType("tools.deploy")
    fake.main = lambda argv: 3  # type: ignore[attr-defined]
    saved = sys.modules.get("tools.deploy")
    sys.modules["tools.deploy"] = fake
    try:
        rc = cli.main(["--port", "socket://127.0.0.1:2217", "deploy"])
    finally:
        if saved is None:
            del sys.modules["tools.deploy"]
        else:
            sys.modules["tools.deploy"] = saved
    assert rc == 3


def test_deploy_to_the_simulator_is_refused(capsys):
    rc = cli.main(["deploy"])
    assert rc == 1 and capsys.readouterr().err.startswith("E_SYNTAX: deploy needs a board")


def test_pumpctl_deploy_reaches_the_real_deploy_with_its_port(capsys):
    from tools import deploy

    calls = []
    real = deploy.deploy
    deploy.deploy = lambda port, quiet=False, reset=True, check=True: (
        calls.append((port, reset)) or {"ok": True}
    )
    try:
        rc = cli.main(["--port", "socket://127.0.0.1:2217", "deploy", "--no-reset"])
    finally:
        deploy.deploy = real
    assert rc == 0
    assert calls == [("socket://127.0.0.1:2217", False)]
