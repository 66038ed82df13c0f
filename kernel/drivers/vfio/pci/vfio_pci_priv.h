/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations shared by the files of vfio-pci-core.ko, and nothing else.
 */
#ifndef __VFIO_PCI_PRIV_H__
#define __VFIO_PCI_PRIV_H__

#include <linux/unaligned.h>
#include <linux/vfio_pci_core.h>

#ifndef VFIO_CLEAN_ROOM_API
#error "the kernel's own linux/vfio.h was included instead of ours"
#endif

/*
 * Lock order of vfio-pci-core
 * ---------------------------
 *
 * The locks of a struct vfio_pci_core_device, with the device set's lock
 * and the mmap lock that its paths meet, nest in this order (outermost
 * first). A path may skip any of them, but never takes one while it
 * holds one further down the list:
 *
 *   vdev.dev_set->lock  open_device/close_device (vfio core), hot reset
 *   config_lock         config region read()/write()
 *   igate               SET_IRQS, interrupt teardown, request, AER
 *   ioeventfds_lock     VFIO_DEVICE_IOEVENTFD, release of all at close
 *   mmap lock           mmap() (write), BAR faults (read, or the VMA's)
 *   memory_lock         rwsem: read around BAR accesses and faults,
 *                       write where decode, power state or reset change
 *   irqlock             spinlock, irqsave: the INTx masked state
 *
 * Nothing is taken under irqlock but the PCI config accessors and the
 * IRQ core. Under memory_lock come only the kernel's own locks:
 * i_mmap_rwsem (zapping user mappings), the IRQ and MSI core, and the
 * PCI device lock, which is always trylocked under our locks
 * (pci_try_reset_function(), pci_dev_trylock(), pci_reset_bus()): the
 * PCI core holds it around AER callbacks, which take igate, and around
 * sriov_configure, which takes memory_lock.
 *
 * Which paths take which (">": the right one nests inside):
 *
 *   open                dev_set->lock (the group's lock outside it, vfio
 *                       core); the device lock by trylock, for the reset
 *   close               dev_set->lock, then in turn: igate > memory_lock
 *                       (MSI teardown) or irqlock (INTx teardown);
 *                       ioeventfds_lock > flush of the ioeventfd thread,
 *                       which takes memory_lock (read); device locks by
 *                       trylock; the slot or bus reset of the device set
 *   release             none (release_dev only destroys the locks)
 *   RESET               memory_lock (write) > device lock (trylock)
 *   hot reset           dev_set->lock > each member's memory_lock (write,
 *                       trylock: several at once) > slot or bus reset;
 *                       HOT_RESET_INFO takes dev_set->lock alone
 *   config read         config_lock > mmap lock (copy to the user)
 *   config write        config_lock > mmap lock (copy from the user);
 *                       COMMAND, PM control, FLR through PCIe or AF:
 *                       config_lock > memory_lock (write); the INTx disable
 *                       bit of COMMAND: config_lock > irqlock, once
 *                       memory_lock is dropped
 *   BAR read/write      memory_lock: write on the BAR's first use (to map
 *                       it), read around each access, with the user copies
 *                       outside it; an access that finds pm_runtime_engaged
 *                       under it drops it before the wake (runtime PM)
 *   ROM info            memory_lock (write), to probe the ROM
 *   mmap()              mmap lock (write) > memory_lock (write, first use)
 *   mmap fault          mmap lock (read) > memory_lock (read)
 *   SET_IRQS            igate > memory_lock (write) around MSI/MSI-X vector
 *                       changes; igate > irqlock for INTx; igate > flush of
 *                       the INTx unmask virqfd
 *   ioeventfd           memory_lock (write, the BAR's first use), dropped;
 *                       then ioeventfds_lock > virqfd enable or flush. When
 *                       one fires: memory_lock (read), by trylock in the
 *                       eventfd's wake-up, else from its thread
 *   INTx                irqlock in the hard IRQ handler; the unmask virqfd
 *                       takes irqlock under the eventfd's wait queue lock,
 *                       so no eventfd is signalled under irqlock: a sender
 *                       reads the trigger under irqlock inside an RCU
 *                       read-side section and signals it after dropping
 *                       the lock, before the section ends; whoever drops a
 *                       trigger puts its reference from an RCU callback
 *                       (softirq: no lock of ours is taken there), so
 *                       SET_IRQS does not wait for a grace period
 *   runtime PM          the suspend and resume callbacks take memory_lock
 *                       (write), and irqlock for INTx once it is dropped;
 *                       so a synchronous wake (pm_runtime_resume_and_get())
 *                       comes before memory_lock, never under it: read()
 *                       and write() wake before config_lock, hot reset
 *                       wakes each member before taking the memory_locks.
 *                       A BAR read() or write() of an open function the
 *                       user did not let go (!pm_runtime_engaged, seen
 *                       under memory_lock) does not wake it: the open's
 *                       reference holds it awake
 *   low power           LOW_POWER_ENTRY: memory_lock (write, zapping);
 *                       EXIT and close: memory_lock (write), dropped
 *                       before the wake
 *   SR-IOV              sriov_configure, under the PF's device lock: the
 *                       wake, then memory_lock (write)
 *   request, AER        igate (AER: under the PCI device lock)
 *
 * For new code, it follows: no copy to or from user space under
 * memory_lock or irqlock; no virqfd or ioeventfd flush and no
 * synchronous runtime resume under memory_lock; more than one memory_lock
 * only by trylock; mmap() and the fault path take neither config_lock
 * nor igate.
 */

