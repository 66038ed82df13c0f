"""Serial and sharded runs are compared through their JUnit XML."""

from harness.junit import differences, outcomes

XML = """<?xml version="1.0"?><testsuites><testsuite>
<testcase classname="tests.guest.container.c" name="a[ours]"/>
<testcase classname="tests.guest.container.c" name="b[ours]"><skipped/></testcase>
<testcase classname="tests.test_qmp" name="c[ours]"><failure message="x"/></testcase>
<testcase classname="tests.test_qmp" name="c[ours]"><error message="y"/></testcase>
</testsuite></testsuites>"""


def test_outcomes_by_name():
    got = outcomes(XML)
    assert got == {"tests.guest.container.c::a[ours]": "passed",
                   "tests.guest.container.c::b[ours]": "skipped",
                   "tests.test_qmp::c[ours]": "failure"}


def test_differences_name_both_sides():
    a = outcomes(XML)
    b = dict(a, **{"tests.guest.container.c::a[ours]": "failure"})
    del b["tests.test_qmp::c[ours]"]
    assert differences(a, a) == []
    assert differences(a, b) == [
        "tests.guest.container.c::a[ours]: passed != failure",
        "tests.test_qmp::c[ours]: failure != absent"]
