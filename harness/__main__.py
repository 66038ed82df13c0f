"""python3 -m harness: build, run, shell, exec, bisect, bench, fuzz,
deps."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from . import deps, modsets
from .errors import HarnessError
from .paths import FRAGMENTS, REPO, results_dir
from .progress import note
from .topology import DEFAULT_MACHINE, available

BISECT_SKIP = 125


def _require_deps(install: bool) -> None:
    still = deps.ensure(install)
    if still:
        raise HarnessError(deps.message(still))


def cmd_deps(args: argparse.Namespace) -> int:
    still = deps.ensure(args.install)
    if still:
        print(deps.message(still), file=sys.stderr)
        return 1
    print("all host prerequisites are present")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from .world import build
    w = build(args.flavour, force_kernel=args.force_kernel)
    print(f"kernel   {w.kernel.bzimage} ({w.kernel.release})")
    print(f"headers  {w.layout.headers}")
    print(f"modules  {w.modules.directory}: {' '.join(w.modules.order)}")
    print(f"programs {w.layout.programs}: {' '.join(sorted(w.programs))}")
    print(f"image    {w.image}")
    print(f"accel    {w.accel}")
    return 0


def main_job_args(args: argparse.Namespace) -> list[str]:
    """pytest arguments of the main job (pure): every test that needs a
    guest, on every machine they need, judged as `make check` judges."""
    argv = ["-q", "-p", "no:cacheprovider", "--main-job",
            f"--vfio={args.vfio}", f"--kernel-flavour={args.flavour}",
            "--tb=short", "-rfE",
            f"--junitxml={results_dir() / 'junit.xml'}"]
    if args.machine:
        argv.append(f"--machine={args.machine}")
    if args.jobs != "0":
        argv += ["-n", args.jobs]
    # Paths the user named select what runs; otherwise the whole suite.
    named = [a for a in args.pytest_args
             if not a.startswith("-") and Path(a.split("::")[0]).exists()]
    return [*argv, f"--ignore={REPO / 'tests' / 'unit'}", *args.pytest_args,
            *([] if named else [str(REPO / "tests")])]


def cmd_run(args: argparse.Namespace) -> int:
    """The main job: the suite's guest tests through pytest, so `make`
    and `make check` share one judge; the table is printed at the end."""
    import pytest

    from .world import build
    build(args.flavour)   # build errors surface here, before pytest
    status = pytest.main(main_job_args(args))
    return 0 if status == 0 else 1


def cmd_shell(args: argparse.Namespace) -> int:
    from . import qemu
    from .topology import load
    from .world import build
    w = build(args.flavour)
    boot = w.interactive(append=(modsets.boot_argument(args.modset),))
    cmd = qemu.command(load(args.machine), boot)
    note(f"{args.machine} with the {args.modset} modules; quit with "
         "Ctrl-A X (or `poweroff -f`)")
    os.execvp(cmd[0], cmd)
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    from .image import build_image
    from .world import build
    directory = Path(args.directory).resolve()
    if not directory.is_dir():
        raise HarnessError(f"{directory} is not a directory")
    _check_static(directory, args.command[0])
    w = build(args.flavour)
    image = build_image(w.kernel, w.modules, w.programs,
                        w.layout.work / "initramfs-exec.cpio", directory)
    # A console log of its own per run: two execs must not share one.
    with w.guest(f"exec-{os.getpid()}", args.machine, image=image) as guest:
        guest.use_modules(args.modset)
        # The argv reaches the program as given: quoted for the guest shell.
        result = guest.run("cd /host && " + shlex.join(args.command),
                           timeout=args.timeout)
        sys.stdout.buffer.write(result.data)
        sys.stdout.flush()
        guest.use_modules(modsets.NONE)
    if result.status == 127 and b"not found" in result.data:
        print(f"exec: {args.command[0]} did not start in the guest: is it in "
              f"{directory} and linked static (gcc -static)? The guest has "
              "no shared libraries.", file=sys.stderr)
    return result.status


def _check_static(directory: Path, command: str) -> None:
    """Refuse, before booting, a program in `directory` (named as the
    guest will run it from /host) that needs a dynamic loader: the
    guest has no shared libraries."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    rel = command.removeprefix("/host/") if command.startswith("/host/") \
        else command
    program = directory / rel
    if command.startswith("/") and not command.startswith("/host/") \
            or not program.is_file():
        return  # a guest command, or a name the shell finds on PATH
    try:
        with program.open("rb") as f:
            dynamic = any(seg["p_type"] == "PT_INTERP"
                          for seg in ELFFile(f).iter_segments())
    except (ELFError, OSError):
        return  # a script, or not ELF: the guest will say
    if dynamic:
        raise HarnessError(
            f"{program} is linked dynamically, and the guest has no shared "
            "libraries: link it with -static (gcc -static, or musl-gcc "
            "-static)")


