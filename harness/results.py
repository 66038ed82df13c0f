"""A run's verdicts, grouped by feature: the table both front ends print,
and the KTAP file lab systems read.

Fed one pytest report at a time (in the pytest-xdist controller when the
run is sharded); nothing here needs a guest.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import features
from .modsets import MODSETS, NONE
from .table import render
from .verdict import Verdict, combine


@dataclass(frozen=True)
class Row:
    """Where a test's verdict goes: the feature group, the row label (the
    test without its module set) and the module-set column."""

    feature: str
    label: str
    modset: str


@dataclass
class Results:
    """Verdicts of one run, by row and module set, in arrival order."""

    verdicts: dict[str, list[Verdict]] = field(default_factory=dict)
    rows: dict[str, Row] = field(default_factory=dict)
    called: set[str] = field(default_factory=set)
    """Tests whose call phase reported: one interrupted (Ctrl-C, a
    killed worker) after a passing setup has not passed."""

    def add(self, nodeid: str, row: Row, verdict: Verdict,
            when: str = "call") -> None:
        """Record the verdict of one report (`when`: pytest's phase)."""
        self.rows[nodeid] = row
        self.verdicts.setdefault(nodeid, []).append(verdict)
        if when == "call":
            self.called.add(nodeid)

    def final(self) -> dict[str, Verdict]:
        """nodeid -> the test's verdict over its setup, call, teardown;
        ERROR for a test that passed its setup but never reported its
        call."""
        out = {}
        for nodeid, verdicts in self.verdicts.items():
            verdict = combine(verdicts)
            if verdict is Verdict.PASS and nodeid not in self.called:
                verdict = Verdict.ERROR
            out[nodeid] = verdict
        return out

    @property
    def ok(self) -> bool:
        return not any(v.bad for v in self.final().values())

    def columns(self) -> list[str]:
        used = {r.modset for r in self.rows.values()}
        return [m for m in (*MODSETS, NONE) if m in used]

    def grouped(self) -> dict[str, dict[str, dict[str, Verdict]]]:
        """feature -> label -> modset -> verdict, features in table order."""
        out: dict[str, dict[str, dict[str, Verdict]]] = {}
        for nodeid, verdict in self.final().items():
            row = self.rows[nodeid]
            out.setdefault(row.feature, {}).setdefault(
                row.label, {})[row.modset] = verdict
        return dict(sorted(out.items(), key=lambda kv: features.order(kv[0])))

    def table(self, rows: bool = True) -> str:
        """The grouped table: a heading per feature, its rows (unless
        rows=False), a totals line per feature, and an overall line."""
        cols = self.columns()
        body: list[list[str]] = []
        overall: dict[str, Counter[Verdict]] = {c: Counter() for c in cols}
        for feature, labels in self.grouped().items():
            body.append([f"{features.title(feature)}:"] + [""] * len(cols))
            counts: dict[str, Counter[Verdict]] = {c: Counter() for c in cols}
            for label, by_set in labels.items():
                for c in cols:
                    if c in by_set:
                        counts[c][by_set[c]] += 1
                        overall[c][by_set[c]] += 1
                if rows:
                    body.append([f"  {label}"] + [
                        by_set[c].value if c in by_set else "-" for c in cols])
            body.append(["  total"] + [summary(counts[c]) for c in cols])
        body.append(["all features"] + [summary(overall[c]) for c in cols])
        head = ["test", *(_column_title(c) for c in cols)]
        return render(head, body)

    def ktap(self) -> str:
        """KTAP version 1: one subtest per feature, one case per test."""
        lines = ["KTAP version 1"]
        groups = self.grouped()
        lines.append(f"1..{len(groups)}")
        for i, (feature, labels) in enumerate(groups.items(), 1):
            cases = [(f"{label} [{modset}]", v)
                     for label, by_set in labels.items()
                     for modset, v in by_set.items()]
            lines += ["    KTAP version 1", f"    # Subtest: {feature}",
                      f"    1..{len(cases)}"]
            for j, (name, v) in enumerate(cases, 1):
                lines += ["    " + ln for ln in _ktap_lines(j, name, v)]
            lines += _ktap_lines(i, feature,
                                 _group_verdict([v for _, v in cases]))
        return "\n".join(lines) + "\n"

    def write(self, directory: Path) -> None:
        """results/table.txt and results/results.ktap."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "table.txt").write_text(self.table() + "\n")
        (directory / "results.ktap").write_text(self.ktap())


def summary(counts: Counter[Verdict]) -> str:
    """'41/43 pass, 2 skip' style totals; bad verdicts named first."""
    total = sum(counts.values())
    if not total:
        return "-"
    parts = [f"{counts[Verdict.PASS]}/{total} pass"]
    for v in Verdict:
        if v is not Verdict.PASS and counts[v]:
            parts.append(f"{counts[v]} {v.value.lower()}")
    return ", ".join(parts)


def _column_title(modset: str) -> str:
    return "no module set" if modset == NONE else modset


def _group_verdict(verdicts: list[Verdict]) -> Verdict:
    """A feature's KTAP result: failed if any test failed, skipped only
    if none ran to a pass (as kunit_tool reads a suite), else passed."""
    if any(v.bad for v in verdicts):
        return next(v for v in verdicts if v.bad)
    if verdicts and all(v in (Verdict.SKIP, Verdict.XFAIL) for v in verdicts):
        return Verdict.SKIP
    return Verdict.PASS


def _ktap_lines(n: int, name: str, v: Verdict) -> list[str]:
    """A KTAP result line, after a diagnostic naming a bad verdict's kind
    (KTAP's only directives are SKIP and TODO)."""
    name = name.replace("#", "_")
    if v is Verdict.PASS:
        return [f"ok {n} {name}"]
    if v is Verdict.SKIP:
        return [f"ok {n} {name} # SKIP"]
    if v is Verdict.XFAIL:
        return [f"ok {n} {name} # SKIP expected failure (xfail)"]
    return [f"# {v.value}: {name}", f"not ok {n} {name}"]
