"""Where the boot's time and heap go on the emulated Pico: per module and per boot phase.

`measure()` (tools/bench, area `board_profile`) deploys to a fresh emulator; `profile(emu)`
puts tools/bench/board_profile_mp.py on the board
as main.py, powers it on and sends `status`, as the boot figure does, twice:

- timed (`COLLECT = 0`, the boot as it is): each module's import, its own share (less the
  imports it made) and with what it imported; each phase of boardsel._run, app.build and
  the first main-loop pass, with when it started (us since power-on); and boot.py's image
  check, timed by running it again after the first `status`;
- weighed (`COLLECT = 1`, a collection around each import and phase): the bytes each
  module and phase leaves allocated.

Then the deployed main.py is put back. `python -m tools.bench.board_profile --table` prints
the figures as a table too. The hook's own cost lengthens the timed boot (about 0.3 s: every
`import` statement goes through it), so the phases' times add up to more than the boot figure
of tools/bench/board.py; compare them with each other and with an earlier profile.
"""

import json
import os
import sys
import tempfile

from tools import deploy
from tools.emu import rp2emu

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "board_profile_mp.py")
MAIN = os.path.join(deploy.ROOT, "main.py")


def _put_main(emu, path):
    with emu.console(timeout=60) as con:
        con.stop_app()  # the REPL free for mpremote, whatever main.py is running
    # the profile's quick power cycles are no boot loop: the counter starts again
    forget = "import os\ntry:\n os.remove('/data/boots')\nexcept OSError:\n pass"
    deploy.mpremote(emu.repl_url, ("exec", forget), ("cp", path, ":main.py"), timeout=300)


def _run(emu, collect, work):
    src = open(SCRIPT).read().replace("COLLECT = 0  # replaced by the host", "COLLECT = %d" % collect)
    path = os.path.join(work, "profile_main.py")
    with open(path, "w") as f:
        f.write(src)
    _put_main(emu, path)
    us, con = emu.power_on_to_status()
    try:
        # await_status has drained the console into `seen`; the line follows the reply
        if b"PROFILE " not in con.seen:
            con.read_until(b"PROFILE ", timeout=120)
        if b"\n" not in con.seen.split(b"PROFILE ", 1)[1]:
            con.read_until(b"\n", timeout=60)
    finally:
        con.close()
    out = json.loads(con.seen.split(b"PROFILE ", 1)[1].split(b"\n", 1)[0].decode())
    out["power_on_to_status_us"] = us
    return out


def _modules(timed, weighed):
    rows = {}
    for name, (own_us, _b, us, _ab) in timed["modules"].items():
        rows[name] = {"own_us": own_us, "with_imports_us": us}
    for name, (_t, own_b, _at, b) in weighed["modules"].items():
        rows.setdefault(name, {}).update(own_bytes=own_b, with_imports_bytes=b)
    return dict(sorted(rows.items(), key=lambda kv: -kv[1].get("own_bytes", 0)))


def _phases(timed, weighed):
    kept = {}
    for name, _at, _us, b in weighed["phases"]:
        kept.setdefault(name, b)
    out = []
    for name, at, us, _b in timed["phases"]:
        out.append({"phase": name, "at_us": at, "us": us, "kept_bytes": kept.get(name)})
    return sorted(out, key=lambda r: r["at_us"])


def profile(emu):
    with tempfile.TemporaryDirectory(prefix="bench_profile_") as work:
        try:
            timed = _run(emu, 0, work)
            weighed = _run(emu, 1, work)
        finally:
            _put_main(emu, MAIN)
    mods = timed["modules"]
    return {
        "power_on_to_status_us": timed["power_on_to_status_us"],
        "power_on_to_main_py_us": timed["main_py_at_us"],
        "boot_py_image_check_us": timed["check_image_us"],
        "imports_us": sum(v[0] for v in mods.values()),
        "imports_kept_bytes": sum(v[1] for v in weighed["modules"].values()),
        "free_after_first_status": weighed["free_after_first_line"],
        "phases": _phases(timed, weighed),
        "modules": _modules(timed, weighed),
    }


def _table(p):
    lines = ["phase                                   at_ms     ms   kept_KB"]
    for r in p["phases"]:
        kb = "" if r["kept_bytes"] is None else "%.1f" % (r["kept_bytes"] / 1024)
        lines.append("%-38s %6.0f %6.1f %8s" % (r["phase"][:38], r["at_us"] / 1000, r["us"] / 1000, kb))
    lines.append("module                                  own_ms  own_KB  with_ms  with_KB")
    for name, r in p["modules"].items():
        lines.append(
            "%-38s %6.1f %7.1f %8.1f %8.1f"
            % (
                name[:38],
                r.get("own_us", 0) / 1000,
                r.get("own_bytes", 0) / 1024,
                r.get("with_imports_us", 0) / 1000,
                r.get("with_imports_bytes", 0) / 1024,
            )
        )
    return "\n".join(lines)


def measure():
    with tempfile.TemporaryDirectory(prefix="bench_profile_emu_") as work:
        with rp2emu.Emulator(work) as emu:
            deploy.deploy(emu.repl_url, quiet=True)
            return profile(emu)


if __name__ == "__main__":
    res = measure()
    if "--table" in sys.argv:
        print(_table(res))
    json.dump(res, sys.stdout, indent=1)
    print()
