"""The guest image: an initramfs written without root, laid out as
harness/guestfs.py says."""

from __future__ import annotations

import subprocess
from pathlib import Path

from . import guestfs, modsets
from .cpio import Archive
from .errors import HarnessError
from .kernel import Kernel
from .modules import Modules
from .paths import REPO

BUSYBOX = Path("/bin/busybox")
IMAGES = REPO / "images"


def _busybox(archive: Archive) -> None:
    if not BUSYBOX.exists():
        raise HarnessError("busybox-static is missing; run `make deps` "
                           "(apt-get install busybox-static)")
    archive.file("bin/busybox", BUSYBOX.read_bytes(), 0o755)
    applets = subprocess.run([str(BUSYBOX), "--list-full"], check=True,
                             capture_output=True, text=True).stdout.split()
    for applet in applets:
        if applet not in archive:
            archive.symlink(applet, "/bin/busybox")


def _tree(archive: Archive, src: Path, dest: str) -> None:
    for path in sorted(src.rglob("*")):
        rel = f"{dest}/{path.relative_to(src)}"
        if path.is_symlink():
            continue  # build/ and source/ point back into the host
        if path.is_dir():
            archive.directory(rel)
        else:
            mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            archive.file(rel, path.read_bytes(), mode)


def upstream_names(kernel: Kernel, ours: Modules) -> list[str]:
    """Our module names that the guest kernel also ships, in our order."""
    root = kernel.layout.modroot / "lib/modules" / kernel.release
    shipped = {p.stem.replace("-", "_") for p in root.rglob("*.ko")}
    return [m for m in ours.order if m in shipped]


def build_image(kernel: Kernel, ours: Modules, programs: dict[str, Path],
                output: Path, extra: Path | None = None) -> Path:
    archive = Archive()
    for d in ("proc", "sys", "dev", "tmp", "run", "root", "etc"):
        archive.directory(d)
    archive.char_device("dev/console", 5, 1)
    archive.char_device("dev/null", 1, 3, 0o666)
    _busybox(archive)
    archive.file("init", (IMAGES / "init").read_bytes(), 0o755)
    archive.file(guestfs.in_archive(guestfs.MODSET_SCRIPT),
                 (IMAGES / "vfio-modset").read_bytes(), 0o755)
    archive.file("etc/profile", b"export PS1='guest# '\n")
    _tree(archive, kernel.layout.modroot / "lib", "lib")
    archive.directory(guestfs.in_archive(modsets.guest_dir(modsets.OURS)))
    for name in ours.order + ours.kunit:
        archive.file(guestfs.in_archive(guestfs.module(modsets.OURS, name)),
                     ours.path(name).read_bytes())
    orders = {modsets.OURS: ours.order,
              modsets.UPSTREAM: upstream_names(kernel, ours)}
    for modset, kos in sorted(ours.extra.items()):
        extra_dir = guestfs.in_archive(guestfs.extra_dir(modset))
        archive.directory(extra_dir)
        for name, ko in sorted(kos.items()):
            archive.file(f"{extra_dir}/{name}.ko", ko.read_bytes())
    for modset, names in orders.items():
        archive.file(guestfs.in_archive(modsets.order_path(modset)),
                     "\n".join(names).encode() + b"\n")
    archive.directory(guestfs.in_archive(guestfs.PROGRAMS))
    for name, binary in sorted(programs.items()):
        archive.file(guestfs.in_archive(guestfs.program(name)),
                     binary.read_bytes(), 0o755)
    archive.directory(guestfs.in_archive(guestfs.HOST))
    if extra:
        _tree(archive, extra, guestfs.in_archive(guestfs.HOST))
    data = archive.to_bytes()
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(output)
    return output
