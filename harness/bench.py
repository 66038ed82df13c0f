"""Benchmarks, printed as tables. Medians of several runs: the machines
are shared and noisy, so nothing here is asserted."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from . import guestfs
from .guest import Guest
from .kernel import build_info, ensure_kernel
from .modsets import MODSETS, NONE, OURS, UPSTREAM
from .modules import build_ours
from .paths import REPO, Layout
from .pool import TEST_CPUS
from .table import render
from .world import build, layout

DMA_BENCH = guestfs.program("dma_bench")
PCI_BENCH = guestfs.program("pci_bench")

TARGETS = {"boot to prompt": 1.5, "edit to verdict": 3.0,
           "whole suite, sharded": 180.0, "clean kernel build": 360.0}
"""Seconds, under TCG on 2 cores (issue 14): a test guest's boot to its
shell, touching one .c to one test's verdict, `pytest --vfio=both -n
auto`."""


def _median(fn: Callable[[], float], runs: int) -> tuple[float, float, float]:
    samples = [fn() for _ in range(runs)]
    return statistics.median(samples), min(samples), max(samples)


def _timed(fn: Callable[[], object]) -> float:
    start = time.monotonic()
    fn()
    return time.monotonic() - start


def _clean_kernel_build(lay: Layout) -> float:
    """A from-scratch build in a throwaway tree (several minutes)."""
    with tempfile.TemporaryDirectory(dir=lay.cache) as tmp:
        scratch = Layout(Path(tmp), lay.version, lay.flavour)
        (scratch.source.parent).mkdir(parents=True)
        os.symlink(lay.source, scratch.source)
        return _timed(lambda: ensure_kernel(scratch, force=True))


def loop(args: argparse.Namespace) -> int:
    lay = layout(args.flavour)
    world = build(args.flavour)
    rows: list[list[object]] = []

    def row(name: str, stats: tuple[float, float, float] | float,
            note: str = "") -> None:
        if isinstance(stats, float):
            stats = (stats, stats, stats)
        target = TARGETS.get(name)
        verdict = "" if target is None else (
            "ok" if stats[0] <= target else "over")
        rows.append([name, f"{stats[0]:.2f}", f"{stats[1]:.2f}",
                     f"{stats[2]:.2f}",
                     "" if target is None else f"<= {target:g}", verdict,
                     note])

    if args.clean:
        row("clean kernel build", _clean_kernel_build(lay), "measured now")
    elif (recorded := build_info(lay).get("clean_build_s")) is not None:
        row("clean kernel build", float(recorded), "recorded at last clean "
            "build; --clean to measure")
    row("cached kernel build",
        _median(lambda: _timed(lambda: ensure_kernel(lay)), args.runs))

    # Touch the checkout's file, as an edit would: the mirror copies it
    # with its new mtime and Kbuild rebuilds that object and the module.
    one_c = REPO / "kernel/drivers/vfio/vfio_main.c"

    def rebuild() -> float:
        os.utime(one_c)
        return _timed(lambda: build_ours(world.kernel, lay.ours))
    row("module rebuild, one .c touched", _median(rebuild, args.runs),
        one_c.name)

    def boot() -> float:
        # As the tests boot it (harness/pool.py).
        g = world.guest("bench-boot", cpus=TEST_CPUS)
        try:
            return _timed(g.start)
        finally:
            g.close()
    row("boot to prompt", _median(boot, args.runs), "QEMU start to shell")

    source = REPO / "kernel/drivers/vfio/container.c"
    one_case = [sys.executable, "-m", "pytest", "-q", "-p",
                "no:cacheprovider", "tests/guest/container.c", "-k",
                "api_version and ours"]

    def collect() -> float:
        return _timed(lambda: subprocess.run(
            [*one_case, "--collect-only"], cwd=REPO, check=True,
            capture_output=True))
    row("pytest start and collection", _median(collect, args.runs),
        "the same pytest, --collect-only")

    def verdict() -> float:
        os.utime(source)
        return _timed(lambda: subprocess.run(
            one_case, cwd=REPO, check=True, capture_output=True))
    row("edit to verdict", _median(verdict, args.runs),
        "touch container.c; pytest one case")

    same = ""
    if args.suite:
        serial, sharded, workers, diffs = _suite_serial_and_sharded()
        row("whole suite, serial", serial, "pytest --vfio=both -n 0")
        row("whole suite, sharded", sharded,
            f"pytest --vfio=both -n auto ({workers} workers)")
        same = ("\nserial and sharded runs: same tests, same verdicts, same "
                "JUnit names" if not diffs else
                "\nserial and sharded runs DIFFER:\n  " + "\n  ".join(diffs))

    print(render(["step (seconds)", "median", "min", "max", "target",
                  "", "note"], rows))
    print(f"\naccel {world.accel}, {os.cpu_count()} cpus, "
          f"{args.runs} runs each (whole-suite rows: one run each)" + same)
    return 1 if same.startswith("\nserial and sharded runs DIFFER") else 0


def _suite_serial_and_sharded() -> tuple[float, float, int, list[str]]:
    """Run the whole suite serially and sharded (-n auto), once each.

    Returns (serial s, sharded s, workers, differences between the two
    runs' JUnit verdicts). Each takes minutes.
    """
    from . import junit
    from .pytest_plugin import _available_gib, auto_workers
    workers = auto_workers(os.cpu_count() or 1, _available_gib())
    times, verdicts = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in ("0", "auto"):
            xml = Path(tmp) / f"junit-{jobs}.xml"
            cmd = [sys.executable, "-m", "pytest", "-q", "-p",
                   "no:cacheprovider", "--vfio=both", "-n", jobs,
                   f"--junitxml={xml}"]
            env = dict(os.environ, VFIO_RESULTS=str(Path(tmp) / jobs))
            start = time.monotonic()
            subprocess.run(cmd, cwd=REPO, env=env, capture_output=True)
            times.append(time.monotonic() - start)
            verdicts.append(junit.read(xml))
    return times[0], times[1], workers, junit.differences(*verdicts)


IOMMUFD = "iommufd"
"""The dma bench's column of the iommufd path (with our modules)."""

DMA_CASES = [("4k", 64), ("4k", 256), ("thp", 64), ("thp", 256),
             ("hugetlb", 64), ("hugetlb", 256)]


def parse_dma(output: str) -> tuple[list[float], list[float]]:
    """Map and unmap times (us) from dma_bench's RESULT lines."""
    maps, unmaps = [], []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == "RESULT":
            maps.append(float(parts[3]))
            unmaps.append(float(parts[4]))
    return maps, unmaps


def ratio(upstream: float | None, ours: float | None) -> str:
    """How many times faster ours is (upstream time / our time)."""
    if not upstream or not ours:
        return "-"
    return f"{upstream / ours:.2f}x"


def dma(args: argparse.Namespace) -> int:
    """Map/unmap throughput, ours against upstream in one boot."""
    world = build(args.flavour)
    maps: dict[tuple[str, int, str], list[float]] = {}
    unmaps: dict[tuple[str, int, str], list[float]] = {}
    with world.guest("bench-dma") as guest:
        pages = max(size for mode, size in DMA_CASES if mode == "hugetlb")
        guest.check(f"echo {pages // 2 + 8} > /proc/sys/vm/nr_hugepages")
        # Interleaved rounds after a warm-up, as in pci(): the first run
        # of guest code under TCG pays for its translation.
        for round_ in range(args.runs + 1):
            for modset in MODSETS:
                guest.use_modules(modset)
                # With ours loaded, the same memory also goes through
                # IOMMU_IOAS_MAP, edu attached through our device cdev.
                paths = [(modset, "")]
                if modset == OURS:
                    paths.append((IOMMUFD, "--iommufd "))
                for mode, mib in DMA_CASES:
                    for column, flag in paths:
                        out = guest.run(f"{DMA_BENCH} {flag}{mode} "
                                        f"{mib} 1", timeout=900)
                        m, u = parse_dma(out.output)
                        if not out.ok or not m:
                            print(f"{column} {mode} {mib} MiB failed:\n"
                                  f"{out.output}", file=sys.stderr)
                            continue
                        if round_:
                            key = (mode, mib, column)
                            maps.setdefault(key, []).extend(m)
                            unmaps.setdefault(key, []).extend(u)
                guest.use_modules(NONE)
    med = {k: (statistics.median(maps[k]), statistics.median(unmaps[k]))
           for k in maps}

    rows: list[list[object]] = []
    for mode, mib in DMA_CASES:
        ours_t = med.get((mode, mib, OURS))
        up_t = med.get((mode, mib, UPSTREAM))

        def ms(v: tuple[float, float] | None, i: int) -> str:
            return "-" if v is None else f"{v[i] / 1000:.1f}"

        def at(v: tuple[float, float] | None, i: int) -> float | None:
            return None if v is None else v[i]
        fd_t = med.get((mode, mib, IOMMUFD))
        rows.append([mode, mib, ms(ours_t, 0), ms(up_t, 0),
                     ratio(at(up_t, 0), at(ours_t, 0)), ms(fd_t, 0),
                     ms(ours_t, 1), ms(up_t, 1),
                     ratio(at(up_t, 1), at(ours_t, 1)), ms(fd_t, 1)])
    print(render(["memory", "MiB", "map ours ms", "map upstream ms",
                  "map speedup", "map iommufd ms", "unmap ours ms",
                  "unmap upstream ms", "unmap speedup", "unmap iommufd ms"],
                 rows))
    print(f"\nmedians of {args.runs} runs each; speedup = upstream time / "
          f"our time (goal: >= 1.0x on 4k, >= 1.5x on thp and hugetlb); "
          f"iommufd = IOMMU_IOAS_MAP/UNMAP of the same memory, edu "
          f"attached through our device cdev; accel {world.accel}")
    return 0


PCI_CASES = [("irq_roundtrip", "interrupt round trip (MSI, poll, ack)", "us"),
             ("pread32", "BAR0 read32, pread", "ns"),
             ("mmap_read32", "BAR0 read32, mmap", "ns"),
             ("pwrite32", "BAR0 write32, pwrite", "ns"),
             ("mmap_write32", "BAR0 write32, mmap", "ns")]
PCI_ITERATIONS = 2000


def parse_pci(output: str) -> dict[str, float]:
    """Nanoseconds by measurement name from pci_bench's RESULT lines."""
    values: dict[str, float] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "RESULT":
            try:
                values[parts[1]] = float(parts[2])
            except ValueError:
                continue
    return values


def _pci_runs(guest: Guest, runs: int) -> dict[str, list[float]]:
    """Run pci_bench @runs times; the samples of each measurement."""
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        out = guest.run(f"{PCI_BENCH} {PCI_ITERATIONS}", timeout=900)
        values = parse_pci(out.output)
        if not out.ok or not values:
            print(f"pci_bench failed:\n{out.output}", file=sys.stderr)
            continue
        for name, value in values.items():
            samples.setdefault(name, []).append(value)
    return samples


def pci(args: argparse.Namespace) -> int:
    """Interrupt and BAR access costs, ours against upstream in one boot."""
    world = build(args.flavour)
    samples: dict[tuple[str, str], list[float]] = {}
    with world.guest("bench-pci") as guest:
        # Interleave the sets, a warm-up round first: under TCG the first
        # run of guest code pays for its translation, which would bias
        # whichever set went first.
        for round_ in range(args.runs + 1):
            for modset in MODSETS:
                guest.use_modules(modset)
                runs = _pci_runs(guest, 1)
                guest.use_modules(NONE)
                if round_ == 0:
                    continue
                for name, values in runs.items():
                    samples.setdefault((name, modset), []).extend(values)
    med = {k: statistics.median(v) for k, v in samples.items()}

    rows = []
    for name, label, unit in PCI_CASES:
        o, u = med.get((name, OURS)), med.get((name, UPSTREAM))
        scale = 1000.0 if unit == "us" else 1.0

        def fmt(v: float | None, scale: float = scale) -> str:
            return "-" if v is None else f"{v / scale:.1f}"
        rows.append([f"{label} ({unit})", fmt(o), fmt(u), ratio(u, o)])
    print(render(["measurement", "ours", "upstream", "speedup"], rows))
    print(f"\nmedians of {args.runs} runs of {PCI_ITERATIONS} iterations "
          f"each (interrupt: median round trip of a run; BAR access: mean "
          f"per access of a run); speedup = upstream time / our time "
          f"(goal: >= 1.0x); accel {world.accel}")
    return 0


def main(args: argparse.Namespace) -> int:
    return {"loop": loop, "dma": dma, "pci": pci}[args.which](args)
