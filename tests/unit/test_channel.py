"""harness/channel.py: frames cut from the shell port's byte stream, and
every lost, added or garbled byte count caught, without a VM."""

import re
import subprocess

import pytest

from harness.channel import (
    SHELL_FUNCTIONS,
    Channel,
    begin_marker,
    command_line,
    knock,
)
from harness.errors import GuestOutputLost, HarnessError
from harness.image import BUSYBOX

BOOT = b"[boot noise]\nHARNESS-READY\n"
ALL_BYTES = bytes(range(256)) * 3 + b"\r\n\x02E1:0:5\x03 not a marker\n"


def stream(outputs: list[tuple[bytes, int]], lose: int | None = None,
           add: int | None = None) -> bytes:
    """What a guest writes: boot text, the knock's answer, then one frame
    per (output, status), each end marker carrying the guest's count of
    bytes sent so far. `lose`/`add`: drop/insert a byte at that offset
    after the guest counted it."""
    out = bytearray(BOOT)
    out += b"HARNESS-SYNC-1:%d\n" % len(out)
    for n, (data, status) in enumerate(outputs, start=1):
        out += begin_marker(n) + data
        out += b"\x02E%d:%d:%d\x03\n" % (n, status, len(out))
    if lose is not None:
        del out[lose]
    if add is not None:
        out[add:add] = b"\r"
    return bytes(out)


def synced(data: bytes, chunk: int = 7) -> Channel:
    ch = Channel()
    for i in range(0, len(data), chunk):
        ch.feed(data[i:i + chunk])
        if not ch.synced:
            ch.sync()
    assert ch.synced
    return ch


@pytest.mark.parametrize("chunk", [1, 5, 4096])
def test_frames_come_out_whole_however_the_bytes_were_read(chunk):
    ch = synced(stream([(b"hello\n", 0), (ALL_BYTES, 3), (b"", 0)]), chunk)
    first = ch.frame(1, "echo hello")
    assert first is not None and (first.status, first.data) == (0, b"hello\n")
    second = ch.frame(2, "binary")
    assert second is not None and (second.status, second.data) == (3,
                                                                  ALL_BYTES)
    third = ch.frame(3, "true")
    assert third is not None and third.data == b""


def test_an_unfinished_frame_is_not_yet_there():
    whole = stream([(b"x" * 1000, 0)])
    ch = synced(whole[:-3])
    assert ch.frame(1, "x") is None
    ch.feed(whole[-3:])
    frame = ch.frame(1, "x")
    assert frame is not None and frame.data == b"x" * 1000


def test_output_so_far_starts_after_the_begin_marker():
    ch = synced(stream([]) + b"noise\n" + begin_marker(1) + b"partial")
    assert ch.pending(1) == b"partial"
    assert ch.pending(2) == b"noise\n" + begin_marker(1) + b"partial"


def test_a_lost_byte_fails_the_command_that_wrote_it():
    good = stream([(b"fine\n", 0)])
    data = stream([(b"fine\n", 0), (b"a" * 5000, 0)], lose=len(good) + 2000)
    ch = synced(data)
    assert ch.frame(1, "first") is not None
    with pytest.raises(GuestOutputLost) as lost:
        ch.frame(2, "cat big")
    assert "`cat big`" in str(lost.value)
    assert "1 bytes were lost" in str(lost.value)
    assert lost.value.sent - lost.value.received == 1
    assert lost.value.data == b"a" * 4999


def test_an_added_byte_fails_too():
    # What a host pty with OPOST does to a newline: CR inserted.
    data = stream([(b"line\n", 0)], add=len(stream([])) + 10)
    with pytest.raises(GuestOutputLost, match="1 bytes arrived that it "
                       "never wrote"):
        synced(data).frame(1, "echo line")


def test_a_truncated_stream_whose_begin_marker_is_gone_fails():
    data = stream([(b"data", 0)])
    start = len(stream([]))
    with pytest.raises(GuestOutputLost, match="begin marker never arrived"):
        synced(data[:start] + data[start + 4:]).frame(1, "cmd")


def test_an_end_marker_without_a_count_fails():
    data = stream([]) + begin_marker(1) + b"out\x02E1:0:\x03\n"
    with pytest.raises(GuestOutputLost, match="no byte count"):
        synced(data).frame(1, "cmd")


def test_a_shell_that_cannot_count_fails_the_sync():
    ch = Channel()
    ch.feed(b"HARNESS-SYNC-1:\n")
    with pytest.raises(HarnessError, match="HARNESS_STATS"):
        ch.sync()


def test_a_search_for_one_thing_does_not_hide_another():
    ch = Channel()
    ch.feed(b"HARNESS-SYNC-1:0\n" + b"x" * 500)
    assert ch.expect(re.compile(rb"HARNESS-READY")) is None
    assert ch.sync() == 1


def test_frames_need_a_sync_first():
    with pytest.raises(HarnessError, match="never synced"):
        Channel().frame(1, "true")


def test_late_knock_answers_are_checked_and_skipped():
    data = bytearray(b"HARNESS-SYNC-1:0\n")
    data += b"HARNESS-SYNC-2:%d\n" % len(data)
    data += begin_marker(1) + b"ok"
    data += b"\x02E1:0:%d\x03\n" % len(data)
    ch = Channel()
    ch.feed(bytes(data))
    assert ch.sync() == 1 and ch.sync() == 2
    frame = ch.frame(1, "x")
    assert frame is not None and frame.data == b"ok"


def test_stray_bytes_before_a_frame_are_not_its_output():
    data = bytearray(stream([]))
    data += b"late background output\n" + begin_marker(1) + b"mine"
    data += b"\x02E1:0:%d\x03\n" % len(data)
    frame = synced(bytes(data)).frame(1, "x")
    assert frame is not None and frame.data == b"mine"


def test_the_shell_text_runs_in_busybox_sh(tmp_path):
    """The helpers and the command wrapper are valid busybox ash, and
    the end marker carries what the stats file says (here a fixed
    count, so the harness must call it a loss)."""
    stats = tmp_path / "stats"
    stats.write_text("name: harness\nguest_connected: 1\nbytes_sent: 7\n"
                     "bytes_received: 9\n")
    script = knock(1) + command_line(1, "echo hi; exit 3")
    # The guest's shell: the busybox the image is built from.
    out = subprocess.run([str(BUSYBOX), "sh"], input=script.encode(),
                         capture_output=True, check=True,
                         env={"HARNESS_STATS": str(stats), "PATH": "/bin"}
                         ).stdout
    assert out == (b"HARNESS-SYNC-1:7\n" + begin_marker(1) + b"hi\n"
                   b"\x02E1:3:7\x03\n")
    ch = Channel()
    ch.feed(out)
    ch.sync()
    with pytest.raises(GuestOutputLost):
        ch.frame(1, "echo hi; exit 3")


def test_the_helpers_use_builtins_only():
    # A fork per command costs milliseconds under TCG; keep it out.
    for word in ("$(", "`", "cat ", "sed ", "awk ", "grep "):
        assert word not in SHELL_FUNCTIONS
