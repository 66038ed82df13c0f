import pytest

from harness import ktap
from harness.paths import Layout, cache_root, path_safe

KSELFTEST = """\
TAP version 13
1..3
# Starting 3 tests from 2 test cases.
#  RUN           global.a ...
#            OK  global.a
ok 1 global.a
#  RUN           dev.b ...
# t.c:10:b:Expected 0 (0) == ret (22)
# b: Test failed
#          FAIL  dev.b
not ok 2 dev.b
#  RUN           dev.c ...
ok 3 dev.c # SKIP no device
# FAILED: 1 / 3 tests passed.
"""

KUNIT = """\
KTAP version 1
1..1
    KTAP version 1
    # Subtest: vfio_caps
    1..2
    ok 1 add_first
    not ok 2 shift_offsets
ok 1 vfio_caps
"""


def _kunit_tool():
    import glob
    hits = glob.glob(str(cache_root() / "src/*/linux-source-6.12/tools/"
                         "testing/kunit/kunit_parser.py"))
    if not hits:
        pytest.skip("kernel source not unpacked yet (run `make` first)")
    from pathlib import Path
    return Path(hits[0]).parent


def test_kselftest_cases():
    r = ktap.parse(KSELFTEST, _kunit_tool())
    assert r["global.a"].status == "pass"
    assert r["dev.b"].status == "fail"
    assert "Expected 0 (0) == ret (22)" in r["dev.b"].log
    assert r["dev.c"].status == "skip"


def test_kunit_suites_prefix_their_cases():
    r = ktap.parse(KUNIT, _kunit_tool())
    assert r["vfio_caps.add_first"].status == "pass"
    assert r["vfio_caps.shift_offsets"].status == "fail"


def test_no_output_means_no_cases():
    assert ktap.parse("Segmentation fault\n", _kunit_tool()) == {}


def test_path_safe_versions():
    assert path_safe("6.12.117-1~deb12u1") == "6.12.117-1_deb12u1"
    assert "~" not in str(Layout(cache_root(), "1:2~3").kbuild)
