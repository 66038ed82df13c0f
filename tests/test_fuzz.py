"""The differential fuzzer (harness/fuzz.py): one seeded sequence of VFIO
calls on our modules and on upstream's, in one guest per machine with
devices to fuzz, compared call by call.

VFIO_FUZZ_SEED picks the seed (printed; default 1), VFIO_FUZZ_CALLS the
length (default: what fits about a minute per machine under TCG). A
divergence not on the intended-difference list fails with the seed and
the call; a splat fails as any guest test does; a run that meets only
written-down gaps of ours (fuzz.KNOWN_GAPS) is XFAIL. A longer run:
`python3 -m harness fuzz --calls N --seed S --machine M`.
"""

import os

import pytest

from harness import fuzz, modsets
from harness.paths import results_dir
from harness.pytest_plugin import _STATE, GUEST_KEY, MARK_KEY

pytestmark = pytest.mark.feature("fuzz")

SEED = int(os.environ.get("VFIO_FUZZ_SEED", "1"))
CALLS = int(os.environ.get("VFIO_FUZZ_CALLS", "5000"))
# q35-intel: edu and pci-testdev; q35-pcie: e1000e (and edu).
MACHINES = ["q35-intel", "q35-pcie"]


@pytest.mark.parametrize("machine", MACHINES)
def test_fuzz(request, machine):
    if request.config.getoption("vfio") != modsets.BOTH:
        pytest.skip("compares both module sets: run with --vfio=both")
    guest = request.config.stash[_STATE].pool().acquire(machine,
                                                        modsets.NONE)
    request.node.stash[GUEST_KEY] = guest
    request.node.stash[MARK_KEY] = guest.console_mark()
    print(f"fuzz seed {SEED}, {CALLS} calls on {machine}")
    ours, upstream, result = fuzz.fuzz_guest(guest, SEED, CALLS)
    fuzz.save({"ours": ours, "upstream": upstream}, results_dir() / "fuzz",
              f"{machine}-{SEED}")
    summary = fuzz.summary(SEED, CALLS, machine, result)
    print(summary)
    if not result.ok:
        pytest.fail(fuzz.format_failure(SEED, CALLS, machine, ours, upstream,
                                        result), pytrace=False)
    if result.gaps:
        first, _, entry = result.gaps[0]
        pytest.xfail(f"{summary}; first gap at {first.index}: "
                     f"{entry.reason}")
