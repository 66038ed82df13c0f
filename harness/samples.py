"""Sample drivers of ours (kernel/samples/vfio-mdev): built once per
module set, against that set's headers.

A driver written for the 6.12 driver API must build unchanged against
the kernel's own <linux/vfio.h> (and then run on the kernel's VFIO
modules) and against ours (and run on our modules). Each set gets its own
copy of the sources, so the two builds never share objects; ours also
resolves our modules' exports (KBUILD_EXTRA_SYMBOLS). In the guest they
are /vfio/<set>/samples/<name>.ko (modsets.samples_dir), loaded on
demand by the tests that use them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from . import modsets
from .errors import BuildError
from .kernel import Kernel, jobs
from .modules import SOURCES, mirror, module_name
from .progress import Progress

SAMPLE_DIR = Path("samples") / "vfio-mdev"
"""Where the samples live under kernel/ (and under each set's mirror)."""

_WARNING = re.compile(r"(warning|error):", re.IGNORECASE)


def our_symvers(ours_out: Path) -> Path:
    """Module.symvers of our modules' build (harness/modules.py)."""
    return ours_out / "src" / "drivers" / "vfio" / "Module.symvers"


def make_command(kernel: Kernel, src: Path, modset: str,
                 ours_out: Path) -> list[str]:
    """The make command building the samples under `src` for `modset`
    (pure; unit-tested). Ours: our include directory first, and our
    exports known to modpost; upstream: the kernel's headers alone."""
    cmd = ["make", "-C", str(kernel.layout.kbuild),
           f"M={src / SAMPLE_DIR}", "W=1", f"-j{jobs()}"]
    if modset == modsets.OURS:
        cmd += [f"VFIO_INCLUDE={src / 'include'}",
                f"KBUILD_EXTRA_SYMBOLS={our_symvers(ours_out)}"]
    return [*cmd, "modules"]


def build_samples(kernel: Kernel, ours_out: Path, out: Path
                  ) -> dict[str, Path]:
    """Build the samples for each set; return set -> directory of .ko
    files named by module name (empty when there are no samples)."""
    if not (SOURCES / SAMPLE_DIR).is_dir():
        return {}
    built: dict[str, Path] = {}
    progress = Progress("sample drivers")
    for modset in modsets.MODSETS:
        src = out / modset / "src"
        mirror(SOURCES, src)
        proc = subprocess.run(make_command(kernel, src, modset, ours_out),
                              capture_output=True, text=True)
        log = (proc.stdout + proc.stderr).replace(str(src), str(SOURCES))
        (out / modset / "build.log").write_text(log)
        if proc.returncode != 0 or any(_WARNING.search(ln)
                                       for ln in log.splitlines()):
            lines = [ln for ln in log.splitlines() if _WARNING.search(ln)]
            raise BuildError(f"sample drivers failed to build for "
                             f"{modset} (W=1 warning-free):\n"
                             + "\n".join((lines or log.splitlines())[-40:]))
        order = src / SAMPLE_DIR / "modules.order"
        kos = [Path(o).with_suffix(".ko")
               for o in (order.read_text().split() if order.exists()
                         else [])]
        flat = out / modset / "ko"
        shutil.rmtree(flat, ignore_errors=True)
        flat.mkdir(parents=True)
        for ko in kos:
            shutil.copy2(ko, flat / f"{module_name(ko)}.ko")
        built[modset] = flat
    progress.finish(f"{len(built)} sets")
    return built
