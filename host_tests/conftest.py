import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (os.path.join(HERE, "fakes"), HERE, ROOT):
    if p not in sys.path:
        sys.path.insert(0, p)

import pytest  # noqa: E402
import simservers  # noqa: E402

# this pytest process's mark, inherited by every background simulator a test starts (in this
# process or through a pumpctl subprocess): each xdist worker sets its own, so one worker never
# stops another's
os.environ[simservers.MARK] = simservers.new_mark()


@pytest.fixture(autouse=True)
def _no_background_simulator_left():
    """`pumpctl --state DIR` leaves a simulator running for the next call: each test's are stopped."""
    yield
    simservers.stop_mine(os.environ[simservers.MARK])
