"""The first guest of a run boots while the run builds.

QEMU reads a guest's initramfs when it starts, so a boot cannot wait for
the build it needs. The first guest of a run that is not sharded boots
the image the previous build left, as soon as the run knows the machine
its first test needs, while the modules, programs and image are built;
then the files that differ between that image and the new one (after
an edit of one .c, one module of some tens of KB) are written into the
running guest. When something the boot itself read changed (the
kernel, init, fstab), or more changed than is worth writing, the early
guest is dropped and the pool boots one as it would have anyway.
"""

from __future__ import annotations

import os
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path

from . import qemu
from .cpio import Member
from .errors import HarnessError
from .guest import Guest
from .image import manifest
from .kernel import cached_kernel
from .paths import Layout
from .progress import note
from .world import World, new_guest

PUSH_LIMIT = 2 << 20
"""Bytes worth writing into a booted guest rather than booting again:
here-documents move about 1.4 MB/s under TCG (300 KB in 0.21 s on a
loaded host), a boot takes 1.5-2.7 s."""

BOOT_READ = frozenset({"init", "etc/fstab"})
"""Image files read while the guest boots: a change needs a new boot."""


@dataclass(frozen=True)
class Delta:
    """What turns a guest booted from one image into one booted from
    another: directories to make, files to write (their members in the
    new image), names to remove."""

    directories: tuple[str, ...] = ()
    files: tuple[tuple[str, Member], ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        """Bytes to write."""
        return sum(m.size for _, m in self.files)

    def __bool__(self) -> bool:
        return bool(self.directories or self.files or self.removed)


def delta(old: dict[str, Member], new: dict[str, Member]) -> Delta | str:
    """The Delta from image members `old` to `new` (harness/cpio.py), or
    why a fresh boot is needed instead (pure)."""
    directories, files, removed = [], [], []
    for name in sorted(new.keys() | old.keys()):
        was, now = old.get(name), new.get(name)
        if was == now or (was and now and _same_content(was, now)):
            continue
        if name in BOOT_READ:
            return f"/{name} changed, and the guest read it while booting"
        if now is None:
            assert was is not None
            if stat.S_ISCHR(was.mode) or stat.S_ISBLK(was.mode):
                return f"device node /{name} was removed"
            removed.append(name)
        elif stat.S_ISDIR(now.mode) and was is None:
            directories.append(name)
        elif stat.S_ISREG(now.mode) and (was is None
                                          or stat.S_ISREG(was.mode)):
            files.append((name, now))
        else:
            return f"/{name} changed type, mode or target"
    found = Delta(tuple(directories), tuple(files), tuple(removed))
    if found.size > PUSH_LIMIT:
        return (f"{found.size >> 10} KiB changed, more than booting "
                "again costs")
    return found


def _same_content(a: Member, b: Member) -> bool:
    return (a.mode, a.rdev, a.size, a.sha256) == (b.mode, b.rdev, b.size,
                                                  b.sha256)


def _kernel_identity(bzimage: Path) -> tuple[str, int]:
    return str(bzimage), bzimage.stat().st_mtime_ns


@dataclass
class HeadStart:
    """A guest launched before the build, with what it booted: the
    image's members and the kernel's path and mtime."""

    guest: Guest
    machine: str
    cpus: int
    members: dict[str, Member]
    kernel: tuple[str, int]

    @classmethod
    def launch(cls, lay: Layout, image: Path, machine: str, cpus: int,
               name: str) -> HeadStart | None:
        """Launch `machine` on `lay`'s built kernel and the `image` the
        last build wrote, or None when either is missing (or no
        accelerator was chosen yet)."""
        kernel = cached_kernel(lay)
        members = manifest(image)
        if kernel is None or members is None:
            return None
        accel = (os.environ.get("VFIO_ACCEL")
                 or qemu.cached_accel(lay.cache, kernel.bzimage))
        if accel is None:
            return None
        guest = new_guest(kernel, image, accel, name, machine, cpus=cpus)
        return cls(guest.launch(), machine, cpus, members,
                   _kernel_identity(kernel.bzimage))

    def adopt(self, world: World) -> Guest | None:
        """The early guest brought up to `world`'s image, or None (and
        the guest gone) when a fresh boot is needed."""
        new = manifest(world.image)
        found = self._why_not(world) or (
            delta(self.members, new) if new is not None
            else "the new image has no record of its members")
        if not isinstance(found, Delta):
            note(f"the guest booted during the build is dropped: {found}")
            self.close()
            return None
        try:
            self.guest.wait_ready()
            self._apply(found, world.image)
        except (HarnessError, OSError) as exc:
            note(f"the guest booted during the build is dropped: {exc}")
            self.close()
            return None
        return self.guest

    def _why_not(self, world: World) -> str | None:
        if _kernel_identity(world.kernel.bzimage) != self.kernel:
            return "the guest kernel was rebuilt"
        if world.image != self.guest.boot.initrd:
            return "the run's image is another file"
        if world.accel != self.guest.boot.accel:
            return "the accelerator changed"
        return None

    def _apply(self, found: Delta, image: Path) -> None:
        if found.directories or found.removed:
            self.guest.check(" && ".join(
                [f"rm -rf {shlex.quote('/' + n)}"
                 for n in reversed(found.removed)]
                + [f"mkdir -p {shlex.quote('/' + n)}"
                   for n in found.directories]))
        if not found.files:
            return
        files = []
        with image.open("rb") as f:
            for name, member in found.files:
                f.seek(member.offset)
                files.append((f"/{name}", member.mode, f.read(member.size)))
        self.guest.write_files(files)
        note(f"{len(files)} changed file(s), {found.size >> 10} KiB, "
             "written into the guest that booted during the build")

    def close(self) -> None:
        self.guest.close()
