"""KUnit suites of helpers both module sets' vfio.ko export, on each set.

kernel/tests/vfio_mig_test.c (vfio_mig_get_next_state() over the whole
state matrix, vfio_combine_iova_ranges()) is built against each set's
linux/vfio.h (harness/external.py) and loaded on top of that set, so
upstream 6.12's answers check the same expectations as ours. The few
intended differences are written down in that file; their cases skip
on upstream, with the reason.
"""

from __future__ import annotations

import pytest

from harness import ktap, kunit
from harness.external import CORE_KUNIT, CORE_KUNIT_SOURCE
from harness.guest import Guest
from harness.world import World

pytestmark = pytest.mark.feature("kunit")

MODULE = CORE_KUNIT.modules[0]
CASES = kunit.list_cases(CORE_KUNIT_SOURCE.read_text())


@pytest.fixture(scope="module")
def results_by_set() -> dict[str, dict[str, ktap.CaseResult]]:
    """modset -> {suite.case: result}, one load per set."""
    return {}


def _run_suites(guest: Guest, world: World) -> dict[str, ktap.CaseResult]:
    # The suites run when the module loads; debugfs keeps their KTAP.
    results: dict[str, ktap.CaseResult] = {}
    guest.check(f"vfio-modset extra {MODULE}")
    try:
        for suite in kunit.suites_of(CASES):
            out = guest.check(f"cat {kunit.results_path(suite)}")
            results.update(ktap.parse(out, world.layout.kunit_tool))
    finally:
        guest.check(f"rmmod {MODULE}")
    return results


@pytest.mark.parametrize("case", CASES)
def test_core_kunit(guest: Guest, world: World, modset: str,
                    results_by_set: dict[str, dict[str, ktap.CaseResult]],
                    case: str) -> None:
    if modset not in results_by_set:
        results_by_set[modset] = _run_suites(guest, world)
    result = results_by_set[modset].get(case)
    assert result is not None, f"{case} reported nothing:\n" \
        + "\n".join(results_by_set[modset])
    if result.status == "skip":
        pytest.skip(f"{case} skips itself on {modset}: an intended "
                    f"difference, see {CORE_KUNIT_SOURCE.name}")
    assert result.status == "pass", f"{case}: {result.status}\n{result.log}"
