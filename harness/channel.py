"""The byte stream from the guest's shell port, cut into command frames.

The guest shell writes to a virtio serial port. The guest kernel counts
every byte it hands to that port (`bytes_sent` in the port's debugfs
file), and each frame's end marker carries that count, taken just before
the marker was written. The harness counts every byte it reads, so at
each end marker the two counts must agree, up to a constant fixed once
when the shell first answers (`sync`): a byte lost or added anywhere
between the guest kernel and the harness fails the command whose frame
shows the difference.

A command `n` arrives as::

    \\x02B<n>\\x03\\n  <output bytes>  \\x02E<n>:<status>:<bytes_sent>\\x03\\n

This module is pure: it turns bytes into frames and builds the shell
text that produces them. harness/guest.py moves the bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import GuestOutputLost, HarnessError

# The longest marker the search must see whole across two reads.
_OVERLAP = 96

# Shell functions the harness defines in the guest shell (busybox ash),
# using builtins only, so a command costs no extra process:
#   _hc      sets c to the port's bytes_sent ($HARNESS_STATS names the
#            port's debugfs file; the guest's init exports it)
#   _he N S  writes command N's end marker with status S
SHELL_FUNCTIONS = (
    "_hc(){ c=; while read -r k c; do [ \"$k\" = bytes_sent: ] && break;"
    " c=; done <\"$HARNESS_STATS\"; };"
    " _he(){ _hc; printf '\\002E%d:%d:%s\\003\\n' \"$1\" \"$2\" \"$c\"; }")

SYNC_RE = re.compile(rb"HARNESS-SYNC-(\d+):(\d*)\n")


def knock(n: int) -> str:
    """Shell text that (re)defines the helpers and answers with
    `HARNESS-SYNC-<n>:<bytes_sent>`. The leading newline ends any partial
    line the shell was reading."""
    return f"\n{SHELL_FUNCTIONS}; _hc; echo \"HARNESS-SYNC-{n}:$c\"\n"


def command_line(n: int, cmd: str) -> str:
    """Shell text that runs `cmd` as frame `n`.

    A subshell, so `exit` or `set -e` in `cmd` cannot end the shell;
    stdin is /dev/null, so `cmd` cannot eat the commands that follow.
    """
    return (f"printf '\\002B{n}\\003\\n';( {cmd}\n)</dev/null 2>&1;"
            f"_he {n} $?\n")


def begin_marker(n: int) -> bytes:
    return b"\x02B%d\x03\n" % n


def end_re(n: int) -> re.Pattern[bytes]:
    return re.compile(rb"\x02E%d:(\d+):(\d*)\x03\n" % n)


@dataclass(frozen=True)
class Frame:
    """One command's result: exit status and every byte it wrote."""

    seq: int
    status: int
    data: bytes


class Channel:
    """Bytes read from the shell port, counted, not yet consumed.

    `feed` appends what was read; `expect`, `sync` and `frame` look for
    something in what has not been consumed yet and consume up to it.
    Searching is incremental, so a frame of N bytes costs O(N) overall.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._base = 0          # stream offset of _buf[0]
        self._scanned = 0       # _buf before this was searched in vain
        self._scanned_for: re.Pattern[bytes] | None = None  # ...for this
        self._skew: int | None = None  # host offset - guest count

    @property
    def received(self) -> int:
        """Bytes read from the port since the guest started."""
        return self._base + len(self._buf)

    @property
    def synced(self) -> bool:
        return self._skew is not None

    def feed(self, data: bytes) -> None:
        self._buf += data

    def pending(self, n: int | None = None) -> bytes:
        """What has arrived and was not consumed (for diagnostics); with
        `n`, only what came after frame n's begin marker, if it came."""
        if n is not None:
            begin = self._buf.find(begin_marker(n))
            if begin >= 0:
                return bytes(self._buf[begin + len(begin_marker(n)):])
        return bytes(self._buf)

    def _search(self, pattern: re.Pattern[bytes]) -> re.Match[bytes] | None:
        if pattern != self._scanned_for:
            self._scanned, self._scanned_for = 0, pattern
        found = pattern.search(self._buf, max(0, self._scanned - _OVERLAP))
        if found is None:
            self._scanned = len(self._buf)
        return found

    def _consume(self, end: int) -> None:
        del self._buf[:end]
        self._base += end
        self._scanned = 0

    def expect(self, pattern: re.Pattern[bytes]) -> bytes | None:
        """The first match of `pattern`, consumed through its end; or
        None (nothing consumed) when it has not arrived yet."""
        found = self._search(pattern)
        if found is None:
            return None
        text = found.group(0)
        self._consume(found.end())  # invalidates found
        return text

    def sync(self) -> int | None:
        """Consume a knock's answer; return its number, or None if none
        arrived yet. The first answer fixes how the harness's byte count
        relates to the guest's; later ones (knocks the shell answered
        late) are checked against it.

        Raises GuestOutputLost when a late answer's count disagrees.
        """
        found = self._search(SYNC_RE)
        if found is None:
            return None
        offset = self._base + found.start()
        if not found.group(2):
            raise HarnessError(
                "the guest shell cannot read its port's byte count from "
                "$HARNESS_STATS (the port's debugfs file): check that "
                "images/init mounts debugfs and exports HARNESS_STATS")
        sent, knocked = int(found.group(2)), int(found.group(1))
        self._consume(found.end())  # invalidates found
        if self._skew is None:
            self._skew = offset - sent
        elif offset - sent != self._skew:
            raise GuestOutputLost("the shell's greeting", sent,
                                  offset - self._skew, b"")
        return knocked

    def frame(self, n: int, cmd: str) -> Frame | None:
        """Frame `n` (the command `cmd`) if its end marker has arrived,
        consumed; None if not yet.

        Raises GuestOutputLost when the bytes before the end marker are
        not the bytes the guest wrote (lost, added, or no begin marker),
        and HarnessError when the channel was never synced.
        """
        if self._skew is None:
            raise HarnessError("the guest shell was never synced: call "
                               "Guest.start() before Guest.run()")
        end = self._search(end_re(n))
        if end is None:
            return None
        begin = self._buf.find(begin_marker(n), 0, end.start())
        start = begin + len(begin_marker(n))
        data = bytes(self._buf[start:end.start()]) if begin >= 0 else b""
        offset = self._base + end.start()
        sent = int(end.group(2)) if end.group(2) else -1
        status = int(end.group(1))
        self._consume(end.end())  # invalidates end
        if begin < 0 or sent < 0 or offset - self._skew != sent:
            raise GuestOutputLost(cmd, sent, offset - self._skew, data,
                                  begin_seen=begin >= 0)
        return Frame(n, status, data)
