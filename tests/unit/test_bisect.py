"""The bisect judge without a VM: exit codes, isolation from the tree."""

import os
import shutil
import subprocess
import sys

import pytest

from harness import bisect
from harness.errors import BootError, BuildError
from harness.paths import HARNESS_HOME


@pytest.mark.parametrize("status, code", [
    (0, 0), (1, 1),
    (2, 125), (3, 125), (4, 125), (5, 125),  # interrupted, internal,
    (-9, 125), (137, 125),                   # usage, none collected, killed
])
def test_verdict_maps_pytest_status(status, code):
    assert bisect.verdict(status) == code


def _raise(exc):
    def step():
        raise exc
    return step


@pytest.mark.parametrize("step, code", [
    (lambda: 0, 0), (lambda: 1, 1), (lambda: 125, 125), (lambda: 128, 128),
    (lambda: 2, 125), (lambda: 127, 125),
    (_raise(BuildError("make failed")), 125),
    (_raise(BootError("no prompt")), 125),
    (_raise(SyntaxError("harness/errors.py")), 125),
    (_raise(ImportError("no module")), 125),
    (_raise(SystemExit(1)), 125),
    (_raise(SystemExit(0)), 125),
    (_raise(KeyboardInterrupt()), 130),
])
def test_guarded_never_lets_the_judge_say_bad(step, code, capsys):
    assert bisect.guarded(step) == code


def test_judge_args_wrong_aborts_the_bisect(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert bisect.main(["--vfio=nonsense"]) == bisect.ABORT
    # not a git checkout: the same on every revision, so abort too
    assert bisect.main(["tests"]) == bisect.ABORT


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t",
                        "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


@pytest.fixture
def tree(tmp_path):
    """A git tree holding this harness, then a commit that breaks it."""
    root = tmp_path / "tree"
    root.mkdir()
    shutil.copytree(HARNESS_HOME / "harness", root / "harness",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(HARNESS_HOME / "pyproject.toml", root)
    (root / "tests").mkdir()
    (root / "tests/conftest.py").write_text(
        'pytest_plugins = ["harness.pytest_plugin"]\n')
    (root / "tests/test_which.py").write_text(
        "import harness.errors\n\n\n"
        "def test_which():\n"
        "    print('HARNESS', harness.errors.__file__)\n")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "good harness")
    with open(root / "harness/errors.py", "a") as f:
        f.write("def broken(:\n")
    _git(root, "commit", "-qam", "break the harness")
    return root


def test_judge_of_a_broken_revision_refuses_to_install(tree):
    with pytest.raises(bisect.HarnessError, match="does not import"):
        bisect.install_judge(tree, "HEAD")


def test_pytest_in_the_judge_imports_only_the_judges_harness(tree):
    """The tree's harness is broken; its tests still run on the judge's."""
    script = bisect.install_judge(tree, "HEAD~1")
    home = script.parent
    assert home == (tree / ".git" / bisect.JUDGE_DIR).resolve()
    assert os.access(script, os.X_OK)
    cmd = bisect.pytest_command(sys.executable, home, tree, "ours",
                                "default", ["-s", "-v", "tests/test_which.py"])
    env = bisect.pytest_env(dict(os.environ), tree, home)
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"HARNESS {home}/harness/errors.py" in proc.stdout
    assert f"rootdir: {tree}" in proc.stdout     # test ids are the tree's


def test_installed_judge_outside_a_checkout_aborts(tree, tmp_path):
    script = bisect.install_judge(tree, "HEAD~1")
    proc = subprocess.run([str(script), "tests"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == bisect.ABORT, proc.stderr
    assert "git rev-parse" in proc.stderr
