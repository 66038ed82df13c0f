"""pytest integration: guest C programs as tests, guests as fixtures.

* `tests/guest/*.c` are collected directly: each KTAP case of each
  program becomes one test per module set, e.g.
  `tests/guest/container.c::container.api_version[ours]`.
* Python tests take the `guest` fixture (and `modset`, parametrized by
  --vfio) to run commands in a booted guest with that set loaded.
* A kernel splat printed while a test ran fails that test, with the
  trace; the guest is then rebooted for the next test. Each test's
  console excerpt is kept under results/tests/.
* Every test's verdict (harness/verdict.py) goes into one table grouped
  by feature (harness/reporting.py), printed at the end and written with
  a KTAP file under results/. The main job (`python3 -m harness run`,
  i.e. `make`) is this same run restricted to the tests that need a
  guest (`--main-job`), so `make` and `make check` judge alike.
* Under pytest-xdist (`-n N`) the controller builds once and hands the
  built world to the workers; each worker boots its own guests, and the
  tests of one machine and module set stay on one worker.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from . import features, guestfs, kmemleak, ktap, modsets, splat
from .errors import GuestSplat, HarnessError
from .guest import Guest, tail
from .headstart import HeadStart
from .paths import FRAGMENTS, results_dir
from .pool import TEST_CPUS, GuestPool
from .programs import GUEST_TESTS, program_info
from .progress import note
from .reporting import ResultsReporter
from .results import Row
from .topology import DEFAULT_MACHINE
from .topology import available as available_machines
from .verdict import VERDICT_PROPERTY, Verdict, ktap_case
from .world import World, build, layout

GUEST_KEY = pytest.StashKey[Guest]()
MARK_KEY = pytest.StashKey[int]()
_STATE = pytest.StashKey["_State"]()
_RESULTS = pytest.StashKey[ResultsReporter]()
_WORLD_INPUT = "vfio_world"   # the built world, controller -> workers


class _State:
    """The session's world and guests, built on first need."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._world: World | None = None
        self._error: Exception | None = None
        self._pool: GuestPool | None = None
        self.head_start: HeadStart | None = None

    def world(self) -> World:
        if self._error is not None:
            raise HarnessError(f"(build failed earlier) {self._error}")
        if self._world is None:
            built = getattr(self.config, "workerinput", {}).get(_WORLD_INPUT)
            try:
                self._world = (World.from_dict(built) if built else
                               build(self.config.getoption("kernel_flavour")))
            except Exception as exc:
                self._error = exc
                raise
        return self._world

    def pool(self) -> GuestPool:
        if self._pool is None:
            # Each xdist worker boots its own guests: name them apart.
            worker = os.environ.get("PYTEST_XDIST_WORKER", "")
            pool = GuestPool(self.world(), prefix=worker)
            early, self.head_start = self.head_start, None
            if early is not None and (guest := early.adopt(pool.world)):
                pool.adopt(guest, early.machine, early.cpus)
            self._pool = pool
        return self._pool

    def accel(self) -> str:
        """The accelerator in use, or "-" when nothing was built."""
        return self._world.accel if self._world is not None else "-"

    def close(self) -> None:
        if self.head_start is not None:
            self.head_start.close()
        if self._pool is not None:
            self._pool.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vfio", "VFIO guest tests")
    group.addoption("--vfio", choices=modsets.SELECTIONS,
                    default=modsets.OURS,
                    help="module set(s) to test: our modules, the kernel's "
                    "own, or both (CI); default: ours")
    group.addoption("--machine", default=None,
                    help="run every guest test on this machine "
                    "(images/machines/NAME.toml) instead of its own")
    group.addoption("--kernel-flavour", default="default",
                    choices=tuple(FRAGMENTS),
                    help="guest kernel flavour; debug adds lockdep, KASAN, "
                    "kmemleak, DEBUG_ATOMIC_SLEEP")
    group.addoption("--kmemleak", choices=("auto", "on", "off"),
                    default="auto",
                    help="after each guest program on our modules, fail "
                    "on kmemleak reports through our modules (needs the "
                    "debug kernel; auto: on with --kernel-flavour debug)")
    group.addoption("--main-job", action="store_true",
                    help="the main job (`python3 -m harness run`): only "
                    "the tests that need a guest, a progress line per "
                    "test and the whole table at the end")


