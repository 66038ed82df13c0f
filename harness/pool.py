"""Guests shared across tests: one per machine, restarted when spoiled."""

from __future__ import annotations

from .errors import GuestSplat
from .guest import Guest
from .progress import note
from .world import World

BOOT_ATTEMPTS = 2

TEST_CPUS = 1
"""vCPUs of a test guest unless its test asks for more (`// harness:
cpus=2` in a guest program, @pytest.mark.cpus(2) on a Python test).
Bringing up a second vCPU under TCG took about 0.25 s of every boot
(its delay loop calibrates the slow way), and each idle vCPU costs the
host timer ticks; only tests that race threads or processes need two."""


class GuestPool:
    """Boots a machine (with some number of vCPUs) on first use and
    keeps it for the next test.

    A guest that splatted, timed out or died is thrown away and the next
    test gets a fresh boot, so one bad test does not fail the rest.
    """

    def __init__(self, world: World, prefix: str = "") -> None:
        self.world = world
        self.prefix = f"{prefix}-" if prefix else ""
        self.guests: dict[tuple[str, int], Guest] = {}
        self.boots = 0

    def acquire(self, machine: str, modset: str, cpus: int = TEST_CPUS
                ) -> Guest:
        """The machine's guest with `cpus` vCPUs and `modset` loaded,
        booted if there is none (or the last one is spoiled)."""
        guest = self.guests.get((machine, cpus))
        if guest is not None and (guest.tainted or not guest.alive):
            note(f"rebooting {machine}: the previous guest is "
                 f"{'spoiled' if guest.alive else 'gone'}")
            guest.close()
            guest = None
        if guest is None:
            guest = self._boot(machine, cpus)
            self.guests[(machine, cpus)] = guest
        guest.use_modules(modset)
        return guest

    def adopt(self, guest: Guest, machine: str, cpus: int) -> None:
        """Take `guest`, booted elsewhere (harness/headstart.py), as the
        machine's guest with `cpus` vCPUs; it counts as a boot."""
        self.boots += 1
        self.guests[(machine, cpus)] = guest

    def _boot(self, machine: str, cpus: int) -> Guest:
        """A started guest. A splat while booting comes before any VFIO
        module is loaded, so it is the guest kernel under TCG, not the
        code under test (seen here: a KASAN report in an interrupt at
        0.004 s on the debug kernel): boot once more, and fail only if
        that splats too."""
        attempt = 1
        while True:
            self.boots += 1
            guest = self.world.guest(f"{self.prefix}{machine}-{self.boots}",
                                     machine, cpus=cpus)
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
