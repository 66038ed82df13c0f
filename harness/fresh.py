"""`make fresh-check`: the README's first command on a new Debian 12 root.

Bootstraps a minimal bookworm (`mmdebstrap --variant=minbase`, plus `make`,
the one program the README's first command assumes) from the host's own apt
mirror, copies the checkout's tracked files in, binds proc, sys and dev, and
runs as root in a chroot, stdin closed:

1. `make`: installs what `harness deps` names, builds the guest kernel from
   scratch, prints the validation table; it passes on exit 0 with the
   summary line saying VALIDATION_PASSED;
2. `python3 -m harness exec DIR ./hello` with a tiny static program;
3. `python3 -m harness bisect tests/guest/container.c`, exit 0 expected;

both with Debian's python3, as the README writes them.  The host's pip
configuration (config files, PIP_* variables and the files they name, such
as a CA bundle) is copied in at run time so that the root reaches package
registries the way the host does.  Only standard library: runs from any
python3.  Needs root (debootstrap, chroot, mounts).
"""

from __future__ import annotations

import configparser
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from . import deps
from .errors import HarnessError
from .paths import REPO, cache_root, results_dir
from .progress import note

RELEASE = "bookworm"
COMPONENTS = ("main",)
# Where the checkout goes inside the root, and the tiny program for `exec`.
CHECKOUT = "/root/vfio-cleanroom"
HELLO_DIR = "/root/hello"
HELLO_TEXT = "fresh-check: hello from the guest"
# The words validate.py's summary line ends with when every row passed.
VALIDATION_PASSED = "all passed"
# Host variables passed into the root: registry access, never VFIO_*
# (a host cache path means nothing inside the root) except the accelerator.
PASSED_VARIABLES = re.compile(
    r"PIP_\w+|(HTTPS?|FTP|NO|ALL)_PROXY|(https?|ftp|no|all)_proxy|"
    r"SSL_CERT_(FILE|DIR)|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|VFIO_ACCEL")
# pip's configuration files, as pip looks for them as root (HOME /root).
PIP_CONFIGS = ("/etc/pip.conf", "/etc/xdg/pip/pip.conf",
               "/root/.config/pip/pip.conf", "/root/.pip/pip.conf")
MOUNTS = ("proc", "sys", "dev", "dev/pts", "dev/shm")


@dataclass(frozen=True)
class AptSource:
    """One `deb` entry of an apt sources file: URI, suites, components."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]


def parse_deb822(text: str) -> list[AptSource]:
    """`deb` entries of a deb822 .sources file (stanzas of Field: value).

    Stanzas with `Enabled: no` or without the `deb` type are left out;
    a stanza with several URIs gives one entry per URI.
    """
    sources = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0].isspace() and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split() or \
                fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            sources.append(AptSource(uri, tuple(fields["suites"].split()),
                                     tuple(fields.get("components",
                                                      "").split())))
    return sources


def parse_one_line(text: str) -> list[AptSource]:
    """`deb` entries of a one-line sources.list (`deb [opts] URI suite
    components...`)."""
    sources = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        line = re.sub(r"\[[^]]*\]", " ", line[4:])
        uri, suite, *components = line.split()
        sources.append(AptSource(uri, (suite,), tuple(components)))
    return sources


def host_sources(apt: Path = Path("/etc/apt")) -> list[AptSource]:
    """Every enabled `deb` entry of the host's apt sources under `apt`."""
    sources: list[AptSource] = []
    one_line = [apt / "sources.list",
                *sorted(apt.glob("sources.list.d/*.list"))]
    for path in one_line:
        if path.is_file():
            sources += parse_one_line(path.read_text())
    for path in sorted(apt.glob("sources.list.d/*.sources")):
        sources += parse_deb822(path.read_text())
    return sources


