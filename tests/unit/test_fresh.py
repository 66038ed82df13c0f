"""The fresh-check's pure parts: apt sources, environment, verdicts."""

from pathlib import Path

import pytest

from harness import fresh
from harness.errors import HarnessError

DEB822 = """\
Types: deb
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
Enabled: no
URIs: http://disabled.example/debian
Suites: bookworm
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main
"""


def test_deb822_entries_are_read_and_disabled_ones_left_out():
    got = fresh.parse_deb822(DEB822)
    assert got == [
        fresh.AptSource("http://mirror.example/debian",
                        ("bookworm", "bookworm-updates"), ("main", "contrib")),
        fresh.AptSource("http://mirror.example/debian-security",
                        ("bookworm-security",), ("main",)),
    ]


def test_one_line_entries_with_options_and_comments():
    got = fresh.parse_one_line(
        "# deb http://old.example/debian buster main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://m.example/debian "
        "bookworm main non-free  # trailing\n"
        "deb-src http://m.example/debian bookworm main\n")
    assert got == [fresh.AptSource("http://m.example/debian", ("bookworm",),
                                   ("main", "non-free"))]


def test_bootstrap_sources_keep_bookworm_main_and_security():
    lines = fresh.bootstrap_sources(fresh.parse_deb822(DEB822) + [
        fresh.AptSource("https://other.example/apt", ("cloud-sdk",),
                        ("main",))])
    assert lines == [
        "deb http://mirror.example/debian bookworm main",
        "deb http://mirror.example/debian bookworm-updates main",
        "deb http://mirror.example/debian-security bookworm-security main",
    ]


def test_bootstrap_sources_need_the_release_itself():
    with pytest.raises(HarnessError, match="no `bookworm main` entry"):
        fresh.bootstrap_sources([fresh.AptSource(
            "http://m.example/debian-security", ("bookworm-security",),
            ("main",))])


def test_host_sources_reads_both_formats(tmp_path: Path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "deb http://a.example/debian bookworm main\n")
    (tmp_path / "sources.list.d/x.sources").write_text(DEB822)
    (tmp_path / "sources.list.d/y.list.disabled").write_text(
        "deb http://no.example/debian bookworm main\n")
    uris = [s.uri for s in fresh.host_sources(tmp_path)]
    assert uris == ["http://a.example/debian", "http://mirror.example/debian",
                    "http://mirror.example/debian-security"]


def test_drop_requirement_removes_exactly_that_package():
    text = ('REQUIREMENTS = [\n'
            '    Requirement("rsync", "rsync"),\n'
            '    Requirement("rsync-extra", "x"),\n'
            '    Requirement("kmod", "depmod"),\n'
            '    Requirement("kmod", "modinfo"),\n]\n')
    assert fresh.drop_requirement(text, "rsync") == text.replace(
        '    Requirement("rsync", "rsync"),\n', "")
    assert "kmod" not in fresh.drop_requirement(text, "kmod")
    with pytest.raises(HarnessError, match="no such Requirement"):
        fresh.drop_requirement(text, "perl")


def test_drop_requirement_applies_to_the_real_list():
    real = (Path(fresh.__file__).parent / "deps.py").read_text()
    assert 'Requirement("rsync"' not in fresh.drop_requirement(real, "rsync")


def test_validation_needs_exit_zero_and_the_summary():
    table = "test  ours\nx     PASS\n\n12 checks on q35-intel: all passed\n"
    assert fresh.validation_passed(0, table)
    assert not fresh.validation_passed(2, table)
    assert not fresh.validation_passed(0, "make: Nothing to be done\n")
    assert fresh.verdict("make", 0, "nothing") is not None
    assert fresh.verdict("make", 0, table) is None


def test_exec_and_bisect_verdicts():
    assert fresh.verdict("exec", 0, fresh.HELLO_TEXT + "\n") is None
    assert fresh.verdict("exec", 0, "") is not None
    assert fresh.verdict("exec", 1, fresh.HELLO_TEXT) is not None
    assert fresh.verdict("bisect", 0, "") is None
    assert fresh.verdict("bisect", 125, "") is not None


def test_child_env_passes_registry_access_only():
    env = fresh.child_env({"PIP_INDEX_URL": "https://idx.example/simple",
                           "https_proxy": "http://p.example:3128",
                           "SSL_CERT_FILE": "/etc/ca.pem",
                           "VFIO_CACHE": "/host/cache",
                           "PYTHONPATH": "/host/lib", "HOME": "/home/me"})
    assert env["PIP_INDEX_URL"] == "https://idx.example/simple"
    assert env["https_proxy"] == "http://p.example:3128"
    assert env["SSL_CERT_FILE"] == "/etc/ca.pem"
    assert "VFIO_CACHE" not in env and "PYTHONPATH" not in env
    assert env["HOME"] == "/root"
    assert env["DEBIAN_FRONTEND"] == "noninteractive"


def test_pip_files_from_pip_config_and_variables():
    conf = ("[global]\ncert = /etc/ssl/ca.pem\n"
            "find-links = /opt/wheels https://w.example/\n"
            "extra-index-url = file:///opt/pypi/simple/\n"
            "[install]\nconstraint = /etc/xdg/pip/constraints.txt\n")
    dirs = {"/opt/wheels", "/opt/pypi/simple", "/etc/ssl/certs"}
    got = fresh.pip_files({"REQUESTS_CA_BUNDLE": "/etc/b.pem",
                           "SSL_CERT_DIR": "/etc/ssl/certs",
                           "EDITOR": "/usr/bin/vi"}, [conf],
                          lambda p: p in dirs)
    assert got.files == {"/etc/ssl/ca.pem", "/etc/xdg/pip/constraints.txt",
                         "/etc/b.pem"}
    assert got.cas == {"/etc/ssl/ca.pem", "/etc/b.pem"}
    assert got.directories == {"/opt/wheels", "/opt/pypi"}


def test_mounts_under_root_only():
    info = ("22 1 8:1 / / rw - ext4 /dev/vda rw\n"
            "30 22 0:5 / /c/fresh/root/proc rw - proc proc rw\n"
            "31 22 0:6 / /c/fresh/root/dev rw - devtmpfs dev rw\n"
            "32 22 0:7 / /c/fresh/rootfs rw - tmpfs t rw\n"
            "33 22 0:8 / /c/fresh/root\\040x rw - tmpfs t rw\n")
    assert fresh.mounts_under(Path("/c/fresh/root"), info) == [
        "/c/fresh/root/proc", "/c/fresh/root/dev"]


def test_remove_root_refuses_while_mounted(tmp_path: Path, monkeypatch):
    root = tmp_path / "root"
    (root / "proc").mkdir(parents=True)
    monkeypatch.setattr(fresh, "mounts_under",
                        lambda r, text: [str(root / "proc")])
    with pytest.raises(HarnessError, match="still mounted"):
        fresh.remove_root(root)
    assert root.exists()
