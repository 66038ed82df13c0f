"""The differential fuzzer: one seeded call sequence, both module sets.

`tests/fuzz/vfio_fuzz.c` makes a random but seed-determined sequence of
VFIO calls and prints one line per call (`INDEX OP -> RET ERRNO [OUT]`).
Here the same sequence runs on our modules and on upstream's in one
guest, and the two transcripts are compared call by call up to the first
divergence (later calls cascade from it). A divergence is either on the
intended-difference list below, or a failure reported with the seed, the
call and the calls before it.

Parsing, comparing and formatting are pure (tests/unit/test_fuzz_compare.py);
`fuzz_guest` drives a booted guest.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import guestfs, modsets
from .errors import GuestSplat, HarnessError
from .guest import Guest

PROGRAM = guestfs.program("vfio_fuzz")
SKIP = "skip"        # the call would be unsafe for the device: on no set
UNSAFE = "unsafe"    # crashes upstream: sent to ours only (--unsafe)
GAP = "gap"          # a known gap of ours: withheld from both (WITHHELD)

WITHHELD: dict[str, str] = {
    # program flag -> the gap. Withheld from BOTH sets, so the transcripts
    # stay comparable past them; a gap closed means its entry goes (the
    # low-power device features were the last, until issue 13).
}
CONTEXT = 6          # calls shown before a divergence
CHUNK_LINES = 400    # transcript lines fetched per guest command

_LINE = re.compile(r"^(\d+) (.+?) -> (.+?)\s*$")
_END = re.compile(r"^# end (\d+)$", re.M)


@dataclass(frozen=True)
class Call:
    """One line of a transcript."""

    index: int
    op: str
    result: str

    @property
    def line(self) -> str:
        return f"{self.index} {self.op} -> {self.result}"


@dataclass(frozen=True)
class Run:
    """A parsed transcript: the calls, and whether the program finished."""

    calls: list[Call]
    complete: bool
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def parse(output: str) -> Run:
    """Calls from the program's output; `#` lines are notes."""
    calls: list[Call] = []
    notes: list[str] = []
    for raw in output.splitlines():
        line = raw.rstrip("\r")
        if line.startswith("#"):
            notes.append(line)
        elif m := _LINE.match(line):
            calls.append(Call(int(m.group(1)), m.group(2), m.group(3)))
    return Run(calls, _END.search(output) is not None, notes)


@dataclass(frozen=True)
class Intended:
    """A written-down difference: calls whose description matches `op`
    (a regex) may differ; when `ours` (`upstream`) is set, that set's
    result must match it in full (on an input upstream cannot take, ours
    is all there is to compare)."""

    op: str
    reason: str
    ours: str | None = None
    upstream: str | None = None
    gap: bool = False   # a bug of ours (KNOWN_GAPS), not a decision

    def matches(self, op: str) -> bool:
        return re.search(self.op, op) is not None

    def allows(self, ours: str, upstream: str | None = None) -> bool:
        """Do these results fit? (`upstream` None: ours alone.)"""
        return all(want is None or got is None
                   or re.fullmatch(want, got) is not None
                   for want, got in ((self.ours, ours),
                                     (self.upstream, upstream)))


INTENDED: tuple[Intended, ...] = (
    # Upstream 6.12 takes VFIO_DEVICE_IOEVENTFD's offset as a signed
    # index: bit 63 set oopses it (and ~0 oopses when the eventfd fires).
    # Only ours is sent these (--unsafe); ours refuses them.
    Intended(r"^IOEVENTFD .* o=[89a-f][0-9a-f]{15} ",
             "upstream 6.12 oopses on IOEVENTFD offsets with bit 63 set; "
             "ours refuses them", ours=r"-1 (22|9|25)"),
    # A type1 range whose end wraps past 2^64: ours follows the 6.18 fix
    # (EOVERFLOW), 6.12 answers EINVAL.
    Intended(r"^(MAP|UNMAP|DIRTY) ",
             "a range wrapping past 2^64: EOVERFLOW as upstream since "
             "6.18; 6.12 gives EINVAL",
             ours=r"-1 75( .*)?", upstream=r"-1 22( .*)?"),
)


KNOWN_GAPS: tuple[Intended, ...] = (
    # NOT intended: bugs of ours, found by this fuzzer, for the lead to
    # triage (each with gap=True). A run that meets only these ends XFAIL,
    # not PASS.
    # (none today: BIND_IOMMUFD on a group's device fd was one, fixed by
    # the iommufd work)
)


@dataclass(frozen=True)
class Divergence:
    """Where the transcripts part: the index and both sides' lines."""

    index: int
    why: str
    ours: Call | None
    upstream: Call | None


