"""Scratch kernel trees: the guest kernel's config with a few options
changed, prepared for building external modules and nothing else.

Some checks need our modules built against a configuration the guest
kernel does not have (upstream's ``CONFIG_VFIO_GROUP=n``, for one). The
shared guest kernel build must never be reconfigured for that (every
checkout on the machine uses it), so a scratch tree is made beside it,
under ``<cache>/scratch/``: the built guest kernel's ``.config`` with the
overrides applied, ``make olddefconfig modules_prepare`` in its own
``O=`` directory, and the guest kernel's ``Module.symvers`` (the exports
of vmlinux do not depend on the options changed here) so that modpost
can check what our modules import. Nothing is built into a kernel image.

A tree is keyed by the source version, the base ``.config`` and the
overrides; a second request for the same key costs nothing. Its record
says how long preparing it took.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from . import kconfig
from .errors import BuildError
from .kernel import Kernel, jobs
from .progress import note

_RECORD = "harness-scratch.json"


@dataclass(frozen=True)
class ScratchTree:
    """A prepared scratch tree: pass ``kbuild`` as ``make -C``."""

    kbuild: Path
    key: str
    prepare_s: float
    """Seconds its preparation took (when it was made)."""
    cached: bool
    """True when this call found it ready."""


def scratch_key(version: str, base_config: str,
                overrides: Mapping[str, str]) -> str:
    """Key of a scratch tree (pure; unit-tested)."""
    h = hashlib.sha256(f"linux-source {version}\n".encode())
    h.update(hashlib.sha256(base_config.encode()).digest())
    for name in sorted(overrides):
        h.update(f"{name}={overrides[name]}\n".encode())
    return h.hexdigest()[:16]


def apply_overrides(config: str, overrides: Mapping[str, str]) -> str:
    """`config` with every option of `overrides` set to its value ('n'
    unsets it); options it did not mention are appended (pure)."""
    lines = []
    for line in config.splitlines():
        name = next(iter(kconfig.parse(line)), None)
        if name not in overrides:
            lines.append(line)
    for name, value in overrides.items():
        lines.append(f"# {name} is not set" if value == "n"
                     else f"{name}={value}")
    return "\n".join(lines) + "\n"


def scratch_root(kernel: Kernel) -> Path:
    """Where scratch trees live: beside the shared build, never in it."""
    return kernel.layout.cache / "scratch" / kernel.layout.tag


def _run(cmd: list[str], log: Path) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = "".join(log.read_text().splitlines(True)[-25:])
        raise BuildError(f"`{' '.join(cmd[3:])}` failed in a scratch tree; "
                         f"full log: {log}\n{tail}")


def prepare(kernel: Kernel, overrides: Mapping[str, str]) -> ScratchTree:
    """A scratch tree of `kernel`'s config with `overrides`, made once.

    Raises BuildError when an override does not survive olddefconfig
    (a dependency the caller must also change).
    """
    layout = kernel.layout
    base = (layout.kbuild / ".config").read_text()
    key = scratch_key(layout.version, base, overrides)
    root = scratch_root(kernel)
    tree = root / key
    root.mkdir(parents=True, exist_ok=True)
    # One preparer per key across checkouts; the others wait for it.
    with (root / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = tree / _RECORD
        if record.exists():
            data = json.loads(record.read_text())
            return ScratchTree(tree, key, float(data["prepare_s"]), True)
        note(f"preparing a scratch kernel tree {tree} "
             f"({', '.join(f'{k}={v}' for k, v in overrides.items())})")
        start = time.monotonic()
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir(parents=True)
        log = tree / "prepare.log"
        (tree / ".config").write_text(apply_overrides(base, overrides))
        _run(["make", "-C", str(layout.source), f"O={tree}",
              f"-j{jobs()}", "olddefconfig", "modules_prepare"], log)
        actual = kconfig.parse((tree / ".config").read_text())
        if problems := kconfig.unmet(dict(overrides), actual):
            raise BuildError("scratch tree: options did not survive "
                             "olddefconfig:\n  " + "\n  ".join(problems))
        shutil.copy2(layout.kbuild / "Module.symvers",
                     tree / "Module.symvers")
        elapsed = round(time.monotonic() - start, 1)
        record.write_text(json.dumps({"key": key, "prepare_s": elapsed,
                                      "overrides": dict(overrides)},
                                     indent=2) + "\n")
        note(f"scratch tree ready in {elapsed:.0f}s")
        return ScratchTree(tree, key, elapsed, False)
