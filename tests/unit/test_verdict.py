"""The one judge: pytest reports and KTAP statuses to verdicts."""

from harness.verdict import (
    STRICT_XPASS,
    Verdict,
    combine,
    from_report,
    ktap_case,
)


def test_ktap_case_needs_pass_and_a_clean_exit():
    assert ktap_case("pass", 0) is Verdict.PASS
    assert ktap_case("pass", 1) is Verdict.FAIL
    assert ktap_case("fail", 0) is Verdict.FAIL
    assert ktap_case("crash", 139) is Verdict.FAIL
    assert ktap_case("skip", 0) is Verdict.SKIP
    assert ktap_case(None, 0) is Verdict.FAIL


def test_reports():
    assert from_report("passed", "call", False, None) is Verdict.PASS
    assert from_report("failed", "call", False, None) is Verdict.FAIL
    assert from_report("failed", "setup", False, None) is Verdict.ERROR
    assert from_report("skipped", "setup", False, None) is Verdict.SKIP
    assert from_report("skipped", "call", True, None) is Verdict.XFAIL
    assert from_report("passed", "call", True, None) is Verdict.XPASS
    assert from_report("failed", "call", False, None,
                       f"{STRICT_XPASS} gap") is Verdict.XPASS


def test_a_recorded_kind_wins_for_failures_only():
    assert from_report("failed", "call", False, "SPLAT") is Verdict.SPLAT
    assert from_report("failed", "call", False, "LEAK") is Verdict.LEAK
    assert from_report("passed", "call", False, "LEAK") is Verdict.PASS


def test_bad_verdicts_fail_the_run():
    assert {v for v in Verdict if v.bad} == {
        Verdict.FAIL, Verdict.XPASS, Verdict.SPLAT, Verdict.LEAK,
        Verdict.ERROR}


def test_combine_setup_call_teardown():
    assert combine([Verdict.PASS, Verdict.PASS, Verdict.PASS]) is Verdict.PASS
    assert combine([Verdict.PASS, Verdict.FAIL, Verdict.ERROR]) is Verdict.FAIL
    assert combine([Verdict.PASS, Verdict.PASS, Verdict.ERROR]) is \
        Verdict.ERROR
    assert combine([Verdict.SKIP, Verdict.PASS]) is Verdict.SKIP
    assert combine([Verdict.PASS, Verdict.XFAIL, Verdict.PASS]) is \
        Verdict.XFAIL
