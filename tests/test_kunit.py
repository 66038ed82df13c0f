"""KUnit suites for the pure helpers of our core, run in the guest.

These test our implementation's internals, not the uAPI, so they run on
our module set only: upstream ships no such module (intended difference).
"""

import pytest

from harness import guestfs, ktap, kunit, modsets

pytestmark = pytest.mark.feature("kunit")

CASES = [(module, case) for module, cases in kunit.modules().items()
         for case in cases]


@pytest.fixture(scope="module")
def kunit_results(request):
    """module -> {suite.case: result}, one load per module."""
    return {}


@pytest.mark.modsets("ours")
@pytest.mark.parametrize("module,case", CASES,
                         ids=[f"{m}:{c}" for m, c in CASES])
def test_kunit_case(guest, world, kunit_results, module, case):
    if module not in kunit_results:
        # The suites run when the module loads; debugfs keeps their KTAP.
        results = {}
        guest.check(f"insmod {guestfs.module(modsets.OURS, module)}")
        try:
            for suite in kunit.suites_of(kunit.modules()[module]):
                out = guest.check(f"cat {kunit.results_path(suite)}")
                results.update(ktap.parse(out, world.layout.kunit_tool))
        finally:
            guest.check(f"rmmod {module}")
        kunit_results[module] = results
    result = kunit_results[module].get(case)
    assert result is not None, f"{case} reported nothing:\n" \
        + "\n".join(kunit_results[module])
    assert result.status == "pass", f"{case}: {result.status}\n{result.log}"
