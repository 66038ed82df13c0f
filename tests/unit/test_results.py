"""The grouped table and the KTAP file of a run."""

import sys
from pathlib import Path

import pytest

from harness.paths import cache_root
from harness.results import Results, Row, summary
from harness.verdict import Verdict


def _run() -> Results:
    r = Results()
    for modset, verdicts in (("ours", (Verdict.PASS, Verdict.SKIP)),
                             ("upstream", (Verdict.PASS, Verdict.PASS))):
        r.add(f"type1.c::a[{modset}]", Row("type1", "type1: a", modset),
              verdicts[0])
        r.add(f"type1.c::b[{modset}]", Row("type1", "type1: b", modset),
              verdicts[1])
    r.add("container.c::x[ours]", Row("container", "container: x", "ours"),
          Verdict.PASS)
    return r


def test_groups_in_feature_order_with_totals():
    table = _run().table()
    lines = table.splitlines()
    assert lines[0].split() == ["test", "ours", "upstream"]
    heads = [ln for ln in lines if ln.endswith(":")]
    assert heads == ["container:", "type1 IOMMU backend:"]
    assert "1/2 pass, 1 skip" in table and "2/2 pass" in table
    assert lines[-1].split()[:2] == ["all", "features"]
    assert "2/3 pass, 1 skip" in lines[-1]


def test_a_bad_verdict_fails_the_run_and_is_counted():
    r = _run()
    assert r.ok
    r.add("type1.c::b[ours]", Row("type1", "type1: b", "ours"), Verdict.LEAK)
    assert not r.ok
    assert "1 leak" in r.table(rows=False)
    assert "type1: b" not in r.table(rows=False)


def test_summary_names_each_kind():
    from collections import Counter
    assert summary(Counter()) == "-"
    assert summary(Counter({Verdict.PASS: 3, Verdict.SPLAT: 1})) == \
        "3/4 pass, 1 splat"


def test_ktap_nests_features_and_marks_failures():
    r = _run()
    r.add("type1.c::b[upstream]", Row("type1", "type1: b", "upstream"),
          Verdict.FAIL)
    text = r.ktap()
    assert text.startswith("KTAP version 1\n1..2\n")
    assert "    ok 1 container: x [ours]" in text
    assert "    ok 3 type1: b [ours] # SKIP" in text
    assert "    # FAIL: type1: b [upstream]\n    not ok 4 type1: b [upstream]" \
        in text
    assert "\n# FAIL: type1\nnot ok 2 type1\n" in text


def test_ktap_feature_with_a_skip_among_passes_passes():
    text = _run().ktap()
    assert "\nok 2 type1\n" in text
    only_skips = Results()
    only_skips.add("x[ours]", Row("pci", "pci: x", "ours"), Verdict.SKIP)
    assert "\nok 1 pci # SKIP\n" in only_skips.ktap()


def test_kunit_tool_reads_our_ktap():
    """Lab tooling that reads KTAP (kunit_tool's parser) takes the file."""
    tools = sorted(cache_root().glob("src/*/linux-source-6.12/tools/"
                                     "testing/kunit"))
    if not tools:
        pytest.skip("kernel source not unpacked yet (make build)")
    from harness import ktap
    cases = ktap.parse(_run().ktap(), Path(tools[-1]))
    assert cases["container.container: x [ours]"].status == "pass"
    assert cases["type1.type1: b [ours]"].status == "skip"
    assert sys.modules.get("kunit_parser") is not None


def test_a_test_interrupted_after_its_setup_has_not_passed():
    r = Results()
    row = Row("container", "container: x", "ours")
    r.add("container.c::x[ours]", row, Verdict.PASS, "setup")
    assert r.final()["container.c::x[ours]"] is Verdict.ERROR
    assert not r.ok
    r.add("container.c::x[ours]", row, Verdict.PASS, "call")
    r.add("container.c::x[ours]", row, Verdict.PASS, "teardown")
    assert r.final()["container.c::x[ours]"] is Verdict.PASS
    skipped = Results()
    skipped.add("container.c::y[ours]", row, Verdict.SKIP, "setup")
    assert skipped.final()["container.c::y[ours]"] is Verdict.SKIP
