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


def shared_modules():
    out = []
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        with open(os.path.join(HERE, name)) as f:
            if f.readline().startswith("# cpython-only"):
                continue
        out.append(name[:-3])
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
    res = run_mp(["mprun.py", module])
    tail = res.stdout[-4000:] + res.stderr[-2000:]
    assert res.returncode == 0, tail
    assert " passed, 0 failed" in res.stdout, tail
    assert not res.stdout.splitlines()[-1].startswith("0 passed"), "no test ran:\n" + tail
