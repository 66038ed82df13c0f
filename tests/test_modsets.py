"""The module sets themselves: the right one is loaded, and it unloads."""

import pytest

pytestmark = pytest.mark.feature("harness")


def test_the_selected_set_is_loaded(guest, modset):
    # Out-of-tree modules taint the kernel with O; the kernel's own do not.
    taint = guest.check("cat /sys/module/vfio/taint").strip()
    assert taint == ("O" if modset == "ours" else ""), \
        f"/sys/module/vfio/taint is {taint!r}: the wrong vfio.ko is loaded"
    assert "vfio" in guest.check("ls /dev/vfio").split()


@pytest.mark.last_per_modset
def test_unload_is_clean(guest, modset):
    """After every other test of this set, all its modules unload."""
    guest.unload_modules()
    assert guest.run("test -e /sys/module/vfio").status != 0
    assert guest.run("test -e /dev/vfio/vfio").status != 0
    left = guest.check("lsmod").splitlines()[1:]
    assert not [m for m in left if m.split()[0].startswith(("vfio", "mdev"))]