def pytest_configure(config: pytest.Config) -> None:
    machine = config.getoption("--machine")
    if machine is not None and machine not in available_machines():
        raise pytest.UsageError(
            f"--machine: no machine {machine!r}; available: "
            f"{', '.join(available_machines())} (images/machines/*.toml)")
    config.stash[_STATE] = _State(config)
    if not hasattr(config, "workerinput"):
        reporter = ResultsReporter(config, config.stash[_STATE].accel)
        config.stash[_RESULTS] = reporter
        config.pluginmanager.register(reporter, "vfio-results")
    config.addinivalue_line("markers", "feature(name): the feature of the "
                            "VFIO API a test covers (harness/features.py)")
    config.addinivalue_line("markers", "host: needs no guest; left out of "
                            "the main job")
    config.addinivalue_line("markers", "machine(name): the machine topology "
                            "a guest test needs")
    config.addinivalue_line("markers", "cpus(n): the guest needs n vCPUs "
                            "(default harness.pool.TEST_CPUS)")
    config.addinivalue_line("markers", "last_per_modset: run after every "
                            "other test of the same module set")
    config.addinivalue_line("markers", "modsets(*names): run only on these "
                            "module sets (an intended difference; say why)")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _STATE in config.stash:
        config.stash[_STATE].close()


def selected_modsets(config: pytest.Config) -> list[str]:
    return list(modsets.expand(config.getoption("vfio")))


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
        pytest.param(modsets.NONE, marks=pytest.mark.skip(
            reason=f"only for module sets {only.args if only else ()}"))])


@pytest.fixture
def guest(request: pytest.FixtureRequest, modset: str) -> Guest:
    """A booted guest with `modset` loaded; shared between tests."""
    marker = request.node.get_closest_marker("machine")
    machine = _machine(request.config, marker.args[0] if marker else None)
    cpus = request.node.get_closest_marker("cpus")
    g = request.config.stash[_STATE].pool().acquire(
        machine, modset, *(cpus.args if cpus else ()))
    request.node.stash[GUEST_KEY] = g
    request.node.stash[MARK_KEY] = g.console_mark()
    return g


@pytest.fixture
def world(request: pytest.FixtureRequest) -> World:
    return request.config.stash[_STATE].world()


# --- guest C programs ----------------------------------------------------
class GuestCaseFailure(Exception):
    """A KTAP case failed in the guest; the message is the whole story."""


class GuestCaseLeak(GuestCaseFailure):
    """A case passed but left module references behind."""


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
                    timeout=info.timeout, cpus=info.cpus or TEST_CPUS)
                item.add_marker(pytest.mark.feature(
                    info.feature or features.UNKNOWN))
                if reason := info.skip(modset, case):
                    # never executed there: it may crash that set.
                    item.add_marker(pytest.mark.skip(reason=reason))
                elif reason := info.xfail(modset, case):
                    # strict: the day it passes, the note must go.
                    item.add_marker(pytest.mark.xfail(reason=reason,
                                                      strict=True))
                yield item
            if modset == modsets.OURS and kmemleak_enabled(self.config):
                scan = KmemleakScan.from_parent(
                    self, name=f"kmemleak[{modset}]", case="kmemleak",
                    modset=modset,
                    machine=_machine(self.config, info.machine),
                    timeout=kmemleak.SCAN_TIMEOUT_S,
                    cpus=info.cpus or TEST_CPUS)
                scan.add_marker(pytest.mark.feature(
                    info.feature or features.UNKNOWN))
                yield scan


