"""Guests shared across tests: one per machine, restarted when spoiled."""

from __future__ import annotations

from .errors import GuestSplat
from .guest import Guest
from .progress import note
from .world import World

BOOT_ATTEMPTS = 2


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
            guest = self._boot(machine)
            self.guests[machine] = guest
        guest.use_modules(modset)
        return guest

    def _boot(self, machine: str) -> Guest:
        """A started guest. A splat while booting comes before any VFIO
        module is loaded, so it is the guest kernel under TCG, not the
        code under test (seen here: a KASAN report in an interrupt at
        0.004 s on the debug kernel): boot once more, and fail only if
        that splats too."""
        attempt = 1
        while True:
            self.boots += 1
            guest = self.world.guest(f"{self.prefix}{machine}-{self.boots}",
                                     machine)
            try:
                return guest.start()
            except GuestSplat as exc:
                guest.close()
                if attempt >= BOOT_ATTEMPTS:
                    raise
                note(f"{machine}: the guest kernel splatted while booting, "
                     f"before any VFIO module was loaded; booting again "
                     f"(console: {guest.console_log}):\n"
                     + "\n".join(exc.trace.splitlines()[:3]))
                attempt += 1

    def close(self) -> None:
        for guest in self.guests.values():
            guest.close()
        self.guests.clear()
