import pytest

from harness import topology

TOML = """
description = "test"
kernel_args = ["intel_iommu=on"]
kvm_machine_props = ["kernel-irqchip=split"]
[iommu]
driver = "intel-iommu"
intremap = "on"
caching_mode = true
[[device]]
driver = "pcie-root-port"
id = "rp1"
chassis = 1
[[device]]
driver = "edu"
bus = "rp1"
"""


def test_device_args_keep_order_and_put_the_iommu_first():
    t = topology.parse("t", TOML)
    assert t.device_args() == [
        "-device", "intel-iommu,intremap=on,caching_mode=on",
        "-device", "pcie-root-port,id=rp1,chassis=1",
        "-device", "edu,bus=rp1"]


def test_device_without_driver_is_an_error():
    with pytest.raises(topology.HarnessError):
        topology.parse("t", "[[device]]\nid = 'x'\n")


@pytest.mark.parametrize("name", topology.available())
def test_shipped_machines_parse(name):
    t = topology.load(name)
    # Every machine has a vIOMMU but the one for no-IOMMU mode.
    assert (t.iommu is None) == ("noiommu" in name)
    assert t.devices
    assert any(d.driver == "edu" for d in t.devices)


def test_default_machine_exists():
    assert topology.DEFAULT_MACHINE in topology.available()


def test_unknown_machine_lists_the_known_ones():
    with pytest.raises(topology.HarnessError, match="q35-intel"):
        topology.load("no-such-machine")
