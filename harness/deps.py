"""Host prerequisites: what is missing, and the command that installs it."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .progress import note


@dataclass(frozen=True)
class Requirement:
    package: str      # the Debian package that provides it
    probe: str        # a command on PATH, or an absolute path

    def present(self) -> bool:
        if self.probe.startswith("/"):
            return Path(self.probe).exists()
        return shutil.which(self.probe) is not None


# What a fresh Debian 12 needs besides its essential set, for the build,
# image and boot paths.  Cross-checked by tests/unit/test_deps.py against
# PROGRAMS (below) and against the commands harness/ runs.
REQUIREMENTS = [
    Requirement("qemu-system-x86", "qemu-system-x86_64"),
    Requirement("busybox-static", "/bin/busybox"),
    Requirement("linux-source-6.12", "/usr/src/linux-source-6.12.tar.xz"),
    Requirement("make", "make"),
    Requirement("gcc", "gcc"),
    Requirement("musl-tools", "musl-gcc"),
    Requirement("binutils", "ld"),
    Requirement("binutils", "nm"),
    Requirement("libc6-dev", "/usr/lib/x86_64-linux-gnu/libc.a"),
    Requirement("flex", "flex"),
    Requirement("bison", "bison"),
    Requirement("bc", "bc"),
    Requirement("libelf-dev", "/usr/include/gelf.h"),
    Requirement("libssl-dev", "/usr/include/openssl/ssl.h"),
    Requirement("kmod", "depmod"),
    Requirement("kmod", "modinfo"),
    Requirement("xz-utils", "xz"),
    Requirement("lz4", "lz4"),
    Requirement("binutils", "strip"),
    Requirement("cpio", "cpio"),
    Requirement("perl", "perl"),
    Requirement("rsync", "rsync"),
    Requirement("sparse", "sparse"),
    Requirement("git", "git"),
]

# Every host program the build, image and boot paths run, and why.  The
# kernel's part is Documentation/process/changes.rst of linux-source-6.12,
# narrowed to what tinyconfig + images/*.config use (no Rust, BTF, Sphinx,
# module signing or compression), plus what changes.rst does not list.
PROGRAMS: dict[str, str] = {
    "gcc": "changes.rst; the kernel, our modules",
    "musl-gcc": "the static guest programs, a fifth of glibc's size "
                "(harness/programs.py)",
    "ld": "changes.rst (binutils); gcc's linker",
    "nm": "binutils; harness/variants.py and external.py list what a "
          "module imports",
    "make": "changes.rst; the README's commands, every kernel build",
    "bash": "changes.rst; the kernel's scripts",
    "flex": "changes.rst; kconfig's lexer",
    "bison": "changes.rst; kconfig's parser",
    "depmod": "changes.rst (kmod); modules_install",
    "modinfo": "kmod; harness/modules.py reads module dependencies",
    "bc": "changes.rst; kernel/time/timeconst.h",
    "perl": "not in changes.rst; checkpatch.pl, the kernel's perl scripts",
    "rsync": "not in changes.rst; 6.12's headers_install",
    "xz": "changes.rst omits it; tinyconfig's CONFIG_KERNEL_XZ (a "
          "fragment without CONFIG_KERNEL_LZ4, e.g. an older revision's)",
    "lz4": "changes.rst (for CONFIG_KERNEL_LZ4); images/kernel.config "
           "compresses bzImage with it: XZ's decompression took 1-1.3 s of "
           "every boot under TCG",
    "strip": "binutils; harness/image.py drops the guest programs' debug "
             "info from the image",
    "tar": "changes.rst; GNU tar",
    "cpio": "changes.rst",
    "mount": "changes.rst (util-linux); the fresh-check's bind mounts",
    "umount": "util-linux; the fresh-check's bind mounts",
    "chroot": "coreutils; the fresh-check",
    "rm": "coreutils; the fresh-check removes its root",
    "mmdebstrap": "the fresh-check's Debian 12 root (FRESH_REQUIREMENTS)",
    "awk": "the kernel's scripts (mawk is enough)",
    "sparse": "harness lint (make C=2)",
    "qemu-system-x86_64": "every guest boot",
    "dpkg-query": "harness/paths.py: the linux-source version",
    "apt-get": "harness deps --install",
    "git": "the README's `git bisect run`",
    "python3": "the Makefile's venv (installs python3-venv, python3-pip)",
}

# Programs that Debian's essential set (or apt itself) gives every install.
ESSENTIAL = frozenset({"bash", "tar", "mount", "umount", "chroot", "rm",
                       "awk", "dpkg-query", "apt-get"})

# Provided by the Makefile before the harness can run at all.
BOOTSTRAP = frozenset({"python3"})

# Only `make fresh-check` needs these (on the host that runs it).
FRESH_REQUIREMENTS = [
    Requirement("mmdebstrap", "mmdebstrap"),
]


def missing(requirements: list[Requirement] | None = None
            ) -> list[Requirement]:
    """The requirements (default: REQUIREMENTS) not present on this host."""
    return [r for r in (REQUIREMENTS if requirements is None
                        else requirements) if not r.present()]


def install_command(packages: list[str]) -> list[str]:
    return ["apt-get", "install", "-y", "--no-install-recommends", *packages]


def ensure(install: bool,
           requirements: list[Requirement] | None = None) -> list[str]:
    """Install what is missing when allowed; return what is still missing.

    `requirements` defaults to REQUIREMENTS.  Installing needs root; the
    packages still missing afterwards are returned, for message().
    """
    packages = sorted({r.package for r in missing(requirements)})
    if not packages:
        return []
    if not install or os.geteuid() != 0:
        return packages
    note(f"installing {' '.join(packages)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Fresh package lists: stale ones can name versions long gone.
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(install_command(packages), check=True, env=env)
    return sorted({r.package for r in missing(requirements)})


def message(packages: list[str]) -> str:
    return ("missing host packages: " + ", ".join(packages) +
            "\n  install them with: sudo "
            + " ".join(install_command(packages)))
