# cpython-only: tools.bench.board drives the emulated Pico (here only its parsing is run)
"""The soak's reading of the board's console: each minute's heap sample and the trend over them."""

from tools.bench import board as bench_board

# what the soak's main loop prints once a minute on rp2 (SOAK line, then micropython.mem_info())
SAMPLE = (
    "SOAK %d %d\r\n"
    "stack: 700 out of 7936\r\n"
    "GC: total: 233472, used: 90304, free: 143168, max new split: 0\r\n"
    " No. of 1-blocks: 1200, 2-blocks: 300, max blk sz: 264, max free sz: %d\r\n"
)


def test_samples_are_read_between_the_pumps_own_replies():
    log = 'pump> {"ok": true}\r\n'
    for i, (free, blocks) in enumerate(((143000, 7000), (142900, 6990), (143100, 7010))):
        log += SAMPLE % (123456 + i * 60000, free, blocks) + 'pump> {"ok": true, "state": "running"}\r\n'
    assert bench_board.parse_soak(log) == [(0, 143000, 112000), (1, 142900, 111840), (2, 143100, 112160)]


def test_the_slope_is_per_hour_and_flat_for_noise_around_a_level():
    assert bench_board._slope_per_hour([(m, 1000) for m in range(60)]) == 0.0
    assert bench_board._slope_per_hour([(m, 1000 - 2 * m) for m in range(60)]) == -120.0
    assert bench_board._slope_per_hour([(0, 5)]) is None


def test_the_figures_say_how_many_samples_and_their_range():
    figs = bench_board._soak_figures([(0, 100, 50), (1, 90, 40), (2, 95, 45)], 3, {"state": "running"})
    assert figs["samples"] == 3 and figs["state_at_end"] == "running"
    assert figs["free_bytes"] == {"first": 100, "last": 95, "min": 90}
    assert figs["largest_block_bytes"] == {"first": 50, "last": 45, "min": 40}
    assert figs["free_slope_bytes_per_hour"] == -150.0
