"""Hot unplug (QMP device_del) of a function bound to vfio-pci.

A user opens edu through VFIO, maps its BAR0, and closes everything (one
guest program case); edu stays bound to vfio-pci. device_del then goes
through the guest's native pciehp (5 s attention button delay): vfio-pci
lets go of the function and QEMU reports it deleted. The guest has lost a
device, so it is not handed to the next test.

Unplug while a user still holds the device needs the REQ eventfd (the
interrupt series) and is not covered here.
"""

EDU_SYSFS = "ls -d /sys/bus/pci/devices/* | while read d; do " \
            "[ $(cat $d/vendor):$(cat $d/device) = 0x1234:0x11e8 ] " \
            "&& echo ${d##*/}; done; true"


def test_unplug_after_user_closed(guest, modset):
    try:
        result = guest.run("/tests/pci_mmap -r mmap.mapping_outlives_fd",
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
