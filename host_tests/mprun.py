"""Run test modules' test_* functions on the micropython unix port.

Usage: micropython mprun.py MODULE [MODULE ...]; exits 1 if any test failed.
"""

import gc
import sys


def main(names):
    passed = failed = 0
    for name in names:
        mod = __import__(name)
        for attr in sorted(dir(mod)):
            if not attr.startswith("test_"):
                continue
            # each test starts from a collected heap, as each boot of a board does
            gc.collect()
            try:
                getattr(mod, attr)()
                passed += 1
                print("PASS", name, attr)
            except Exception as e:  # report every failure, not only the first
                failed += 1
                print("FAIL", name, attr, repr(e))
                sys.print_exception(e)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


main(sys.argv[1:])