class GuestCase(pytest.Item):
    def __init__(self, *, case: str, modset: str, machine: str,
                 timeout: float, cpus: int = 1, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.case = case
        self.modset = modset
        self.machine = machine
        self.timeout = timeout
        self.cpus = cpus

    @property
    def program(self) -> str:
        return self.path.stem

    def runtest(self) -> None:
        state = self.config.stash[_STATE]
        guest = state.pool().acquire(self.machine, self.modset, self.cpus)
        self.stash[GUEST_KEY] = guest
        self.stash[MARK_KEY] = guest.console_mark()
        cmd = f"{guestfs.program(self.program)} -r {self.case}"
        # The references before and after, and the case, in one round
        # trip: three were a third of a short case's time.
        result, refs_before, refs_after = guest.run_counted(
            cmd, timeout=self.timeout)
        cases = ktap.parse(result.output, state.world().layout.kunit_tool)
        found = cases.get(self.case)
        verdict = ktap_case(found.status if found else None, result.status)
        if found is None:
            raise GuestCaseFailure(
                f"{cmd} exited {result.status} without reporting "
                f"{self.case} (crashed? renamed?):\n{tail(result.output, 40)}")
        if verdict is Verdict.SKIP:
            why = [ln for ln in found.log.splitlines() if "SKIP" in ln]
            pytest.skip("skipped in the guest: "
                        + (why[-1].split("SKIP", 1)[1].strip() if why
                           else found.log.strip()))
        if verdict is not Verdict.PASS:
            raise GuestCaseFailure(
                f"{self.case} {found.status} on {self.modset} "
                f"(exit {result.status}):\n{result.output.rstrip()}")
        if leaked := guest.leaked_refs(refs_before, refs_after):
            # The next test must not inherit the leak: start afresh.
            guest.tainted = True
            raise GuestCaseLeak(
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


class KmemleakScan(GuestCase):
    """After a program's cases on our modules (debug kernel): a kmemleak
    scan; an unreferenced object allocated through our modules fails."""

    def runtest(self) -> None:
        state = self.config.stash[_STATE]
        guest = state.pool().acquire(self.machine, self.modset, self.cpus)
        self.stash[GUEST_KEY] = guest
        self.stash[MARK_KEY] = guest.console_mark()
        result = guest.run(kmemleak.SCAN_COMMAND, timeout=self.timeout)
        if result.status != 0:
            raise HarnessError(
                "kmemleak scan failed (is this the debug kernel? "
                f"--kernel-flavour debug):\n{tail(result.output)}")
        modules = state.world().modules
        found = kmemleak.ours(result.output,
                              set(modules.order + modules.kunit))
        if found:
            raise GuestCaseLeak(
                f"kmemleak: {len(found)} object(s) allocated through our "
                f"modules leaked since the previous scan (during "
                f"{self.program} or just before it):\n\n"
                + "\n\n".join(found[:5]))


def kmemleak_enabled(config: pytest.Config) -> bool:
    """--kmemleak, by default on with the debug kernel flavour."""
    choice = config.getoption("kmemleak")
    if choice == "auto":
        return bool(config.getoption("kernel_flavour") == "debug")
    return bool(choice == "on")


# --- ordering and selection ---------------------------------------------
def _modset_of(item: pytest.Item) -> str | None:
    if isinstance(item, GuestCase):
        return item.modset
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("modset") if callspec else None


def _row_of(item: pytest.Item) -> Row:
    """The table row of a test: its feature, its name without the module
    set, and the module-set column ("none" for tests of no set)."""
    marker = item.get_closest_marker("feature")
    feature = (str(marker.args[0]) if marker else
               "unit" if not _needs_guest(item) else features.UNKNOWN)
    modset = _modset_of(item) or modsets.NONE
    if isinstance(item, GuestCase):
        return Row(feature, f"{item.program}: {item.case}", modset)
    callspec = getattr(item, "callspec", None)
    params = [str(v) for k, v in (callspec.params.items() if callspec
                                   else ()) if k != "modset"]
    name = getattr(item, "originalname", item.name)
    label = f"{item.path.stem}: {name}" + (f"[{'-'.join(params)}]"
                                           if params else "")
    return Row(feature, label, modset)


def _needs_guest(item: pytest.Item) -> bool:
    return (item.get_closest_marker("host") is None
            and "unit" not in item.path.relative_to(
                item.config.rootpath).parts[:2])


def pytest_collection_modifyitems(session: pytest.Session,
                                  config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Run host-only tests first, then each module set's tests together,
    so a guest switches module sets as rarely as possible. The main job
    keeps only the tests that need a guest."""
    if config.getoption("main_job"):
        dropped = [i for i in items if not _needs_guest(i)]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [i for i in items if _needs_guest(i)]
    order = {m: i for i, m in enumerate(selected_modsets(config))}

    def key(item: pytest.Item) -> tuple[int, int, int]:
        modset = _modset_of(item)
        if modset is None:
            return (0, 0, 0)
        last = item.get_closest_marker("last_per_modset") is not None
        return (1, order.get(modset, 99), int(last))

    items.sort(key=key)  # stable: source order within a group
    for item in items:
        row = _row_of(item)
        # Carried by every report, across xdist too, and into JUnit XML.
        item.user_properties += [("feature", row.feature),
                                 ("modset", row.modset), ("row", row.label)]


def _guest_needed(item: pytest.Item) -> tuple[str, int] | None:
    """The machine and vCPUs a test will boot, if it will."""
    if item.get_closest_marker("skip") is not None:
        return None
    if isinstance(item, GuestCase):
        return item.machine, item.cpus
    if "guest" not in getattr(item, "fixturenames", ()):
        return None
    machine = item.get_closest_marker("machine")
    cpus = item.get_closest_marker("cpus")
    return (_machine(item.config, machine.args[0] if machine else None),
            int(cpus.args[0]) if cpus else TEST_CPUS)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """A run that is not sharded boots its first test's guest now, while
    it builds (harness/headstart.py)."""
    config = session.config
    if (hasattr(config, "workerinput")
            or config.pluginmanager.hasplugin("dsession")
            or config.getoption("collectonly")
            or os.environ.get("VFIO_HEADSTART") == "0"):
        return
    need = next(filter(None, map(_guest_needed, session.items)), None)
    if need is None:
        return
    machine, cpus = need
    lay = layout(config.getoption("kernel_flavour"))
    try:
        config.stash[_STATE].head_start = HeadStart.launch(
            lay, lay.initramfs, machine, cpus, f"{machine}-1")
    except (HarnessError, OSError) as exc:
        note(f"no early boot ({exc}); the guest boots after the build")


# --- sharding: build once, hand the world to the workers ------------------
@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if not hasattr(config, "workerinput"):
        # No stale per-test logs from an earlier run. (Guest consoles
        # are overwritten by name, and other commands write them too.)
        shutil.rmtree(results_dir() / "tests", ignore_errors=True)
    if config.pluginmanager.hasplugin("dsession") and not hasattr(
            config, "workerinput"):
        # Workers must not build in parallel into one build directory.
        config.stash[_STATE].world()


GUEST_MEMORY_GIB = 3
"""What one worker's guests need at most at once, with headroom: a 2 GiB
guest (harness/qemu.py) whose tests map up to 256 MiB, plus QEMU."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: a worker per core, as far as memory allows."""
    return auto_workers(os.cpu_count() or 1, _available_gib())


def auto_workers(cpus: int, available_gib: float) -> int:
    """Workers for `-n auto` (pure): one per core, at most one per
    GUEST_MEMORY_GIB of available memory, at least one."""
    return max(1, min(cpus, int(available_gib // GUEST_MEMORY_GIB)))


def _available_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / (1 << 20)
    except OSError:
        pass
    return float(GUEST_MEMORY_GIB)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    state = node.config.stash[_STATE]
    node.workerinput[_WORLD_INPUT] = state.world().to_dict()


# --- splats and console logs per test ------------------------------------
def _log_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-\[\]]+", "_", nodeid).strip("_") + ".log"


def _failure_kind(call: pytest.CallInfo[None]) -> Verdict | None:
    """What kind of failure the test raised, where the exception says."""
    if call.excinfo is None:
        return None
    exc = call.excinfo.value
    if isinstance(exc, GuestCaseLeak):
        return Verdict.LEAK
    if isinstance(exc, GuestSplat):
        return Verdict.SPLAT
    if isinstance(exc, GuestCaseFailure):
        return Verdict.FAIL
    if isinstance(exc, HarnessError):
        return Verdict.ERROR
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport,
                                             pytest.TestReport]:
    report = yield
    kind = _failure_kind(call) if report.failed else None
    guest = item.stash.get(GUEST_KEY, None)
    if guest is not None and report.when == "call":
        text = guest.console_since(item.stash.get(MARK_KEY, 0))
        logdir = results_dir() / "tests"
        logdir.mkdir(parents=True, exist_ok=True)
        (logdir / _log_name(item.nodeid)).write_text(text)
        trace = splat.find(text)
        if trace:
            guest.tainted = True
            kind = Verdict.SPLAT
            if report.passed:
                report.outcome = "failed"
                report.longrepr = ("the guest kernel splatted while this "
                                   f"test ran:\n{trace}")
        if report.failed and text.strip():
            report.sections.append(("guest console", tail(text, 60)))
    if kind is not None and report.failed:
        report.user_properties.append((VERDICT_PROPERTY, kind.value))
    return report
