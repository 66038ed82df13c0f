from harness import deps
from harness.table import render


def test_table_columns_align():
    out = render(["test", "ours"], [["a", "PASS"], ["longer name", "FAIL"]])
    lines = out.splitlines()
    assert lines[0].index("ours") == lines[2].index("PASS")
    assert lines[3].startswith("longer name")


def test_missing_tools_name_the_install_command():
    msg = deps.message(["busybox-static", "qemu-system-x86"])
    assert "busybox-static" in msg
    assert "apt-get install -y --no-install-recommends busybox-static " \
           "qemu-system-x86" in msg


def test_every_requirement_names_a_package_and_probe():
    for r in deps.REQUIREMENTS:
        assert r.package and r.probe


def test_dma_bench_output_parses():
    from harness.benchrows import parse_dma, ratio
    maps, unmaps = parse_dma("noise\nRESULT thp 64 1500 300\nRESULT thp 64 "
                             "1700 310\n")
    assert maps == [1500.0, 1700.0] and unmaps == [300.0, 310.0]
    assert ratio(3.0, 2.0) == "1.50x"
    assert ratio(None, 2.0) == "-"


def test_leak_check_allows_one_vfio_reference_per_bound_device():
    from harness.guest import Guest
    before = {"(bound)": 0, "vfio": 3, "vfio_pci_core": 1}
    assert Guest.leaked_refs(before, {"(bound)": 1, "vfio": 4,
                                      "vfio_pci_core": 1}) is None
    assert Guest.leaked_refs(before, {"(bound)": 0, "vfio": 4,
                                      "vfio_pci_core": 1}) == "vfio 3 -> 4"
    assert Guest.leaked_refs(before, {"(bound)": 1, "vfio": 4,
                                      "vfio_pci_core": 2}) \
        == "vfio_pci_core 1 -> 2"
    # Unbinding gives references back: never a leak.
    assert Guest.leaked_refs({"(bound)": 2, "vfio": 5},
                             {"(bound)": 0, "vfio": 3}) is None


def test_leak_check_tolerates_references_kept_after_unbind():
    from harness.guest import Guest
    assert Guest.leaked_refs({"(bound)": 1, "vfio": 4},
                             {"(bound)": 0, "vfio": 4}) is None
