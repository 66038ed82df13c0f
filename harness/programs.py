"""Guest test programs: static C (musl) built against the exported uAPI
headers.

Programs are written with the kernel's kselftest_harness.h, included from
the same kernel source, and print KTAP. Their cases are listed from the
source so pytest can collect them without a build or a guest.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import stamps
from .errors import BuildError
from .paths import REPO, Layout

GUEST_TESTS = REPO / "tests" / "guest"
GUEST_BENCH = REPO / "bench" / "guest"
GUEST_FUZZ = REPO / "tests" / "fuzz"   # not KTAP: harness/fuzz.py runs it
MUSL_GCC = "musl-gcc"
LIBC_A = "/usr/lib/x86_64-linux-musl/libc.a"   # what -static links

_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_TEST = re.compile(r"^\s*TEST(?:_SIGNAL)?\s*\(\s*(\w+)", re.M)
_TEST_F = re.compile(
    r"^\s*TEST_F(?:_SIGNAL|_TIMEOUT)?\s*\(\s*(\w+)\s*,\s*(\w+)", re.M)
_VARIANT = re.compile(r"^\s*FIXTURE_VARIANT_ADD\s*\(\s*(\w+)\s*,\s*(\w+)",
                      re.M)
_DIRECTIVE = re.compile(r"^\s*//\s*harness:\s*(.*)$", re.M)
_XFAIL = re.compile(r"^\s*//\s*xfail\((\w+)(?::([\w.*?\[\]-]+))?\):\s*(.+)$",
                    re.M)
_ONLY = re.compile(r"^\s*//\s*only\((\w+)(?::([\w.*?\[\]-]+))?\):\s*(.+)$",
                   re.M)


@dataclass(frozen=True)
class Xfail:
    """`// xfail(MODSET[:CASE-GLOB]): why` — a known, written-down gap."""

    modset: str
    pattern: str
    reason: str

    def applies(self, modset: str, case: str) -> bool:
        return modset == self.modset and fnmatch.fnmatchcase(case,
                                                             self.pattern)


@dataclass(frozen=True)
class ProgramInfo:
    """What the source of a guest program says about it."""

    cases: list[str]
    options: dict[str, str] = field(default_factory=dict)
    xfails: list[Xfail] = field(default_factory=list)
    # `// only(MODSET[:CASE-GLOB]): why`: never run elsewhere (an intended
    # difference, e.g. an input that crashes the other set).
    onlys: list[Xfail] = field(default_factory=list)

    def skip(self, modset: str, case: str) -> str | None:
        """Why `case` must not run on `modset`, if so."""
        for o in self.onlys:
            if (fnmatch.fnmatchcase(case, o.pattern)
                    and modset != o.modset):
                return f"only on {o.modset}: {o.reason}"
        return None

    def xfail(self, modset: str, case: str) -> str | None:
        """Why `case` is expected to fail on `modset`, if it is."""
        for x in self.xfails:
            if x.applies(modset, case):
                return x.reason
        return None

    @property
    def machine(self) -> str | None:
        return self.options.get("machine")

    @property
    def feature(self) -> str | None:
        """The feature group (harness/features.py) the program covers."""
        return self.options.get("feature")

    @property
    def timeout(self) -> float:
        return float(self.options.get("timeout", 120))

    @property
    def cpus(self) -> int | None:
        """`cpus=N`: the vCPUs its cases need (threads or processes that
        must run at once); None for the pool's default (harness/pool.py)."""
        value = self.options.get("cpus")
        return int(value) if value else None


def list_cases(source: str) -> list[str]:
    """KTAP case names a kselftest_harness program will report, in order.

    TEST(x) reports `global.x`; TEST_F(f, x) reports `f.x`, or `f.v.x`
    for each FIXTURE_VARIANT_ADD(f, v).
    """
    code = _COMMENTS.sub("", source)
    variants: dict[str, list[str]] = {}
    for fixture, variant in _VARIANT.findall(code):
        variants.setdefault(fixture, []).append(variant)
    found: list[tuple[int, list[str]]] = []
    for m in _TEST.finditer(code):
        found.append((m.start(), [f"global.{m.group(1)}"]))
    for m in _TEST_F.finditer(code):
        fixture, name = m.group(1), m.group(2)
        names = [f"{fixture}.{v}.{name}" for v in variants.get(fixture, [])]
        found.append((m.start(), names or [f"{fixture}.{name}"]))
    return [name for _, names in sorted(found) for name in names]


def parse_options(source: str) -> dict[str, str]:
    """`// harness: machine=shared-group timeout=60` lines, merged."""
    options: dict[str, str] = {}
    for line in _DIRECTIVE.findall(source):
        for word in line.split():
            key, _, value = word.partition("=")
            options[key] = value
    return options


def parse_xfails(source: str, directive: re.Pattern[str] = _XFAIL
                 ) -> list[Xfail]:
    return [Xfail(m, pattern or "*", reason.strip())
            for m, pattern, reason in directive.findall(source)]


def program_info(path: Path) -> ProgramInfo:
    text = path.read_text()
    return ProgramInfo(list_cases(text), parse_options(text),
                       parse_xfails(text), parse_xfails(text, _ONLY))


