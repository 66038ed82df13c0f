"""python3 -m harness: build, run, shell, exec, bisect, bench, deps."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from . import deps
from .errors import BootError, BuildError, HarnessError
from .paths import REPO
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


def cmd_run(args: argparse.Namespace) -> int:
    from .validate import validate
    from .world import MODSETS, build
    w = build(args.flavour)
    modsets = MODSETS if args.vfio == "both" else (args.vfio,)
    table, ok = validate(w, modsets, args.machine)
    print(table)
    return 0 if ok else 1


def cmd_shell(args: argparse.Namespace) -> int:
    from . import qemu
    from .topology import load
    from .world import build
    w = build(args.flavour)
    boot = qemu.Boot(kernel=w.kernel.bzimage, initrd=w.image, accel=w.accel,
                     interactive=True,
                     extra_append=(f"harness.modset={args.modset}",))
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
    w = build(args.flavour)
    image = build_image(w.kernel, w.modules, w.programs,
                        w.layout.work / "initramfs-exec.cpio", directory)
    with w.guest("exec", args.machine, image=image) as guest:
        guest.use_modules(args.modset)
        result = guest.run("cd /host && " + " ".join(args.command),
                           timeout=args.timeout)
        sys.stdout.write(result.output)
        guest.use_modules("none")
    return result.status


def cmd_bisect(args: argparse.Namespace) -> int:
    """0 good, 1 bad, 125 when the tree cannot be tested (git bisect run)."""
    from .world import build
    try:
        w = build(args.flavour)
        with w.guest("bisect-boot", args.machine):
            pass
    except (BuildError, BootError) as exc:
        print(f"bisect: cannot test this revision: {exc}", file=sys.stderr)
        return BISECT_SKIP
    pytest_args = args.pytest_args or ["tests"]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q",
                           "-p", "no:cacheprovider",
                           f"--vfio={args.vfio}", *pytest_args], cwd=REPO)
    # pytest: 0 passed, 1 some failed; anything else (usage error, no
    # tests collected, internal error) says nothing about this revision.
    return {0: 0, 1: 1}.get(proc.returncode, BISECT_SKIP)


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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m harness",
                                description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument("--flavour", default="default",
                        choices=("default", "debug"),
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

    sp = add("run", "the main job: build, boot, run the guest validation")
    sp.add_argument("--vfio", default="both",
                    choices=("ours", "upstream", "both"))
    sp.set_defaults(func=cmd_run)

    sp = add("shell", "an interactive guest with a module set loaded")
    sp.add_argument("--modset", default="ours",
                    choices=("ours", "upstream", "none"))
    sp.set_defaults(func=cmd_shell)

    sp = add("exec", "copy a directory into the guest's /host and run a "
             "command there")
    sp.add_argument("--modset", default="ours",
                    choices=("ours", "upstream", "none"))
    sp.add_argument("--timeout", type=float, default=300)
    sp.add_argument("directory", help="host directory (static binaries)")
    sp.add_argument("command", nargs="+", help="command, run in /host")
    sp.set_defaults(func=cmd_exec)

    sp = add("bisect", "exit 0 good, 1 bad, 125 untestable: for "
             "`git bisect run python3 -m harness bisect [pytest args]`")
    sp.add_argument("--vfio", default="ours",
                    choices=("ours", "upstream", "both"))
    sp.add_argument("pytest_args", nargs=argparse.REMAINDER,
                    help="pytest arguments selecting the tests "
                    "(default: the whole suite)")
    sp.set_defaults(func=cmd_bisect)

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
    sp.add_argument("--runs", type=int, default=3)
    sp.set_defaults(func=cmd_bench)
    return p


VENV = REPO / ".venv"
# Commands that need only the standard library: they run from any python3
# (the Makefile runs `deps` to set up the very venv the others need).
STDLIB_ONLY = ("deps", "fresh-check")


def _venv_python() -> list[str] | None:
    """The command that re-runs this CLI in the project's venv, if needed.

    None when already running there.  The README's `python3 -m harness`
    is the system python3, which has no pexpect or qemu.qmp; the venv
    (`make deps`) has them.  Raises HarnessError when the venv is missing.
    """
    # The guard stops a loop should the venv's python not report the venv
    # as its prefix; popped so that programs started from here re-decide.
    if os.environ.pop("VFIO_HARNESS_REEXEC", None) or \
            Path(sys.prefix).resolve() == VENV.resolve():
        return None
    python = VENV / "bin" / "python"
    if (VENV / ".ready").exists() and python.exists():
        return [str(python), "-m", "harness", *sys.argv[1:]]
    if len(sys.argv) > 1 and sys.argv[1] in STDLIB_ONLY:
        return None
    raise HarnessError(f"the project's venv {VENV} is not set up: run "
                       f"`make deps` in {REPO} (it creates it), then "
                       "re-run this command")


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
    args = parser().parse_args(argv)
    try:
        if args.command not in STDLIB_ONLY:
            _require_deps(install=False)
        return args.func(args)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.command == "bisect":
            return BISECT_SKIP
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
