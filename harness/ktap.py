"""KTAP results per case, through kunit_tool's parser (kernel source)."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CaseResult:
    name: str
    status: str  # "pass", "fail", "skip" or "crash"
    log: str


_STATUS = {"SUCCESS": "pass", "FAILURE": "fail", "SKIPPED": "skip"}


def _parser(kunit_tool: Path):  # type: ignore[no-untyped-def]
    if str(kunit_tool) not in sys.path:
        sys.path.insert(0, str(kunit_tool))
    import kunit_parser  # type: ignore[import-not-found]
    import kunit_printer  # type: ignore[import-not-found]

    # The parser pretty-prints while it parses; keep that out of our output.
    kunit_parser.stdout = kunit_printer.Printer(io.StringIO())
    return kunit_parser


def parse(output: str, kunit_tool: Path) -> dict[str, CaseResult]:
    """Leaf cases of a KTAP/TAP 13 log, by their full dotted name."""
    parser = _parser(kunit_tool)
    top = parser.parse_run_tests(output.splitlines())
    results: dict[str, CaseResult] = {}

    def walk(test, prefix: str) -> None:  # type: ignore[no-untyped-def]
        if not test.subtests:
            status = _STATUS.get(test.status.name, "crash")
            results[prefix + test.name] = CaseResult(
                prefix + test.name, status, "\n".join(test.log))
            return
        for sub in test.subtests:
            walk(sub, f"{prefix}{test.name}.")

    if top.subtests:
        for sub in top.subtests:
            walk(sub, "")
    return results
