"""Reading JUnit XML back: which tests ran and how each ended.

Used to show that a sharded run (pytest-xdist) and a serial run give the
same tests the same verdicts under the same names.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

_OUTCOMES = ("failure", "error", "skipped")


def outcomes(text: str) -> dict[str, str]:
    """JUnit XML text -> {"classname::name": outcome}; outcome is
    "passed", "failure", "error" or "skipped" (pytest's junitxml names).
    A test listed twice (an error in teardown after a failure) keeps
    the worst."""
    found: dict[str, str] = {}
    for case in ET.fromstring(text).iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome = next((o for o in _OUTCOMES if case.find(o) is not None),
                       "passed")
        if found.get(name) in ("failure", "error"):
            continue
        found[name] = outcome
    return found


def differences(a: dict[str, str], b: dict[str, str]) -> list[str]:
    """Human-readable differences between two outcome maps, sorted."""
    out = []
    for name in sorted(a.keys() | b.keys()):
        va, vb = a.get(name, "absent"), b.get(name, "absent")
        if va != vb:
            out.append(f"{name}: {va} != {vb}")
    return out


def read(path: Path) -> dict[str, str]:
    return outcomes(path.read_text())
