"""Everything a guest run needs, built or taken from the cache."""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import qemu
from .external import build_externals
from .guest import Guest
from .image import build_image
from .kernel import Kernel, ensure_kernel
from .modules import Modules, build_ours
from .paths import Layout, cache_root, results_dir, source_version
from .programs import build_programs
from .progress import note
from .topology import DEFAULT_MACHINE, load

KVM_PROBE_TIMEOUT = 15.0
"""Seconds a KVM boot may take before the probe calls KVM unusable: a
tinyconfig guest reaches init in under 2 s even under TCG (GUIDE.md)."""


FLAVOUR_APPEND: dict[str, tuple[str, ...]] = {
    # The debug kernel reports soft lockups and hung tasks (debug.config)
    # so that a hang says where; TCG on a loaded host starves vCPUs for
    # tens of seconds (RCU stalls of 21 s were seen), so the thresholds
    # are those of a hang, not of a busy host: soft lockup after 120 s,
    # hung task after 240 s.
    "debug": ("watchdog_thresh=60",
              "sysctl.kernel.hung_task_timeout_secs=240"),
}


def boot_config(kernel: Kernel, image: Path, accel: str, *,
                console_log: Path | None = None,
                qmp_socket: Path | None = None, interactive: bool = False,
                append: tuple[str, ...] = (), memory: str | None = None,
                icount: bool = False, cpus: int | None = None) -> qemu.Boot:
    """The one place a QEMU run's settings (besides its topology) are made.

    @cpus is QEMU's -smp (default qemu.Boot's).
    """
    append = FLAVOUR_APPEND.get(kernel.layout.flavour, ()) + append
    boot = qemu.Boot(kernel=kernel.bzimage, initrd=image, accel=accel,
                     console_log=console_log, qmp_socket=qmp_socket,
                     interactive=interactive, extra_append=append,
                     icount=icount)
    if cpus is not None:
        boot = replace(boot, cpus=cpus)
    return replace(boot, memory=memory) if memory else boot


def new_guest(kernel: Kernel, image: Path, accel: str, name: str,
              machine: str = DEFAULT_MACHINE, *,
              append: tuple[str, ...] = (), memory: str | None = None,
              icount: bool = False, cpus: int | None = None) -> Guest:
    """A guest (not yet started) booting `kernel` and `image`, whose
    console goes to results/console/`name`.log; see World.guest."""
    logdir = results_dir() / "console"
    logdir.mkdir(parents=True, exist_ok=True)
    boot = boot_config(kernel, image, accel,
                       console_log=logdir / f"{name}.log",
                       qmp_socket=Path(tempfile.gettempdir()) /
                       f"vfio-harness-{os.getpid()}-{name}.qmp",
                       append=append, memory=memory, icount=icount,
                       cpus=cpus)
    return Guest(load(machine), boot)


@dataclass
class World:
    layout: Layout
    kernel: Kernel
    modules: Modules
    programs: dict[str, Path]
    image: Path
    accel: str

    def guest(self, name: str, machine: str = DEFAULT_MACHINE,
              append: tuple[str, ...] = (), image: Path | None = None,
              memory: str | None = None, icount: bool = False,
              cpus: int | None = None) -> Guest:
        """A guest (not yet started) whose console goes to results/.

        @memory is QEMU's -m and @cpus its -smp (defaults qemu.Boot's);
        @icount see qemu.Boot.
        """
        return new_guest(self.kernel, image or self.image, self.accel,
                         name, machine, append=append, memory=memory,
                         icount=icount, cpus=cpus)

    def interactive(self, append: tuple[str, ...] = ()) -> qemu.Boot:
        """Settings for a guest whose console is the user's terminal."""
        return boot_config(self.kernel, self.image, self.accel,
                           interactive=True, append=append)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (str, list, dict) naming what was built, for a
        pytest-xdist worker that must use it without building again."""
        return {"cache": str(self.layout.cache),
                "version": self.layout.version,
                "flavour": self.layout.flavour,
                "release": self.kernel.release,
                "modules": [str(self.modules.directory), self.modules.order,
                            self.modules.kunit],
                "extra": {s: {m: str(p) for m, p in kos.items()}
                          for s, kos in self.modules.extra.items()},
                "programs": {k: str(v) for k, v in self.programs.items()},
                "image": str(self.image), "accel": self.accel}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> World:
        """The inverse of to_dict."""
        lay = Layout(Path(data["cache"]), data["version"], data["flavour"])
        directory, order, kunit = data["modules"]
        extra = {s: {m: Path(p) for m, p in kos.items()}
                 for s, kos in data.get("extra", {}).items()}
        return cls(lay, Kernel(lay, data["release"]),
                   Modules(Path(directory), list(order), list(kunit), extra),
                   {k: Path(v) for k, v in data["programs"].items()},
                   Path(data["image"]), data["accel"])


def layout(flavour: str = "default") -> Layout:
    return Layout(cache_root(), source_version(), flavour)


def build(flavour: str = "default", extra: Path | None = None,
          force_kernel: bool = False) -> World:
    """Build (or take from the cache) the kernel, modules, programs, image."""
    lay = layout(flavour)
    kernel = ensure_kernel(lay, force=force_kernel)
    # Two runs in one checkout build into the same directories: Kbuild
    # deletes and rewrites objects the other is linking (seen: two
    # single-test runs started together failed in modpost).
    lay.work.mkdir(parents=True, exist_ok=True)
    with open(lay.work / ".build.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            note(f"waiting for another run building in {lay.work}")
            fcntl.flock(lock, fcntl.LOCK_EX)
        modules = build_ours(kernel, lay.ours)
        modules = replace(modules,
                          extra=build_externals(kernel, lay, modules))
        programs = build_programs(lay)
        image = build_image(kernel, modules, programs, lay.initramfs, extra)
    return World(lay, kernel, modules, programs, image,
                 choose_accel(lay, kernel, image))


def _probe_kvm(kernel: Kernel, image: Path) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "console.log"
        boot = boot_config(kernel, image, "kvm", console_log=log,
                           append=("harness.probe",))
        cmd = qemu.command(load(DEFAULT_MACHINE), boot)
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True,
                                  timeout=KVM_PROBE_TIMEOUT)
        except subprocess.TimeoutExpired:
            return False, (f"KVM boot did not reach init in "
                           f"{KVM_PROBE_TIMEOUT:.0f}s")
        if "HARNESS-PROBE-OK" in log.read_text(errors="replace"):
            return True, "KVM booted the guest"
        err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return False, f"KVM boot failed: {err}"


def choose_accel(lay: Layout, kernel: Kernel, image: Path) -> str:
    """KVM if a real boot under it works, else TCG; printed either way."""
    forced = os.environ.get("VFIO_ACCEL")
    if forced:
        note(f"accelerator: {forced} (VFIO_ACCEL)")
        return forced
    cached = qemu.cached_accel(lay.cache, kernel.bzimage)
    if cached:
        note(f"accelerator: {cached} (probed earlier on this host boot)")
        return cached
    if not qemu.kvm_usable_device():
        accel, why = "tcg", "/dev/kvm is not usable"
    else:
        start = time.monotonic()
        ok, why = _probe_kvm(kernel, image)
        why += f" ({time.monotonic() - start:.1f}s)"
        accel = "kvm" if ok else "tcg"
    qemu.remember_accel(lay.cache, kernel.bzimage, accel, why)
    note(f"accelerator: {accel} ({why})")
    return accel
