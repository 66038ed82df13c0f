"""harness/variants.py: which imports count as missing VFIO exports."""

from pathlib import Path

from harness.variants import kbuild_text, missing_vfio_exports


def test_missing_only_counts_upstream_vfio_exports():
    theirs = {"vfio_a": "drivers/vfio/vfio", "vfio_b": "drivers/vfio/vfio",
              "mlx5_x": "drivers/net/mlx5_core", "kmalloc": "vmlinux"}
    mine = {"vfio_a": "vfio"}
    imports = {"vfio_a", "vfio_b", "mlx5_x", "kmalloc", "unknown"}
    assert missing_vfio_exports(imports, theirs, mine) == ["vfio_b (vfio)"]


def test_kbuild_puts_our_headers_first_and_keeps_the_makefile():
    text = kbuild_text(Path("/x/include"))
    assert "NOSTDINC_FLAGS += -I/x/include" in text
    assert text.rstrip().endswith("include $(src)/Makefile")
