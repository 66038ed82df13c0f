"""The harness reaches QEMU's monitor: the way hot unplug is driven."""

import pytest

pytestmark = pytest.mark.feature("harness")


def test_qmp_sees_the_machine_devices(guest, modset):
    status = guest.qmp("query-status")
    assert status["running"] is True
    ids = {d.get("qdev_id") for bus in guest.qmp("query-pci")
           for d in _walk(bus["devices"])}
    assert {"edu0", "testdev0"} <= ids


def _walk(devices):
    for d in devices:
        yield d
        yield from _walk(d.get("pci_bridge", {}).get("devices", []))
