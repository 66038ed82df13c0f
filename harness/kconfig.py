"""Kernel config fragments: parsing, checking, and the cache key."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

_SET = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")


def parse(text: str) -> dict[str, str]:
    """Map each option a config text mentions to its value ('n' if unset)."""
    options: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if m := _SET.match(line):
            options[m.group(1)] = m.group(2)
        elif m := _UNSET.match(line):
            options[m.group(1)] = "n"
    return options


def unmet(wanted: dict[str, str], actual: dict[str, str]) -> list[str]:
    """Options of a fragment that did not survive `make olddefconfig`.

    Each entry reads `CONFIG_X: wanted y, got n` so a failed build says
    which dependency to look at.
    """
    problems = []
    for name, value in wanted.items():
        got = actual.get(name, "n")
        if got != value:
            problems.append(f"{name}: wanted {value}, got {got}")
    return problems


def cache_key(source_version: str, fragments: Iterable[bytes]) -> str:
    """Key of a kernel build: the source version and every fragment."""
    h = hashlib.sha256(f"linux-source {source_version}\n".encode())
    for fragment in fragments:
        h.update(hashlib.sha256(fragment).digest())
    return h.hexdigest()[:16]
