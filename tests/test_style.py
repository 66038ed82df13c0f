"""kernel/ follows the kernel's coding style: checkpatch --strict and sparse."""

import shutil

import pytest

from harness.lint import checkpatch, sparse

# Host-only: lint needs no guest, so the main job (`make`) leaves it out.
pytestmark = [pytest.mark.feature("harness"), pytest.mark.host]


def test_checkpatch_strict(world):
    findings = checkpatch(world.kernel)
    assert not findings, "checkpatch --strict:\n" + "\n".join(findings)


@pytest.mark.skipif(not shutil.which("sparse"), reason="sparse not installed")
def test_sparse(world):
    findings = sparse(world.kernel, world.layout.ours)
    assert not findings, "sparse:\n" + "\n".join(findings)
