"""The one place that bridges MicroPython-only names for CPython (host tools, pytest)."""

import sys

try:
    from micropython import const  # pyright: ignore
except ImportError:  # CPython

    def const(x):
        return x


if sys.implementation.name == "micropython":
    # `@micropython.viper` is read by the compiler, so only the name matters there
    import micropython  # pyright: ignore
else:  # CPython (host tools, pytest): the emitter decorators leave the plain function

    class micropython:  # noqa: N801 - stands in for the module of that name
        @staticmethod
        def native(f):
            return f

        @staticmethod
        def viper(f):
            return f


def ptr32(buf):
    """Viper's pointer cast (a compiler builtin inside viper code); elsewhere the buffer itself."""
    return buf
