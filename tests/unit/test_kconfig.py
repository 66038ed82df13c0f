from harness import kconfig


def test_parse_set_and_unset():
    text = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"x y\"\n# comment\n"
    assert kconfig.parse(text) == {"CONFIG_A": "y", "CONFIG_B": "n",
                                   "CONFIG_C": '"x y"'}


def test_unmet_names_the_option_and_both_values():
    wanted = {"CONFIG_VFIO": "m", "CONFIG_KUNIT": "y", "CONFIG_X": "n"}
    actual = {"CONFIG_VFIO": "m"}
    assert kconfig.unmet(wanted, actual) == ["CONFIG_KUNIT: wanted y, got n"]


def test_cache_key_changes_with_version_and_fragments():
    base = kconfig.cache_key("6.12.1", [b"CONFIG_A=y\n"])
    assert base == kconfig.cache_key("6.12.1", [b"CONFIG_A=y\n"])
    assert base != kconfig.cache_key("6.12.2", [b"CONFIG_A=y\n"])
    assert base != kconfig.cache_key("6.12.1", [b"CONFIG_A=m\n"])
    assert base != kconfig.cache_key("6.12.1", [b"CONFIG_A=y\n", b""])


def test_shipped_fragment_parses_and_builds_vfio_as_modules():
    from harness.paths import REPO
    options = kconfig.parse((REPO / "images/kernel.config").read_text())
    for name in ("CONFIG_VFIO", "CONFIG_VFIO_PCI", "CONFIG_VFIO_MDEV",
                 "CONFIG_SAMPLE_VFIO_MDEV_MTTY"):
        assert options[name] == "m"
    assert options["CONFIG_IOMMUFD"] == "y"
    assert options["CONFIG_KUNIT_DEBUGFS"] == "y"
