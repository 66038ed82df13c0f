"""pytest integration: guest C programs as tests, guests as fixtures.

* `tests/guest/*.c` are collected directly: each KTAP case of each
  program becomes one test per module set, e.g.
  `tests/guest/container.c::container.api_version[ours]`.
* Python tests take the `guest` fixture (and `modset`, parametrized by
  --vfio) to run commands in a booted guest with that set loaded.
* A kernel splat printed while a test ran fails that test, with the
  trace; the guest is then rebooted for the next test. Each test's
  console excerpt is kept under results/tests/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import ktap, splat
from .errors import HarnessError
from .guest import Guest, tail
from .paths import results_dir
from .pool import GuestPool
from .programs import GUEST_TESTS, program_info
from .topology import DEFAULT_MACHINE
from .world import MODSETS, World, build

GUEST_KEY = pytest.StashKey[Guest]()
MARK_KEY = pytest.StashKey[int]()
_STATE = pytest.StashKey["_State"]()


class _State:
    """The session's world and guests, built on first need."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._world: World | None = None
        self._error: Exception | None = None
        self._pool: GuestPool | None = None

    def world(self) -> World:
        if self._error is not None:
            raise HarnessError(f"(build failed earlier) {self._error}")
        if self._world is None:
            try:
                self._world = build(self.config.getoption("kernel_flavour"))
            except Exception as exc:
                self._error = exc
                raise
        return self._world

    def pool(self) -> GuestPool:
        if self._pool is None:
            self._pool = GuestPool(self.world())
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vfio", "VFIO guest tests")
    group.addoption("--vfio", choices=("ours", "upstream", "both"),
                    default="ours",
                    help="module set(s) to test: our modules, the kernel's "
                    "own, or both (CI); default: ours")
    group.addoption("--machine", default=None,
                    help="run every guest test on this machine "
                    "(images/machines/NAME.toml) instead of its own")
    group.addoption("--kernel-flavour", default="default",
                    choices=("default", "debug"),
                    help="guest kernel flavour; debug adds lockdep, KASAN, "
                    "kmemleak, DEBUG_ATOMIC_SLEEP")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_STATE] = _State(config)
    config.addinivalue_line("markers", "machine(name): the machine topology "
                            "a guest test needs")
    config.addinivalue_line("markers", "last_per_modset: run after every "
                            "other test of the same module set")
    config.addinivalue_line("markers", "modsets(*names): run only on these "
                            "module sets (an intended difference; say why)")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _STATE in config.stash:
        config.stash[_STATE].close()


def selected_modsets(config: pytest.Config) -> list[str]:
    choice = config.getoption("vfio")
    return list(MODSETS) if choice == "both" else [choice]


def _machine(config: pytest.Config, own: str | None) -> str:
    return config.getoption("machine") or own or DEFAULT_MACHINE


