# cpython-only: pyserial's port list, faked.
"""`pumpctl ports` and the port used when --port is left out: the one Pico present, else the simulator."""

import pytest

from tools.pumpctl import cli, conn, ports

PICO = ("/dev/ttyACM0", 0x2E8A, "Board in FS mode")
PICO2 = ("/dev/ttyACM1", 0x2E8A, "Board in FS mode")
ESP = ("/dev/ttyUSB0", 0x10C4, "CP2102 USB to UART Bridge Controller")
UART = ("/dev/ttyS0", None, "n/a")


@pytest.fixture
def present(monkeypatch):
    monkeypatch.delenv("PUMPCTL_PORT", raising=False)

    def use(*found):
        monkeypatch.setattr(ports, "present", lambda: sorted(found))

    return use


def picked(*argv):
    args = cli.parser().parse_args(list(argv))
    for k in cli.CONNECTION:
        if not hasattr(args, k):
            setattr(args, k, None)
    return cli.pick_port(args)


def test_one_pico_is_used_when_port_is_left_out(present, capsys):
    present(PICO, ESP, UART)
    assert picked("status") == "/dev/ttyACM0"
    assert "using the Pico on /dev/ttyACM0" in capsys.readouterr().err


def test_no_pico_means_the_simulator_and_state_means_the_simulator(present):
    present(ESP, UART)
    assert picked("status") == "sim"
    present(PICO)
    assert picked("--state", "/tmp/p", "status") == "sim"
    assert picked("--port", "socket://h:1", "status") == "socket://h:1"


def test_two_picos_are_a_question_not_a_guess(present):
    present(PICO, PICO2)
    with pytest.raises(conn.PumpError) as e:
        picked("status")
    assert e.value.code == "E_PORT" and "/dev/ttyACM0, /dev/ttyACM1" in e.value.msg


def test_pumpctl_port_in_the_environment(present, monkeypatch):
    present(PICO)
    monkeypatch.setenv("PUMPCTL_PORT", "sim")
    assert picked("status") == "sim"


def test_ports_lists_candidate_boards_first(present, capsys):
    present(PICO, ESP, UART)
    assert cli.main(["ports"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("* /dev/ttyACM0  Raspberry Pi (Pico)")
    assert out[1].startswith("* /dev/ttyUSB0  Silicon Labs USB-UART (ESP32 DevKitC)")
    assert out[2].startswith("  /dev/ttyS0  not USB")
    assert out[3] == "without --port, pumpctl uses /dev/ttyACM0 (the one Pico present)"


def test_a_port_error_names_the_ports_present(present):
    present(PICO, UART)
    assert ports.summary() == "ports present: /dev/ttyACM0 (Pico), /dev/ttyS0"
    present()
    assert ports.summary() == "no serial ports present"
