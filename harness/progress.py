"""One-line progress for long steps, and a plain log when not on a tty."""

from __future__ import annotations

import sys
import time


class Progress:
    """Shows `label: done/total (pct) elapsed` on one refreshed line."""

    def __init__(self, label: str, total: int | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.start = time.monotonic()
        self._last = 0.0
        self._tty = sys.stderr.isatty()

    def step(self, what: str = "") -> None:
        self.done += 1
        now = time.monotonic()
        if now - self._last < (0.2 if self._tty else 15.0):
            return
        self._last = now
        self._show(what)

    def _show(self, what: str) -> None:
        elapsed = time.monotonic() - self.start
        if self.total:
            pct = min(99, 100 * self.done // self.total)
            count = f"{self.done}/~{self.total} ({pct}%)"
        else:
            count = f"{self.done}"
        line = f"{self.label}: {count} {elapsed:5.0f}s {what}"
        if self._tty:
            sys.stderr.write("\r\033[K" + line[:150])
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def finish(self, message: str = "done") -> float:
        elapsed = time.monotonic() - self.start
        end = f"{self.label}: {message} in {elapsed:.1f}s"
        sys.stderr.write(("\r\033[K" if self._tty else "") + end + "\n")
        sys.stderr.flush()
        return elapsed


def note(message: str) -> None:
    """A status line on stderr, out of the way of tables on stdout."""
    sys.stderr.write(f"[harness] {message}\n")
    sys.stderr.flush()
