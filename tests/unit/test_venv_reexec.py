"""`python3 -m harness` from any python re-runs in the project's venv."""

import sys
from pathlib import Path

import pytest

import harness.__main__ as cli
from harness.errors import HarnessError


@pytest.fixture
def venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(cli, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(sys, "prefix", "/usr")
    monkeypatch.delenv("VFIO_HARNESS_REEXEC", raising=False)
    # As Debian's python3: no pexpect, pytest or qemu.qmp.
    monkeypatch.setattr(cli, "_has_dependencies", lambda: False)
    return tmp_path / ".venv"


def _make_ready(venv: Path) -> None:
    (venv / "bin").mkdir(parents=True)
    (venv / "bin/python").write_text("")
    (venv / ".ready").write_text("")


def test_system_python_execs_the_venv_with_the_same_arguments(venv, monkeypatch):
    _make_ready(venv)
    monkeypatch.setattr(sys, "argv", ["x", "exec", "DIR", "./prog", "-v"])
    assert cli._venv_python() == [str(venv / "bin/python"), "-m", "harness",
                                  "exec", "DIR", "./prog", "-v"]


def test_the_venv_python_runs_in_place(venv, monkeypatch):
    _make_ready(venv)
    monkeypatch.setattr(sys, "prefix", str(venv))
    assert cli._venv_python() is None


def test_the_guard_stops_a_loop_and_is_not_inherited(venv, monkeypatch):
    _make_ready(venv)
    monkeypatch.setenv("VFIO_HARNESS_REEXEC", "1")
    assert cli._venv_python() is None
    assert "VFIO_HARNESS_REEXEC" not in cli.os.environ


def test_no_venv_says_to_run_make_deps(venv, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["x", "bisect", "tests"])
    with pytest.raises(HarnessError, match="make deps"):
        cli._venv_python()


def test_half_made_venv_counts_as_missing(venv, monkeypatch):
    (venv / "bin").mkdir(parents=True)
    (venv / "bin/python").write_text("")
    monkeypatch.setattr(sys, "argv", ["x", "run"])
    with pytest.raises(HarnessError, match="make deps"):
        cli._venv_python()


def test_stdlib_commands_run_without_a_venv(venv, monkeypatch):
    for command in ("deps", "fresh-check"):
        monkeypatch.setattr(sys, "argv", ["x", command])
        assert cli._venv_python() is None


def test_a_python_with_the_dependencies_runs_in_place(venv, monkeypatch):
    """Another checkout's venv (the bisect judge's tests run the harness
    of a temporary clone that has no venv of its own)."""
    monkeypatch.setattr(cli, "_has_dependencies", lambda: True)
    monkeypatch.setattr(sys, "argv", ["x", "run"])
    assert cli._venv_python() is None
