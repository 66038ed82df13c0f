import pytest

from harness.errors import HarnessError
from harness.toposort import load_order


def test_dependencies_first():
    order = load_order({"vfio_pci": {"vfio_pci_core", "vfio"},
                        "vfio_pci_core": {"vfio", "irqbypass"},
                        "vfio_iommu_type1": {"vfio"}, "vfio": set()})
    assert order.index("vfio") < order.index("vfio_pci_core")
    assert order.index("vfio_pci_core") < order.index("vfio_pci")
    assert order.index("vfio") < order.index("vfio_iommu_type1")
    assert "irqbypass" not in order  # the guest kernel's, not ours


def test_reproducible():
    deps = {"b": set(), "a": set(), "c": {"a"}}
    assert load_order(deps) == load_order(dict(reversed(deps.items())))


def test_cycle_is_reported():
    with pytest.raises(HarnessError, match="cycle"):
        load_order({"a": {"b"}, "b": {"a"}})
