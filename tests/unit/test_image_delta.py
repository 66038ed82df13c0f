"""What a guest booted on the last image needs to match the new one:
harness/cpio.py's members() and harness/headstart.py's delta()."""

import hashlib
import stat
from pathlib import Path

import pytest

from harness.cpio import Archive, Member, members
from harness.headstart import PUSH_LIMIT, Delta, delta

REG = stat.S_IFREG | 0o644
DIR = stat.S_IFDIR | 0o755


def image(tmp_path: Path, *archives: Archive, pad: int = 0) -> Path:
    out = tmp_path / "image.cpio"
    with out.open("wb") as f:
        for a in archives:
            a.write(f)
            f.write(b"\0" * pad)
    return out


def test_members_of_concatenated_archives_later_wins(tmp_path):
    base, top = Archive(), Archive()
    base.file("init", b"old init", 0o755)
    base.file("lib/a.ko", b"A" * 5)
    base.symlink("bin/sh", "/bin/busybox")
    top.file("init", b"new init!", 0o755)
    top.char_device("dev/console", 5, 1)
    path = image(tmp_path, base, top, pad=512)
    found = members(path)
    data = path.read_bytes()
    init = found["init"]
    assert data[init.offset:init.offset + init.size] == b"new init!"
    assert init.mode == stat.S_IFREG | 0o755
    a = found["lib/a.ko"]
    assert data[a.offset:a.offset + a.size] == b"AAAAA"
    assert stat.S_ISDIR(found["lib"].mode)
    assert stat.S_ISLNK(found["bin/sh"].mode)
    assert found["dev/console"].rdev == (5, 1)
    assert "TRAILER!!!" not in found


def test_members_from_an_offset_reads_only_what_follows(tmp_path):
    base, top = Archive(), Archive()
    base.file("a", b"1")
    top.file("b", b"2")
    path = image(tmp_path, base, top)
    assert set(members(path, start=len(base.to_bytes()))) == {"b"}


def test_members_refuses_what_is_not_newc(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"not an archive at all, not at all" * 8)
    with pytest.raises(ValueError, match="no newc header"):
        members(bad)
    cut = tmp_path / "cut"
    a = Archive()
    a.file("f", b"x" * 100)
    cut.write_bytes(a.to_bytes()[:150])
    with pytest.raises(ValueError, match="cut short"):
        members(cut)


def m(data: bytes, mode: int = REG, offset: int = 0) -> Member:
    return Member(mode, (0, 0), offset, len(data),
                  hashlib.sha256(data).hexdigest())


def test_same_content_elsewhere_in_the_file_is_no_change():
    assert delta({"x": m(b"1", offset=0)}, {"x": m(b"1", offset=512)}) \
        == Delta()
    assert not Delta()


def test_changed_added_and_removed():
    old = {"vfio": m(b"", DIR), "vfio/ours": m(b"", DIR),
           "vfio/ours/vfio.ko": m(b"old"), "vfio/ours/gone.ko": m(b"x"),
           "usr/bin/prog": m(b"p")}
    new = {"vfio": m(b"", DIR), "vfio/ours": m(b"", DIR),
           "vfio/ours/vfio.ko": m(b"new"), "vfio/ours/extra": m(b"", DIR),
           "vfio/ours/extra/mtty.ko": m(b"mtty"), "usr/bin/prog": m(b"p")}
    d = delta(old, new)
    assert isinstance(d, Delta)
    assert d.directories == ("vfio/ours/extra",)
    assert [n for n, _ in d.files] == ["vfio/ours/extra/mtty.ko",
                                       "vfio/ours/vfio.ko"]
    assert d.removed == ("vfio/ours/gone.ko",)
    assert d.size == len(b"mtty") + len(b"new")


@pytest.mark.parametrize("name", ["init", "etc/fstab"])
def test_what_the_boot_read_needs_a_boot(name):
    why = delta({name: m(b"a")}, {name: m(b"b")})
    assert isinstance(why, str) and f"/{name}" in why


def test_other_kinds_of_change_need_a_boot():
    link = stat.S_IFLNK | 0o777
    assert isinstance(delta({"bin/sh": m(b"/bin/a", link)},
                            {"bin/sh": m(b"/bin/b", link)}), str)
    assert isinstance(delta({"f": m(b"x", REG)},
                            {"f": m(b"x", DIR)}), str)
    assert isinstance(delta({"f": m(b"x", REG)},
                            {"f": m(b"x", stat.S_IFREG | 0o755)}), Delta)
    assert isinstance(delta({"dev/null": m(b"", stat.S_IFCHR | 0o666)},
                            {}), str)


def test_more_than_the_limit_needs_a_boot():
    big = Member(REG, (0, 0), 0, PUSH_LIMIT + 1, "f" * 64)
    assert isinstance(delta({}, {"big": big}), str)
    fits = Member(REG, (0, 0), 0, PUSH_LIMIT, "f" * 64)
    assert isinstance(delta({}, {"big": fits}), Delta)
