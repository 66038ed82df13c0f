"""The channel from the guest shell to the harness loses nothing, or says so.

Every byte a guest command writes must reach the harness unchanged, and a
stream that lost bytes must fail the command it belongs to. The flood
program (bench/guest/flood.c) writes output the host regenerates here.

The channel does not depend on the VFIO module set, so these run on
`ours` only.
"""

import pytest

from harness import guestfs
from harness.errors import GuestOutputLost

FLOOD = guestfs.program("flood")

pytestmark = pytest.mark.feature("harness")

BLOCK = 65536
STEP = 4099
# 32 MiB: ~3 s under TCG on a loaded 2-core host (~11 MB/s measured).
FLOOD_BYTES = 32 << 20
FLOOD_LINES = 200_000


def flood_block() -> bytes:
    """The 64 KiB xorshift64 block flood.c repeats (little-endian)."""
    x, out, mask = 0x9E3779B97F4A7C15, bytearray(), (1 << 64) - 1
    for _ in range(BLOCK // 8):
        x ^= (x << 13) & mask
        x ^= x >> 7
        x ^= (x << 17) & mask
        out += x.to_bytes(8, "little")
    return bytes(out)


def flood_bytes(n: int) -> bytes:
    """What `flood bytes n` writes: block k rotated left by k*STEP."""
    base, out = flood_block(), bytearray()
    for k in range((n + BLOCK - 1) // BLOCK):
        r = k * STEP % BLOCK
        out += base[r:] + base[:r]
    return bytes(out[:n])


def first_difference(got: bytes, want: bytes) -> str | None:
    """Where `got` departs from `want`, described; None if equal."""
    if got == want:
        return None
    at = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
              min(len(got), len(want)))
    return (f"{len(got)} bytes arrived, {len(want)} expected; first "
            f"difference at byte {at}: got {got[at:at + 16]!r}, "
            f"want {want[at:at + 16]!r}")


def test_flood_block_covers_every_byte_value():
    assert len(set(flood_block())) == 256


@pytest.mark.modsets("ours")
def test_tens_of_mib_arrive_byte_for_byte(guest, modset):
    result = guest.run(f"{FLOOD} bytes {FLOOD_BYTES}", timeout=300)
    assert result.status == 0, result.output[-2000:]
    assert first_difference(result.data, flood_bytes(FLOOD_BYTES)) is None, \
        first_difference(result.data, flood_bytes(FLOOD_BYTES))


@pytest.mark.modsets("ours")
def test_many_short_writes_arrive_in_order(guest, modset):
    result = guest.run(f"{FLOOD} lines {FLOOD_LINES}", timeout=300)
    assert result.status == 0, result.output[-2000:]
    want = "".join(f"flood {i:08d}\n" for i in range(FLOOD_LINES)).encode()
    assert first_difference(result.data, want) is None, \
        first_difference(result.data, want)


@pytest.mark.modsets("ours")
def test_a_lost_chunk_fails_the_command(guest, modset):
    """Drop part of one read on the host side, as a slow or lossy
    channel would: the command must fail, naming itself."""
    proc = guest._proc
    read = proc.read_nonblocking
    dropped = []

    def lossy(size: int, timeout: float) -> bytes:
        data = read(size, timeout)
        if not dropped and len(data) > 64:
            keep = len(data) // 2
            dropped.append(len(data) - keep)
            return data[:keep]
        return data

    proc.read_nonblocking = lossy
    with pytest.raises(GuestOutputLost) as lost:
        guest.run(f"{FLOOD} bytes 1000000")
    assert dropped, "the stream was never read"
    assert f"{FLOOD} bytes 1000000" in str(lost.value)
    assert lost.value.sent - lost.value.received == dropped[0]
    assert not guest.alive, "a guest whose stream broke must be killed"