def compile_command(layout: Layout, source: Path, output: Path) -> list[str]:
    """gcc command for one static guest program (pure; unit-tested).

    Linked with musl: 45 programs static with glibc were 34 of the
    image's 38 MB (about 750 KB each), which the guest copies into its
    rootfs at every boot (0.5-0.7 s of a 2-2.7 s boot under TCG,
    measured with and without them); with musl they are under 200 KB.
    Linked against glibc's shared library instead, each run of a program
    took 30-80 ms more under TCG (the loader, and copy-on-write faults on
    the fork of each case), which is more than the boot saved.

    Paths in the checkout are written relative to it into the binary
    (__FILE__ in an ASSERT's message, the debug info), so that one
    binary serves every checkout of the same sources (_shared_key).
    Run it in REPO, which the debug info then names ".".
    """
    return [MUSL_GCC, "-static", "-O2", "-g", "-Wall", "-Wextra",
            "-Wno-unused-parameter", "-D_GNU_SOURCE",
            f"-ffile-prefix-map={REPO}=.",
            # The 6.12 uAPI first: the host's /usr/include is older.
            f"-I{layout.headers}", f"-I{GUEST_TESTS / 'include'}",
            f"-I{layout.selftests}", "-o", str(output), str(source),
            "-lpthread"]


SHARED_KEEP_S = 14 * 24 * 3600
"""Compiled programs in the shared cache unused this long are removed."""


_CHECKOUT = "@CHECKOUT@"
"""Stands for REPO in a shared key: checkouts and bisect clones at other
paths share binaries (compile_command keeps REPO out of them)."""


def _shared_key(layout: Layout, source: Path, shared: list[Path]) -> str:
    """What a program's binary depends on: its source and every shared
    header (by content and file name, not where the checkout is), the
    compile command (the kernel's uAPI headers and the selftests are
    named by paths that carry the source version and config key), and
    the compiler and static libc installed."""
    digest = stamps.Digest().text(source.name, source.read_text())
    for header in sorted(shared):
        digest.text(f"header {header.name}", header.read_text())
    cmd = " ".join(compile_command(layout, Path(source.name), Path("OUT")))
    digest.text("cmd", cmd.replace(str(REPO), _CHECKOUT))
    for tool in (shutil.which(MUSL_GCC) or MUSL_GCC, LIBC_A):
        try:
            digest.text(tool, str(Path(tool).stat().st_mtime_ns))
        except OSError:
            digest.text(tool, "missing")
    return digest.hexdigest()[:24]


def _from_shared(cached: Path, binary: Path) -> bool:
    """Copy a binary compiled by another checkout (or bisect step) with
    the same inputs; False when there is none."""
    if not cached.exists():
        return False
    tmp = binary.with_name(f".{binary.name}.{os.getpid()}")
    shutil.copyfile(cached, tmp)  # a new mtime: newer than the sources
    tmp.chmod(0o755)
    tmp.replace(binary)
    os.utime(cached.parent)  # used: keep it
    return True


def _to_shared(binary: Path, cached: Path) -> None:
    """Offer a fresh binary to other checkouts; drop old entries."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".{cached.name}.{os.getpid()}")
    shutil.copyfile(binary, tmp)
    tmp.replace(cached)
    now = time.time()
    for entry in cached.parent.parent.iterdir():
        try:
            if now - entry.stat().st_mtime > SHARED_KEEP_S:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


def _errors(stderr: str, most: int = 30) -> str:
    """The compiler's error lines first (the warnings of
    kselftest_harness.h came first and buried them), then the last lines
    of its output (a linker names what it missed there)."""
    lines = stderr.splitlines()
    errors = [ln for ln in lines if "error" in ln][:most]
    rest = [ln for ln in lines[-8:] if ln not in errors]
    return "\n".join(errors + rest)


def build_programs(layout: Layout) -> dict[str, Path]:
    """Build tests/guest/*.c, bench/guest/*.c and tests/fuzz/*.c that
    changed; return name -> binary.

    A program whose binary is older than its source or a shared header
    is taken from the build cache when a binary of the same inputs is
    there (another worktree's, or a bisect step's: a fresh clone compiled
    all 45 programs, about a minute on a loaded 2-core host), and
    compiled (and offered to the cache) when not.
    """
    layout.programs.mkdir(parents=True, exist_ok=True)
    shared = sorted((GUEST_TESTS / "include").glob("*.h"))
    newest_shared = max((p.stat().st_mtime for p in shared), default=0.0)
    # A changed compile command (flags, include paths) rebuilds all.
    command_file = layout.programs / ".compile-command"
    command = " ".join(compile_command(layout, Path("SRC"), Path("OUT")))
    same_command = (command_file.exists()
                    and command_file.read_text() == command)
    built: dict[str, Path] = {}
    sources = [*sorted(GUEST_TESTS.glob("*.c")),
               *sorted(GUEST_BENCH.glob("*.c")),
               *sorted(GUEST_FUZZ.glob("*.c"))]
    for source in sources:
        binary = layout.programs / source.stem
        stale = (not same_command or not binary.exists()
                 or binary.stat().st_mtime <
                 max(source.stat().st_mtime, newest_shared))
        if stale:
            cached = (layout.cache / "programs"
                      / _shared_key(layout, source, shared) / source.stem)
            if not _from_shared(cached, binary):
                cmd = compile_command(layout, source, binary)
                proc = subprocess.run(cmd, capture_output=True, text=True,
                                      cwd=REPO)
                if proc.returncode != 0:
                    raise BuildError(f"guest program {source.name} failed "
                                     f"to build:\n{_errors(proc.stderr)}")
                _to_shared(binary, cached)
        built[source.stem] = binary
    if not same_command:
        command_file.write_text(command)
    return built
