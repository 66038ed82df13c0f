"""kmemleak reports from the debug guest kernel, and which are ours.

The debug flavour (images/debug.config) has CONFIG_DEBUG_KMEMLEAK. A scan
reports objects nothing points to any more, but only those older than
kmemleak's minimum age (5 s, MSECS_MIN_AGE in mm/kmemleak.c), so the
harness waits that long after a program before it scans.
"""

from __future__ import annotations

import re

MIN_AGE_S = 5.0
"""Objects younger than this are never reported (mm/kmemleak.c)."""

CONTROL = "/sys/kernel/debug/kmemleak"

SCAN_TIMEOUT_S = 300.0
"""A scan walks all of the guest's 2 GiB under KASAN and TCG: 20-35 s
measured on an idle 2-core host, over 60 s on a loaded one."""

SCAN_COMMAND = (f"sleep {MIN_AGE_S + 1:g}; echo scan > {CONTROL}; "
                f"echo scan > {CONTROL}; cat {CONTROL}; "
                f"echo clear > {CONTROL}")
"""The guest command: let the last program's objects age, scan twice
(the second scan confirms the first), print, then forget what was
printed so the next scan reports only new leaks."""

_FRAME_MODULE = re.compile(r"\[([A-Za-z0-9_]+)\]\s*$")


def reports(text: str) -> list[str]:
    """Split kmemleak's output into one text per unreferenced object."""
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("unreferenced object"):
            blocks.append([line])
        elif blocks and line.startswith(" "):
            blocks[-1].append(line)
    return ["\n".join(b) for b in blocks]


def modules_in(report: str) -> set[str]:
    """Module names tagged on the backtrace frames of one report."""
    return {m.group(1) for line in report.splitlines()
            if (m := _FRAME_MODULE.search(line))}


def ours(text: str, modules: set[str]) -> list[str]:
    """The reports whose allocation backtrace passes through `modules`
    (names as the kernel shows them: underscores, no .ko)."""
    wanted = {m.replace("-", "_") for m in modules}
    return [r for r in reports(text) if modules_in(r) & wanted]
