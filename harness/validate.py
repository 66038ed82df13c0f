"""The main job: every guest program's cases on each module set, as a table."""

from __future__ import annotations

import time

from . import ktap
from .errors import HarnessError
from .guest import Guest
from .programs import GUEST_TESTS, program_info
from .table import render
from .topology import DEFAULT_MACHINE
from .world import MODSETS, World

Outcome = dict[tuple[str, str], str]   # (program.case, modset) -> status


def run_program_cases(guest: Guest, world: World, program: str,
                      cases: list[str], timeout: float) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for case in cases:
        try:
            result = guest.run(f"/tests/{program} -r {case}", timeout)
        except HarnessError as exc:
            statuses[case] = "ERROR"
            print(f"{program}: {case}: {exc}")
            raise
        found = ktap.parse(result.output, world.layout.kunit_tool).get(case)
        status = found.status if found else "crash"
        if status == "pass" and result.status != 0:
            status = "fail"
        statuses[case] = status.upper()
        if status not in ("pass", "skip"):
            print(f"--- {program}: {case} [{guest.modset}] {status}\n"
                  f"{result.output.rstrip()}")
    return statuses


def validate(world: World, modsets: tuple[str, ...] = MODSETS,
             machine: str = DEFAULT_MACHINE) -> tuple[str, bool]:
    """Boot `machine` once and run all guest cases on each module set."""
    outcome: Outcome = {}
    programs = {p.stem: program_info(p) for p in sorted(GUEST_TESTS.glob("*.c"))
                if (program_info(p).machine or DEFAULT_MACHINE) == machine}
    start = time.monotonic()
    for modset in modsets:
        # A fresh boot per set: a splat under one set cannot spoil the other.
        with world.guest(f"validate-{modset}", machine) as guest:
            try:
                guest.use_modules(modset)
                for name, info in programs.items():
                    statuses = run_program_cases(guest, world, name,
                                                 info.cases, info.timeout)
                    for case, status in statuses.items():
                        outcome[(f"{name}: {case}", modset)] = status
                guest.use_modules("none")
                outcome[("modules unload cleanly", modset)] = "PASS"
            except (HarnessError, AssertionError) as exc:
                print(f"--- {modset}: aborted: {exc}")
                outcome[(f"aborted: {type(exc).__name__}", modset)] = "ERROR"
    rows = []
    for test in dict.fromkeys(t for t, _ in outcome):
        rows.append([test] + [outcome.get((test, m), "-") for m in modsets])
    ok = all(s in ("PASS", "SKIP") for s in outcome.values())
    summary = (f"{len(rows)} checks on {machine}, accel {world.accel}, "
               f"{time.monotonic() - start:.1f}s: "
               + ("all passed" if ok else "FAILURES"))
    return render(["test", *modsets], rows) + "\n\n" + summary, ok
