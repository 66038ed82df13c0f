"""Kernel style gates for kernel/: checkpatch --strict and sparse."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from . import stamps
from .kernel import Kernel, jobs
from .modules import SOURCES, mirror
from .paths import REPO

# checkpatch CHECKs we accept, each for a reason:
ALLOWED = {
    # vfio_alloc_device() is upstream's API; its arguments are type and
    # member names, which have no side effects.
    "MACRO_ARG_REUSE",
}
_FINDING = re.compile(r"^(ERROR|WARNING|CHECK):(\w+):")


def kernel_sources() -> list[Path]:
    return sorted(p for p in SOURCES.rglob("*") if p.suffix in (".c", ".h"))


def _checkpatch_tool(script: Path, cmd: list[str]) -> str:
    """The digest of everything checkpatch reads besides the file: the
    script, its word lists, its options and any .checkpatch.conf it
    would pick up (in the working directory, $HOME or .scripts), and
    the perl running it."""
    digest = stamps.Digest().text("cmd", " ".join(cmd)).files(
        [script, script.with_name("spelling.txt"),
         script.with_name("const_structs.checkpatch")])
    for where in (Path.cwd(), Path.home(), Path(".scripts")):
        digest.file((where / ".checkpatch.conf").absolute())
    perl = shutil.which("perl") or "perl"
    try:
        digest.text("perl", str(Path(perl).stat().st_mtime_ns))
    except OSError:
        digest.text("perl", "missing")
    return digest.hexdigest()


def checkpatch(kernel: Kernel, memo: Path | None = None) -> list[str]:
    """Findings of checkpatch --strict on every file under kernel/.

    Each file is checked on its own (checkpatch -f keeps state from one
    file to the next: a CamelCase name is reported in the first file
    only). A file whose content, path and tool (_checkpatch_tool) are
    what they were at the last check is not checked again: its findings
    are in `memo` (default build/checkpatch.json). checkpatch.pl took
    26 s of the suite's time for kernel/ every run; an edit now costs
    the files edited.
    """
    script = kernel.layout.source / "scripts/checkpatch.pl"
    cmd = [str(script), "--strict", "--no-tree", "--terse", "--show-types",
           "--no-summary", "-f"]
    memo = memo or REPO / "build" / "checkpatch.json"
    tool = _checkpatch_tool(script, cmd)
    try:
        known = json.loads(memo.read_text())
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict) or known.get("tool") != tool:
        known = {"tool": tool}
    checked: dict[str, object] = {"tool": tool}
    out = []
    for source in kernel_sources():
        key = stamps.Digest().file(source).hexdigest()
        entry = known.get(str(source))
        if not (isinstance(entry, dict) and entry.get("digest") == key
                and isinstance(entry.get("output"), str)):
            proc = subprocess.run([*cmd, str(source)], capture_output=True,
                                  text=True)
            entry = {"digest": key, "output": proc.stdout}
        checked[str(source)] = entry
        out.append(str(entry["output"]))
    memo.parent.mkdir(parents=True, exist_ok=True)
    tmp = memo.with_name(f".{memo.name}.{os.getpid()}")
    tmp.write_text(json.dumps(checked, indent=1) + "\n")
    tmp.replace(memo)
    findings = []
    for line in "".join(out).splitlines():
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