def bootstrap_sources(sources: list[AptSource],
                      release: str = RELEASE) -> list[str]:
    """One-line `deb URI SUITE main` entries for the root, from the host's.

    Keeps the host's suites of `release` (the release itself, -updates,
    -security: linux-source-6.12 comes from bookworm-security) and only
    the components in COMPONENTS.  Raises HarnessError when the host has
    no entry for `release` itself.
    """
    wanted = {release, f"{release}-updates", f"{release}-security"}
    lines = []
    for src in sources:
        components = [c for c in COMPONENTS if c in src.components]
        for suite in src.suites:
            line = f"deb {src.uri} {suite} {' '.join(components)}"
            if suite in wanted and components and line not in lines:
                lines.append(line)
    if not any(line.split()[2] == release for line in lines):
        raise HarnessError(
            f"the host's apt sources (/etc/apt/sources.list, "
            f"/etc/apt/sources.list.d/) have no `{release} main` entry to "
            f"bootstrap from; add one (the host must run Debian 12)")
    return lines


def drop_requirement(deps_source: str, package: str) -> str:
    """harness/deps.py's text with every Requirement of `package` removed.

    For showing that the check fails without it (VFIO_FRESH_DROP); raises
    HarnessError when `package` is not a requirement.
    """
    pattern = re.compile(rf'^\s*Requirement\("{re.escape(package)}",.*\n',
                         re.MULTILINE)
    text, count = pattern.subn("", deps_source)
    if not count:
        raise HarnessError(f"VFIO_FRESH_DROP={package}: no such Requirement "
                           f"in harness/deps.py")
    return text


def validation_passed(status: int, output: str) -> bool:
    """`make`'s exit status and output say the table printed, rows passed."""
    return status == 0 and any(VALIDATION_PASSED in line
                               for line in output.splitlines())


def child_env(host: Mapping[str, str]) -> dict[str, str]:
    """The environment of commands in the root: a clean root login's, plus
    the host's registry access (PASSED_VARIABLES)."""
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                   "/sbin:/bin",
           "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb",
           "DEBIAN_FRONTEND": "noninteractive"}
    env.update({k: v for k, v in host.items()
                if PASSED_VARIABLES.fullmatch(k)})
    return env


CA_VARIABLES = ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
                "CURL_CA_BUNDLE")


@dataclass(frozen=True)
class PipFiles:
    """Host paths the host's pip settings name, by how the root gets them.

    files: copied to the same path; cas: CA bundles, also added to the
    root's ca-certificates (whose package, once installed, regenerates
    /etc/ssl/certs/ca-certificates.crt); directories: bind-mounted
    read-only (local indexes and wheel directories can be gigabytes).
    """

    files: frozenset[str]
    cas: frozenset[str]
    directories: frozenset[str]


def pip_files(env: Mapping[str, str], configs: list[str],
              is_dir: Callable[[str], bool]) -> PipFiles:
    """What the root needs of the host's pip settings and CA variables.

    `configs` are the texts of pip configuration files; every value token
    that is an absolute path or a file:// URL counts (cert, constraint,
    find-links, ...).  A directory named `simple` stands for its parent: a
    local PEP 503 index keeps its files beside it.  SSL_CERT_DIR is left
    out: the root's own ca-certificates fills it.
    """
    values = [v for k, v in env.items() if PASSED_VARIABLES.fullmatch(k)
              and k != "SSL_CERT_DIR"]
    cas = {env[k] for k in CA_VARIABLES if env.get(k, "").startswith("/")}
    for text in configs:
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(text)
        for section in parser.sections():
            values += parser[section].values()
            if parser[section].get("cert", "").startswith("/"):
                cas.add(parser[section]["cert"])
    files, directories = set(), set()
    for value in values:
        for token in value.split():
            token = token.removeprefix("file://").rstrip("/")
            if not token.startswith("/"):
                continue
            if not is_dir(token):
                files.add(token)
            elif Path(token).name == "simple":
                directories.add(str(Path(token).parent))
            else:
                directories.add(token)
    return PipFiles(frozenset(files | cas), frozenset(cas),
                    frozenset(directories))


def mounts_under(root: Path, mountinfo: str) -> list[str]:
    """Mount points at or below `root`, from /proc/self/mountinfo's text."""
    found = []
    prefix = str(root).rstrip("/")
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 4:
            point = fields[4].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                found.append(point)
    return found


