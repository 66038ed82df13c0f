"""`harness exec` refuses a dynamically linked program before booting."""

import shutil
from pathlib import Path

import pytest

from harness.__main__ import _check_static
from harness.errors import HarnessError


def test_dynamic_program_is_refused(tmp_path: Path) -> None:
    shutil.copy("/bin/ls", tmp_path / "ls")   # Debian's: dynamic
    with pytest.raises(HarnessError, match="linked dynamically"):
        _check_static(tmp_path, "./ls")
    with pytest.raises(HarnessError, match="linked dynamically"):
        _check_static(tmp_path, "/host/ls")


def test_scripts_guest_commands_and_missing_names_pass(tmp_path: Path) -> None:
    (tmp_path / "run.sh").write_text("#!/bin/sh\necho hi\n")
    _check_static(tmp_path, "./run.sh")
    _check_static(tmp_path, "/bin/ls")     # the guest's busybox ls
    _check_static(tmp_path, "nothing-here")