@dataclass(frozen=True)
class Comparison:
    compared: int                       # calls both sets made and agreed on
    divergence: Divergence | None
    intended: list[tuple[Call, Call, Intended]]
    stopped: Call | None = None         # a listed difference ended it

    @property
    def ok(self) -> bool:
        return self.divergence is None

    @property
    def gaps(self) -> list[tuple[Call, Call, Intended]]:
        """The known gaps of ours this run met."""
        return [x for x in self.intended if x[2].gap]


def _intended_for(a: Call, upstream: str | None,
                  intended: tuple[Intended, ...]) -> Intended | None:
    """The first entry that covers this call and these results."""
    return next((i for i in intended if i.matches(a.op)
                 and i.allows(a.result, upstream)), None)


def _succeeded(result: str) -> bool:
    return not result.startswith("-1 ")


def compare(ours: Run, upstream: Run,
            intended: tuple[Intended, ...] = INTENDED + KNOWN_GAPS
            ) -> Comparison:
    """Compare call by call up to the first divergence not on the list."""
    seen: list[tuple[Call, Call, Intended]] = []
    agreed = 0
    for i in range(max(len(ours.calls), len(upstream.calls))):
        a = ours.calls[i] if i < len(ours.calls) else None
        b = upstream.calls[i] if i < len(upstream.calls) else None
        if a is None or b is None:
            missing = "ours" if a is None else "upstream"
            return Comparison(agreed, Divergence(
                i, f"the {missing} run stopped before this call (crashed, "
                "killed or timed out?)", a, b), seen)
        if a.index != b.index or a.op != b.op:
            return Comparison(agreed, Divergence(
                i, "the call sequences differ: the fuzzer's sequence "
                "depends on something other than the seed", a, b), seen)
        if a.result == b.result:
            agreed += 1
            continue
        if b.result == UNSAFE:
            listed = [e for e in intended
                      if e.matches(a.op) and e.ours is not None]
            if not listed:
                return Comparison(agreed, Divergence(
                    i, "an input sent to ours only has no expected result "
                    "on the intended-difference list", a, b), seen)
            entry = _intended_for(a, None, tuple(listed))
            if entry is None:
                return Comparison(agreed, Divergence(
                    i, f"ours should give {listed[0].ours!r} here "
                    f"({listed[0].reason})", a, b), seen)
            seen.append((a, b, entry))
            continue
        entry = _intended_for(a, b.result, intended)
        if entry is not None:
            seen.append((a, b, entry))
            if _succeeded(a.result) != _succeeded(b.result):
                # One set changed state, the other did not: what follows
                # may be its cascade, not a difference of its own.
                return Comparison(agreed, None, seen, stopped=a)
            continue
        return Comparison(agreed, Divergence(
            i, "results differ", a, b), seen)
    if not (ours.complete and upstream.complete):
        which = "ours" if not ours.complete else "upstream"
        return Comparison(agreed, Divergence(
            len(ours.calls), f"the {which} run did not finish", None, None),
            seen)
    return Comparison(agreed, None, seen)


def differing(ours: Run, upstream: Run,
              intended: tuple[Intended, ...] = INTENDED + KNOWN_GAPS,
              limit: int = 30) -> list[tuple[Call, Call]]:
    """Every call whose results differ and is not on the list, for
    triage (`fuzz --all`): after the first, they may be its cascade."""
    out: list[tuple[Call, Call]] = []
    for a, b in zip(ours.calls, upstream.calls, strict=False):
        if a.op != b.op or len(out) >= limit:
            break
        if a.result == b.result:
            continue
        if _intended_for(a, b.result, intended) is None:
            out.append((a, b))
    return out


def command(seed: int, calls: int, unsafe: bool, out: str,
            limit: int) -> str:
    """The guest command: the transcript goes to a file (a run the kernel
    kills still leaves every line up to the call it died in), a hung run
    is killed after `limit` seconds, and the exit status is printed."""
    flags = "".join(f" {f}" for f in [*(["--unsafe"] if unsafe else []),
                                      *WITHHELD])
    return (f"timeout -s KILL {limit} {PROGRAM} --seed {seed} "
            f"--calls {calls}{flags} > {out} 2>&1; echo status $?")


def chunks(lines: int, size: int = CHUNK_LINES) -> list[tuple[int, int]]:
    """1-based inclusive line ranges covering a file of `lines` lines."""
    return [(first, min(first + size - 1, lines))
            for first in range(1, lines + 1, size)]


def reproduce(seed: int, calls: int, machine: str) -> str:
    return (f"python3 -m harness fuzz --seed {seed} --calls {calls} "
            f"--machine {machine}")


