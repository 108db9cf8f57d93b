# cpython-only: builds images with tools/image.py and runs mpy-cross and the micropython binary
"""The application image: what tools/image.py packs, appimage.py serves, checks and refuses.

The board suite runs the whole firmware from an image on the emulated Pico
(deploy always packs); here the same image is mounted on the unix port.
"""

import os
import subprocess

import pytest
from test_micropython import MICROPYTHON, ROOT

import appimage
from tools import deploy, image

FILES = [
    ("pkg/__init__.py", b""),
    ("pkg/mod.py", b"X = 42\n"),
    ("pkg/sub/data.json", b'{"a": [1, 2]}'),
]


def write_image(tmp_path, files=FILES):
    data, sha = image.build(files)
    p = tmp_path / "app.img"
    p.write_bytes(data)
    return p, sha


def test_image_serves_files_and_directories_read_only(tmp_path):
    p, sha = write_image(tmp_path)
    fs = appimage.ImageVfs(str(p))
    try:
        assert fs.sha256 == sha
        assert fs.stat("/pkg/mod.py")[0] == appimage.S_FILE and fs.stat("/pkg/mod.py")[6] == 7
        assert fs.stat("/pkg/sub")[0] == appimage.S_DIR and fs.stat("")[0] == appimage.S_DIR
        with pytest.raises(OSError):
            fs.stat("/pkg/nothere.py")
        assert fs.open("/pkg/mod.py", "r").read() == "X = 42\n"
        assert fs.open("/pkg/sub/data.json", "rb").read() == b'{"a": [1, 2]}'
        assert sorted(x[0] for x in fs.ilistdir("/pkg")) == ["__init__.py", "mod.py", "sub"]
        assert [x[0] for x in fs.ilistdir("/")] == ["pkg"]
        for mode in ("w", "ab", "r+"):
            with pytest.raises(OSError):
                fs.open("/pkg/mod.py", mode)
    finally:
        fs.umount()


@pytest.mark.parametrize(
    "damage, why",
    [
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "checksum mismatch"),  # one bit of a module flipped
        (lambda b: b[:-3], "checksum mismatch"),  # a copy cut short
        (lambda b: b + b"x", "checksum mismatch"),  # or with bytes after it
        (lambda b: b.replace(b"mod.py", b"mod.px", 1), "checksum mismatch"),  # a name in the index
        (lambda b: b.replace(b'"pkg/mod.py",', b'"pkg/mod.py",1', 1), "checksum mismatch"),  # an offset
        (lambda b: b"XXXX" + b[4:], "not an app image"),
    ],
)
def test_a_damaged_image_is_refused_before_any_of_it_is_used(tmp_path, damage, why):
    p, _ = write_image(tmp_path)
    p.write_bytes(damage(p.read_bytes()))
    with pytest.raises(ValueError, match=why):
        appimage.ImageVfs(str(p))


def test_pack_stage_replaces_the_packages_by_one_image(tmp_path):
    for rel, data in FILES:
        f = tmp_path / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data)
    sha = image.pack_stage(str(tmp_path), ("pkg",))
    assert sorted(os.listdir(tmp_path)) == ["app.img"]
    fs = appimage.ImageVfs(str(tmp_path / "app.img"))
    assert fs.sha256 == sha and sorted(fs.files) == sorted(r for r, _ in FILES)
    fs.umount()


MP_SCRIPT = """
import sys, appimage
ok = appimage.mount(image=%(img)r)
print("MOUNTED", ok, appimage.error)
if ok:
    import firmware.app
    from firmware.therapy import druglib
    print("FILE", firmware.app.__file__)
    print("DRUG", druglib.load("morphine").name)
    print("DIGEST", appimage.digest)
"""


@pytest.fixture(scope="module")
def mp_stage(tmp_path_factory):
    """The whole tree compiled for the unix port and packed, once for this module's tests."""
    probe = "import sys; print(sys.implementation._mpy)"
    out = subprocess.run([MICROPYTHON, "-c", probe], capture_output=True)
    stage = str(tmp_path_factory.mktemp("mp") / "stage")
    deploy.compile_all(int(out.stdout), stage=stage, root=ROOT)
    return stage, image.pack_stage(stage, deploy.PACKAGES)


def _run_mp(stage, img):
    # only the stage and the frozen modules on the path: the source tree cannot be what is imported
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([stage, ".frozen"]))
    res = subprocess.run(
        [MICROPYTHON, "-c", MP_SCRIPT % {"img": img}],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=stage,  # as on a board: no loose firmware/ beside the image
    )
    return res.stdout + res.stderr


def test_the_firmware_imports_from_its_image_on_micropython(mp_stage):
    stage, sha = mp_stage
    out = _run_mp(stage, os.path.join(stage, image.NAME))
    assert "MOUNTED True None" in out, out
    assert "FILE /app/firmware/app.mpy" in out, out
    assert "DRUG morphine" in out, out  # drugs.json read through the image
    assert "DIGEST " + sha in out, out


def test_micropython_refuses_a_damaged_image_and_mounts_nothing(mp_stage, tmp_path):
    stage, _ = mp_stage
    with open(os.path.join(stage, image.NAME), "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0x10
    p = str(tmp_path / image.NAME)  # a damaged copy: the shared stage stays whole
    with open(p, "wb") as f:
        f.write(data)
    out = _run_mp(stage, p)
    assert "MOUNTED False %s: app image checksum mismatch" % p in out, out
    assert "FILE" not in out


def test_micropython_says_so_when_the_image_is_missing_and_no_tree_is_there(mp_stage):
    stage, _ = mp_stage
    out = _run_mp(stage, os.path.join(stage, "nothere.img"))
    assert "MOUNTED False %s missing: redeploy" % os.path.join(stage, "nothere.img") in out, out


def test_boardsel_refuses_a_loader_that_is_there_but_did_not_import(tmp_path, monkeypatch):
    import sys
    import types

    import boardsel

    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "appimage", raising=False)
    assert boardsel._image_refused() is None  # a loose tree: no loader, no image
    (tmp_path / "appimage.mpy").write_bytes(b"M\x06")
    assert "did not import" in boardsel._image_refused()
    stub = types.ModuleType("appimage")
    stub.error = "/app.img: app image checksum mismatch"  # pyright: ignore[reportAttributeAccessIssue]
    monkeypatch.setitem(sys.modules, "appimage", stub)
    assert boardsel._image_refused() == stub.error
