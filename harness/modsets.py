"""The VFIO module sets: their names, where they live in the guest, and
how a guest is told to load one.

Two sets carry the same module names (vfio, vfio_iommu_type1,
vfio_pci_core, vfio_pci, ...): ``ours``, built from ``kernel/``, and
``upstream``, the guest kernel's own, built from the same source. At most
one is loaded at a time; ``none`` is the state with neither. Everything
else in the harness asks this module, so the names, the guest paths and
the way a set is loaded are written down once.

Where a set lives in the guest is harness/guestfs.py's to say.
"""

from __future__ import annotations

import argparse
import shlex

from . import guestfs

OURS = "ours"
UPSTREAM = "upstream"
NONE = "none"
BOTH = "both"

MODSETS: tuple[str, ...] = (OURS, UPSTREAM)
"""The sets, in the order tables and runs show them."""

LOADABLE: tuple[str, ...] = (*MODSETS, NONE)
"""What a guest can be asked to have loaded."""

SELECTIONS: tuple[str, ...] = (*MODSETS, BOTH)
"""What `--vfio` accepts: one set, or both."""

UNLOAD_COMMAND = "vfio-modset unload"


def expand(selection: str) -> tuple[str, ...]:
    """The sets a `--vfio` selection stands for, in table order.

    Raises ValueError for a name that is not a selection.
    """
    if selection == BOTH:
        return MODSETS
    if selection in MODSETS:
        return (selection,)
    raise ValueError(f"unknown module set selection {selection!r}; "
                     f"choose one of {', '.join(SELECTIONS)}")


def guest_dir(modset: str) -> str:
    """The directory of `modset` in the guest image."""
    _check(modset, MODSETS)
    return guestfs.modset_dir(modset)


def order_path(modset: str) -> str:
    """The guest file listing `modset`'s modules in load order."""
    _check(modset, MODSETS)
    return guestfs.order_file(modset)


def load_command(modset: str) -> str:
    """The guest shell command that loads `modset` (images/vfio-modset)."""
    _check(modset, MODSETS)
    return f"vfio-modset load {shlex.quote(modset)}"


def boot_argument(modset: str) -> str:
    """The kernel argument that makes images/init load `modset` at boot
    (through the same vfio-modset script) before serving a shell."""
    _check(modset, LOADABLE)
    return f"harness.modset={modset}"


def add_selection_option(parser: argparse.ArgumentParser,
                         default: str) -> None:
    """`--vfio ours|upstream|both` on a command that runs several sets."""
    parser.add_argument("--vfio", default=default, choices=SELECTIONS,
                        help="module set(s): our modules, the kernel's own, "
                        f"or both (default: {default})")


def add_modset_option(parser: argparse.ArgumentParser, default: str) -> None:
    """`--modset ours|upstream|none` on a command that uses one guest."""
    parser.add_argument("--modset", default=default, choices=LOADABLE,
                        help="module set to load in the guest "
                        f"(default: {default})")


def _check(modset: str, allowed: tuple[str, ...]) -> None:
    if modset not in allowed:
        raise ValueError(f"unknown module set {modset!r}; choose one of "
                         f"{', '.join(allowed)}")
