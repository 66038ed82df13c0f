"""`git bisect run` support: a fixed judge over the revisions under test.

A revision under test may break the harness itself (a syntax error in
harness/, a changed fixture); its own `python3 -m harness bisect` would
then die with a traceback, exit 1, and git would blame it. So the judge is
a copy of a known-good harness, installed once before the bisect into the
git directory (`<git-dir>/vfio-bisect-judge/`, untouched by checkouts):

    python3 -m harness bisect --install-judge [REV] [pytest args]
    git bisect run <git-dir>/vfio-bisect-judge/judge [pytest args]

The judge builds and boots the kernel/, tests/ and images/ of the checkout
it runs in ($VFIO_TREE, see paths.py) and imports only its own harness.
Exit codes follow `git bisect run`: 0 good, 1 bad, 125 cannot test (build,
boot, or any failure of the judge itself), 128 aborts the bisect (the
judge was called wrongly: the same on every revision).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from . import modsets
from .errors import HarnessError

GOOD = 0
BAD = 1
SKIP = 125
ABORT = 128

JUDGE_DIR = "vfio-bisect-judge"
JUDGE_SCRIPT = "judge"
# The bisect judge is whatever python ran `--install-judge`, unless the
# checkout has the project's virtualenv (which has pytest and pexpect).
VENV_PYTHON = Path(".venv/bin/python")


def verdict(pytest_status: int) -> int:
    """The `git bisect run` exit code for a pytest exit status.

    pytest exits 0 when every selected test passed and 1 when some failed:
    good and bad. Anything else (2 interrupted, 3 internal error, 4 usage
    error, 5 no tests collected, a negative status for a signal) says
    nothing about the revision: 125, skip it.
    """
    return {0: GOOD, 1: BAD}.get(pytest_status, SKIP)


def guarded(step: Callable[[], int]) -> int:
    """Run the judge's `step`; any failure of the judge itself is a skip.

    A HarnessError (the revision does not build or boot), any other
    exception, a SystemExit, or a return other than 0/1/125/128 gives 125
    with the reason on stderr. Ctrl-C gives 130, which aborts
    `git bisect run`.
    """
    try:
        code = step()
    except KeyboardInterrupt:
        return 130
    except HarnessError as exc:
        print(f"bisect: cannot test this revision: {exc}", file=sys.stderr)
        return SKIP
    except SystemExit as exc:
        print(f"bisect: the judge exited ({exc.code!r}) instead of giving "
              "a verdict; skipping (125)", file=sys.stderr)
        return SKIP
    except BaseException:  # noqa: BLE001 - nothing may escape as exit 1
        traceback.print_exc()
        print("bisect: the judge itself failed (above); skipping this "
              "revision (125)", file=sys.stderr)
        return SKIP
    if code not in (GOOD, BAD, SKIP, ABORT):
        print(f"bisect: unexpected exit {code}; skipping (125)",
              file=sys.stderr)
        return SKIP
    return code


def pytest_command(python: str, harness_home: Path, tree: Path, vfio: str,
                   flavour: str, pytest_args: Sequence[str]) -> list[str]:
    """The pytest command line that judges `tree` with `harness_home`.

    `-P` keeps the working directory (the tree) off sys.path, `-c` takes
    the judge's pytest settings (its `pythonpath` is the judge), and `-p`
    imports the judge's plugin before the tree's tests/conftest.py names
    `harness.pytest_plugin`, so every `harness` import is the judge's.
    `--rootdir` keeps test ids relative to the tree. PYTHONPATH must hold
    `harness_home` (see `pytest_env`); run it from `tree`.
    """
    return [python, "-P", "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-c", str(harness_home / "pyproject.toml"),
            f"--rootdir={tree}",
            "-p", "harness.pytest_plugin",
            f"--vfio={vfio}", f"--kernel-flavour={flavour}",
            *(pytest_args or ["tests"])]


def pytest_env(environ: dict[str, str], tree: Path,
               harness_home: Path) -> dict[str, str]:
    """`environ` with VFIO_TREE=tree and `harness_home` first on PYTHONPATH."""
    env = dict(environ)
    env["VFIO_TREE"] = str(tree)
    rest = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(harness_home) + (os.pathsep + rest if rest
                                             else "")
    return env


def judge(tree: Path, vfio: str, flavour: str, machine: str | None,
          pytest_args: Sequence[str]) -> int:
    """Judge `tree`: 0 good, 1 bad, 125 untestable (see module doc).

    Builds the guest world from `tree` (kernel/, tests/, images/; build/
    inside it, so successive revisions rebuild incrementally), boots one
    `machine` guest (default: the harness's) to tell a boot failure (125)
    from a test failure, then runs pytest with `pytest_args` on `vfio`
    module sets.
    """
    def step() -> int:
        from . import deps
        from .paths import HARNESS_HOME, REPO
        from .topology import DEFAULT_MACHINE
        from .world import build
        if REPO != tree:
            raise HarnessError(f"the harness was loaded for {REPO}, not "
                               f"{tree}: set VFIO_TREE before importing it")
        if still := deps.ensure(False):
            raise HarnessError(deps.message(still))
        w = build(flavour)
        with w.guest("bisect-boot", machine or DEFAULT_MACHINE):
            pass
        cmd = pytest_command(sys.executable, HARNESS_HOME, tree, vfio,
                             flavour, pytest_args)
        proc = subprocess.run(
            cmd, check=False, cwd=tree,
            env=pytest_env(dict(os.environ), tree, HARNESS_HOME))
        code = verdict(proc.returncode)
        if code == SKIP:
            print(f"bisect: pytest exited {proc.returncode}, which says "
                  "nothing about this revision: skipping (125)",
                  file=sys.stderr)
        return code
    return guarded(step)


def _git(tree: Path, *args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=tree, check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        err = getattr(exc, "stderr", "") or exc
        raise HarnessError(f"git {' '.join(args)} in {tree}: {err}") from exc


def judge_home(tree: Path) -> Path:
    """Where the judge of `tree`'s bisect lives: inside its git directory."""
    return (tree / _git(tree, "rev-parse", "--git-path", JUDGE_DIR)).resolve()


def install_judge(tree: Path, rev: str, home: Path | None = None) -> Path:
    """Copy harness/ and pyproject.toml of `rev` into `home` (by default
    `judge_home(tree)`), replacing what is there.

    Returns the judge script to give `git bisect run`. Raises HarnessError
    when `rev` is unknown, or when its harness does not import with the
    chosen python (pick a revision whose harness works, or `make deps`).
    """
    commit = _git(tree, "rev-parse", "--verify", f"{rev}^{{commit}}")
    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, "harness",
             "pyproject.toml"], cwd=tree, check=True,
            capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise HarnessError(f"git archive {rev} harness pyproject.toml "
                           f"failed in {tree}: {exc}") from exc
    home = home or judge_home(tree)
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(home, filter="data")
    venv = tree / VENV_PYTHON
    python = str(venv) if venv.exists() else sys.executable
    check = subprocess.run(
        [python, "-P", "-c",
         "import pytest, pexpect, harness.bisect, harness.pytest_plugin"],
        cwd=home, env=pytest_env(dict(os.environ), tree, home),
        capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise HarnessError(
            f"the harness of {rev} ({commit[:12]}) does not import with "
            f"{python}:\n{check.stderr.strip()}\ninstall the judge from a "
            "revision whose harness works, after `make deps`")
    script = home / JUDGE_SCRIPT
    script.write_text(
        f"#!{python}\n"
        f'"""bisect judge: the harness of {commit} (harness/bisect.py)."""\n'
        "import sys\n"
        "try:\n"
        "    from harness.bisect import main\n"
        "except BaseException as exc:\n"
        "    print(f'bisect judge: cannot load: {exc!r}', file=sys.stderr)\n"
        f"    sys.exit({SKIP})\n"
        "sys.exit(main(sys.argv[1:]))\n")
    script.chmod(0o755)
    (home / "COMMIT").write_text(commit + "\n")
    return script


def commit_judge(staged: Path, tree: Path) -> Path:
    """Make the judge installed in `staged` the tree's judge, replacing the
    one installed before; returns its script."""
    home = judge_home(tree)
    if home.exists():
        shutil.rmtree(home)
    staged.rename(home)
    return home / JUDGE_SCRIPT


def check_selection(tree: Path, home: Path, vfio: str,
                    pytest_args: Sequence[str]) -> int:
    """How many tests the judge in `home` selects in `tree` now.

    Raises HarnessError when the selection matches nothing or pytest
    refuses it (a mistyped path or -k expression would otherwise make
    every revision untestable, 125, and waste the whole bisect).
    """
    venv = tree / VENV_PYTHON
    python = str(venv) if venv.exists() else sys.executable
    cmd = [*pytest_command(python, home, tree, vfio, "default",
                           pytest_args), "--collect-only"]
    proc = subprocess.run(cmd, cwd=tree, env=pytest_env(dict(os.environ),
                                                        tree, home),
                          capture_output=True, text=True, check=False)
    found = [ln for ln in proc.stdout.splitlines() if "::" in ln]
    if proc.returncode != 0 or not found:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-5:])
        raise HarnessError(
            f"the selection {' '.join(pytest_args) or 'tests'} matches no "
            f"test in {tree} (pytest exit {proc.returncode}):\n{tail}\n"
            "check the path and the -k expression")
    return len(found)


def options() -> argparse.ArgumentParser:
    """The judge's own options (the same as `python3 -m harness bisect`)."""
    p = argparse.ArgumentParser(
        prog="judge", description="a fixed harness judging the checkout "
        "it runs in: exit 0 good, 1 bad, 125 untestable")
    modsets.add_selection_option(p, default=modsets.OURS)
    p.add_argument("--flavour", default="default",
                   choices=("default", "debug"))
    p.add_argument("--machine", default=None)
    p.add_argument("pytest_args", nargs=argparse.REMAINDER)
    return p


def main(argv: Sequence[str]) -> int:
    """The installed judge: judge the git checkout in the working directory.

    Never raises: 0/1/125 as `judge`, 128 (abort the bisect) when the
    arguments are wrong or the working directory is no git checkout.
    """
    try:
        args = options().parse_args(list(argv))
        tree = Path(_git(Path.cwd(), "rev-parse",
                         "--show-toplevel")).resolve()
    except SystemExit:
        return ABORT
    except HarnessError as exc:
        print(f"bisect judge: {exc}", file=sys.stderr)
        return ABORT
    os.environ["VFIO_TREE"] = str(tree)
    return judge(tree, args.vfio, args.flavour, args.machine,
                 args.pytest_args)
