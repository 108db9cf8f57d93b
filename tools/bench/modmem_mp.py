"""Run on the MicroPython unix port by tools/bench: heap taken by importing each module.

`bench_modmem.py one MOD` prints the bytes one import takes with its
dependencies; `bench_modmem.py each MOD...` imports them in that order (the
cheapest first, so dependencies come before what uses them) and prints one
JSON line of each module's own share.
"""

import gc
import json
import sys


def grow(name):
    gc.collect()
    a = gc.mem_alloc()
    __import__(name)
    gc.collect()
    return gc.mem_alloc() - a


def main(argv):
    if argv[0] == "one":
        print(grow(argv[1]))
        return
    out = {}
    for name in argv[1:]:
        out[name] = grow(name)
    print(json.dumps(out))


main(sys.argv[1:])
