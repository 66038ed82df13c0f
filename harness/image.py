"""The guest image: an initramfs written without root, laid out as
harness/guestfs.py says."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from . import guestfs, modsets, stamps
from .cpio import Archive, Member, members
from .errors import HarnessError
from .kernel import Kernel
from .modules import Modules
from .paths import REPO

BUSYBOX = Path("/bin/busybox")
BASE_NAME = "initramfs-base.cpio"
"""The base archive, shared by every image in one build directory."""
IMAGES = REPO / "images"


def _busybox(archive: Archive) -> None:
    if not BUSYBOX.exists():
        raise HarnessError("busybox-static is missing; run `make deps` "
                           "(apt-get install busybox-static)")
    archive.copy("bin/busybox", BUSYBOX, 0o755)
    applets = subprocess.run([str(BUSYBOX), "--list-full"], check=True,
                             capture_output=True, text=True).stdout.split()
    for applet in applets:
        if applet not in archive:
            archive.symlink(applet, "/bin/busybox")


def _tree(archive: Archive, src: Path, dest: str,
          follow: bool = False) -> None:
    """Copy the tree `src` to `dest` in `archive`. Symlinks are left out
    (the kernel's modroot has build/ and source/ pointing back into the
    host), unless `follow`: then one to a file is copied as that file
    (a user's directory for `harness exec`)."""
    for path in sorted(src.rglob("*")):
        rel = f"{dest}/{path.relative_to(src)}"
        if path.is_symlink() and not (follow and path.is_file()):
            continue
        if path.is_dir():
            archive.directory(rel)
        else:
            mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            archive.copy(rel, path, mode)


def upstream_names(kernel: Kernel, ours: Modules) -> list[str]:
    """Our module names that the guest kernel also ships, in our order."""
    root = kernel.layout.modroot / "lib/modules" / kernel.release
    shipped = {p.stem.replace("-", "_") for p in root.rglob("*.ko")}
    return [m for m in ours.order if m in shipped]


def stripped(binary: Path) -> Path:
    """`binary` without symbols or debug sections, for the guest: the
    programs are built with -g for the host's tools, and those sections
    were a fifth of the image (46.5 MB -> 38.0 MB), which the guest
    kernel copies into its rootfs at every boot (about 17 ms per MB
    under TCG, measured from "Unpacking initramfs" to "Freeing initrd
    memory"). Remade when older than `binary`."""
    out = binary.parent / "stripped" / binary.name
    if not out.exists() or out.stat().st_mtime_ns < binary.stat().st_mtime_ns:
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = ["strip", "-o", str(out), str(binary)]
        subprocess.run(cmd, check=True, capture_output=True)
    return out


def _write(archives: list[Archive], output: Path) -> Path:
    """Write `archives` one after the other into `output` (the kernel
    unpacks concatenated newc archives in turn, later entries replacing
    earlier ones), unless the stamp says `output` already holds them."""
    stamp = output.with_name(output.name + ".stamp.json")
    digest = stamps.Digest()
    for archive in archives:
        digest.text("archive", archive.digest())
    if stamps.fresh(stamp, digest, [output]):
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    stamps.forget(stamp)
    tmp = output.with_name(f"{output.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        for archive in archives:
            archive.write(f)
    tmp.replace(output)
    stamps.record(stamp, digest)
    return output


def build_image(kernel: Kernel, ours: Modules, programs: dict[str, Path],
                output: Path, extra: Path | None = None) -> Path:
    """The initramfs at `output`: what seldom changes (busybox, the
    kernel's modules, the guest programs: about 40 MB) is a base archive
    cached beside it, followed by what an edit of kernel/ changes (our
    modules, the scripts, the user's files), so that an edit rewrites a
    few hundred KB and copies the base (0.6 s became about 0.05 s)."""
    base = Archive()
    for d in ("proc", "sys", "dev", "tmp", "run", "root", "etc"):
        base.directory(d)
    base.char_device("dev/console", 5, 1)
    base.char_device("dev/null", 1, 3, 0o666)
    _busybox(base)
    base.file("etc/profile", b"export PS1='guest# '\n")
    _tree(base, kernel.layout.modroot / "lib", "lib")
    base.directory(guestfs.in_archive(guestfs.PROGRAMS))
    for name, binary in sorted(programs.items()):
        base.copy(guestfs.in_archive(guestfs.program(name)),
                  stripped(binary), 0o755)
    base_cpio = _write([base], output.parent / BASE_NAME)

    top = Archive()
    top.copy("init", IMAGES / "init", 0o755)
    top.copy("etc/fstab", IMAGES / "fstab")
    top.copy(guestfs.in_archive(guestfs.MODSET_SCRIPT),
             IMAGES / "vfio-modset", 0o755)
    top.directory(guestfs.in_archive(modsets.guest_dir(modsets.OURS)))
    for name in ours.order + ours.kunit:
        top.copy(guestfs.in_archive(guestfs.module(modsets.OURS, name)),
                 ours.path(name))
    orders = {modsets.OURS: ours.order,
              modsets.UPSTREAM: upstream_names(kernel, ours)}
    for modset, kos in sorted(ours.extra.items()):
        extra_dir = guestfs.in_archive(guestfs.extra_dir(modset))
        top.directory(extra_dir)
        for name, ko in sorted(kos.items()):
            top.copy(f"{extra_dir}/{name}.ko", ko)
    for modset, names in orders.items():
        top.file(guestfs.in_archive(modsets.order_path(modset)),
                 "\n".join(names).encode() + b"\n")
    top.directory(guestfs.in_archive(guestfs.HOST))
    if extra:
        _tree(top, extra, guestfs.in_archive(guestfs.HOST), follow=True)
    _write([Archive.of_file(base_cpio), top], output)
    if manifest(output) is None:
        base_members = manifest(base_cpio) or _record(
            base_cpio, members(base_cpio))
        top_members = members(output, start=base_cpio.stat().st_size)
        _record(output, {**base_members, **top_members})
    return output


def _manifest_path(image: Path) -> Path:
    return image.with_name(image.name + ".manifest.json")


def _identity(image: Path) -> list[int]:
    st = image.stat()
    return [st.st_size, st.st_mtime_ns]


def manifest(image: Path) -> dict[str, Member] | None:
    """What `image` holds, name -> Member (harness/cpio.py), as recorded
    when it was written; None when there is no record of the file as it
    is now (missing, or the image was rewritten since)."""
    try:
        data = json.loads(_manifest_path(image).read_text())
        if data["image"] != _identity(image):
            return None
        return {name: Member(m[0], (m[1], m[2]), m[3], m[4], m[5])
                for name, m in data["members"].items()}
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def _record(image: Path, found: dict[str, Member]) -> dict[str, Member]:
    """Write `found` as `image`'s manifest; return it."""
    data = {"image": _identity(image),
            "members": {name: [m.mode, *m.rdev, m.offset, m.size, m.sha256]
                        for name, m in found.items()}}
    tmp = _manifest_path(image).with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(_manifest_path(image))
    return found
