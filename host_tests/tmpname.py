"""Temporary paths unique to this process, on both interpreters.

The CPython and micropython runs of a module go in parallel (xdist), and the
unix port has no getpid: a fixed or pid-0 path let them overwrite each other.
"""

import os

_token = []


def token():
    if not _token:
        if hasattr(os, "getpid"):
            _token.append("%d" % os.getpid())
        else:
            _token.append("mp" + "".join("%02x" % b for b in os.urandom(6)))
    return _token[0]


def path(stem):
    return "/tmp/%s_%s" % (stem, token())
