from pathlib import Path

from harness import qemu, topology

T = topology.parse("t", """
kernel_args = ["intel_iommu=on"]
kvm_machine_props = ["kernel-irqchip=split"]
globals = ["ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off"]
[iommu]
driver = "intel-iommu"
[[device]]
driver = "edu"
""")


def boot(**kw):
    return qemu.Boot(kernel=Path("bz"), initrd=Path("rd"),
                     console_log=Path("con.log"), **kw)


def value(cmd, flag):
    return cmd[cmd.index(flag) + 1]


def test_tcg_command():
    cmd = qemu.command(T, boot())
    assert value(cmd, "-accel") == "tcg"
    assert value(cmd, "-machine") == "q35"
    assert value(cmd, "-cpu") == "max"
    assert "-no-reboot" in cmd and "-nodefaults" in cmd
    assert value(cmd, "-global") == T.globals[0]
    # the vIOMMU precedes every other device
    devices = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-device"]
    assert devices[0] == "intel-iommu"
    assert "edu" in devices


def test_kvm_uses_the_split_irqchip():
    cmd = qemu.command(T, boot(accel="kvm"))
    assert value(cmd, "-machine") == "q35,kernel-irqchip=split"
    assert value(cmd, "-accel") == "kvm"


def test_console_to_file_and_shell_on_virtio_serial_port():
    cmd = qemu.command(T, boot())
    append = value(cmd, "-append")
    assert "console=ttyS0" in append and "harness.port=harness" in append
    assert "intel_iommu=on" in append and "panic=-1" in append
    assert "file,id=console,path=con.log" in cmd
    assert "stdio,id=shell" in cmd
    assert "virtserialport,chardev=shell,name=harness" in cmd


def test_interactive_shell_shares_the_console():
    cmd = qemu.command(T, boot(interactive=True))
    assert value(cmd, "-serial") == "mon:stdio"
    assert "harness.tty=ttyS0" in value(cmd, "-append")


def test_extra_kernel_arguments_and_qmp():
    cmd = qemu.command(T, boot(extra_append=("harness.modset=ours",),
                               qmp_socket=Path("/tmp/q.sock")))
    assert value(cmd, "-append").endswith("harness.modset=ours")
    assert value(cmd, "-qmp") == "unix:/tmp/q.sock,server=on,wait=off"
