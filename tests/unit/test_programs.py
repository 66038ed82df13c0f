from pathlib import Path

from harness.paths import Layout
from harness.programs import (
    GUEST_TESTS,
    compile_command,
    list_cases,
    parse_options,
    program_info,
)

SOURCE = """
// harness: machine=q35-shared-group
// harness: timeout=30
TEST(plain) { }
/* TEST(commented_out) */
FIXTURE(dev) { int fd; };
FIXTURE_VARIANT(dev) { int x; };
FIXTURE_VARIANT_ADD(dev, small) { .x = 1 };
FIXTURE_VARIANT_ADD(dev, large) { .x = 2 };
TEST_F(dev, map) { }
FIXTURE(other) { };
TEST_F_TIMEOUT(other, slow, 60) { }
TEST_SIGNAL(dies, SIGSEGV) { }
"""


def test_cases_in_source_order_with_variants():
    assert list_cases(SOURCE) == ["global.plain", "dev.small.map",
                                  "dev.large.map", "other.slow",
                                  "global.dies"]


def test_options():
    assert parse_options(SOURCE) == {"machine": "q35-shared-group",
                                     "timeout": "30"}


def test_xfail_directives():
    from harness.programs import ProgramInfo, parse_xfails
    xs = parse_xfails("// xfail(ours): interrupts come later\n"
                      "// xfail(upstream:dev.*.map): 6.12 bug, fixed in 6.13\n")
    info = ProgramInfo(["a.b", "dev.small.map"], {}, xs)
    assert info.xfail("ours", "a.b") == "interrupts come later"
    assert info.xfail("upstream", "dev.small.map") == "6.12 bug, fixed in 6.13"
    assert info.xfail("upstream", "a.b") is None


def test_exported_headers_come_before_the_hosts():
    layout = Layout(Path("/cache"), "6.12.1")
    cmd = compile_command(layout, Path("t.c"), Path("t"))
    assert cmd[:2] == ["musl-gcc", "-static"]
    first_include = next(a for a in cmd if a.startswith("-I"))
    assert first_include == f"-I{layout.headers}"
    assert f"-I{layout.selftests}" in cmd


def test_every_guest_program_lists_cases():
    for source in GUEST_TESTS.glob("*.c"):
        assert program_info(source).cases, source


def test_only_directives_skip_the_other_sets():
    import tempfile

    from harness.programs import program_info
    src = ("// only(ours:top.*): 6.12 wraps at the top of the IOVA space\n"
           "FIXTURE(top) { };\nTEST_F(top, unmap) { }\nTEST(both) { }\n")
    with tempfile.NamedTemporaryFile("w", suffix=".c") as f:
        f.write(src)
        f.flush()
        info = program_info(Path(f.name))
    assert info.skip("upstream", "top.unmap") == (
        "only on ours: 6.12 wraps at the top of the IOVA space")
    assert info.skip("ours", "top.unmap") is None
    assert info.skip("upstream", "global.both") is None


def test_a_failed_build_shows_its_errors_first():
    from harness.programs import _errors
    noise = "".join(f"h.h:{i}: warning: comparison of integer\n"
                    for i in range(500))
    out = _errors(noise + "t.c:40:3: error: expected expression\n")
    assert out.splitlines()[0] == "t.c:40:3: error: expected expression"
    assert len(out.splitlines()) < 10
    out = _errors("ld: cannot find -lfoo\ncollect2: error: ld returned 1\n")
    assert "cannot find -lfoo" in out
