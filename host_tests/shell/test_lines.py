"""Console bytes to lines, and the strict UTF-8 check both interpreters share."""

import sys

from rig import Lcg

from firmware.shell import lines

VALID = (
    b"",
    b"abc",
    b"\xc2\xa0",
    b"\xe2\x82\xac",
    b"\xf0\x9f\x92\x89",
    b"\xed\x9f\xbf",
    b"\xee\x80\x80",
    b"\xf4\x8f\xbf\xbf",
    b"\xef\xbf\xbf",
)
INVALID = (
    b"\x80",
    b"\xbf",
    b"\xc0\x80",
    b"\xc1\xbf",
    b"\xc2",
    b"\xc2\x41",
    b"\xe0\x80\x80",
    b"\xe0\x9f\xbf",
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf",
    b"\xe2\x82",
    b"\xf0\x80\x80\x80",
    b"\xf0\x8f\xbf\xbf",
    b"\xf4\x90\x80\x80",
    b"\xf5\x80\x80\x80",
    b"\xff",
    b"\xfe",
    b"a\xf0\x9f\x92",
)


def test_utf8_table():
    for b in VALID:
        assert lines.valid_utf8(b), b
    for b in INVALID:
        assert not lines.valid_utf8(b), b


def test_utf8_agrees_with_cpython_on_random_bytes():
    r = Lcg(7)
    n_valid = 0
    for _ in range(3000):
        b = bytes(r.below(256) if r.below(3) else (0x80 + r.below(0x50)) for _ in range(r.below(6)))
        mine = lines.valid_utf8(b)
        n_valid += mine
        if sys.implementation.name == "cpython":
            try:
                b.decode("utf-8")
                ref = True
            except UnicodeDecodeError:
                ref = False
            assert mine == ref, b
        elif mine:
            b.decode()  # what the check lets through decodes on the port too
    assert 0 < n_valid < 3000


def test_splitter_limit_counts_bytes_not_characters():
    sp = lines.LineSplitter()
    ch = "\u20ac".encode()  # 3 bytes
    assert sp.feed(ch * 66 + b"ab\n") == [ch * 66 + b"ab"]
    assert sp.feed(ch * 67 + b"\n") == [lines.TOOLONG]


def test_splitter_byte_by_byte_is_the_same():
    data = b"status\r\njson on\rfoo\n\x00\n" + b"y" * 300 + b"\nend"
    whole = lines.LineSplitter().feed(data)
    sp = lines.LineSplitter()
    parts = []
    for i in range(len(data)):
        parts += sp.feed(data[i : i + 1])
    assert parts == whole and len(whole) == 5 and whole[4] is lines.TOOLONG
    assert sp.flush() == [b"end"]