def _count(least: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least `least`."""
    def parse(text: str) -> int:
        try:
            value = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not an integer") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}")
        return value
    return parse


def cmd_bisect(args: argparse.Namespace) -> int:
    """0 good, 1 bad, 125 untestable (git bisect run): harness/bisect.py."""
    from . import bisect
    if args.install_judge is not None:
        # Staged beside the installed judge, which a refused selection
        # leaves as it was.
        staged = bisect.judge_home(REPO).with_name(f"{bisect.JUDGE_DIR}.new")
        try:
            script = bisect.install_judge(REPO, args.install_judge, staged)
            selected = bisect.check_selection(REPO, staged, args.vfio,
                                              args.pytest_args)
        except HarnessError as exc:
            shutil.rmtree(staged, ignore_errors=True)
            print(f"error: {exc}", file=sys.stderr)
            return 2
        script = bisect.commit_judge(staged, REPO)
        line = [str(script), f"--vfio={args.vfio}",
                f"--flavour={args.flavour}", f"--machine={args.machine}",
                *args.pytest_args]
        print(f"judge installed from {args.install_judge}: {script.parent} "
              f"({selected} tests selected in this checkout)")
        print("git bisect run " + " ".join(line))
        return 0
    return bisect.judge(REPO, args.vfio, args.flavour, args.machine,
                        args.pytest_args)


def cmd_lint(args: argparse.Namespace) -> int:
    from .lint import checkpatch, sparse
    from .world import build
    w = build(args.flavour)
    findings = checkpatch(w.kernel) + sparse(w.kernel, w.layout.ours)
    print("\n".join(findings) or "checkpatch --strict and sparse: clean")
    return 1 if findings else 0


def cmd_fresh_check(args: argparse.Namespace) -> int:
    from . import fresh
    return fresh.main(keep=args.keep)


def cmd_bench(args: argparse.Namespace) -> int:
    from . import bench
    return bench.main(args)


def cmd_fuzz(args: argparse.Namespace) -> int:
    """One guest, one seed, both module sets: 0 agreed, 1 diverged."""
    from . import fuzz
    from .errors import GuestSplat
    from .world import build
    w = build(args.flavour)
    print(f"fuzz seed {args.seed}, {args.calls} calls on {args.machine}")
    try:
        with w.guest("fuzz", args.machine) as guest:
            ours, upstream, result = fuzz.fuzz_guest(guest, args.seed,
                                                     args.calls)
    except GuestSplat as exc:
        print(f"fuzz SPLAT: {exc}")
        return 1
    saved = results_dir() / "fuzz"
    fuzz.save({"ours": ours, "upstream": upstream}, saved,
              f"{args.machine}-{args.seed}")
    print(f"transcripts in {saved}")
    for name, run in (("ours", ours), ("upstream", upstream)):
        print(f"{name}: {len(run.calls)} calls in {run.seconds:.1f}s")
        if not run.complete:
            print("\n".join(run.notes[-3:]))
    for call_o, call_u, entry in result.intended:
        kind = "known gap" if entry in fuzz.KNOWN_GAPS else "intended"
        print(f"{kind}: {call_o.line} | upstream {call_u.result} "
              f"({entry.reason})")
    if args.all:
        for call_o, call_u in fuzz.differing(ours, upstream):
            print(f"differ: {call_o.line} | upstream {call_u.result}")
    if not result.ok:
        print(fuzz.format_failure(args.seed, args.calls, args.machine, ours,
                                  upstream, result))
    print(fuzz.summary(args.seed, args.calls, args.machine, result))
    return 0 if result.ok else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m harness",
                                description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument("--flavour", default="default",
                        choices=tuple(FRAGMENTS),
                        help="guest kernel flavour (debug: lockdep, KASAN, "
                        "kmemleak, DEBUG_ATOMIC_SLEEP)")
        sp.add_argument("--machine", default=DEFAULT_MACHINE,
                        choices=available(), help="machine topology")
        return sp

    sp = sub.add_parser("deps", help="check (and install) host packages")
    sp.add_argument("--install", action="store_true",
                    help="apt-get install what is missing (needs root)")
    sp.set_defaults(func=cmd_deps)

    sp = sub.add_parser(
        "fresh-check", help="the README's first command in a new Debian 12 "
        "root (needs root; VFIO_FRESH_DROP=PACKAGE drops a requirement)")
    sp.add_argument("--keep", action="store_true",
                    help="keep the root (~/.cache/vfio-harness/fresh/root)")
    sp.set_defaults(func=cmd_fresh_check)

    sp = add("build", "build the guest kernel, our modules, programs, image")
    sp.add_argument("--force-kernel", action="store_true",
                    help="rebuild the guest kernel even if cached")
    sp.set_defaults(func=cmd_build)

    sp = add("run", "the main job: build, then every guest test on every "
             "machine it needs, on each module set, as a table by feature")
    modsets.add_selection_option(sp, default=modsets.BOTH)
    sp.add_argument("-n", "--jobs", default="0",
                    help="guests in parallel (pytest-xdist workers; 0: one "
                    "at a time, auto: one per core)")
    # More pytest arguments go after `--`: run -- -k api_version
    sp.set_defaults(func=cmd_run, machine=None, pytest_args=[])

    sp = add("shell", "an interactive guest with a module set loaded")
    modsets.add_modset_option(sp, default=modsets.OURS)
    sp.set_defaults(func=cmd_shell)

    sp = add("exec", "copy a directory into the guest's /host and run a "
             "command there")
    modsets.add_modset_option(sp, default=modsets.OURS)
    sp.add_argument("--timeout", type=float, default=300,
                    help="seconds the command may run (default: 300)")
    sp.add_argument("directory", help="host directory (static binaries)")
    sp.add_argument("command", nargs="+", help="command, run in /host")
    sp.set_defaults(func=cmd_exec)

    sp = add("bisect", "exit 0 good, 1 bad, 125 untestable: for "
             "`git bisect run python3 -m harness bisect [pytest args]`")
    modsets.add_selection_option(sp, default=modsets.OURS)
    sp.add_argument("--install-judge", metavar="REV",
                    help="copy REV's harness (e.g. HEAD) out of the tree, "
                    "as a fixed judge for a bisect over revisions that may "
                    "break the harness; prints the `git bisect run` line")
    sp.add_argument("pytest_args", nargs=argparse.REMAINDER,
                    help="pytest arguments selecting the tests "
                    "(default: the whole suite)")
    sp.set_defaults(func=cmd_bisect)

    sp = add("fuzz", "the differential fuzzer: one seeded call sequence on "
             "our modules and on upstream's, compared call by call")
    sp.add_argument("--seed", type=_count(0), default=1,
                    help="the sequence's seed (default: 1)")
    sp.add_argument("--calls", type=_count(1), default=2000,
                    help="calls per module set (default: 2000)")
    sp.add_argument("--all", action="store_true",
                    help="also list every differing call (for triage: "
                    "after the first, they may be its cascade)")
    sp.set_defaults(func=cmd_fuzz)

    sp = add("lint", "checkpatch --strict and sparse over kernel/")
    sp.set_defaults(func=cmd_lint)

    sp = add("bench", "benchmarks, printed as tables")
    sp.add_argument("which", choices=("loop", "dma", "pci"),
                    help="loop: build, boot and edit-to-verdict times; "
                    "dma: type1 map/unmap, ours against upstream; "
                    "pci: interrupt round trip and BAR0 access, ours "
                    "against upstream")
    sp.add_argument("--clean", action="store_true",
                    help="also time a clean kernel build (minutes)")
    sp.add_argument("--runs", type=_count(1), default=None,
                    help="loop: runs per step (default 3); dma, pci: "
                    "rounds per module set after the warm-up round "
                    "(default 6: fewer can never be conclusive)")
    sp.add_argument("--clock", choices=("icount", "wall", "both"),
                    default="icount",
                    help="dma, pci: icount (default) times guest work in "
                    "executed instructions (-icount shift=0,sleep=off: "
                    "host load cannot move it); wall times it by the "
                    "host's clock; both runs one then the other and "
                    "shows them side by side")
    sp.add_argument("--repeat", type=_count(1), default=1,
                    help="dma, pci: boot this many times and show how "
                    "each row's speedup spreads across the boots")
    sp.add_argument("--mib", type=_count(1), action="append",
                    help="dma: buffer size in MiB (repeatable; default "
                    "64, 256 and 1024)")
    sp.add_argument("--suite", action="store_true",
                    help="loop: also time the whole suite serial and "
                    "sharded, and check both give the same verdicts "
                    "(minutes)")
    sp.set_defaults(func=cmd_bench)
    return p


VENV = REPO / ".venv"
# Commands that need only the standard library: they run from any python3
# (the Makefile runs `deps` to set up the very venv the others need).
STDLIB_ONLY = ("deps", "fresh-check")


def _has_dependencies() -> bool:
    """Can this python run the harness as it is (some other venv, say a
    checkout's whose harness judges a temporary clone)?"""
    try:
        return all(importlib.util.find_spec(m) is not None
                   for m in ("pexpect", "pytest", "qemu.qmp"))
    except ImportError:     # a parent package (qemu) is missing
        return False


def _venv_python() -> list[str] | None:
    """The command that re-runs this CLI in the project's venv, if needed.

    None when already running there.  The README's `python3 -m harness`
    is the system python3, which has no pexpect or qemu.qmp; the venv
    (`make deps`) has them.  Raises HarnessError when the venv is missing.
    """
    # The guard stops a loop should the venv's python not report the venv
    # as its prefix; popped so that programs started from here re-decide.
    if os.environ.pop("VFIO_HARNESS_REEXEC", None) or \
            Path(sys.prefix).resolve() == VENV.resolve() or \
            _has_dependencies():
        return None
    python = VENV / "bin" / "python"
    if (VENV / ".ready").exists() and python.exists():
        return [str(python), "-m", "harness", *sys.argv[1:]]
    if len(sys.argv) > 1 and sys.argv[1] in STDLIB_ONLY:
        return None
    raise HarnessError(f"the project's venv {VENV} is not set up: run "
                       f"`make deps` in {REPO} (it creates it), then "
                       "re-run this command")


def parse(argv: list[str]) -> argparse.Namespace:
    """Parse the command line; for `run`, what follows `--` is handed to
    pytest untouched (argparse would read it as its own)."""
    extra: list[str] = []
    if len(argv) > 1 and argv[0] == "run" and "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    args = parser().parse_args(argv)
    if extra:
        args.pytest_args = extra
    return args


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        try:
            venv = _venv_python()
        except HarnessError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return BISECT_SKIP if sys.argv[1:2] == ["bisect"] else 2
        if venv:
            os.environ["VFIO_HARNESS_REEXEC"] = "1"
            path = os.environ.get("PYTHONPATH")
            os.environ["PYTHONPATH"] = os.pathsep.join(
                [str(REPO), *([path] if path else [])])
            os.execv(venv[0], venv)
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        if args.command not in STDLIB_ONLY:
            _require_deps(install=False)
        return int(args.func(args))
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.command == "bisect":
            return BISECT_SKIP
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
