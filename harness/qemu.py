"""QEMU command lines, and the choice between KVM and TCG.

The accelerator is chosen by booting: /dev/kvm can exist while every
guest dies with "emulation failure" (nested virtualisation without NPT).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .topology import Topology

QEMU = "qemu-system-x86_64"
QBOOT = Path("/usr/share/qemu/qboot.rom")
SHELL_PORT = "harness"


@dataclass(frozen=True)
class Boot:
    """Everything one QEMU run needs besides the topology."""

    kernel: Path
    initrd: Path
    accel: str = "tcg"
    memory: str = "2G"
    cpus: int = 2
    console_log: Path | None = None
    qmp_socket: Path | None = None
    interactive: bool = False
    extra_append: tuple[str, ...] = ()
    icount: bool = False
    """TCG only: `-icount shift=0,sleep=off`, the guest clock counts
    executed instructions (one per ns), so guest-timed work measures the
    same however loaded the host is (QEMU's docs/devel/tcg-icount.rst)."""


ICOUNT = "shift=0,sleep=off"


BOOT_ARGS = (
    # The initramfs's pages stay where QEMU put them: freeing them
    # poisons every page first (free_reserved_area() memsets 0xcc), 18% of
    # a boot's RIP samples under TCG; keeping them costs ~40 MB of 2 GB.
    "retain_initrd",
    # Only warnings and worse reach the console while booting: each byte
    # through the 16550 is two I/O exits under TCG (io_serial_in/out were
    # 3% of a boot's RIP samples). images/init then restores the level
    # harness.loglevel names (the kernel's default, 7), so every test's
    # console excerpt is as before; a splat while booting still shows.
    "loglevel=5", "harness.loglevel=7",
)
"""Kernel arguments of every boot that only make it faster."""


def kernel_append(topology: Topology, boot: Boot) -> str:
    args = ["console=ttyS0", "panic=-1", "no_timer_check", *BOOT_ARGS,
            *topology.kernel_args]
    # The harness talks to the guest shell on a virtio serial port, so
    # kernel messages and command output never interleave. (A second 16550
    # was tried first: under TCG its input sometimes sat unread in the
    # FIFO. A virtio console came next: QEMU drops what it cannot pass on
    # at once, so output was lost whenever the harness read slowly.)
    args.append("harness.tty=ttyS0" if boot.interactive
                else f"harness.port={SHELL_PORT}")
    args.extend(boot.extra_append)
    return " ".join(args)


def command(topology: Topology, boot: Boot) -> list[str]:
    """The full qemu-system-x86_64 argv for `topology` (pure)."""
    machine = [topology.machine]
    if boot.accel == "kvm":
        machine += topology.kvm_machine_props
    cmd = [QEMU, "-nodefaults", "-no-user-config", "-display", "none",
           "-machine", ",".join(machine), "-accel", boot.accel,
           "-cpu", "max", "-m", boot.memory, "-smp", str(boot.cpus),
           "-no-reboot"]
    if boot.icount:
        if boot.accel != "tcg":
            raise ValueError(f"-icount needs TCG, not {boot.accel}")
        cmd += ["-icount", ICOUNT]
    if topology.firmware == "qboot" and QBOOT.exists():
        cmd += ["-bios", str(QBOOT)]
    for g in topology.globals:
        cmd += ["-global", g]
    cmd += topology.device_args()
    cmd += ["-kernel", str(boot.kernel), "-initrd", str(boot.initrd),
            "-append", kernel_append(topology, boot)]
    if boot.interactive:
        cmd += ["-serial", "mon:stdio"]
    else:
        assert boot.console_log is not None
        cmd += ["-chardev", f"file,id=console,path={boot.console_log}",
                "-serial", "chardev:console",
                "-device", "virtio-serial-pci,id=harness-serial",
                "-chardev", "stdio,id=shell",
                "-device", f"virtserialport,chardev=shell,name={SHELL_PORT}"]
    if boot.qmp_socket:
        cmd += ["-qmp", f"unix:{boot.qmp_socket},server=on,wait=off"]
    return cmd


def kvm_usable_device() -> bool:
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


def _probe_cache(cache: Path) -> Path:
    return cache / "accel-probe.json"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def cached_accel(cache: Path, kernel: Path) -> str | None:
    """The accelerator a probe chose on this host boot for this kernel."""
    try:
        data = json.loads(_probe_cache(cache).read_text())
    except (OSError, ValueError):
        return None
    if data.get("boot_id") == _boot_id() and data.get("kernel") == str(
            kernel) and data.get("mtime") == kernel.stat().st_mtime:
        accel = data.get("accel")
        return accel if isinstance(accel, str) else None
    return None


def remember_accel(cache: Path, kernel: Path, accel: str, why: str) -> None:
    _probe_cache(cache).write_text(json.dumps({
        "boot_id": _boot_id(), "kernel": str(kernel),
        "mtime": kernel.stat().st_mtime, "accel": accel, "why": why}))


def have_qemu() -> bool:
    return shutil.which(QEMU) is not None
