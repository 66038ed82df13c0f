"""KUnit suites in our modules: listed from the source, read from debugfs."""

from __future__ import annotations

import re
from pathlib import Path

from .modules import KUNIT_SUFFIX, SOURCES

_CASES = re.compile(r"struct\s+kunit_case\s+(\w+)\s*\[\s*\]\s*=\s*\{(.*?)\};",
                    re.S)
_CASE = re.compile(r"KUNIT_CASE\w*\(\s*(\w+)")
_SUITE = re.compile(r"struct\s+kunit_suite\s+\w+\s*=\s*\{(.*?)\};", re.S)
_NAME = re.compile(r"\.name\s*=\s*\"([^\"]+)\"")
_TEST_CASES = re.compile(r"\.test_cases\s*=\s*(\w+)")


def list_cases(source: str) -> list[str]:
    """`suite.case` for every case of every suite in a KUnit source file."""
    arrays = {name: _CASE.findall(body)
              for name, body in _CASES.findall(source)}
    cases = []
    for body in _SUITE.findall(source):
        name, array = _NAME.search(body), _TEST_CASES.search(body)
        if name and array:
            cases += [f"{name.group(1)}.{c}" for c in arrays.get(
                array.group(1), [])]
    return cases


def modules() -> dict[str, list[str]]:
    """KUnit module name -> its cases, from kernel/drivers/vfio."""
    found: dict[str, list[str]] = {}
    for path in sorted(SOURCES.rglob(f"*{KUNIT_SUFFIX}.c")):
        found[path.stem] = list_cases(path.read_text())
    return found


def suites_of(cases: list[str]) -> list[str]:
    return list(dict.fromkeys(c.split(".", 1)[0] for c in cases))


def results_path(suite: str) -> str:
    """Where KUNIT_DEBUGFS keeps a suite's KTAP after it ran."""
    return f"/sys/kernel/debug/kunit/{suite}/results"


def source_path(module: str) -> Path:
    return next(SOURCES.rglob(f"{module}.c"))