# ---- what touches the host -------------------------------------------------

def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True)
    if proc.returncode:
        raise HarnessError(f"`{' '.join(cmd)}` failed:\n{proc.stderr}")


def remove_root(root: Path) -> None:
    """rm -rf `root`, refusing while anything is still mounted under it."""
    if still := mounts_under(root, Path("/proc/self/mountinfo").read_text()):
        raise HarnessError(f"not removing {root}: still mounted: "
                           f"{', '.join(still)}; unmount them (umount -R "
                           f"{root}/...) and re-run")
    if root.exists():
        # rm: several times faster than shutil.rmtree on the kernel tree.
        _run(["rm", "-rf", "--one-file-system", str(root)])


def bootstrap(root: Path, lines: list[str], log: Path) -> None:
    cmd = ["mmdebstrap", "--mode=root", "--variant=minbase",
           "--include=make", RELEASE, str(root), *lines]
    note(f"bootstrapping {RELEASE} into {root} from: " + "; ".join(lines))
    with log.open("w") as out:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out,
                              stderr=subprocess.STDOUT)
    if proc.returncode:
        raise HarnessError(f"mmdebstrap failed; its log: {log}\n"
                           + "".join(log.read_text().splitlines(True)[-15:]))


def copy_checkout(dest: Path, drop: str | None) -> None:
    """The working tree's tracked files (not build/, .venv/, results/)."""
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"],
                           check=True, capture_output=True,
                           text=True).stdout.split("\0")
    for name in filter(None, files):
        src = REPO / name
        if not src.exists() and not src.is_symlink():
            continue        # deleted in the working tree
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target, follow_symlinks=False)
    if drop:
        path = dest / "harness/deps.py"
        path.write_text(drop_requirement(path.read_text(), drop))
        note(f"VFIO_FRESH_DROP: {drop} removed from the root's "
             "harness/deps.py; this run must fail")


def copy_host_config(root: Path) -> list[str]:
    """Copy DNS and the host's pip configuration into `root`.

    Returns the host directories that pip settings name, to be bound
    read-only at the same paths (see PipFiles).
    """
    texts = []
    extra = os.environ.get("PIP_CONFIG_FILE")
    for name in [*PIP_CONFIGS, *([extra] if extra else [])]:
        src = Path(name)
        if not src.is_file():
            continue
        texts.append(src.read_text())
        (root / name[1:]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, root / name[1:])
    found = pip_files(os.environ, texts, os.path.isdir)
    for name in sorted(found.files):
        if Path(name).is_file():
            (root / name[1:]).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(name, root / name[1:])
    local = root / "usr/local/share/ca-certificates"
    local.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(sorted(found.cas)):
        if Path(name).is_file():
            shutil.copy2(name, local / f"host-{i}.crt")
    shutil.copy2("/etc/resolv.conf", root / "etc/resolv.conf")
    return sorted(d for d in found.directories if Path(d).is_dir())


@contextmanager
def bound(root: Path, readonly: list[str]) -> Iterator[None]:
    """proc, sys, dev (with pts and a private shm) inside `root`, and the
    host directories `readonly` at their own paths, read-only; always
    unmounted again, lazily if something still holds them."""
    done: list[Path] = []
    try:
        for name in [*MOUNTS, *(d[1:] for d in readonly)]:
            point = root / name
            point.mkdir(parents=True, exist_ok=True)
            if name == "proc":
                _run(["mount", "-t", "proc", "proc", str(point)])
            elif name == "dev/shm":
                _run(["mount", "-t", "tmpfs", "-o", "mode=1777", "shm",
                      str(point)])
            elif name in MOUNTS:
                _run(["mount", "--bind", f"/{name}", str(point)])
            else:
                _run(["mount", "--bind", "-o", "ro", f"/{name}",
                      str(point)])
            done.append(point)
        yield
    finally:
        for point in reversed(done):
            if subprocess.run(["umount", str(point)],
                              capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(point)],
                               capture_output=True)


