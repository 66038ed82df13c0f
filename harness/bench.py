"""Benchmarks, printed as tables: `bench loop` (the developer's loop),
`bench dma` and `bench pci` (ours against upstream in one boot).

Nothing here is asserted: the machines are shared and noisy. The
statistics are harness/benchstats.py's, the parsing and tables
harness/benchrows.py's; this module drives the guests."""

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
from .benchrows import (
    Row,
    Samples,
    add,
    parse_dma,
    parse_extents,
    parse_pci,
    repeat_table,
    side_by_side,
    table,
)
from .benchstats import CONFIDENCE
from .errors import HarnessError
from .guest import Guest
from .kernel import build_info, ensure_kernel
from .modsets import MODSETS, NONE, OURS
from .modules import build_ours
from .paths import REPO, Layout
from .pool import TEST_CPUS
from .progress import Progress, note
from .table import render
from .world import World, build, layout

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
                  "met", "note"], rows))
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

ICOUNT, WALL = "icount", "wall"
CLOCKS = (ICOUNT, WALL)
"""`--clock`: icount runs the guest under `-icount shift=0,sleep=off`, so
its clock counts executed guest instructions (1 ns each) and host load
cannot move it; wall is the plain TCG guest, its clock the host's."""

BENCH_MEMORY = "3G"
"""The dma and pci bench guests' memory: the 1 GiB hugetlb pool (kept for
the whole boot) plus one 1 GiB buffer at a time plus the initramfs; other
guests run on the same 24 GB host, so no more."""

MAX_MIB = 1024
"""The largest --mib that fits BENCH_MEMORY (a larger one ran the guest
out of memory: its kernel panics rather than the bench failing)."""

DMA_MODES = ("4k", "4k-scattered", "thp", "hugetlb")
DMA_MIB = (64, 256, 1024)
DMA_CASES = [(mode, mib) for mode in DMA_MODES for mib in DMA_MIB]
"""`bench dma`'s default cases: (buffer mode, MiB), see dma_bench.c."""
DMA_RUNS = 6
"""Default rounds of `bench dma` (after the warm-up round)."""
PCI_RUNS = 6
"""Default rounds of `bench pci` (after the warm-up round)."""

CTL, REPLY, SERVE_LOG = "/tmp/dma.ctl", "/tmp/dma.reply", "/tmp/dma.log"


def _order(round_: int) -> tuple[str, ...]:
    """The sets in @round_'s order: ours first in even rounds, upstream
    first in odd ones, so a drift in time (wall clock) favours neither."""
    return MODSETS if round_ % 2 == 0 else tuple(reversed(MODSETS))


def _bench_guest(world: World, name: str, clock: str) -> Guest:
    if clock == ICOUNT and world.accel != "tcg":
        raise SystemExit(f"--clock icount needs TCG, and this host runs "
                         f"guests under {world.accel}: use --clock wall, "
                         f"or VFIO_ACCEL=tcg")
    return world.guest(name, memory=BENCH_MEMORY, icount=clock == ICOUNT)


def dma_rows(cases: list[tuple[str, int]]) -> list[Row]:
    """The dma table's rows: map then unmap of each case, in ms."""
    return [Row(f"{op} {mode} {mib}", f"{op} {mode} {mib} MiB", "ms",
                1000.0)
            for mode, mib in cases for op in ("map", "unmap")]


def _serve(guest: Guest, mode: str, mib: int) -> int | None:
    """Start dma_bench --serve for one case; the buffer's extents."""
    guest.check(f"rm -f {CTL} {REPLY}; mkfifo {CTL} {REPLY}")
    # Compaction first, so the buffer is allocated from memory in the
    # same state whatever ran before (and THP finds its huge pages).
    guest.check("echo 1 > /proc/sys/vm/compact_memory")
    guest.check(f"{DMA_BENCH} --serve {mode} {mib} {CTL} {REPLY} "
                f"> {SERVE_LOG} 2>&1 & echo $! > /tmp/dma.pid")
    out = guest.run(f"while ! grep -q EXTENTS {SERVE_LOG}; do "
                    f"kill -0 $(cat /tmp/dma.pid) || exit 1; sleep 1; "
                    f"done; cat {SERVE_LOG}", timeout=900)
    if not out.ok:
        raise SystemExit(f"dma_bench --serve {mode} {mib} did not start "
                         f"(guest memory {BENCH_MEMORY}; try a smaller "
                         f"--mib):\n{out.output}")
    return parse_extents(out.output)


def _command(guest: Guest, command: str) -> str | None:
    """One command to the serving dma_bench; its output, None on failure
    (printed)."""
    out = guest.run(f"kill -0 $(cat /tmp/dma.pid) && "
                    f"echo {command} > {CTL} && cat {REPLY}", timeout=900)
    if not out.ok or "DONE" not in out.output:
        log = guest.run(f"cat {SERVE_LOG}").output
        print(f"dma_bench `{command}` failed:\n{out.output}{log}",
              file=sys.stderr)
        return None
    return out.output


