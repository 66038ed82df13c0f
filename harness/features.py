"""The features of the VFIO API the suite covers, in table order.

A guest program names its feature in a directive,
``// harness: feature=type1``; a Python test module with a marker,
``pytestmark = pytest.mark.feature("hotunplug")``. The main job's table
and the KTAP results are grouped by these, so a new area of the API gets
a row group by adding one entry here and naming it in its tests.
"""

from __future__ import annotations

FEATURES: dict[str, str] = {
    "container": "container",
    "groups": "groups and viability",
    "type1": "type1 IOMMU backend",
    "pci": "vfio-pci config, BARs, mmap",
    "irqs": "interrupts",
    "reset": "reset and hot reset",
    "dma": "DMA isolation",
    "hotunplug": "hot unplug",
    "kunit": "KUnit",
    "iommufd": "iommufd and the device cdev",
    "mdev": "mdev",
    "migration": "migration",
    "dma-logging": "DMA logging",
    "debugfs": "debugfs",
    "noiommu": "no-IOMMU",
    "kvm": "KVM file API",
    "fuzz": "differential fuzzing, ours against upstream",
    "harness": "harness and machines",
    "unit": "harness units (no guest)",
}

UNKNOWN = "unsorted"
"""The group of a test that names no feature (the style test flags it)."""


def title(feature: str) -> str:
    """The heading a feature's rows are printed under."""
    return FEATURES.get(feature, feature)


def order(feature: str) -> int:
    """Sort key: table order, unknown features last."""
    keys = list(FEATURES)
    return keys.index(feature) if feature in FEATURES else len(keys)
