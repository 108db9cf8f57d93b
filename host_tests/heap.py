"""A full collection where the test heap needs one: on the micropython port only.

The port's heap is 512 KB and the kits build one whole firmware after another:
without a collection between them it fragments. CPython's heap does not, and
there a full collection under pytest (hypothesis and every test module loaded)
costs tens of ms: the power-cut sweeps spent most of their time in it.
"""

import gc
import sys

ON_MICROPYTHON = sys.implementation.name == "micropython"


def collect():
    if ON_MICROPYTHON:
        gc.collect()