def measure_dma(world: World, runs: int, clock: str,
                cases: list[tuple[str, int]]
                ) -> tuple[Samples, dict[str, str]]:
    """One boot of `bench dma`: samples in us by row (dma_rows' keys) and
    column (ours, upstream, iommufd), round 0 the warm-up (left out); and
    a note per row (the buffer's physical extents).

    Each case's buffer is allocated once, by one dma_bench --serve that
    lives through all its rounds, and every set maps that same buffer:
    how much type1 can batch depends on the physical contiguity of the
    pages, which a fresh allocation changes from one run to the next (a
    trial under icount: 6 ms then 27 ms for the same unmap), so holding
    the buffer is what makes both sets, and every round, do the same
    work.
    """
    samples: Samples = {}
    notes: dict[str, str] = {}
    progress = Progress(f"bench dma ({clock})",
                        len(cases) * (runs + 1) * len(MODSETS))
    with _bench_guest(world, "bench-dma", clock) as guest:
        hugetlb = [mib for mode, mib in cases if mode == "hugetlb"]
        if hugetlb:
            want = max(hugetlb) // 2 + 8
            guest.check(f"echo {want} > /proc/sys/vm/nr_hugepages")
            got = int(guest.check("cat /proc/sys/vm/nr_hugepages"))
            if got < want:
                raise SystemExit(
                    f"the bench guest reserved {got} of {want} huge "
                    f"pages; use a smaller --mib")
        for mode, mib in cases:
            extents = _serve(guest, mode, mib)
            for op in ("map", "unmap"):
                notes[f"{op} {mode} {mib}"] = (
                    "" if extents is None else f"{extents} extents")
            for round_ in range(runs + 1):
                for modset in _order(round_):
                    guest.use_modules(modset)
                    # With ours loaded, the same memory also goes through
                    # IOMMU_IOAS_MAP, edu attached through our device cdev.
                    columns = [(modset, "type1")]
                    if modset == OURS:
                        columns.append((IOMMUFD, "iommufd"))
                    for column, path in columns:
                        out = _command(guest, f"{path} 1")
                        m, u = parse_dma(out or "")
                        if round_ and m and u:
                            add(samples, f"map {mode} {mib}", column,
                                round_, m[0])
                            add(samples, f"unmap {mode} {mib}", column,
                                round_, u[0])
                    # A fresh load each time: every visit pays the same.
                    guest.use_modules(NONE)
                    progress.step(f"{mode} {mib} MiB round {round_} "
                                  f"{modset}")
            guest.run(f"echo quit > {CTL}; while kill -0 $(cat "
                      f"/tmp/dma.pid) 2>/dev/null; do sleep 1; done")
    progress.finish()
    return samples, notes


PCI_CASES = [("irq_roundtrip", "interrupt round trip (MSI, poll, ack)", "us"),
             ("pread32", "BAR0 read32, pread", "ns"),
             ("mmap_read32", "BAR0 read32, mmap", "ns"),
             ("pwrite32", "BAR0 write32, pwrite", "ns"),
             ("mmap_write32", "BAR0 write32, mmap", "ns"),
             ("pread8", "BAR0 read8, pread", "ns"),
             ("pread16", "BAR0 read16, pread", "ns"),
             ("pread64", "BAR0 read64, pread", "ns"),
             ("pwrite8", "BAR0 write8, pwrite", "ns"),
             ("pwrite16", "BAR0 write16, pwrite", "ns"),
             ("pwrite64", "BAR0 write64, pwrite", "ns"),
             ("pio_read8", "I/O BAR read8, pread", "ns"),
             ("pio_read16", "I/O BAR read16, pread", "ns"),
             ("pio_read32", "I/O BAR read32, pread", "ns"),
             ("pio_read64", "I/O BAR read64, pread", "ns"),
             ("pio_write8", "I/O BAR write8, pwrite", "ns"),
             ("pio_write16", "I/O BAR write16, pwrite", "ns"),
             ("pio_write32", "I/O BAR write32, pwrite", "ns"),
             ("pio_write64", "I/O BAR write64, pwrite", "ns")]
PCI_ITERATIONS = 20000
"""BAR accesses per measurement and run (the mean per access is taken)."""
PCI_IRQS = 5000
"""Interrupt round trips per run (the median is taken)."""
PCI_CPU_MASK = "1"
"""The CPUs (a hex mask: the first) pci_bench and new interrupts use."""


def pci_rows(samples: Samples) -> list[Row]:
    """The pci table's rows: PCI_CASES, then any other measurement
    pci_bench printed (in ns), by name."""
    rows = [Row(key, label, unit, 1000.0 if unit == "us" else 1.0)
            for key, label, unit in PCI_CASES]
    known = {key for key, _, _ in PCI_CASES}
    for key in sorted({k for k, _ in samples} - known):
        rows.append(Row(key, key, "ns", 1.0))
    return rows


