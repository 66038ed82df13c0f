"""Our modules build in the kernel configurations upstream supports, not
only the guest kernel's: with the group and container code compiled
out (CONFIG_VFIO_GROUP=n, as a kernel with iommufd only has), vfio.ko
is the core and the device cdev, and vfio_iommu_type1 is not built.

Build-only: the tree is a scratch copy of the guest kernel's config
(harness/scratch.py; made once per config, several minutes the first
time), never the shared guest kernel build. Our modules are built for it
in the checkout's build directory, as our modules for the guest are, so
a second run rebuilds what changed (build_ours' stamp and Kbuild decide;
a fresh directory made every run rebuilt all of it, 15 s of the suite).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness import scratch
from harness.modules import build_ours

# Host-only: nothing boots, so the main job (`make`) leaves it out.
pytestmark = [pytest.mark.feature("iommufd"), pytest.mark.host]

NO_GROUP = {
    "CONFIG_VFIO_GROUP": "n",
    "CONFIG_VFIO_CONTAINER": "n",
    "CONFIG_VFIO_IOMMU_TYPE1": "n",
    "CONFIG_VFIO_NOIOMMU": "n",
    "CONFIG_VFIO_DEVICE_CDEV": "y",
}


def _defined(ko: Path) -> set[str]:
    out = subprocess.run(["nm", "--defined-only", str(ko)],
                         capture_output=True, text=True, check=True).stdout
    return {ln.split()[-1] for ln in out.splitlines() if ln.strip()}


def test_builds_without_groups(world):
    tree = scratch.prepare(world.kernel, NO_GROUP)
    print(f"scratch tree {tree.kbuild}: prepared in {tree.prepare_s}s"
          f"{' (cached)' if tree.cached else ''}")
    mods = build_ours(world.kernel, world.layout.work / f"scratch-{tree.key}",
                      kbuild=tree.kbuild)
    built = set(mods.order) | set(mods.kunit)
    assert "vfio" in built and "vfio_pci" in built
    assert "vfio_iommu_type1" not in built
    symbols = _defined(mods.path("vfio"))
    # The device cdev serves devices; the group and container do not exist.
    assert {"vfio_device_fops_cdev_open", "vfio_df_ioctl_bind_iommufd",
            "vfio_iommufd_physical_bind"} <= symbols
    assert not symbols & {"vfio_group_init", "vfio_file_is_group",
                          "vfio_container_init",
                          "vfio_register_iommu_driver"}
