"""Scratch kernel trees: the config overrides and the cache key."""

from harness import kconfig
from harness.scratch import apply_overrides, scratch_key

BASE = """CONFIG_VFIO=m
CONFIG_VFIO_GROUP=y
CONFIG_VFIO_CONTAINER=y
# CONFIG_VFIO_DEVICE_CDEV is not set
"""


def test_overrides_replace_unset_and_append():
    out = apply_overrides(BASE, {"CONFIG_VFIO_GROUP": "n",
                                 "CONFIG_VFIO_DEVICE_CDEV": "y",
                                 "CONFIG_NEW": "m"})
    parsed = kconfig.parse(out)
    assert parsed == {"CONFIG_VFIO": "m", "CONFIG_VFIO_GROUP": "n",
                      "CONFIG_VFIO_CONTAINER": "y",
                      "CONFIG_VFIO_DEVICE_CDEV": "y", "CONFIG_NEW": "m"}
    # Each option once: olddefconfig would warn about a reassignment.
    assert out.count("CONFIG_VFIO_GROUP") == 1
    assert "# CONFIG_VFIO_GROUP is not set" in out


def test_key_depends_on_everything_but_order():
    a = scratch_key("6.12", BASE, {"CONFIG_A": "n", "CONFIG_B": "y"})
    assert a == scratch_key("6.12", BASE, {"CONFIG_B": "y", "CONFIG_A": "n"})
    assert a != scratch_key("6.13", BASE, {"CONFIG_A": "n", "CONFIG_B": "y"})
    assert a != scratch_key("6.12", BASE + "CONFIG_X=y\n",
                            {"CONFIG_A": "n", "CONFIG_B": "y"})
    assert a != scratch_key("6.12", BASE, {"CONFIG_A": "n"})
