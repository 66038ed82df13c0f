"""A splat while booting is retried once; a second one fails."""

import pytest

from harness.errors import GuestSplat
from harness.pool import GuestPool


class FakeGuest:
    def __init__(self, splats: bool) -> None:
        self.splats = splats
        self.closed = False
        self.modset = "none"
        self.console_log = "console.log"
        self.tainted = False
        self.alive = True

    def start(self) -> "FakeGuest":
        if self.splats:
            raise GuestSplat("the guest kernel splatted while booting",
                             "BUG: KASAN: wild-memory-access\nline2")
        return self

    def close(self) -> None:
        self.closed = True

    def use_modules(self, modset: str) -> None:
        self.modset = modset


class FakeWorld:
    def __init__(self, *splats: bool) -> None:
        self.plan = list(splats)
        self.made: list[FakeGuest] = []

    def guest(self, name: str, machine: str, cpus: int = 2) -> FakeGuest:
        g = FakeGuest(self.plan.pop(0))
        self.made.append(g)
        return g


def test_one_boot_splat_is_retried():
    world = FakeWorld(True, False)
    guest = GuestPool(world).acquire("q35-intel", "ours")  # type: ignore[arg-type]
    assert guest is world.made[1] and guest.modset == "ours"
    assert world.made[0].closed


def test_two_boot_splats_fail():
    world = FakeWorld(True, True)
    with pytest.raises(GuestSplat):
        GuestPool(world).acquire("q35-intel", "ours")  # type: ignore[arg-type]
    assert all(g.closed for g in world.made)
