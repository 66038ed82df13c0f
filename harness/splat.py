"""Find kernel splats (oops, BUG, WARN, lockdep, KASAN...) in console text."""

from __future__ import annotations

import re

# A line that starts a report worth failing a test for.
_START = re.compile(
    r"(Kernel panic|Oops|BUG:|WARNING:|------------\[ cut here \]"
    r"|general protection fault|kernel BUG at|KASAN:|UBSAN:|KFENCE:"
    r"|possible circular locking|possible recursive locking"
    r"|inconsistent lock state|INFO: task .* blocked for more than"
    r"|rcu: INFO: .* detected stalls|unreferenced object 0x"
    r"|Unable to handle kernel|list_(add|del) corruption"
    r"|DEBUG_LOCKS_WARN_ON|refcount_t: )")
_END = re.compile(r"---\[ end (trace|Kernel panic)")
_RCU_STALL = re.compile(r"rcu: INFO: .* detected stalls")
# The kernel's own verdict on a stall whose CPU was idle all along: under
# TCG on a loaded host the vCPU thread was not run, so its timer did not
# fire ("timer wakeup didn't happen"); no kernel code was stuck. A stall of
# a CPU running code (ours in a loop, say) has no such mark and fails.
_IDLE_STALL = re.compile(r"\(false positive\?\)|skipped: idling")
_STALL_LINES = 12
_TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
MAX_TRACE_LINES = 80


def find(text: str) -> str | None:
    """The first report in `text`, from its first line to its end marker."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _RCU_STALL.search(line) and _idle_stall(lines[i:i + _STALL_LINES]):
            continue
        if _START.search(_TIMESTAMP.sub("", line)):
            trace = []
            for follow in lines[i:i + MAX_TRACE_LINES]:
                trace.append(follow)
                if _END.search(follow):
                    break
            return "\n".join(trace)
    return None


def _idle_stall(report: list[str]) -> bool:
    """An RCU stall report in which every stalled CPU was idle."""
    cpus = [ln for ln in report if re.search(r"rcu: \s+\d+-", ln)]
    return bool(cpus) and all(_IDLE_STALL.search(ln) for ln in cpus)
