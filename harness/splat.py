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
_TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
MAX_TRACE_LINES = 80


def find(text: str) -> str | None:
    """The first report in `text`, from its first line to its end marker."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _START.search(_TIMESTAMP.sub("", line)):
            trace = []
            for follow in lines[i:i + MAX_TRACE_LINES]:
                trace.append(follow)
                if _END.search(follow):
                    break
            return "\n".join(trace)
    return None
