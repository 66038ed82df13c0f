"""Kernel style gates for kernel/: checkpatch --strict and sparse."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from .kernel import Kernel, jobs
from .modules import SOURCES, mirror

# checkpatch CHECKs we accept, each for a reason:
ALLOWED = {
    # vfio_alloc_device() is upstream's API; its arguments are type and
    # member names, which have no side effects.
    "MACRO_ARG_REUSE",
}
_FINDING = re.compile(r"^(ERROR|WARNING|CHECK):(\w+):")


def kernel_sources() -> list[Path]:
    return sorted(p for p in SOURCES.rglob("*") if p.suffix in (".c", ".h"))


def checkpatch(kernel: Kernel) -> list[str]:
    """Findings of checkpatch --strict on every file under kernel/."""
    script = kernel.layout.source / "scripts/checkpatch.pl"
    cmd = [str(script), "--strict", "--no-tree", "--terse", "--show-types",
           "--no-summary", "-f", *map(str, kernel_sources())]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    findings = []
    for line in out.splitlines():
        # --terse: "file:line: TYPE:NAME: message"
        parts = line.split(": ", 1)
        m = _FINDING.match(parts[1]) if len(parts) == 2 else None
        if m and m.group(2) not in ALLOWED:
            findings.append(line)
    return findings


SAMPLES = Path("samples") / "vfio-mdev"
"""Our sample drivers under kernel/ (built for the tests by
harness/external.py, which writes their Kbuild)."""


def sparse(kernel: Kernel, out: Path) -> list[str]:
    """Sparse warnings from a C=2 (check every file) build of our modules
    and of our sample drivers, against our headers."""
    src = out / "src"
    mirror(SOURCES, src)
    include = src / "include"
    samples = src / SAMPLES
    targets = [src / "drivers" / "vfio"]
    if samples.is_dir():
        objs = " ".join(f"{c.stem}.o" for c in sorted(samples.glob("*.c")))
        (samples / "Kbuild").write_text(
            f"NOSTDINC_FLAGS += -I{include}\nobj-m += {objs}\n")
        targets.append(samples)
    findings = []
    for target in targets:
        cmd = ["make", "-C", str(kernel.layout.kbuild), f"M={target}",
               "W=1", "C=2", f"VFIO_INCLUDE={include}", f"-j{jobs()}",
               "modules"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        lines = (proc.stdout + proc.stderr).replace(
            str(src), str(SOURCES)).splitlines()
        findings += [ln for ln in lines
                     if "warning:" in ln or "error:" in ln]
    return findings
