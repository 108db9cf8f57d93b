# cpython-only: drives the simulator through pumpctl.
"""Every example in docs/examples goes through `pumpctl program` and runs; misspelled keys are refused."""

import glob
import json
import os
import tempfile

import pytest

from tools.pumpctl import cli, rxfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "docs", "examples", "*.toml")))
MODES = {
    "rx-morphine.toml": "continuous",
    "rx-flex.toml": "flex",
    "rx-periodic.toml": "periodic",
    "rx-trial-single.toml": "trial-single",
    "rx-trial-multi.toml": "trial-multi",
    "rx-trial-continuous.toml": "trial-continuous",
    "rx-ptm.toml": "continuous",
}


def test_there_is_an_example_for_every_mode_and_for_ptm():
    names = [os.path.basename(p) for p in EXAMPLES]
    assert sorted(names) == sorted(MODES)
    modes = {rxfile.read(p)["program"]["mode"] for p in EXAMPLES}
    assert modes == set(rxfile.MODE_KEYS)
    assert any("ptm" in rxfile.read(p) for p in EXAMPLES)


@pytest.mark.parametrize("path", EXAMPLES, ids=[os.path.basename(p) for p in EXAMPLES])
def test_each_example_is_accepted_and_runs(path, capsys):
    state = tempfile.mkdtemp(prefix="pumpctl-ex-")
    rc = cli.main(["--port", "sim", "--state", state, "program", path, "--yes", "--pin", "1234", "--start"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "state: running" in out
    assert cli.main(["--port", "sim", "--state", state, "send", "rx"]) == 0
    rx = json.loads(capsys.readouterr().out)["prescription"]
    doc = rxfile.read(path)
    assert rx["drug"] == doc["prescription"]["drug"]
    want = MODES[os.path.basename(path)]
    assert rx["mode"].replace("_", "-") == want
    if "ptm" in doc:
        assert rx["ptm"]["max"] == doc["ptm"]["max"] and rx["ptm"]["lockout_s"] == 4 * 3600


def write(text):
    fd, path = tempfile.mkstemp(suffix=".toml")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


GOOD = (
    '[prescription]\ndrug = "morphine"\nconcentration = "10mg/mL"\n'
    '[program]\nmode = "continuous"\ndaily = "2mg"\n'
)


@pytest.mark.parametrize(
    "old,new,msg",
    [
        (
            'drug = "morphine"',
            'drug = "morphine"\npatiant = "P-1"',
            "unknown key 'prescription.patiant' (did you mean 'patient'?)",
        ),
        ('daily = "2mg"', 'dayly = "2mg"', "unknown key 'program.dayly' (did you mean 'daily'?)"),
        (
            "[program]",
            '[limits]\nmax_daly = "5mg"\n[program]',
            "unknown key 'limits.max_daly' (did you mean 'max_daily'?)",
        ),
        (
            "[program]",
            '[ptm]\nlockuot = "2h"\n[program]',
            "unknown key 'ptm.lockuot' (did you mean 'lockout'?)",
        ),
        (
            "[prescription]",
            "[prescriptoin]\n[prescription]",
            "unknown table 'prescriptoin' (did you mean 'prescription'?)",
        ),
        (
            '"continuous"',
            '"continous"',
            "program.mode: unknown mode 'continous' (did you mean 'continuous'?)",
        ),
        (
            'daily = "2mg"',
            'daily = "2mg"\nsteps = { "06:00" = "1mg" }',
            "program.steps is not a setting of mode continuous",
        ),
    ],
)
def test_a_misspelled_key_is_refused_with_the_nearest_valid_one(old, new, msg, capsys):
    path = write(GOOD.replace(old, new, 1))
    rc = cli.main(["--port", "sim", "program", path, "--yes", "--pin", "1234"])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("E_SYNTAX: " + msg), err
