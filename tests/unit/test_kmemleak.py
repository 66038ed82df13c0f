"""kmemleak's report format, as the 6.12 debug kernel prints it."""

from harness.kmemleak import modules_in, ours, reports

SAMPLE = """\
unreferenced object 0xffff888004f2a000 (size 128):
  comm "type1", pid 212, jiffies 4294939012
  hex dump (first 32 bytes):
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................
  backtrace (crc 5a1f2c3d):
    [<ffffffff8133f4a5>] __kmalloc_cache_noprof+0x2a5/0x3b0
    [<ffffffffa0012345>] vfio_dma_do_map+0x1d5/0x8c0 [vfio_iommu_type1]
    [<ffffffffa0001111>] vfio_fops_unl_ioctl+0x91/0x120 [vfio]
    [<ffffffff81412345>] __x64_sys_ioctl+0x95/0xd0
unreferenced object 0xffff888004f2b000 (size 64):
  comm "swapper/0", pid 1, jiffies 4294937296
  backtrace (crc 11111111):
    [<ffffffff8133f4a5>] __kmalloc_cache_noprof+0x2a5/0x3b0
    [<ffffffff81cd1234>] acpi_os_alloc+0x20/0x30
"""


def test_one_report_per_object():
    got = reports(SAMPLE)
    assert len(got) == 2
    assert got[0].startswith("unreferenced object 0xffff888004f2a000")
    assert "vfio_dma_do_map" in got[0] and "acpi" not in got[0]


def test_modules_on_the_backtrace():
    first, second = reports(SAMPLE)
    assert modules_in(first) == {"vfio_iommu_type1", "vfio"}
    assert modules_in(second) == set()


def test_only_our_modules_count():
    assert len(ours(SAMPLE, {"vfio", "vfio-pci-core"})) == 1
    assert ours(SAMPLE, {"mdev"}) == []
    assert ours("", {"vfio"}) == []
