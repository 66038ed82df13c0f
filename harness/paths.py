"""Where things live: the checkout, the build cache and the results."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import kconfig
from .errors import HarnessError

HARNESS_HOME = Path(__file__).resolve().parent.parent
"""The directory holding this harness package (a checkout, or a bisect
judge installed outside the tree it judges: see harness/bisect.py)."""


def _tree() -> Path:
    """$VFIO_TREE, else HARNESS_HOME: see REPO."""
    env = os.environ.get("VFIO_TREE")
    return Path(env).resolve() if env else HARNESS_HOME


REPO = _tree()
"""The tree built and tested: its kernel/, tests/, images/, build/ and
results/. The checkout holding this harness, unless $VFIO_TREE names
another (read once, at import)."""
SOURCE_PACKAGE = "linux-source-6.12"
SOURCE_TARBALL = Path("/usr/src/linux-source-6.12.tar.xz")


FRAGMENTS = {
    "default": ["kernel.config"],
    "debug": ["kernel.config", "debug.config"],
    "profile": ["kernel.config", "profile.config"],
}
"""The config fragments of each guest kernel flavour, under images/."""


def fragment_paths(flavour: str) -> list[Path]:
    try:
        names = FRAGMENTS[flavour]
    except KeyError:
        raise HarnessError(f"unknown kernel flavour {flavour!r}; "
                           f"choose one of {', '.join(FRAGMENTS)}") from None
    return [REPO / "images" / name for name in names]


def cache_root() -> Path:
    """The build cache: $VFIO_CACHE, else $XDG_CACHE_HOME/vfio-harness.

    It lives outside the checkout so that every checkout and every
    `git bisect` step shares one guest kernel build.
    """
    if env := os.environ.get("VFIO_CACHE"):
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "vfio-harness"


def source_version() -> str:
    """The Debian version of the installed linux-source package."""
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", SOURCE_PACKAGE],
            check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise HarnessError(
            f"{SOURCE_PACKAGE} is not installed; run `make deps` "
            f"(or apt-get install {SOURCE_PACKAGE})") from exc
    return out.strip()


def path_safe(version: str) -> str:
    """A Debian version made safe for make: no '~' or ':' in paths."""
    return version.replace("~", "_").replace(":", "_")


@dataclass(frozen=True)
class Layout:
    """Every path the harness reads or writes, for one source version."""

    cache: Path
    version: str
    flavour: str = "default"

    @property
    def tag(self) -> str:
        return path_safe(self.version)

    @property
    def source(self) -> Path:
        return self.cache / "src" / self.tag / "linux-source-6.12"

    @property
    def config_key(self) -> str:
        """The key of the guest kernel's config: the source version and
        the flavour's fragments (read from images/ each time)."""
        fragments = fragment_paths(self.flavour)
        return kconfig.cache_key(self.version,
                                 (p.read_bytes() for p in fragments))

    @property
    def kbuild(self) -> Path:
        """The guest kernel's build tree, one per source version, flavour
        and config, so that checkouts and bisect steps whose fragments
        differ never rebuild each other's tree."""
        return (self.cache / "kernel" / self.tag
                / f"{self.flavour}-{self.config_key[:12]}")

    @property
    def bzimage(self) -> Path:
        return self.kbuild / "arch/x86/boot/bzImage"

    @property
    def headers(self) -> Path:
        """uAPI headers exported by `make headers_install`."""
        return self.kbuild / "usr-headers" / "include"

    @property
    def modroot(self) -> Path:
        """The kernel's own modules, laid out by `make modules_install`."""
        return self.kbuild / "modroot"

    @property
    def selftests(self) -> Path:
        return self.source / "tools/testing/selftests"

    @property
    def kunit_tool(self) -> Path:
        return self.source / "tools/testing/kunit"

    @property
    def work(self) -> Path:
        """Per-checkout build products: our modules, guest programs, image."""
        return REPO / "build" / self.flavour

    @property
    def ours(self) -> Path:
        return self.work / "ours"

    @property
    def programs(self) -> Path:
        return self.work / "programs"

    @property
    def initramfs(self) -> Path:
        return self.work / "initramfs.cpio"


def results_dir() -> Path:
    return Path(os.environ.get("VFIO_RESULTS", REPO / "results"))
