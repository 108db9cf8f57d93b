"""The one place that bridges MicroPython-only names for CPython (host tools, pytest)."""

try:
    from micropython import const  # pyright: ignore
except ImportError:  # CPython

    def const(x):
        return x
