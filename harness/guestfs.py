"""The guest's filesystem: where the image puts things, and where every
guest command, test and script finds them. Nothing else in the harness
spells a guest path.

  /init, /usr/bin/vfio-modset   from images/ (the script reads the paths
                                below; tests/unit/test_guestfs.py checks
                                that it agrees with this module)
  /lib/modules/<release>/       the kernel's own modules (upstream set)
  /vfio/<set>/order             a module set's names in load order
  /vfio/ours/<name>.ko          our modules
  /vfio/<set>/extra/<name>.ko   out-of-tree test drivers built against the
                                set's headers (harness/external.py)
  /tests/<program>              guest test programs
  /host/                        files the user adds (`harness exec`)
  /run/vfio-modset.name         the set loaded now (vfio-modset writes it;
                                tests/guest/include/pci_test.h reads it)
"""

from __future__ import annotations

VFIO_ROOT = "/vfio"
PROGRAMS = "/tests"
HOST = "/host"
MODSET_SCRIPT = "/usr/bin/vfio-modset"
LOADED_SET = "/run/vfio-modset.name"


def modset_dir(modset: str) -> str:
    """The directory of a module set (its name checked by modsets.py)."""
    return f"{VFIO_ROOT}/{modset}"


def order_file(modset: str) -> str:
    """The file listing a set's modules in load order."""
    return f"{modset_dir(modset)}/order"


def module(modset: str, name: str) -> str:
    """A module file of a set shipped in the image (ours; upstream's live
    in /lib/modules)."""
    return f"{modset_dir(modset)}/{name}.ko"


def extra_dir(modset: str) -> str:
    """The out-of-tree test drivers built against a set's headers."""
    return f"{modset_dir(modset)}/extra"


def program(name: str) -> str:
    """A guest test program."""
    return f"{PROGRAMS}/{name}"


def in_archive(path: str) -> str:
    """A guest path as the initramfs archive names it (no leading /)."""
    return path.lstrip("/")
