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


REQUIREMENTS = [
    Requirement("qemu-system-x86", "qemu-system-x86_64"),
    Requirement("busybox-static", "/bin/busybox"),
    Requirement("linux-source-6.12", "/usr/src/linux-source-6.12.tar.xz"),
    Requirement("make", "make"),
    Requirement("gcc", "gcc"),
    Requirement("libc6-dev", "/usr/lib/x86_64-linux-gnu/libc.a"),
    Requirement("flex", "flex"),
    Requirement("bison", "bison"),
    Requirement("bc", "bc"),
    Requirement("libelf-dev", "/usr/include/gelf.h"),
    Requirement("libssl-dev", "/usr/include/openssl/ssl.h"),
    Requirement("kmod", "depmod"),
    Requirement("xz-utils", "xz"),
    Requirement("cpio", "cpio"),
    Requirement("perl", "perl"),
    Requirement("sparse", "sparse"),
]


def missing() -> list[Requirement]:
    return [r for r in REQUIREMENTS if not r.present()]


def install_command(packages: list[str]) -> list[str]:
    return ["apt-get", "install", "-y", "--no-install-recommends", *packages]


def ensure(install: bool) -> list[str]:
    """Install what is missing when allowed; return what is still missing."""
    packages = sorted({r.package for r in missing()})
    if not packages:
        return []
    if not install or os.geteuid() != 0:
        return packages
    note(f"installing {' '.join(packages)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Fresh package lists: stale ones can name versions long gone.
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(install_command(packages), check=True, env=env)
    return sorted({r.package for r in missing()})


def message(packages: list[str]) -> str:
    return ("missing host packages: " + ", ".join(packages) +
            "\n  install them with: sudo " + " ".join(install_command(packages)))
