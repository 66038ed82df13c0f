"""The host requirements cover every program the harness runs."""

import ast
from pathlib import Path

from harness import deps

HARNESS = Path(__file__).resolve().parents[2] / "harness"
RUNNERS = {"run", "_run", "Popen", "check_output", "check_call", "call",
           "execvp", "execv"}


def _provided() -> set[str]:
    return {Path(r.probe).name
            for r in deps.REQUIREMENTS + deps.FRESH_REQUIREMENTS}


def _literal_program(node: ast.expr, constants: dict[str, str]) -> str | None:
    """The program a command list literal starts with, if it is known."""
    if not isinstance(node, ast.List) or not node.elts:
        return None
    first = node.elts[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    if isinstance(first, ast.Name) and first.id in constants:
        return constants[first.id]
    return None


def programs_run(source: str) -> set[str]:
    """Programs named by command lists in a module's source.

    A command list is a list literal passed to subprocess/os runners,
    assigned to `cmd`, or returned by a function named `*command`;
    its first element is a string or a module-level string constant.
    """
    tree = ast.parse(source)
    constants = {t.id: n.value.value for n in tree.body
                 if isinstance(n, ast.Assign)
                 and isinstance(n.value, ast.Constant)
                 and isinstance(n.value.value, str)
                 for t in n.targets if isinstance(t, ast.Name)}
    lists: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else \
                func.id if isinstance(func, ast.Name) else ""
            if name in RUNNERS:
                lists.append(node.args[0])
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "cmd"
                for t in node.targets):
            lists.append(node.value)
        elif isinstance(node, ast.FunctionDef) and \
                node.name.endswith("command"):
            lists += [n.value for n in ast.walk(node)
                      if isinstance(n, ast.Return) and n.value is not None]
    return {p for n in lists if (p := _literal_program(n, constants))}


def test_scanner_finds_command_lists():
    found = programs_run(
        'import subprocess\nQ = "qemu"\n'
        'subprocess.run(["rsync", "-a"])\ncmd = [Q, "-m"]\n'
        'def install_command():\n    return ["apt-get", "install"]\n'
        'x = ["test", "ours"]\n')
    assert found == {"rsync", "qemu", "apt-get"}


def test_every_program_the_harness_runs_is_declared():
    found: dict[str, str] = {}
    for module in sorted(HARNESS.glob("*.py")):
        for program in programs_run(module.read_text()):
            found.setdefault(program, module.name)
    # The scan must see the build and boot paths, or it proves nothing.
    assert {"make", "musl-gcc", "qemu-system-x86_64", "dpkg-query"} \
        <= set(found)
    undeclared = {p: m for p, m in found.items() if p not in deps.PROGRAMS}
    assert not undeclared, \
        f"add these to deps.PROGRAMS (and a Requirement): {undeclared}"


def test_every_declared_program_has_a_provider():
    unprovided = set(deps.PROGRAMS) - _provided() - deps.ESSENTIAL \
        - deps.BOOTSTRAP
    assert not unprovided, f"no Requirement provides {sorted(unprovided)}"


def test_the_kernel_build_tools_of_changes_rst_are_declared():
    # Documentation/process/changes.rst entries our kernel config uses,
    # and rsync, which 6.12's headers_install runs but changes.rst omits.
    for program in ("gcc", "ld", "make", "flex", "bison", "depmod", "bc",
                    "perl", "tar", "xz", "rsync"):
        assert program in deps.PROGRAMS


def test_requirement_lookup_follows_the_list():
    absent = deps.Requirement("no-such-package", "/nonexistent/tool")
    present = deps.Requirement("coreutils", "/bin/sh")
    assert deps.missing([absent, present]) == [absent]
