"""Hot unplug (QMP device_del) of a function bound to vfio-pci.

A user opens edu through VFIO, maps its BAR0, and closes everything (one
guest program case); edu stays bound to vfio-pci. device_del then goes
through the guest's native pciehp (5 s attention button delay): vfio-pci
lets go of the function and QEMU reports it deleted. The guest has lost a
device, so it is not handed to the next test.

While a user still holds the device, vfio-pci cannot let go: the guest
kernel's removal waits, relaying the request to the user through the REQ
eventfd (VFIO_PCI_REQ_IRQ_INDEX) until the user closes the device
(tests/guest/unplug_holder.c, with UNPLUG_HOLDER_WAIT set). Only then is
the function removed and QEMU reports it deleted.
"""

import time

import pytest

from harness import guestfs

pytestmark = pytest.mark.feature("hotunplug")

EDU_SYSFS = "ls -d /sys/bus/pci/devices/* | while read d; do " \
            "[ $(cat $d/vendor):$(cat $d/device) = 0x1234:0x11e8 ] " \
            "&& echo ${d##*/}; done; true"
HOLDER_LOG = "/tmp/holder.log"


def test_unplug_after_user_closed(guest, modset):
    try:
        result = guest.run(f"{guestfs.program('pci_mmap')} -r mmap.mapping_outlives_fd",
                           timeout=120)
        assert result.status == 0, result.output
        bdf = guest.check(EDU_SYSFS).strip()
        assert bdf, "no edu in the guest"
        driver = guest.check(
            f"basename $(readlink /sys/bus/pci/devices/{bdf}/driver)")
        assert driver.strip() == "vfio-pci"

        guest.qmp("device_del", id="edu0")
        guest.qmp_event("DEVICE_DELETED", timeout=60)
        assert guest.check(EDU_SYSFS).strip() == ""
    finally:
        guest.tainted = True


def _wait_for_line(guest, path: str, line: str, timeout: float) -> str:
    """Poll a guest file until it has @line; return its content."""
    deadline = time.monotonic() + timeout
    while True:
        text = guest.run(f"cat {path} 2>/dev/null; true").output
        if line in text.splitlines() or time.monotonic() > deadline:
            return text
        time.sleep(0.5)


def test_unplug_while_user_holds_req(guest, modset):
    try:
        guest.check(f"( UNPLUG_HOLDER_WAIT=60 {guestfs.program('unplug_holder')}; "
                    f"echo EXIT $? ) > {HOLDER_LOG} 2>&1 &")
        log = _wait_for_line(guest, HOLDER_LOG, "HOLDING", 30)
        assert "HOLDING" in log.splitlines(), log

        guest.qmp("device_del", id="edu0")
        guest.qmp_event("DEVICE_DELETED", timeout=60)

        log = _wait_for_line(guest, HOLDER_LOG, "EXIT 0", 30)
        lines = log.splitlines()
        assert "REQ" in lines, log
        assert "EXIT 0" in lines, log
        assert guest.check(EDU_SYSFS).strip() == ""
    finally:
        guest.tainted = True
