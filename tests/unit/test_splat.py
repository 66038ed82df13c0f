from harness import splat

BOOT = """\
[    0.000000] Linux version 6.12.117 (root@host) #1 SMP
[    0.862016] pcieport 0000:00:01.0: pciehp: Slot #0 AttnBtn+ PwrCtrl+
[    1.004088] Serial: 8250/16550 driver, 4 ports, IRQ sharing disabled
[    1.032196] KTAP version 1
[    1.295992] Run /init as init process
[    2.1] DMAR: [DMA Write NO_PASID] Request device [01:00.0] fault addr 0x500000
"""

WARN = """\
[    2.022916] ------------[ cut here ]------------
[    2.023234] WARNING: CPU: 0 PID: 57 at drivers/vfio/container.c:37 vfio_container_ioctl+0x20/0x25 [vfio]
[    2.029076] Call Trace:
[    2.030795] ---[ end trace 0000000000000000 ]---
[    2.1] unrelated line after the trace
"""

LOCKDEP = """\
[    5.0] ======================================================
[    5.0] WARNING: possible circular locking dependency detected
[    5.0] 6.12.117 #1 Not tainted
"""

OOPS = """\
[    3.0] BUG: kernel NULL pointer dereference, address: 0000000000000008
[    3.0] #PF: supervisor read access in kernel mode
[    3.0] Oops: Oops: 0000 [#1] SMP
"""

KASAN = "[ 9.0] BUG: KASAN: slab-use-after-free in vfio_group_put+0x1/0x2\n"


def test_clean_boot_log_has_no_splat():
    assert splat.find(BOOT) is None


def test_warn_trace_is_cut_at_its_end_marker():
    trace = splat.find(BOOT + WARN)
    assert trace is not None
    assert trace.splitlines()[0].endswith("------------[ cut here ]------------")
    assert "vfio_container_ioctl" in trace
    assert trace.splitlines()[-1].endswith("---[ end trace 0000000000000000 ]---")
    assert "unrelated" not in trace


def test_lockdep_oops_and_kasan_are_found():
    assert "circular locking" in splat.find(LOCKDEP)
    assert "NULL pointer" in splat.find(OOPS)
    assert "KASAN" in splat.find(KASAN)


def test_panic_is_found():
    assert splat.find("[ 1.0] Kernel panic - not syncing: Attempted to kill init!\n")


IDLE_STALL = """\
[   35.351219] rcu: INFO: rcu_sched detected stalls on CPUs/tasks:
[   35.352758] rcu: \t1-...!: (0 ticks this GP) idle=94a0/0/0x0 softirq=240/240 fqs=0 (false positive?)
[   35.354472] rcu: \t(detected by 0, t=5252 jiffies, g=-699, q=25 ncpus=2)
[   35.356023] Sending NMI from CPU 0 to CPUs 1:
[   35.358066] NMI backtrace for cpu 1 skipped: idling at default_idle+0x17/0x19
[   35.363590] rcu: rcu_sched kthread timer wakeup didn't happen for 5251 jiffies!
[   35.371510] Call Trace:
"""

BUSY_STALL = """\
[   35.351219] rcu: INFO: rcu_sched detected stalls on CPUs/tasks:
[   35.352758] rcu: \t1-...0: (5 ticks this GP) idle=7bc/1/0x4000000000000000 softirq=240/240 fqs=2
[   35.354472] rcu: \t(detected by 0, t=5252 jiffies, g=-699, q=25 ncpus=2)
[   35.356023] Sending NMI from CPU 0 to CPUs 1:
[   35.358066] NMI backtrace for cpu 1
[   35.358070] RIP: 0010:vfio_spin+0x5/0x10 [vfio]
"""


def test_an_idle_cpu_stall_is_the_host_not_running_the_vcpu():
    assert splat.find(IDLE_STALL) is None
    # ...but what follows it is still searched.
    assert "WARNING" in splat.find(IDLE_STALL + WARN)


def test_a_stall_of_a_busy_cpu_fails():
    assert "detected stalls" in splat.find(BUSY_STALL)
