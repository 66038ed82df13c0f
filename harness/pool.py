"""Guests shared across tests: one per machine, restarted when spoiled."""

from __future__ import annotations

from .guest import Guest
from .progress import note
from .world import World


class GuestPool:
    """Boots a machine on first use and keeps it for the next test.

    A guest that splatted, timed out or died is thrown away and the next
    test gets a fresh boot, so one bad test does not fail the rest.
    """

    def __init__(self, world: World, prefix: str = "") -> None:
        self.world = world
        self.prefix = f"{prefix}-" if prefix else ""
        self.guests: dict[str, Guest] = {}
        self.boots = 0

    def acquire(self, machine: str, modset: str) -> Guest:
        guest = self.guests.get(machine)
        if guest is not None and (guest.tainted or not guest.alive):
            note(f"rebooting {machine}: the previous guest is "
                 f"{'spoiled' if guest.alive else 'gone'}")
            guest.close()
            guest = None
        if guest is None:
            self.boots += 1
            guest = self.world.guest(f"{self.prefix}{machine}-{self.boots}",
                                     machine)
            self.guests[machine] = guest
            guest.start()
        guest.use_modules(modset)
        return guest

    def close(self) -> None:
        for guest in self.guests.values():
            guest.close()
        self.guests.clear()
