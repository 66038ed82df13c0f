"""Upstream 6.12's vfio-pci variant drivers build, unchanged, against our
linux/vfio.h and linux/vfio_pci_core.h, and link against our exports.

Each driver's sources are copied from the kernel source into a build
directory (harness/variants.py); nothing of them enters the repository.
Their other dependencies (mlx5_core, pds_core, the QAT and HiSilicon
crypto drivers, virtio-pci's admin queue) are not in the guest kernel,
so nothing is loaded: this is a build check.
"""

from __future__ import annotations

import pytest

from harness.variants import VARIANT_DRIVERS, build_variant, report, symvers

# Host-only: nothing boots, so the main job (`make`) leaves it out.
pytestmark = [pytest.mark.feature("pci"), pytest.mark.host]

KNOWN_GAP: dict[str, str] = {}
"""VFIO exports the drivers need that ours lacks, and where they come."""


@pytest.mark.parametrize("driver", sorted(VARIANT_DRIVERS))
def test_variant_driver_builds(world, driver):
    # In the checkout's build directory: built again when an input
    # changed (our headers or exports, the kernel), as our modules are.
    result = build_variant(world.kernel, world.layout.ours, driver,
                           world.layout.work / "variants")
    print(report([result]))
    assert result.built, report([result])
    unexpected = [m for m in result.missing
                  if m.split(" ", 1)[0] not in KNOWN_GAP]
    assert not unexpected, (f"{driver} imports VFIO symbols ours does not "
                            f"export: {', '.join(unexpected)}")


def test_known_gap_is_still_a_gap(world):
    ours = symvers(world.layout.ours / "src/drivers/vfio/Module.symvers")
    closed = sorted(set(KNOWN_GAP) & set(ours))
    assert not closed, ("ours exports these now: take them out of "
                        f"KNOWN_GAP: {', '.join(closed)}")