/* cfg_owner of config bytes outside the header and every capability. */
#define VFIO_PCI_CFG_UNOWNED	0xffff

/*
 * D-states are ordered (D0 < D1 < D2 < D3hot < D3cold) but pci_power_t
 * is a sparse-restricted type: compare their levels.
 */
static inline int vfio_pci_d_level(pci_power_t state)
{
	return (__force int)state;
}

/* Is the function in D3hot or deeper? */
static inline bool vfio_pci_in_d3(struct pci_dev *pdev)
{
	return vfio_pci_d_level(pdev->current_state) >=
	       vfio_pci_d_level(PCI_D3hot);
}

/**
 * vfio_pci_memory_enabled - may the user's accesses reach memory BARs?
 * @vdev: the device
 *
 * Every memory BAR read() and write() asks, so it is inline and reads the
 * virtual command register in one load.
 *
 * Context: the caller holds @vdev->memory_lock.
 * Return: true when the virtual command register enables memory decode
 * and the function is powered.
 */
static inline bool vfio_pci_memory_enabled(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd = get_unaligned_le16(vdev->vconfig + PCI_COMMAND);

	lockdep_assert_held(&vdev->memory_lock);
	return !vfio_pci_in_d3(pdev) &&
	       (pdev->no_command_memory || (cmd & PCI_COMMAND_MEMORY));
}

/* vfio_pci_core.c */
int vfio_pci_set_power_state(struct vfio_pci_core_device *vdev,
			     pci_power_t state);

/* vfio_pci_config.c */
int vfio_pci_config_init(struct vfio_pci_core_device *vdev);
void vfio_pci_config_free(struct vfio_pci_core_device *vdev);
ssize_t vfio_pci_config_rw(struct vfio_pci_core_device *vdev,
			   char __user *buf, size_t count, loff_t *ppos,
			   bool iswrite);

/* vfio_pci_intrs.c */
bool vfio_pci_intx_mask(struct vfio_pci_core_device *vdev);
void vfio_pci_intx_unmask(struct vfio_pci_core_device *vdev);
int vfio_pci_set_irqs_ioctl(struct vfio_pci_core_device *vdev, u32 flags,
			    unsigned int index, unsigned int start,
			    unsigned int count, void *data);
void vfio_pci_irqs_teardown(struct vfio_pci_core_device *vdev);

/* vfio_pci_rdwr.c */
ssize_t vfio_pci_bar_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite, bool awake);
void vfio_pci_bar_unmap_all(struct vfio_pci_core_device *vdev);

/* vfio_pci_mmap.c */
void vfio_pci_zap_bars(struct vfio_pci_core_device *vdev);
void vfio_pci_zap_and_lock(struct vfio_pci_core_device *vdev);

/* vfio_pci_ioeventfd.c */
void vfio_pci_ioeventfd_init(struct vfio_pci_core_device *vdev);
void vfio_pci_ioeventfd_release_all(struct vfio_pci_core_device *vdev);
int vfio_pci_ioctl_ioeventfd(struct vfio_pci_core_device *vdev,
			     struct vfio_device_ioeventfd __user *arg);

/* vfio_pci_reset.c */
/* vfio_pci_pm.c */
void vfio_pci_pm_register(struct vfio_pci_core_device *vdev);
void vfio_pci_pm_unregister(struct vfio_pci_core_device *vdev);
int vfio_pci_pm_get(struct vfio_pci_core_device *vdev);
void vfio_pci_pm_put(struct vfio_pci_core_device *vdev);
void vfio_pci_pm_exit(struct vfio_pci_core_device *vdev);
int vfio_pci_feature_low_power_entry(struct vfio_pci_core_device *vdev,
				     u32 flags, size_t argsz);
int vfio_pci_feature_low_power_entry_with_wakeup(struct vfio_pci_core_device *vdev,
						 u32 flags, void __user *arg,
						 size_t argsz);
int vfio_pci_feature_low_power_exit(struct vfio_pci_core_device *vdev,
				    u32 flags, size_t argsz);

/* vfio_pci_vga.c */
bool vfio_pci_vga_disabled(void);
bool vfio_pci_is_vga(struct pci_dev *pdev);
int vfio_pci_vga_init(struct vfio_pci_core_device *vdev);
void vfio_pci_vga_uninit(struct vfio_pci_core_device *vdev);
ssize_t vfio_pci_vga_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite);

/* vfio_pci_sriov.c */
int vfio_pci_vf_init(struct vfio_pci_core_device *vdev);
void vfio_pci_vf_uninit(struct vfio_pci_core_device *vdev);
void vfio_pci_vf_token_user(struct vfio_pci_core_device *vdev, int delta);
int vfio_pci_validate_vf_token(struct vfio_pci_core_device *vdev,
			       bool given, uuid_t *uuid);
int vfio_pci_feature_vf_token(struct vfio_pci_core_device *vdev, u32 flags,
			      uuid_t __user *arg, size_t argsz);

int vfio_pci_ioctl_hot_reset_info(struct vfio_pci_core_device *vdev,
				  struct vfio_pci_hot_reset_info __user *arg);
int vfio_pci_ioctl_hot_reset(struct vfio_pci_core_device *vdev,
			     struct vfio_pci_hot_reset __user *arg);
void vfio_pci_dev_set_try_reset(struct vfio_pci_core_device *vdev);

#endif /* __VFIO_PCI_PRIV_H__ */
