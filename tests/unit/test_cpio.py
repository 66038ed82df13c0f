import stat

from harness.cpio import Archive


def parse(data: bytes) -> list[tuple[str, int, bytes, tuple[int, int]]]:
    """Read a newc archive back: (name, mode, data, rdev) per entry."""
    out, pos = [], 0
    while True:
        assert data[pos:pos + 6] == b"070701"
        f = [int(data[pos + 6 + 8 * i: pos + 14 + 8 * i], 16)
             for i in range(13)]
        namesize, filesize = f[11], f[6]
        name_start = pos + 110
        name = data[name_start:name_start + namesize - 1].decode()
        body = name_start + namesize + (-(110 + namesize) % 4)
        payload = data[body:body + filesize]
        pos = body + filesize + (-filesize % 4)
        if name == "TRAILER!!!":
            return out
        out.append((name, f[1], payload, (f[9], f[10])))


def test_round_trip_files_links_devices():
    a = Archive()
    a.file("bin/busybox", b"\x7fELF", 0o755)
    a.symlink("bin/sh", "/bin/busybox")
    a.char_device("dev/console", 5, 1)
    entries = {name: rest for name, *rest in parse(a.to_bytes())}
    assert entries["bin/busybox"][1] == b"\x7fELF"
    assert entries["bin/busybox"][0] == stat.S_IFREG | 0o755
    assert stat.S_ISLNK(entries["bin/sh"][0])
    assert entries["bin/sh"][1] == b"/bin/busybox"
    assert stat.S_ISCHR(entries["dev/console"][0])
    assert entries["dev/console"][2] == (5, 1)


def test_parents_are_created_before_children():
    a = Archive()
    a.file("lib/modules/6.12/kernel/vfio.ko", b"x")
    names = [name for name, *_ in parse(a.to_bytes())]
    for parent in ("lib", "lib/modules", "lib/modules/6.12",
                   "lib/modules/6.12/kernel"):
        assert names.index(parent) < names.index(
            "lib/modules/6.12/kernel/vfio.ko")


def test_alignment_for_odd_sizes():
    a = Archive()
    for n in range(1, 9):
        a.file(f"f{n}", b"y" * n)
    data = a.to_bytes()
    assert len(data) % 4 == 0
    assert {name: payload for name, _, payload, _ in parse(data)}["f7"] == b"y" * 7


def test_later_entry_wins():
    a = Archive()
    a.file("init", b"old")
    a.file("/init", b"new")
    assert [p for n, _, p, _ in parse(a.to_bytes()) if n == "init"] == [b"new"]