def in_root(root: Path, script: str, log: Path) -> tuple[int, str]:
    """Run `script` with /bin/sh in the root as root; stream and log it.

    Returns (exit status, output).  Whatever the script left running
    (a guest, a build) is killed with its session afterwards.
    """
    cmd = ["chroot", str(root), "/bin/sh", "-c", script]
    note(f"in the root: {script}")
    lines = []
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                env=child_env(os.environ),
                                start_new_session=True, text=True,
                                errors="replace")
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
                out.write(line)
                lines.append(line)
            status = proc.wait()
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    return status, "".join(lines)


HELLO_C = f"""#include <stdio.h>
int main(void)
{{
\tputs("{HELLO_TEXT}");
\treturn 0;
}}
"""


def steps() -> list[tuple[str, str]]:
    """(name, shell script) of each step run in the root, in order."""
    return [
        ("make", f"cd {CHECKOUT} && make"),
        ("exec", f"mkdir -p {HELLO_DIR} && cd {HELLO_DIR} && "
                 f"printf '%s' '{HELLO_C}' > hello.c && "
                 "gcc -static -O2 -o hello hello.c && "
                 f"cd {CHECKOUT} && python3 -m harness exec {HELLO_DIR} "
                 "./hello"),
        ("bisect", f"cd {CHECKOUT} && "
                   "python3 -m harness bisect tests/guest/container.c"),
    ]


def verdict(step: str, status: int, output: str) -> str | None:
    """None when `step` passed, else what went wrong."""
    if step == "make" and not validation_passed(status, output):
        return (f"`make` exited {status}" if status else
                f"`make` printed no summary saying '{VALIDATION_PASSED}'")
    if step == "exec" and (status or HELLO_TEXT not in output):
        return f"`harness exec` exited {status} without '{HELLO_TEXT}'"
    if step == "bisect" and status:
        return f"`harness bisect` exited {status} (0 = good expected)"
    return None


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through the unmounts


def main(keep: bool = False) -> int:
    """Run the whole check; 0 when every step passed, else 1.

    Raises HarnessError when the check itself cannot run (not root, no
    apt source for bookworm, mmdebstrap failing).
    """
    if os.geteuid() != 0:
        raise HarnessError("fresh-check needs root (mmdebstrap, chroot, "
                           "bind mounts): run `sudo make fresh-check`")
    still = deps.ensure(install=True, requirements=deps.FRESH_REQUIREMENTS)
    if still:
        raise HarnessError(deps.message(still))
    drop = os.environ.get("VFIO_FRESH_DROP") or None
    lines = bootstrap_sources(host_sources())
    base = cache_root() / "fresh"
    base.mkdir(parents=True, exist_ok=True)
    logs = results_dir() / "fresh"
    logs.mkdir(parents=True, exist_ok=True)
    root = base / "root"
    signal.signal(signal.SIGTERM, _on_sigterm)
    with (base / "lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HarnessError(f"another fresh-check holds {base}/lock; "
                               "wait for it to finish") from None
        start = time.monotonic()
        remove_root(root)
        bootstrap(root, lines, logs / "mmdebstrap.log")
        timings = [f"bootstrap {time.monotonic() - start:.0f}s"]
        copy_checkout(root / CHECKOUT[1:], drop)
        readonly = copy_host_config(root)
        failure = None
        try:
            with bound(root, readonly):
                for name, script in steps():
                    t = time.monotonic()
                    status, output = in_root(root, script,
                                             logs / f"{name}.log")
                    timings.append(f"{name} {time.monotonic() - t:.0f}s")
                    if failure := verdict(name, status, output):
                        failure += f"; its output: {logs / name}.log"
                        break
        finally:
            if not keep:
                remove_root(root)
        total = time.monotonic() - start
        print(f"fresh-check: {', '.join(timings)}; total {total:.0f}s; "
              f"logs in {logs}")
        if failure:
            print(f"fresh-check: FAILED: {failure}", file=sys.stderr)
            return 1
        print("fresh-check: passed: a fresh Debian 12 root ran `make`, "
              "`python3 -m harness exec` and `python3 -m harness bisect`")
        return 0
