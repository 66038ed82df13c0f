"""A writer for the newc cpio format the kernel unpacks as an initramfs.

Writing the archive ourselves means no root, no fakeroot and device nodes
that need no mknod: ownership and modes are just numbers in the header.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO


@dataclass
class _Entry:
    name: str
    mode: int
    data: bytes | Path = b""
    """The content, or the host file it is read from when written."""
    rdev: tuple[int, int] = (0, 0)

    def content(self) -> bytes:
        return self.data.read_bytes() if isinstance(self.data, Path) \
            else self.data


def _pad4(n: int) -> bytes:
    return b"\0" * (-n % 4)


@dataclass
class Archive:
    """An in-memory initramfs; later entries of the same path win."""

    entries: dict[str, _Entry] = field(default_factory=dict)
    written: Path | None = None
    """An archive already written to this file, copied as it is."""

    @classmethod
    def of_file(cls, path: Path) -> Archive:
        """The archive written to `path` (by write()), to be copied into
        a larger one unchanged."""
        return cls(written=path)

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

    def copy(self, path: str, source: Path, mode: int = 0o644) -> None:
        """A file whose content is `source`'s, read when written."""
        self._add(_Entry(path, stat.S_IFREG | mode, source))

    def symlink(self, path: str, target: str) -> None:
        self._add(_Entry(path, stat.S_IFLNK | 0o777, target.encode()))

    def char_device(self, path: str, major: int, minor: int,
                    mode: int = 0o600) -> None:
        self._add(_Entry(path, stat.S_IFCHR | mode, rdev=(major, minor)))

    def __contains__(self, path: str) -> bool:
        return path.strip("/") in self.entries

    def digest(self) -> str:
        """What the archive would hold: names, modes, device numbers,
        contents given as bytes, and for copied files their path, size
        and mtime (a file rewritten in place within one mtime tick is
        missed, as make would miss it)."""
        h = hashlib.sha256()
        if self.written is not None:
            st = self.written.stat()
            h.update(f"{self.written}\0{st.st_size}\0{st.st_mtime_ns}\0"
                     .encode())
        for name in sorted(self.entries):
            e = self.entries[name]
            h.update(f"{name}\0{e.mode}\0{e.rdev}\0".encode())
            if isinstance(e.data, Path):
                st = e.data.stat()
                h.update(f"{e.data}\0{st.st_size}\0{st.st_mtime_ns}\0"
                         .encode())
            else:
                h.update(hashlib.sha256(e.data).digest())
        return h.hexdigest()

    def write(self, out: BinaryIO) -> None:
        """The archive, streamed to `out`."""
        if self.written is not None:
            with self.written.open("rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
            return
        # Directories sort before their contents: the kernel creates
        # entries in archive order.
        names = sorted(self.entries)
        for ino, name in enumerate(names, start=1):
            _write_record(out, ino, self.entries[name])
        _write_record(out, 0, _Entry("TRAILER!!!", 0))

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.write(buf)
        return buf.getvalue()


def _write_record(out: BinaryIO, ino: int, entry: _Entry) -> None:
    name = entry.name.encode() + b"\0"
    data = entry.content()
    fields = (ino, entry.mode, 0, 0, 1, 0, len(data), 0, 0,
              entry.rdev[0], entry.rdev[1], len(name), 0)
    header = b"070701" + b"".join(b"%08X" % f for f in fields)
    out.write(header + name + _pad4(len(header) + len(name)))
    out.write(data)
    out.write(_pad4(len(data)))


_HEADER = 110
"""Bytes of a newc header: the magic and thirteen 8-digit hex fields."""


@dataclass(frozen=True)
class Member:
    """One entry of a written archive, and where its data lies in the
    file (`offset`, `size` in bytes; `sha256` of the data, hex)."""

    mode: int
    rdev: tuple[int, int]
    offset: int
    size: int
    sha256: str


def members(path: Path, start: int = 0) -> dict[str, Member]:
    """The entries of the newc archives written one after another into
    `path` from byte `start`, a later entry of a name replacing an
    earlier one, as the kernel unpacks them.

    Zero padding between archives is skipped, as the kernel skips it.
    Raises ValueError where the file is not such archives.
    """
    found: dict[str, Member] = {}
    with path.open("rb") as f:
        f.seek(start)
        pos = start
        while header := f.read(_HEADER):
            if header.strip(b"\0") == b"" and len(header) < _HEADER:
                break
            if header.startswith(b"\0"):
                skip = len(header) - len(header.lstrip(b"\0"))
                if skip < 4:
                    raise ValueError(f"{path}: stray bytes at {pos}")
                pos += skip - skip % 4
                f.seek(pos)
                continue
            if len(header) < _HEADER or header[:6] != b"070701":
                raise ValueError(f"{path}: no newc header at byte {pos}")
            fields = [int(header[6 + 8 * i:14 + 8 * i], 16)
                      for i in range(13)]
            mode, size, namesize = fields[1], fields[6], fields[11]
            name = f.read(namesize)[:-1].decode()
            data_at = pos + _HEADER + namesize
            data_at += -data_at % 4
            f.seek(data_at)
            data = f.read(size)
            if len(data) != size:
                raise ValueError(f"{path}: {name} is cut short")
            pos = data_at + size + (-size % 4)
            f.seek(pos)
            if name == "TRAILER!!!":
                continue
            found[name] = Member(mode, (fields[9], fields[10]), data_at,
                                 size, hashlib.sha256(data).hexdigest())
    return found
