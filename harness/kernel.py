"""The guest kernel: unpack Debian's linux-source, configure, build, cache.

One build tree per source version and flavour. A stamp holds the key of
the source version and config fragments it was built from; a different
key reconfigures and rebuilds incrementally, the same key costs nothing.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from . import kconfig
from .errors import BuildError, HarnessError
from .paths import SOURCE_TARBALL, Layout, fragment_paths
from .progress import Progress, note

_STEP = re.compile(r"^\s+(CC|AS|LD|AR|HOSTCC|OBJCOPY)\s+(?:\[M\]\s+)?(\S+)")


@dataclass(frozen=True)
class Kernel:
    """A built guest kernel and what was exported from it."""

    layout: Layout
    release: str

    @property
    def bzimage(self) -> Path:
        return self.layout.bzimage


def jobs() -> int:
    return int(os.environ.get("VFIO_JOBS", os.cpu_count() or 2))


def _info_path(kbuild: Path) -> Path:
    return kbuild / "harness-build.json"


def build_info(layout: Layout) -> dict[str, Any]:
    """What the last build recorded: key, release, times, object count."""
    try:
        data = json.loads(_info_path(layout.kbuild).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def ensure_source(layout: Layout) -> None:
    if (layout.source / "Makefile").exists():
        return
    if not SOURCE_TARBALL.exists():
        raise HarnessError(f"{SOURCE_TARBALL} is missing; run `make deps` "
                           "(apt-get install linux-source-6.12)")
    dest = layout.source.parent
    tmp = dest.with_name(dest.name + ".unpacking")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    progress = Progress(f"unpacking {SOURCE_TARBALL.name}")
    # Extraction filters came in Python 3.11.4; Debian 12 has 3.11.2.
    filters = hasattr(tarfile, "fully_trusted_filter")
    with tarfile.open(SOURCE_TARBALL) as tar:
        for member in tar:
            if filters:
                tar.extract(member, tmp, filter="fully_trusted")
            else:
                tar.extract(member, tmp)
            progress.step()
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    progress.finish()


def _make(layout: Layout, *targets: str, log: Path,
          progress: Progress | None = None,
          extra: tuple[str, ...] = ()) -> None:
    cmd = ["make", "-C", str(layout.source), f"O={layout.kbuild}",
           f"-j{jobs()}", *extra, *targets]
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            if progress and (m := _STEP.match(line)):
                progress.step(m.group(2))
        if proc.wait() != 0:
            out.flush()
            tail = "".join(log.read_text().splitlines(True)[-25:])
            raise BuildError(f"`make {' '.join(targets)}` failed; "
                             f"full log: {log}\n{tail}")


def configure(layout: Layout, fragments: list[Path], log: Path) -> None:
    layout.kbuild.mkdir(parents=True, exist_ok=True)
    _make(layout, "tinyconfig", log=log)
    merge = layout.source / "scripts/kconfig/merge_config.sh"
    with log.open("a") as out:
        subprocess.run([str(merge), "-m", "-O", str(layout.kbuild),
                        str(layout.kbuild / ".config"), *map(str, fragments)],
                       cwd=layout.source, stdout=out, stderr=subprocess.STDOUT,
                       check=True)
    _make(layout, "olddefconfig", log=log)
    wanted: dict[str, str] = {}
    for fragment in fragments:
        wanted.update(kconfig.parse(fragment.read_text()))
    actual = kconfig.parse((layout.kbuild / ".config").read_text())
    if problems := kconfig.unmet(wanted, actual):
        raise BuildError("config options did not survive olddefconfig "
                         "(a dependency is missing from the fragment):\n  "
                         + "\n  ".join(problems))


def ensure_kernel(layout: Layout, force: bool = False) -> Kernel:
    """Build the guest kernel for `layout` unless the cache already has it.

    Holds a lock on the build tree, so that two runs needing the same
    kernel (xdist controllers, worktrees, bisect steps) build it once.
    """
    ensure_source(layout)
    layout.kbuild.mkdir(parents=True, exist_ok=True)
    lock_path = layout.kbuild.parent / f".{layout.kbuild.name}.lock"
    with open(lock_path, "w") as lock:
        if not _try_lock(lock):
            note(f"waiting for another run building {layout.kbuild}")
            fcntl.flock(lock, fcntl.LOCK_EX)
        kernel = _ensure_kernel_locked(layout, force)
    _prune(layout)
    return kernel


def _try_lock(lock: IO[str]) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


KEEP_TREES = 3
"""Build trees kept per flavour: one per recent config (worktrees and
bisect steps on older configs reuse theirs)."""
KEEP_USED_S = 24 * 3600
"""Beyond KEEP_TREES, a tree used this recently stays too: the lock
covers building, not use, so a tree another run may still be booting
is never removed under it."""


def _prune(layout: Layout) -> None:
    """Remove the flavour's trees beyond KEEP_TREES that no run has used
    for KEEP_USED_S."""
    trees = [p for p in layout.kbuild.parent.glob(f"{layout.flavour}-*")
             if p.is_dir() and _info_path(p).exists()]
    trees.sort(key=lambda p: _info_path(p).stat().st_mtime, reverse=True)
    now = time.time()
    for old in trees[KEEP_TREES:]:
        if (old == layout.kbuild
                or now - _info_path(old).stat().st_mtime < KEEP_USED_S):
            continue
        with open(old.parent / f".{old.name}.lock", "w") as lock:
            if _try_lock(lock):
                shutil.rmtree(old, ignore_errors=True)


def cached_kernel(layout: Layout) -> Kernel | None:
    """The guest kernel of `layout` if the cache has it built for the
    current config, else None; never builds."""
    info = build_info(layout)
    ready = (info.get("key") == layout.config_key
             and layout.bzimage.exists() and layout.headers.exists()
             and layout.modroot.exists())
    return Kernel(layout, info["release"]) if ready else None


def _ensure_kernel_locked(layout: Layout, force: bool) -> Kernel:
    fragments = fragment_paths(layout.flavour)
    key = layout.config_key
    info = build_info(layout)
    if not force and (kernel := cached_kernel(layout)) is not None:
        # Mark it used, for _prune().
        _info_path(layout.kbuild).touch()
        return kernel

    log = layout.kbuild.parent / f"build-{layout.kbuild.name}.log"
    log.write_text("")
    clean = not (layout.kbuild / "vmlinux").exists()
    note(f"building the {layout.flavour} guest kernel in {layout.kbuild} "
         f"({'clean' if clean else 'incremental'}, {jobs()} jobs; log {log})")
    start = time.monotonic()
    configure(layout, fragments, log)
    estimate = info.get("objects") if not clean else info.get("objects", 2600)
    progress = Progress("kernel", estimate if clean else None)
    _make(layout, "bzImage", "modules", log=log, progress=progress)
    objects = progress.done
    progress.finish("built")
    shutil.rmtree(layout.headers.parent, ignore_errors=True)
    _make(layout, "headers_install", log=log,
          extra=(f"INSTALL_HDR_PATH={layout.headers.parent}",))
    shutil.rmtree(layout.modroot, ignore_errors=True)
    _make(layout, "modules_install", log=log,
          extra=(f"INSTALL_MOD_PATH={layout.modroot}", "INSTALL_MOD_STRIP=1"))
    release = subprocess.run(
        ["make", "-s", "-C", str(layout.source), f"O={layout.kbuild}",
         "kernelrelease"], capture_output=True, text=True,
        check=True).stdout.strip().splitlines()[-1]
    elapsed = time.monotonic() - start
    info.update(key=key, release=release, last_build_s=round(elapsed, 1))
    if clean:
        info.update(clean_build_s=round(elapsed, 1), objects=objects)
    _info_path(layout.kbuild).write_text(json.dumps(info, indent=2) + "\n")
    note(f"guest kernel {release} ready in {elapsed:.0f}s")
    return Kernel(layout, release)
