"""Our VFIO modules: built out of tree (M=) against the guest kernel.

Kbuild writes objects next to the sources, so the tree under kernel/ is
mirrored into the build directory first; copies keep their mtimes, so
touching one .c rebuilds one object.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from . import stamps
from .errors import BuildError
from .kernel import Kernel, jobs
from .paths import REPO
from .progress import Progress
from .toposort import load_order

SOURCES = REPO / "kernel"
_SOURCE_SUFFIXES = {".c", ".h", ".S"}
_SOURCE_NAMES = {"Kbuild", "Makefile"}
_WARNING = re.compile(r"(warning|error):", re.IGNORECASE)


# Modules named *_kunit hold KUnit suites: they run when loaded, so the
# test suite loads them on demand and they are not part of the set.
KUNIT_SUFFIX = "_kunit"


@dataclass(frozen=True)
class Modules:
    """Our built modules: the set in load order, the KUnit modules, and
    the external modules (harness/external.py) built for each set:
    modset -> module name -> .ko."""

    directory: Path
    order: list[str]
    kunit: list[str]
    extra: dict[str, dict[str, Path]] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.ko"


def _is_source(path: Path) -> bool:
    return path.suffix in _SOURCE_SUFFIXES or path.name in _SOURCE_NAMES


def _same(a: Path, b: Path) -> bool:
    """Same size and mtime, as make and rsync judge: a touch rebuilds."""
    sa, sb = a.stat(), b.stat()
    return sa.st_size == sb.st_size and sa.st_mtime_ns == sb.st_mtime_ns


def mirror(src: Path, dst: Path) -> bool:
    """Make dst's sources equal src's; True when anything changed."""
    changed = False
    wanted = set()
    for path in src.rglob("*"):
        if not path.is_file() or not _is_source(path):
            continue
        rel = path.relative_to(src)
        wanted.add(rel)
        target = dst / rel
        if target.exists() and _same(path, target):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        changed = True
    if dst.exists():
        for path in dst.rglob("*"):
            if path.is_file() and _is_source(path) \
                    and path.relative_to(dst) not in wanted:
                path.unlink()
                changed = True
    return changed


def modinfo(ko: Path) -> dict[str, str]:
    """The `key=value` strings of a module's .modinfo section, as
    `modinfo` prints them, read with pyelftools (14 modinfo runs took
    0.23 s on a loaded host; this takes milliseconds).

    Raises BuildError when `ko` is not an ELF object with a .modinfo
    section.
    """
    try:
        with ko.open("rb") as f:
            section = ELFFile(f).get_section_by_name(".modinfo")
            data = section.data() if section is not None else None
    except ELFError as e:
        raise BuildError(f"{ko} is not an ELF object: {e}") from e
    if data is None:
        raise BuildError(f"{ko} has no .modinfo section")
    info: dict[str, str] = {}
    for entry in data.split(b"\0"):
        key, eq, value = entry.decode(errors="replace").partition("=")
        if eq:
            info.setdefault(key, value)
    return info


def module_depends(ko: Path) -> set[str]:
    # depends names a module as its file is named (vfio-pci-core), while
    # name gives KBUILD_MODNAME (vfio_pci_core): compare the latter.
    depends = modinfo(ko).get("depends", "")
    return {d.replace("-", "_") for d in depends.split(",") if d}


def module_name(ko: Path) -> str:
    return modinfo(ko).get("name") or ko.stem


def build_ours(kernel: Kernel, out: Path, extra_make: tuple[str, ...] = (),
               kbuild: Path | None = None) -> Modules:
    """Build kernel/drivers/vfio with W=1; any warning fails the build.

    `kbuild` is the kernel tree to build against, when not the guest
    kernel's own (a scratch tree of another config: harness/scratch.py).
    """
    mirror(SOURCES, out / "src")
    mdir = out / "src" / "drivers" / "vfio"
    tree = kbuild or kernel.layout.kbuild
    flat = out / "ko"
    flags = ["W=1", f"VFIO_INCLUDE={out / 'src' / 'include'}", *extra_make]
    # Everything make reads: skip Kbuild's start-up (2-3 s on a loaded
    # host) when none of it changed since the last successful build.
    digest = (stamps.Digest().text("flags", " ".join(flags))
              .stats(p for p in (out / "src").rglob("*")
                     if p.is_file() and _is_source(p))
              .kernel(kernel, tree))
    stamp = out / stamps.STAMP_NAME
    order = stamps.read_extra(stamp, "order")
    if isinstance(order, list) and stamps.fresh(
            stamp, digest, [flat / f"{m}.ko" for m in order]):
        Progress("our modules").finish("unchanged")
        return _split(flat, [str(m) for m in order])
    stamps.forget(stamp)
    cmd = ["make", "-C", str(tree), f"M={mdir}", f"-j{jobs()}", *flags,
           "modules"]
    progress = Progress("our modules")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    (out / "build.log").write_text(log)
    # Report paths in the checkout, not in the mirror.
    shown = log.replace(str(out / "src"), str(SOURCES))
    if proc.returncode != 0:
        raise BuildError(f"our modules failed to build:\n{_excerpt(shown)}")
    if warnings := [ln for ln in shown.splitlines() if _WARNING.search(ln)]:
        raise BuildError("our modules must build W=1 warning-free:\n"
                         + "\n".join(warnings[:40]))
    # Kbuild's list of what this build made: a .ko left over from a
    # source since removed (or another branch) must not be loaded.
    order_file = mdir / "modules.order"
    listed = order_file.read_text().split() if order_file.exists() else []
    kos = sorted(Path(o).with_suffix(".ko") for o in listed)
    if not kos:
        raise BuildError(f"no modules were built under {mdir}")
    depends = {module_name(ko): module_depends(ko) for ko in kos}
    shutil.rmtree(flat, ignore_errors=True)
    flat.mkdir(parents=True)
    for ko in kos:
        shutil.copy2(ko, flat / f"{module_name(ko)}.ko")
    progress.finish(f"{len(kos)} built")
    order = load_order(depends)
    stamps.record(stamp, digest, order=order)
    return _split(flat, order)


def _split(flat: Path, order: list[str]) -> Modules:
    """Modules in `flat`, loaded in `order`: the set, then KUnit's."""
    return Modules(flat, [m for m in order if not m.endswith(KUNIT_SUFFIX)],
                   [m for m in order if m.endswith(KUNIT_SUFFIX)])


def _excerpt(log: str, lines: int = 40) -> str:
    important = [ln for ln in log.splitlines()
                 if _WARNING.search(ln) or "***" in ln]
    return "\n".join((important or log.splitlines())[-lines:])
