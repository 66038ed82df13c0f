from harness.benchrows import parse_pci, ratio

OUTPUT = """\
opening edu ...
RESULT pread32 2140
RESULT mmap_read32 310
RESULT pwrite32 1987.5
RESULT mmap_write32 290
# 12345
RESULT irq_roundtrip 58000
RESULT broken notanumber
RESULT too many fields here
"""


def test_parse_pci_reads_result_lines():
    assert parse_pci(OUTPUT) == {"pread32": 2140.0, "mmap_read32": 310.0,
                                 "pwrite32": 1987.5, "mmap_write32": 290.0,
                                 "irq_roundtrip": 58000.0}


def test_parse_pci_empty_on_failure():
    assert parse_pci("opening edu through vfio: No such device\n") == {}


def test_ratio_is_upstream_over_ours():
    assert ratio(2000.0, 1000.0) == "2.00x"
    assert ratio(None, 1000.0) == "-"
