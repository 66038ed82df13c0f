"""A real `git bisect run` with the README's recipe, over a range that also
breaks the harness: the judge must still name the kernel regression.

On top of this checkout's HEAD, in a temporary clone (all but the README
commit are ordered so git 2.39's bisection tests the broken harness and
the unbuildable revision; the asserts say so if another git does not):

    harmless    a comment in vfio_main.c
    harness     a syntax error in harness/errors.py   judged good (its kernel is)
    regression  VFIO_GET_API_VERSION returns 1 more   the first bad commit
    nobuild     an #error in vfio_main.c              untestable: skipped (125)
    readme      a README line

One case on one module set keeps it to a few guest boots (~1-3 minutes).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import bisect
from harness.paths import REPO

# A harness test (it runs git bisect over temporary commits), not VFIO
# behaviour: left out of the main job.
pytestmark = [pytest.mark.feature("harness"), pytest.mark.host]

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "bisect test",
           "GIT_AUTHOR_EMAIL": "bisect@test", "GIT_COMMITTER_NAME":
           "bisect test", "GIT_COMMITTER_EMAIL": "bisect@test"}
GIT_ENV.pop("VFIO_TREE", None)


def git(tree: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=tree, check=True, text=True,
                          capture_output=True, env=GIT_ENV).stdout.strip()


def commit(tree: Path, message: str, path: str, edit) -> str:
    f = tree / path
    f.write_text(edit(f.read_text()))
    git(tree, "commit", "-qam", message)
    return git(tree, "rev-parse", "HEAD")


def test_bisect_skips_what_it_cannot_judge_and_names_the_regression(
        world, tmp_path):
    if not (REPO / ".git").exists():
        pytest.skip(f"{REPO} is not a git checkout: nothing to clone")
    tree = tmp_path / "tree"
    git(REPO, "clone", "-q", str(REPO), str(tree))
    base = git(tree, "rev-parse", "HEAD")

    # The recipe: install the judge while the checkout's harness works.
    install = subprocess.run(
        [sys.executable, "-m", "harness", "bisect", "--install-judge", "HEAD",
         "tests/guest/container.c", "-k", "api_version"],
        cwd=tree, env=GIT_ENV, capture_output=True, text=True, check=False)
    assert install.returncode == 0, install.stderr
    run_line = install.stdout.splitlines()[-1].split()
    assert run_line[:3] == ["git", "bisect", "run"], install.stdout
    assert Path(run_line[3]).parent == bisect.judge_home(tree)

    # A mistyped selection is refused, and the judge installed stays.
    judge_commit = (bisect.judge_home(tree) / "COMMIT").read_text()
    refused = subprocess.run(
        [sys.executable, "-m", "harness", "bisect", "--install-judge", "HEAD",
         "tests/guest/no_such_program.c"],
        cwd=tree, env=GIT_ENV, capture_output=True, text=True, check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "matches no test" in refused.stderr
    assert (bisect.judge_home(tree) / "COMMIT").read_text() == judge_commit
    assert not bisect.judge_home(tree).with_name(
        f"{bisect.JUDGE_DIR}.new").exists()

    main_c = "kernel/drivers/vfio/vfio_main.c"
    commit(tree, "harmless", main_c, lambda s: s + "/* harmless */\n")
    harness = commit(tree, "harness: broken", "harness/errors.py",
                     lambda s: s + "\ndef broken(:\n")
    regression = commit(
        tree, "container: the wrong API version",
        "kernel/drivers/vfio/container.c",
        lambda s: s.replace("return VFIO_API_VERSION;",
                            "return VFIO_API_VERSION + 1;", 1))
    nobuild = commit(tree, "does not build", main_c,
                     lambda s: s + "#error this revision does not build\n")
    commit(tree, "readme", "README.md", lambda s: s + "\nA README line.\n")
    assert git(tree, "show", "--stat", "--format=", regression).startswith(
        "kernel/drivers/vfio/container.c"), "the regression edit missed"

    git(tree, "bisect", "start", "HEAD", base)
    run = subprocess.run(run_line, cwd=tree, env=GIT_ENV, check=False,
                         capture_output=True, text=True, timeout=1800)
    log = git(tree, "bisect", "log")
    story = f"{run.stdout}\n{run.stderr}\n{log}"
    verdicts = {sha: word for word, sha in re.findall(
        r"^git bisect (good|bad|skip) ([0-9a-f]{40})$", log, re.MULTILINE)}
    assert f"# first bad commit: [{regression}]" in log, story
    assert verdicts.get(harness) == "good", (
        "the revision with the broken harness was not judged on its "
        "kernel:\n" + story)
    assert verdicts.get(nobuild) == "skip", story
    assert list(verdicts.values()).count("skip") == 1, story
