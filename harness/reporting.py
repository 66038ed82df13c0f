"""The run's verdicts as a table by feature: a pytest plugin object.

Registered by harness/pytest_plugin.py in the process that sees every
report (the pytest-xdist controller when sharded). It turns each report
into a verdict (harness/verdict.py), prints a progress line per test in
the main job, prints the grouped table at the end, and writes
results/table.txt and results/results.ktap (harness/results.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any

import pytest

from .paths import results_dir
from .results import Results, Row
from .verdict import VERDICT_PROPERTY, from_report

TestStatus = tuple[str, str, str]  # category, letter, word


class ResultsReporter:
    """Collects every report's verdict (in the controller under xdist),
    prints a progress line per test in the main job, and the grouped
    table at the end; writes results/table.txt and results/results.ktap."""

    def __init__(self, config: pytest.Config,
                 accel: Callable[[], str]) -> None:
        self.config = config
        self.accel = accel
        self.results = Results()
        self.total = 0
        self.done = 0
        self.start = time.monotonic()

    @property
    def main_job(self) -> bool:
        return bool(self.config.getoption("main_job"))

    # pytest hooks: this object is registered as a plugin.
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any,
                                              ids: list[str]) -> None:
        self.total = max(self.total, len(ids))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if "row" not in props:
            return
        row = Row(str(props["feature"]), str(props["row"]),
                  str(props["modset"]))
        longrepr = str(report.longrepr) if report.failed else ""
        recorded = props.get(VERDICT_PROPERTY)
        verdict = from_report(report.outcome, report.when,
                              hasattr(report, "wasxfail"),
                              str(recorded) if recorded else None, longrepr)
        self.results.add(report.nodeid, row, verdict, report.when)
        if report.when == "teardown" and self.main_job:
            self.done += 1
            final = self.results.final()[report.nodeid]
            elapsed = time.monotonic() - self.start
            self._write(f"[{self.done}/{self.total or '?'} "
                        f"{int(elapsed) // 60}m{int(elapsed) % 60:02d}s] "
                        f"{row.label} [{row.modset}] {final.value}")

    def _write(self, line: str) -> None:
        term = self.config.pluginmanager.getplugin("terminalreporter")
        if term is not None:
            term.write_line(line)
        else:
            print(line, flush=True)

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report: pytest.TestReport
                                 ) -> Generator[None, TestStatus, TestStatus]:
        status = yield
        if self.main_job and status:
            # The main job prints its own progress line per test.
            return (status[0], "", "")
        return status

    def pytest_terminal_summary(self, terminalreporter: Any,
                                exitstatus: int) -> None:
        term = terminalreporter
        if not self.results.rows:
            return
        self.results.write(results_dir())
        term.section("VFIO results by feature")
        term.write_line(self.results.table(rows=self.main_job))
        accel = self.accel()
        verdict = ("INTERRUPTED: the tests not listed did not run"
                   if exitstatus == pytest.ExitCode.INTERRUPTED else
                   "all passed" if self.results.ok else "FAILURES")
        term.write_line(
            f"\n{len(self.results.rows)} tests, accel {accel}, "
            f"{time.monotonic() - self.start:.0f}s: {verdict}"
            f"; table and KTAP in {results_dir()}")


