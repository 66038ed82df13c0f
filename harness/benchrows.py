"""The bench programs' output read into samples, and samples into tables:
pure functions, no guest (harness/bench.py drives the guest).

Samples are kept as `Samples`: (row name, column) -> {round: value}, the
column a module set (`ours`, `upstream`) or an extra column of ours (the
dma bench's `iommufd`); values are in the unit the guest program printed
(dma_bench: us, pci_bench: ns).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .benchstats import Comparison, compare, fmt_ratio, fmt_verdict, spread
from .modsets import OURS, UPSTREAM
from .table import render

Samples = dict[tuple[str, str], dict[int, float]]


def add(samples: Samples, row: str, column: str, round_: int,
        value: float) -> None:
    """Record @value as @row's sample of @column in round @round_."""
    samples.setdefault((row, column), {})[round_] = value


def parse_dma(output: str) -> tuple[list[float], list[float]]:
    """Map and unmap times (us) from dma_bench's RESULT lines
    ("RESULT mode mib map_us unmap_us")."""
    maps, unmaps = [], []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == "RESULT":
            try:
                m, u = float(parts[3]), float(parts[4])
            except ValueError:
                continue
            maps.append(m)
            unmaps.append(u)
    return maps, unmaps


def parse_extents(output: str) -> int | None:
    """dma_bench --serve's "EXTENTS n": the physically contiguous runs of
    its buffer (None when absent or unreadable, printed as -1)."""
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "EXTENTS":
            try:
                n = int(parts[1])
            except ValueError:
                return None
            return n if n >= 0 else None
    return None


def parse_pci(output: str) -> dict[str, float]:
    """Nanoseconds by measurement name from pci_bench's RESULT lines
    ("RESULT name value_ns")."""
    values: dict[str, float] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "RESULT":
            try:
                values[parts[1]] = float(parts[2])
            except ValueError:
                continue
    return values


def ratio(upstream: float | None, ours: float | None) -> str:
    """How many times faster ours is (upstream time / our time)."""
    if not upstream or not ours:
        return "-"
    return f"{upstream / ours:.2f}x"


@dataclass(frozen=True)
class Row:
    """A table row: its key in Samples, its label, the unit shown and
    the divisor from the program's unit to it."""

    key: str
    label: str
    unit: str
    scale: float


def comparisons(samples: Samples, rows: Sequence[Row]
                ) -> dict[str, Comparison]:
    """Each row's Comparison of ours against upstream, by row key."""
    return {r.key: compare(samples.get((r.key, UPSTREAM), {}),
                           samples.get((r.key, OURS), {})) for r in rows}


def num(value: float) -> str:
    """A time for a table: three significant digits, whole units from
    100 up (never an exponent)."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _mmm(c: Comparison, which: str, scale: float) -> str:
    s = c.ours if which == OURS else c.upstream
    if s is None:
        return "-"
    return " / ".join(num(v / scale) for v in (s.min, s.median, s.max))


def table(samples: Samples, rows: Sequence[Row],
          extra: Sequence[tuple[str, str]] = (),
          notes: dict[str, str] | None = None) -> str:
    """The comparison table: per row, the runs, min / median / max of
    each set, the ratio of medians with the paired interval, the verdict,
    then the median of each extra (column key, header) and a note."""
    comps = comparisons(samples, rows)
    out: list[list[object]] = []
    for r in rows:
        c = comps[r.key]
        runs = "-" if c.ours is None or c.upstream is None else \
            str(min(c.ours.runs, c.upstream.runs))
        line: list[object] = [f"{r.label} ({r.unit})", runs,
                              _mmm(c, OURS, r.scale),
                              _mmm(c, UPSTREAM, r.scale), fmt_ratio(c),
                              fmt_verdict(c)]
        for column, _ in extra:
            vals = list(samples.get((r.key, column), {}).values())
            line.append(num(statistics.median(vals) / r.scale)
                        if vals else "-")
        out.append(line + [(notes or {}).get(r.key, "")])
    return render(["measurement", "runs", "ours min / med / max",
                   "upstream min / med / max", "speedup [interval]",
                   "verdict", *(h for _, h in extra), "note"], out)


def repeat_table(invocations: Sequence[Samples], rows: Sequence[Row]
                 ) -> str:
    """Each row's speedup (ratio of medians) in each invocation, and its
    spread: (max - min) / median of those ratios, in percent."""
    out: list[list[object]] = []
    for r in rows:
        comps = [comparisons(s, [r])[r.key] for s in invocations]
        sp = spread([c.ratio for c in comps if c.ratio is not None])
        out.append([r.label, *("-" if c.ratio is None else f"{c.ratio:.3f}"
                               for c in comps),
                    "-" if sp is None else f"{sp.percent:.1f}%",
                    ", ".join(sorted({fmt_verdict(c) for c in comps}))])
    n = len(invocations)
    return render(["measurement", *(f"#{i + 1}" for i in range(n)),
                   "spread", "verdicts"], out)


def side_by_side(per_clock: dict[str, list[Samples]], rows: list[Row]
                 ) -> str:
    """Each row's speedup and verdict per clock (from the last boot of
    each clock's list), as the README's performance table shows them."""
    out: list[list[object]] = []
    for r in rows:
        line: list[object] = [r.label]
        for invocations in per_clock.values():
            s = invocations[-1]
            c = compare(s.get((r.key, UPSTREAM), {}), s.get((r.key, OURS),
                                                             {}))
            line += [fmt_ratio(c), fmt_verdict(c)]
        out.append(line)
    headers = ["measurement"]
    for clock in per_clock:
        headers += [f"{clock} speedup", f"{clock} verdict"]
    return render(headers, out)
