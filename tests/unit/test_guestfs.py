"""The guest layout in harness/guestfs.py, and the shell scripts and
C headers in the image that cannot import it but must agree with it."""

from __future__ import annotations

import re
from pathlib import Path

from harness import guestfs, modsets

REPO = Path(__file__).resolve().parents[2]


def test_paths_compose():
    assert guestfs.order_file("ours") == "/vfio/ours/order"
    assert guestfs.module("ours", "vfio") == "/vfio/ours/vfio.ko"
    assert guestfs.extra_dir("upstream") == "/vfio/upstream/extra"
    assert guestfs.program("kvm") == "/tests/kvm"
    assert guestfs.in_archive("/tests/kvm") == "tests/kvm"


def test_modsets_delegate_to_the_layout():
    for modset in modsets.MODSETS:
        assert modsets.guest_dir(modset) == guestfs.modset_dir(modset)
        assert modsets.order_path(modset) == guestfs.order_file(modset)


def test_vfio_modset_script_agrees():
    script = (REPO / "images/vfio-modset").read_text()
    assert f"state={guestfs.LOADED_SET.removesuffix('.name')}" in script
    assert "$state.name" in script
    root = guestfs.VFIO_ROOT
    assert f"{root}/$set/order" in script
    assert f"{root}/ours/$m.ko" in script
    assert f"{root}/$set/extra/$name.ko" in script
    # No other /vfio path in the script.
    assert set(re.findall(r"/vfio/[A-Za-z0-9_$./]+", script)) <= {
        f"{root}/$set/order", f"{root}/ours/$m.ko",
        f"{root}/$set/extra/$name.ko", f"{root}/SET/extra/NAME.ko"}


def test_guest_c_reads_the_loaded_set_where_the_script_writes_it():
    header = (REPO / "tests/guest/include/pci_test.h").read_text()
    assert f'"{guestfs.LOADED_SET}"' in header
    assert f"{guestfs.module(modsets.OURS, 'vfio_pci')}" in header
