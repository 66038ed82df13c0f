"""Every machine topology boots with its vIOMMU and its devices."""

import pytest

from harness.pool import TEST_CPUS
from harness.topology import available

pytestmark = pytest.mark.feature("harness")

EDU = "0x1234:0x11e8"
TESTDEV = "0x1b36:0x0005"
LIST = ("for d in /sys/bus/pci/devices/*; do "
        "g=$(readlink $d/iommu_group); "
        "echo $(cat $d/vendor):$(cat $d/device) ${g##*/}; done")


@pytest.fixture(scope="module")
def booted(request):
    """name -> {vendor:device: group} for each machine, one boot each."""
    from harness.pytest_plugin import _STATE
    world = request.config.stash[_STATE].world()
    seen = {}
    for name in available():
        with world.guest(f"machine-{name}", name, cpus=TEST_CPUS) as g:
            groups = {}
            for line in g.check(LIST).splitlines():
                dev, _, group = line.partition(" ")
                groups[dev] = group
            seen[name] = groups
    return seen


@pytest.mark.parametrize("name", available())
def test_machine_boots_with_edu(booted, name):
    assert EDU in booted[name]


@pytest.mark.parametrize("name", ["q35-intel", "q35-amd", "q35-shared-group"])
def test_edu_has_an_iommu_group(booted, name):
    assert booted[name][EDU] != "", f"no IOMMU group for edu on {name}"


def test_default_machine_gives_each_device_its_own_group(booted):
    groups = booted["q35-intel"]
    assert groups[EDU] and groups[TESTDEV]
    assert groups[EDU] != groups[TESTDEV]


def test_shared_group_machine_shares_one_group(booted):
    groups = booted["q35-shared-group"]
    assert groups[EDU] and groups[EDU] == groups[TESTDEV]