def format_failure(seed: int, calls: int, machine: str, ours: Run,
                   upstream: Run, comparison: Comparison) -> str:
    """The story of a divergence: seed, call, both lines, calls before."""
    div = comparison.divergence
    assert div is not None
    lines = [f"fuzz divergence at call {div.index} (seed {seed}, "
             f"{machine}): {div.why}",
             f"  ours:     {div.ours.line if div.ours else '(none)'}",
             f"  upstream: {div.upstream.line if div.upstream else '(none)'}",
             "the calls before it (agreed on):"]
    start = max(0, div.index - CONTEXT)
    lines += [f"  {c.line}" for c in ours.calls[start:div.index]]
    for call_o, _call_u, entry in comparison.intended[-3:]:
        lines.append(f"earlier intended difference at {call_o.index}: "
                     f"{entry.reason}")
    lines.append(f"reproduce: {reproduce(seed, calls, machine)}")
    return "\n".join(lines)


def summary(seed: int, calls: int, machine: str,
            comparison: Comparison) -> str:
    verdict = ("FAIL" if not comparison.ok else
               "XFAIL" if comparison.gaps else "PASS")
    gaps = len(comparison.gaps)
    stop = comparison.stopped
    return (f"fuzz {verdict}: seed {seed}, {calls} calls on {machine}, "
            f"{comparison.compared} identical, "
            f"{len(comparison.intended) - gaps} intended differences, "
            f"{gaps} calls on known gaps of ours"
            + (f"; compared up to call {stop.index}, where only one set "
               "succeeded (on the list)" if stop else ""))


# --- driving a guest -----------------------------------------------------
def save(runs: dict[str, Run], directory: Path, stem: str) -> None:
    """Keep each set's transcript (results/fuzz/) for a closer look."""
    directory.mkdir(parents=True, exist_ok=True)
    for modset, run in runs.items():
        (directory / f"{stem}-{modset}.txt").write_text(
            "\n".join([*run.notes, *(c.line for c in run.calls)]) + "\n")


def fetch(guest: Guest, path: str) -> str:
    """A guest file's lines, a chunk per command: long fast output through
    the shell console was seen losing bytes, so each chunk is counted and
    fetched again when short."""
    total = int(guest.check(f"wc -l < {path}").split()[-1])
    text: list[str] = []
    for first, last in chunks(total):
        for _attempt in range(3):
            got = guest.check(f"sed -n '{first},{last}p' {path}"
                              ).splitlines()
            if len(got) == last - first + 1:
                break
        else:
            raise HarnessError(f"lines {first}-{last} of {path} did not "
                               "come back whole from the guest")
        text += got
    return "\n".join(text) + "\n"


def run_set(guest: Guest, modset: str, seed: int, calls: int,
            timeout: float) -> Run:
    """One module set's transcript; a splat is raised with the seed and
    the last call the program printed."""
    guest.use_modules(modset)
    before = guest.module_refs()
    began = time.monotonic()
    out = f"/tmp/fuzz-{modset}.txt"
    result = guest.run(command(seed, calls, modset == modsets.OURS, out,
                               int(timeout)),
                       timeout=timeout + 30, check_splat=False)
    seconds = time.monotonic() - began
    run = replace(parse(fetch(guest, out)), seconds=seconds)
    try:
        guest.check_console(f"the fuzzer on {modset}")
    except GuestSplat as exc:
        last = run.calls[-1].line if run.calls else "(no call yet)"
        raise GuestSplat(f"fuzz seed {seed} on {modset}: the kernel "
                         f"splatted; the last call printed was\n  {last}\n"
                         "(the splat is in it or in the next call)",
                         exc.trace) from None
    if not run.complete:
        run.notes.append(f"# {modset} {result.output.strip()} (137: "
                         f"killed after {int(timeout)}s, hung?)")
    if leaked := guest.leaked_refs(before, guest.module_refs()):
        guest.tainted = True
        raise AssertionError(f"fuzz seed {seed} on {modset}: module "
                             f"references left behind ({leaked})")
    return run


def timeout_for(calls: int) -> float:
    """Generous: TCG runs a few hundred calls a second at worst."""
    return 60.0 + calls * 0.05


def fuzz_guest(guest: Guest, seed: int, calls: int
               ) -> tuple[Run, Run, Comparison]:
    """Ours (with the inputs upstream cannot take), then upstream."""
    timeout = timeout_for(calls)
    ours = run_set(guest, modsets.OURS, seed, calls, timeout)
    upstream = run_set(guest, modsets.UPSTREAM, seed, calls, timeout)
    return ours, upstream, compare(ours, upstream)
