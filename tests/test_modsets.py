"""The module sets themselves: the right one is loaded, and it unloads."""

import pytest

pytestmark = pytest.mark.feature("harness")


def test_the_selected_set_is_loaded(guest, modset):
    # Out-of-tree modules taint the kernel with O; the kernel's own do not.
    taint = guest.check("cat /sys/module/vfio/taint").strip()
    assert taint == ("O" if modset == "ours" else ""), \
        f"/sys/module/vfio/taint is {taint!r}: the wrong vfio.ko is loaded"
    assert "vfio" in guest.check("ls /dev/vfio").split()


def test_an_extra_driver_unloads_with_the_set(guest, modset):
    """A test driver loaded on top of the set (`vfio-modset extra`), with
    an instance left behind, goes when the set is unloaded."""
    types = "/sys/class/mdev_bus/mdpy/mdev_supported_types"
    uuid = "5e1f0a7d-6b2c-4d8e-9f10-a1b2c3d4ffff"
    guest.check("vfio-modset extra mdpy")
    guest.check(f"echo {uuid} > {types}/mdpy-vga/create")
    assert guest.run(f"test -e /sys/bus/mdev/devices/{uuid}").status == 0
    guest.unload_modules()
    mods = [ln.split()[0] for ln in guest.check("lsmod").splitlines()[1:]]
    assert "mdpy" not in mods and "mdev" not in mods
    assert guest.run("test -e /sys/bus/mdev").status != 0
    guest.use_modules(modset)


@pytest.mark.last_per_modset
def test_unload_is_clean(guest, modset):
    """After every other test of this set, all its modules unload."""
    guest.unload_modules()
    assert guest.run("test -e /sys/module/vfio").status != 0
    assert guest.run("test -e /dev/vfio/vfio").status != 0
    left = guest.check("lsmod").splitlines()[1:]
    assert not [m for m in left if m.split()[0].startswith(("vfio", "mdev"))]