def measure_pci(world: World, runs: int, clock: str) -> Samples:
    """One boot of `bench pci`: samples in ns by measurement and set,
    round 0 the warm-up (left out)."""
    samples: Samples = {}
    progress = Progress(f"bench pci ({clock})", (runs + 1) * len(MODSETS))
    with _bench_guest(world, "bench-pci", clock) as guest:
        # The program and its interrupt on one CPU (the first), so that
        # where the MSI lands relative to the poller is the same in every
        # run. (It was not what made the round trip's median jump between
        # 5.5 and 7.5-9.5 us under icount: that was edu's factorial
        # thread, see pci_bench.c's irq_roundtrip.)
        guest.check(f"echo {PCI_CPU_MASK} > /proc/irq/default_smp_affinity")
        for round_ in range(runs + 1):
            for modset in _order(round_):
                guest.use_modules(modset)
                out = guest.run(f"taskset {PCI_CPU_MASK} {PCI_BENCH} "
                                f"{PCI_ITERATIONS} {PCI_IRQS}", timeout=900)
                guest.use_modules(NONE)
                progress.step(f"round {round_} {modset}")
                values = parse_pci(out.output)
                if not out.ok or not values:
                    print(f"pci_bench failed:\n{out.output}",
                          file=sys.stderr)
                    continue
                if round_:
                    for name, value in values.items():
                        add(samples, name, modset, round_, value)
    progress.finish()
    return samples


def _cases(args: argparse.Namespace) -> list[tuple[str, int]]:
    """The (mode, MiB) cases `bench dma` runs: DMA_CASES, or every mode
    at the sizes given with --mib."""
    if not args.mib:
        return DMA_CASES
    if too_big := [mib for mib in args.mib if mib > MAX_MIB]:
        raise HarnessError(
            f"--mib {too_big[0]}: at most {MAX_MIB} (the bench guest has "
            f"{BENCH_MEMORY} for a hugetlb pool and a buffer of that size "
            f"at once)")
    return [(mode, mib) for mode in DMA_MODES for mib in args.mib]


def _legend(runs: int, clock: str, accel: str) -> str:
    return (f"{runs} rounds per set after a warm-up round, sets interleaved "
            f"in one boot; speedup = median upstream time / median our "
            f"time; [interval] = {CONFIDENCE:.0%} sign-test interval of "
            f"the median per-round ratio; inconclusive when it contains "
            f"1.0; clock {clock}, accel {accel}")


def _run(args: argparse.Namespace, measure: str) -> int:
    """`bench dma` / `bench pci`: per clock, --repeat boots, a table
    each; then the spread across boots and the clocks side by side."""
    world = build(args.flavour)
    runs = args.runs or (DMA_RUNS if measure == "dma" else PCI_RUNS)
    clocks = CLOCKS if args.clock == "both" else (args.clock,)
    per_clock: dict[str, list[Samples]] = {}
    rows: list[Row] = []
    for clock in clocks:
        for i in range(args.repeat):
            if args.repeat > 1:
                note(f"{clock} invocation {i + 1} of {args.repeat}")
            notes: dict[str, str] = {}
            if measure == "dma":
                cases = _cases(args)
                samples, notes = measure_dma(world, runs, clock, cases)
                rows = dma_rows(cases)
                extra = [(IOMMUFD, "iommufd med")]
            else:
                samples = measure_pci(world, runs, clock)
                rows = pci_rows(samples)
                extra = []
            per_clock.setdefault(clock, []).append(samples)
            print(table(samples, rows, extra, notes))
            legend = _legend(runs, clock, world.accel)
            if measure == "dma":
                legend += ("; iommufd = IOMMU_IOAS_MAP/UNMAP of the same "
                           "buffer, edu attached through our device cdev"
                           "; extents = the buffer's physically "
                           "contiguous runs")
            else:
                legend += (f"; BAR rows: mean of {PCI_ITERATIONS} "
                           f"accesses per run; interrupt: median of "
                           f"{PCI_IRQS} round trips per run")
            print(f"\n{legend}\n", flush=True)
    if args.repeat > 1:
        for clock, invocations in per_clock.items():
            print(f"speedup in each of {args.repeat} boots ({clock}):")
            print(repeat_table(invocations, rows) + "\n")
    if len(per_clock) > 1:
        print(side_by_side(per_clock, rows))
    return 0


def dma(args: argparse.Namespace) -> int:
    """Map/unmap times, ours against upstream in one boot (see _run)."""
    return _run(args, "dma")


def pci(args: argparse.Namespace) -> int:
    """Interrupt and BAR access costs, ours against upstream (_run)."""
    return _run(args, "pci")


LOOP_RUNS = 3
"""Default runs of each `bench loop` step."""


def main(args: argparse.Namespace) -> int:
    if args.which == "loop" and not args.runs:
        args.runs = LOOP_RUNS
    return {"loop": loop, "dma": dma, "pci": pci}[args.which](args)