# --- Python tests: the modset and guest fixtures -------------------------
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `modset` by --vfio, narrowed by @pytest.mark.modsets."""
    if "modset" not in metafunc.fixturenames:
        return
    sets = selected_modsets(metafunc.config)
    only = metafunc.definition.get_closest_marker("modsets")
    if only:
        sets = [s for s in sets if s in only.args]
    metafunc.parametrize("modset", sets or [
        pytest.param("none", marks=pytest.mark.skip(
            reason=f"only for module sets {only.args if only else ()}"))])


@pytest.fixture
def guest(request: pytest.FixtureRequest, modset: str) -> Guest:
    """A booted guest with `modset` loaded; shared between tests."""
    marker = request.node.get_closest_marker("machine")
    machine = _machine(request.config, marker.args[0] if marker else None)
    g = request.config.stash[_STATE].pool().acquire(machine, modset)
    request.node.stash[GUEST_KEY] = g
    request.node.stash[MARK_KEY] = g.console_mark()
    return g


@pytest.fixture
def world(request: pytest.FixtureRequest) -> World:
    return request.config.stash[_STATE].world()


# --- guest C programs ----------------------------------------------------
class GuestCaseFailure(Exception):
    """A KTAP case failed in the guest; the message is the whole story."""


def pytest_collect_file(file_path: Path, parent: pytest.Collector
                        ) -> pytest.Collector | None:
    if file_path.suffix == ".c" and file_path.parent == GUEST_TESTS:
        return GuestProgram.from_parent(parent, path=file_path)
    return None


class GuestProgram(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        info = program_info(self.path)
        if not info.cases:
            raise HarnessError(f"{self.path.name} has no TEST()/TEST_F()")
        for modset in selected_modsets(self.config):
            for case in info.cases:
                item = GuestCase.from_parent(
                    self, name=f"{case}[{modset}]", case=case, modset=modset,
                    machine=_machine(self.config, info.machine),
                    timeout=info.timeout)
                if reason := info.skip(modset, case):
                    # never executed there: it may crash that set.
                    item.add_marker(pytest.mark.skip(reason=reason))
                elif reason := info.xfail(modset, case):
                    # strict: the day it passes, the note must go.
                    item.add_marker(pytest.mark.xfail(reason=reason,
                                                      strict=True))
                yield item


class GuestCase(pytest.Item):
    def __init__(self, *, case: str, modset: str, machine: str,
                 timeout: float, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.case = case
        self.modset = modset
        self.machine = machine
        self.timeout = timeout

    @property
    def program(self) -> str:
        return self.path.stem

    def runtest(self) -> None:
        state = self.config.stash[_STATE]
        guest = state.pool().acquire(self.machine, self.modset)
        self.stash[GUEST_KEY] = guest
        self.stash[MARK_KEY] = guest.console_mark()
        cmd = f"/tests/{self.program} -r {self.case}"
        refs_before = guest.module_refs()
        result = guest.run(cmd, timeout=self.timeout)
        cases = ktap.parse(result.output, state.world().layout.kunit_tool)
        found = cases.get(self.case)
        if found is None:
            raise GuestCaseFailure(
                f"{cmd} exited {result.status} without reporting "
                f"{self.case} (crashed? renamed?):\n{tail(result.output, 40)}")
        if found.status == "skip":
            why = [ln for ln in found.log.splitlines() if "SKIP" in ln]
            pytest.skip("skipped in the guest: "
                        + (why[-1].split("SKIP", 1)[1].strip() if why
                           else found.log.strip()))
        if found.status != "pass" or result.status != 0:
            raise GuestCaseFailure(
                f"{self.case} {found.status} on {self.modset} "
                f"(exit {result.status}):\n{result.output.rstrip()}")
        if leaked := guest.leaked_refs(refs_before, guest.module_refs()):
            # The next test must not inherit the leak: start afresh.
            guest.tainted = True
            raise GuestCaseFailure(
                f"{self.case} passed but left module references behind "
                f"after its process exited ({leaked}): a file, device or "
                "mapping was not released")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: object = None) -> str:
        if isinstance(excinfo.value, (GuestCaseFailure, HarnessError)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.program}: {self.case} [{self.modset}]"


# --- ordering: group by module set and machine --------------------------
def pytest_collection_modifyitems(session: pytest.Session,
                                  config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Run host-only tests first, then each module set's tests together,
    so a guest switches module sets as rarely as possible."""
    order = {m: i for i, m in enumerate(selected_modsets(config))}

    def modset_of(item: pytest.Item) -> str | None:
        if isinstance(item, GuestCase):
            return item.modset
        callspec = getattr(item, "callspec", None)
        return callspec.params.get("modset") if callspec else None

    def key(item: pytest.Item) -> tuple[int, int, int]:
        modset = modset_of(item)
        if modset is None:
            return (0, 0, 0)
        last = item.get_closest_marker("last_per_modset") is not None
        return (1, order.get(modset, 99), int(last))

    items.sort(key=key)  # stable: source order within a group


# --- splats and console logs per test ------------------------------------
def _log_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-\[\]]+", "_", nodeid).strip("_") + ".log"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[None]:
    report = yield
    guest = item.stash.get(GUEST_KEY, None)
    if guest is None or report.when != "call":
        return report
    text = guest.console_since(item.stash.get(MARK_KEY, 0))
    logdir = results_dir() / "tests"
    logdir.mkdir(parents=True, exist_ok=True)
    (logdir / _log_name(item.nodeid)).write_text(text)
    trace = splat.find(text)
    if trace:
        guest.tainted = True
        if report.passed:
            report.outcome = "failed"
            report.longrepr = ("the guest kernel splatted while this test "
                               f"ran:\n{trace}")
    if report.failed and text.strip():
        report.sections.append(("guest console", tail(text, 60)))
    return report
