import math

import pytest

from harness.benchrows import (
    Row,
    parse_dma,
    parse_extents,
    repeat_table,
    table,
)
from harness.benchstats import (
    FASTER,
    INCONCLUSIVE,
    SLOWER,
    compare,
    fmt_ratio,
    order_index,
    paired_ratios,
    spread,
    summarize,
)


def _rounds(values):
    return dict(enumerate(values, start=1))


def test_summary_is_count_min_median_max():
    s = summarize([3.0, 1.0, 2.0, 10.0])
    assert (s.runs, s.min, s.median, s.max) == (4, 1.0, 2.5, 10.0)
    assert summarize([]) is None


@pytest.mark.parametrize("n,k", [(1, None), (5, None), (6, 1), (8, 1),
                                 (9, 2), (11, 2), (12, 3), (20, 6)])
def test_order_index_is_the_sign_test_interval_at_95(n, k):
    assert order_index(n) == k


def test_order_index_coverage_holds():
    for n in range(6, 40):
        k = order_index(n)
        miss = 2 * sum(math.comb(n, i) for i in range(k)) / 2 ** n
        assert miss <= 0.05
        worse = 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
        assert worse > 0.05


def test_lower_confidence_needs_fewer_rounds():
    assert order_index(5, 0.9) == 1
    assert order_index(4, 0.9) is None


def test_pairs_follow_rounds_and_skip_missing_ones():
    up = {1: 20.0, 2: 30.0, 3: 40.0}
    ours = {1: 10.0, 3: 20.0, 4: 5.0}
    assert paired_ratios(up, ours) == [2.0, 2.0]
    assert paired_ratios({1: 1.0}, {1: 0.0}) == []


def test_every_round_faster_is_faster():
    c = compare(_rounds([20, 21, 22, 19, 20, 23]),
                _rounds([10, 10, 11, 10, 9, 10]))
    assert c.verdict == FASTER
    assert c.ratio == pytest.approx(20.5 / 10)
    assert c.low == pytest.approx(19 / 10) and c.high == pytest.approx(2.3)
    assert c.pairs == 6


def test_every_round_slower_is_slower():
    c = compare(_rounds([10] * 6), _rounds([12, 13, 11, 12, 12, 14]))
    assert c.verdict == SLOWER and c.high < 1.0


def test_one_round_the_other_way_is_inconclusive_with_six():
    c = compare(_rounds([20, 20, 20, 20, 20, 9]), _rounds([10] * 6))
    assert c.verdict == INCONCLUSIVE
    assert c.low < 1.0 < c.high
    # The ratio of medians alone would have called it a 2x win.
    assert c.ratio == pytest.approx(2.0)


def test_from_nine_rounds_one_outlier_each_end_is_tolerated():
    c = compare(_rounds([20] * 8 + [9]), _rounds([10] * 9))
    assert c.verdict == FASTER and c.low == pytest.approx(2.0)


def test_too_few_rounds_are_inconclusive_whatever_they_say():
    c = compare(_rounds([20, 20, 20]), _rounds([10, 10, 10]))
    assert c.verdict == INCONCLUSIVE and c.ratio == pytest.approx(2.0)
    assert (c.low, c.high) == (2.0, 2.0)


def test_identical_times_are_inconclusive():
    c = compare(_rounds([7] * 8), _rounds([7] * 8))
    assert c.verdict == INCONCLUSIVE and c.low == c.high == 1.0


def test_missing_set_has_no_ratio():
    c = compare({}, _rounds([1, 2]))
    assert c.ratio is None and c.verdict == INCONCLUSIVE
    assert fmt_ratio(c) == "-"


def test_ratio_text_shows_the_interval():
    c = compare(_rounds([20] * 6), _rounds([10] * 6))
    assert fmt_ratio(c) == "2.00x [2.00-2.00]"


def test_spread_is_range_over_median_in_percent():
    s = spread([1.0, 1.02, 0.98])
    assert s.median == 1.0 and s.percent == pytest.approx(4.0)
    assert spread([]) is None


