"""Run test modules' test_* functions on the micropython unix port.

Usage: micropython mprun.py MODULE [MODULE ...]; exits 1 if any test failed.
"""

import gc
import sys


def _import_lazy_groups():
    # what a pump imports at first use (Shell.lazy, the therapy's boluses, limits, library): a test process
    # builds hundreds of pumps in the port's 512 KB heap, and code imported in the middle of
    # one pump's life stays as islands after it is freed (a later pump's 6 KB trend array
    # then found no hole). A board builds one pump; this is about the test heap only.
    # test_lazy_commands drops them again to test the boot without them.
    from firmware.shell import cmd_log, cmd_safety, cmd_session, cmd_therapy, cmd_trend  # noqa: F401
    from firmware.therapy import boluses, druglib, limits  # noqa: F401


def main(names):
    passed = failed = 0
    _import_lazy_groups()
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
