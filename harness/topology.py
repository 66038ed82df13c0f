"""Machines as data: a topology in images/machines/*.toml becomes QEMU
arguments.

A topology names the machine type, the vIOMMU, the devices in order and
the guest kernel arguments they need. Device tables keep their key order,
so `[[device]]` entries read like the -device lines they become.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field

from .errors import HarnessError
from .paths import REPO

MACHINES = REPO / "images" / "machines"
DEFAULT_MACHINE = "q35-intel"


@dataclass(frozen=True)
class Device:
    driver: str
    props: dict[str, object] = field(default_factory=dict)

    def arg(self) -> str:
        return ",".join([self.driver] + [f"{k}={_value(v)}"
                                         for k, v in self.props.items()])


@dataclass(frozen=True)
class Topology:
    name: str
    description: str
    machine: str
    iommu: Device | None
    devices: list[Device]
    kernel_args: list[str] = field(default_factory=list)
    globals: list[str] = field(default_factory=list)
    kvm_machine_props: list[str] = field(default_factory=list)
    # "qboot" boots fastest; "seabios" enumerates PCI bridges before the
    # ACPI tables are final, which virtio-iommu's VIOT table needs.
    firmware: str = "qboot"

    def device_args(self) -> list[str]:
        """-device arguments, the vIOMMU first as QEMU requires."""
        devices = ([self.iommu] if self.iommu else []) + self.devices
        return [a for d in devices for a in ("-device", d.arg())]


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _device(table: dict[str, object]) -> Device:
    table = dict(table)
    try:
        driver = table.pop("driver")
    except KeyError:
        raise HarnessError(f"device {table} has no `driver`") from None
    return Device(str(driver), table)


def parse(name: str, text: str) -> Topology:
    data = tomllib.loads(text)
    iommu = data.get("iommu")
    return Topology(
        name=name,
        description=data.get("description", ""),
        machine=data.get("machine", "q35"),
        iommu=_device(iommu) if iommu else None,
        devices=[_device(d) for d in data.get("device", [])],
        kernel_args=list(data.get("kernel_args", [])),
        globals=list(data.get("globals", [])),
        kvm_machine_props=list(data.get("kvm_machine_props", [])),
        firmware=data.get("firmware", "qboot"),
    )


def available() -> list[str]:
    return sorted(p.stem for p in MACHINES.glob("*.toml"))


def load(name: str = DEFAULT_MACHINE) -> Topology:
    path = MACHINES / f"{name}.toml"
    if not path.exists():
        raise HarnessError(f"no machine {name!r}; available: "
                           f"{', '.join(available())}")
    return parse(name, path.read_text())
