# cpython-only: this file drives the real micropython binary.
"""Run every shared test module again on the real MicroPython unix port.

A module is shared unless its first line says `# cpython-only` (hypothesis,
subprocesses). A failure there fails here, with the port's output attached.
"""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
MICROPYPATH = os.pathsep.join([os.path.join(HERE, "fakes"), HERE, ROOT, ".frozen"])


# the test folders: one per part of the firmware (core, shell, persist, safety, therapy), the
# drivers and boards (hardware) and the host tools (host); the board suite runs on its own
PARTS = ("core", "shell", "persist", "safety", "therapy", "hardware", "host")


def shared_modules():
    """'part/test_x' for every test module of a part folder that runs on both interpreters."""
    out = []
    for part in PARTS:
        d = os.path.join(HERE, part)
        for name in sorted(os.listdir(d)):
            if not (name.startswith("test_") and name.endswith(".py")):
                continue
            with open(os.path.join(d, name)) as f:
                if f.readline().startswith("# cpython-only"):
                    continue
            out.append(part + "/" + name[:-3])
    return out


# The test processes' heap: a test holds a whole firmware beside its kit and reference (a Tip's
# sample arrays, a FaultFs trace) and builds hundreds of pumps one after another. The firmware's
# own budget is not this: `make bench` measures it in 256 KB (`memory`), and the board figures
# come from the emulated Pico.
TEST_HEAP = "1M"


def run_mp(args, heap=TEST_HEAP, timeout=600, env_extra=None):
    env = dict(os.environ, MICROPYPATH=MICROPYPATH)
    if env_extra:
        env.update(env_extra)
    return subprocess.run(
        [MICROPYTHON, "-X", "heapsize=" + heap] + args,
        cwd=HERE,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("module", shared_modules())
def test_module_on_micropython(module):
    part, name = module.split("/")
    # the part's folder last: the kits, the fakes and the project's own packages come first
    # (a folder named like a package of the project would otherwise hide it on the port)
    path = MICROPYPATH + os.pathsep + os.path.join(HERE, part)
    res = run_mp(["mprun.py", name], env_extra={"MICROPYPATH": path})
    tail = res.stdout[-4000:] + res.stderr[-2000:]
    assert res.returncode == 0, tail
    assert " passed, 0 failed" in res.stdout, tail
    assert not res.stdout.splitlines()[-1].startswith("0 passed"), "no test ran:\n" + tail


def test_every_test_module_is_in_a_part_folder():
    # a module left at the root would run under pytest only, never on the port
    stray = [n for n in os.listdir(HERE) if n.startswith("test_") and n.endswith(".py")]
    assert stray == ["test_micropython.py"], stray
    folders = [n for n in os.listdir(HERE) if os.path.isdir(os.path.join(HERE, n))]
    unknown = set(folders) - set(PARTS) - {"board", "fakes", "fakes_time", "__pycache__"}
    assert not unknown, "a test folder the runner does not know: %s" % sorted(unknown)
