"""A writer for the newc cpio format the kernel unpacks as an initramfs.

Writing the archive ourselves means no root, no fakeroot and device nodes
that need no mknod: ownership and modes are just numbers in the header.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field


@dataclass
class _Entry:
    name: str
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


def _pad4(n: int) -> bytes:
    return b"\0" * (-n % 4)


@dataclass
class Archive:
    """An in-memory initramfs; later entries of the same path win."""

    entries: dict[str, _Entry] = field(default_factory=dict)

    def _parents(self, path: str) -> None:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            parent = "/".join(parts[:i])
            if parent and parent not in self.entries:
                self.entries[parent] = _Entry(parent, stat.S_IFDIR | 0o755)

    def _add(self, entry: _Entry) -> None:
        entry.name = entry.name.strip("/")
        if not entry.name:
            raise ValueError("an archive entry needs a name")
        self._parents(entry.name)
        self.entries[entry.name] = entry

    def directory(self, path: str, mode: int = 0o755) -> None:
        self._add(_Entry(path, stat.S_IFDIR | mode))

    def file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        self._add(_Entry(path, stat.S_IFREG | mode, data))

    def symlink(self, path: str, target: str) -> None:
        self._add(_Entry(path, stat.S_IFLNK | 0o777, target.encode()))

    def char_device(self, path: str, major: int, minor: int,
                    mode: int = 0o600) -> None:
        self._add(_Entry(path, stat.S_IFCHR | mode, rdev=(major, minor)))

    def __contains__(self, path: str) -> bool:
        return path.strip("/") in self.entries

    def to_bytes(self) -> bytes:
        out = bytearray()
        # Directories sort before their contents: the kernel creates
        # entries in archive order.
        names = sorted(self.entries)
        for ino, name in enumerate(names, start=1):
            out += _record(ino, self.entries[name])
        out += _record(0, _Entry("TRAILER!!!", 0))
        return bytes(out)


def _record(ino: int, entry: _Entry) -> bytes:
    name = entry.name.encode() + b"\0"
    fields = (ino, entry.mode, 0, 0, 1, 0, len(entry.data), 0, 0,
              entry.rdev[0], entry.rdev[1], len(name), 0)
    header = b"070701" + b"".join(b"%08X" % f for f in fields)
    return (header + name + _pad4(len(header) + len(name))
            + entry.data + _pad4(len(entry.data)))
