"""The one judge: what a guest case's outcome means, for `make` and
`make check` alike.

Both front ends run the same pytest items (harness/pytest_plugin.py); the
item raises the failure kind it found, and this module turns pytest's
reports into one verdict per test. Nothing here needs a guest.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Verdict(enum.Enum):
    """One test's result. `bad` ones fail the run."""

    PASS = "PASS"
    SKIP = "SKIP"
    XFAIL = "XFAIL"     # a written-down gap (`// xfail(...)`) still fails
    FAIL = "FAIL"       # the case reported failure, or exited non-zero
    XPASS = "XPASS"     # a written-down gap passed: the note must go
    SPLAT = "SPLAT"     # the guest kernel oopsed/WARNed while it ran
    LEAK = "LEAK"       # passed, but left module references behind
    ERROR = "ERROR"     # set-up, boot, timeout or harness failure

    @property
    def bad(self) -> bool:
        return self not in (Verdict.PASS, Verdict.SKIP, Verdict.XFAIL)


VERDICT_PROPERTY = "vfio_verdict"
"""The user property under which an item records a failure's kind, so
the verdict travels with the report (also across pytest-xdist)."""


def ktap_case(status: str | None, exit_status: int) -> Verdict:
    """A guest program's verdict on one case from its KTAP status
    ("pass", "fail", "skip", ... as kunit_tool's parser names them; None
    when the case was never reported) and the program's exit status."""
    if status is None:
        return Verdict.FAIL
    if status == "skip":
        return Verdict.SKIP
    if status == "pass" and exit_status == 0:
        return Verdict.PASS
    return Verdict.FAIL


STRICT_XPASS = "[XPASS(strict)]"
"""How pytest's longrepr starts when a strict xfail passed."""


def from_report(outcome: str, when: str, wasxfail: bool,
                recorded: str | None, longrepr: str = "") -> Verdict:
    """The verdict of one pytest report.

    outcome: "passed", "failed" or "skipped"; when: "setup", "call" or
    "teardown"; wasxfail: the report carries an xfail reason; recorded:
    the kind an item stored under VERDICT_PROPERTY, if any; longrepr: the
    failure text (a strict xfail that passed is told apart by it).
    """
    if recorded is not None and outcome == "failed":
        return Verdict(recorded)
    if outcome == "failed" and longrepr.startswith(STRICT_XPASS):
        return Verdict.XPASS
    if outcome == "skipped":
        return Verdict.XFAIL if wasxfail else Verdict.SKIP
    if outcome == "passed":
        # A strict xfail that passes is reported failed by pytest; a
        # non-strict one passes with wasxfail set.
        return Verdict.XPASS if wasxfail else Verdict.PASS
    if when != "call":
        return Verdict.ERROR
    return Verdict.XPASS if wasxfail else Verdict.FAIL


def combine(verdicts: Iterable[Verdict]) -> Verdict:
    """One test's verdict from its setup, call and teardown reports: the
    first bad one wins, then the call's (or setup's skip)."""
    seen = list(verdicts)
    for v in seen:
        if v.bad:
            return v
    for v in (Verdict.XFAIL, Verdict.SKIP):
        if v in seen:
            return v
    return Verdict.PASS