def test_dma_output_parses_and_skips_garbage():
    maps, unmaps = parse_dma("RESULT 4k 64 10 20\nRESULT 4k 64 x y\n"
                             "RESULT too few\nDONE\n")
    assert (maps, unmaps) == ([10.0], [20.0])
    assert parse_extents("EXTENTS 4096\n") == 4096
    assert parse_extents("EXTENTS -1\n") is None
    assert parse_extents("nothing\n") is None


def test_table_and_repeat_table_show_every_row():
    rows = [Row("map 4k 64", "map 4k 64 MiB", "ms", 1000.0),
            Row("gone", "gone", "ms", 1000.0)]
    samples = {("map 4k 64", "ours"): _rounds([1000.0] * 6),
               ("map 4k 64", "upstream"): _rounds([2000.0] * 6),
               ("map 4k 64", "iommufd"): _rounds([1500.0] * 6)}
    out = table(samples, rows, [("iommufd", "iommufd med")],
                {"map 4k 64": "12 extents"})
    line = next(x for x in out.splitlines() if x.startswith("map 4k"))
    assert "1 / 1 / 1" in line and "2 / 2 / 2" in line
    assert "2.00x" in line and "faster" in line and "1.5" in line
    assert "12 extents" in line
    assert any(x.startswith("gone") and " - " in x
               for x in out.splitlines())
    rep = repeat_table([samples, samples], rows)
    line = next(x for x in rep.splitlines() if x.startswith("map 4k"))
    assert line.split()[4:7] == ["2.000", "2.000", "0.0%"]


def test_side_by_side_shows_each_clock():
    from harness.benchrows import side_by_side
    rows = [Row("r", "r", "ns", 1.0)]
    fast = {("r", "ours"): _rounds([1.0] * 6),
            ("r", "upstream"): _rounds([2.0] * 6)}
    noisy = {("r", "ours"): _rounds([1.0, 3.0] * 3),
             ("r", "upstream"): _rounds([2.0] * 6)}
    out = side_by_side({"icount": [noisy, fast], "wall": [noisy]}, rows)
    head, _, line = out.splitlines()
    assert head.split() == ["measurement", "icount", "speedup", "icount",
                            "verdict", "wall", "speedup", "wall", "verdict"]
    assert "2.00x [2.00-2.00]  faster" in line and "inconclusive" in line


def test_pci_rows_keep_unknown_measurements():
    from harness.bench import PCI_CASES, pci_rows
    rows = pci_rows({("pread8_io", "ours"): {1: 5.0},
                     ("pread32", "ours"): {1: 5.0}})
    assert [r.key for r in rows] == [k for k, _, _ in PCI_CASES] + \
        ["pread8_io"]
    assert rows[0].unit == "us" and rows[0].scale == 1000.0


def test_dma_rows_are_map_then_unmap_in_ms():
    from harness.bench import dma_rows
    rows = dma_rows([("4k", 64)])
    assert [(r.key, r.unit, r.scale) for r in rows] == [
        ("map 4k 64", "ms", 1000.0), ("unmap 4k 64", "ms", 1000.0)]


def test_bench_arguments_and_loop_default_runs(monkeypatch):
    import harness.bench as bench
    from harness.__main__ import parser
    seen = []
    monkeypatch.setattr(bench, "loop", lambda a: seen.append(a.runs) or 0)
    assert bench.main(parser().parse_args(["bench", "loop"])) == 0
    assert seen == [bench.LOOP_RUNS]
    a = parser().parse_args(["bench", "dma", "--mib", "64", "--clock",
                             "wall", "--repeat", "3"])
    assert (a.runs, a.clock, a.repeat) == (None, "wall", 3)
    assert bench._cases(a) == [(m, 64) for m in bench.DMA_MODES]
    with pytest.raises(SystemExit):
        parser().parse_args(["bench", "dma", "--runs", "0"])


def test_numbers_never_use_exponents():
    from harness.benchrows import num
    assert [num(v) for v in (0.7564, 5.36, 41.06, 832.4, 10512.0)] == [
        "0.756", "5.36", "41.1", "832", "10512"]
