/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VFIO PCI core: the library that PCI VFIO drivers (vfio-pci and
 * device-specific variants) build on.
 *
 * Clean-room implementation; names of the driver-facing API follow
 * upstream's so that variant drivers written for it build unchanged.
 */
#ifndef _LINUX_VFIO_PCI_CORE_H
#define _LINUX_VFIO_PCI_CORE_H

#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/vfio.h>

struct eventfd_ctx;
struct vfio_pci_irq_ctx;

/*
 * The device file is split into fixed windows, one per region index:
 * region N starts at N << 40, and the low 40 bits are the offset inside
 * the region. User space learns this from VFIO_DEVICE_GET_REGION_INFO.
 */
#define VFIO_PCI_OFFSET_SHIFT	40
#define VFIO_PCI_OFFSET_TO_INDEX(off)	((off) >> VFIO_PCI_OFFSET_SHIFT)
#define VFIO_PCI_INDEX_TO_OFFSET(index)	((u64)(index) << VFIO_PCI_OFFSET_SHIFT)
#define VFIO_PCI_OFFSET_MASK	(((u64)1 << VFIO_PCI_OFFSET_SHIFT) - 1)

/**
 * struct vfio_pci_core_device - a PCI function exposed through VFIO
 * @vdev: the VFIO device; must come first (vfio_alloc_device())
 * @pdev: the PCI function
 * @config_lock: serializes config space accesses through the device
 *               file; protects @vconfig, @cfg_virt, @cfg_write,
 *               @cfg_owner, @bardirty and @virq_disabled while the
 *               device is open
 * @memory_lock: held for reading around every access to a memory BAR
 *               (and around each BAR access of a read() or write() that
 *               did not wake the function: it keeps @pm_runtime_engaged
 *               stable), for writing while the virtual memory enable bit of the
 *               command register changes or the function resets (user
 *               BAR mappings are zapped then, and faults on them check
 *               memory decode under it held for reading); also
 *               serializes the creation of @barmap entries; nests
 *               inside @config_lock and the mmap lock
 * @vconfig: the user's view of config space (@cfg_size bytes); its
 *           command register's memory and I/O enable bits are what the
 *           user last wrote, under @memory_lock
 * @cfg_virt: per config byte, the bits whose value comes from @vconfig
 *            instead of the hardware
 * @cfg_write: per config byte, the bits the user may change
 * @cfg_owner: per config byte, the offset of the structure it belongs to
 *             (0 for the header, the capability's offset, or
 *             %VFIO_PCI_CFG_UNOWNED); accesses never straddle two owners
 * @cfg_size: bytes of config space the user sees
 * @rbar: the BARs and ROM BAR as the host assigned them, to restore them
 *        after a reset the device went through behind our back
 * @barmap: kernel mappings of BARs, made on first access, until close
 * @bar_mmap_supported: which BARs could be mapped into user space
 * @msi_qmax: log2 of the MSI vectors the user set up; writes of the
 *            Multiple Message Enable field are clamped to it
 * @msix_bar: the BAR holding the MSI-X table, or 0xff without MSI-X
 * @msix_offset: the table's offset in @msix_bar
 * @msix_size: the table's size in bytes
 * @has_dyn_msix: MSI-X vectors can be added while MSI-X is enabled
 * @reset_works: a function reset succeeded when the device was opened
 * @pci_2_3: INTx can be masked through the command register
 * @nointx: INTx is known to be broken and is hidden from the user
 * @virq_disabled: the user set INTx disable in the virtual command
 * @bardirty: the user wrote a BAR; the virtual BARs must be re-masked
 *            with the BAR sizes before they are read again
 * @has_vga: the VGA region is offered (a VGA function, disable_vga unset)
 * @extended_caps: the function has extended capabilities, which the
 *                 user's config space lists (valid from the first open)
 * @needs_pm_restore: the function loses its state going through D3hot
 *                    (No_Soft_Reset clear); set at registration
 * @pm_save: the state saved on the way into D3hot, for the way back;
 *           changed under @memory_lock held for writing
 * @needs_reset: the device was closed without a successful reset
 * @disable_idle_d3: vfio-pci's disable_idle_d3 when the device was
 *                   created: the function is never runtime-suspended
 * @pm_intx_masked: runtime suspend masked the user's INTx, resume unmasks
 * @pm_runtime_engaged: the user let the open function suspend (a
 *                      LOW_POWER_ENTRY feature); under @memory_lock,
 *                      written with WRITE_ONCE() (read() and write()
 *                      look at it unlocked to pick their path)
 * @pm_wake_eventfd_ctx: signalled, ending the low-power state, when the
 *                       function wakes; under @memory_lock
 * @vf_token: a PF's VF token (vfio_pci_sriov.c), NULL for other functions
 * @nb: a PF's notifier, which gives its new VFs our driver
 * @sriov_pf_core_dev: a VF's PF, when SR-IOV was enabled through us
 * @sriov_pfs_item: link in the list of PFs that enabled SR-IOV through us
 * @sriov_active: the PF has VFs: it stays in D0
 * @irq_type: the VFIO_PCI_*_IRQ_INDEX in use, or VFIO_PCI_NUM_IRQS;
 *            changed under @igate
 * @igate: serializes VFIO_DEVICE_SET_IRQS and interrupt teardown;
 *         protects @irq_type, @irq_ctx, @num_irq_ctx, @err_trigger and
 *         @req_trigger (initialized at init_dev, valid for the device's
 *         whole life)
 * @irqlock: protects the INTx masked state in @irq_ctx against the
 *           interrupt handler; @irq_type and @irq_ctx change to and from
 *           INTx under it too (besides @igate), for config space writes
 * @irq_ctx: per vector of @irq_type, its eventfds (vfio_pci_intrs.c)
 * @num_irq_ctx: entries in @irq_ctx
 * @err_trigger: eventfd signalled on a PCIe error, or NULL
 * @req_trigger: eventfd signalled when the device is to be released
 * @num_regions: device-specific regions beyond VFIO_PCI_NUM_REGIONS
 * @pci_saved_state: config space saved at open, reloaded at close
 * @ioeventfds_lock: protects @ioeventfds_list and @ioeventfds_nr
 *                   (valid from init, not only while open)
 * @ioeventfds_list: the armed VFIO_DEVICE_IOEVENTFD writes
 * @ioeventfds_nr: how many are on @ioeventfds_list
 *
 * All fields after @pdev are valid only between open_device() and
 * close_device() unless said otherwise; open and close are serialized
 * by the device set's lock.
 */
struct vfio_pci_vf_token;

struct vfio_pci_core_device {
	struct vfio_device	vdev;
	struct pci_dev		*pdev;
	struct mutex		config_lock;	/* see above */
	struct rw_semaphore	memory_lock;	/* see above */
	u8			*vconfig;
	u8			*cfg_virt;
	u8			*cfg_write;
	u16			*cfg_owner;
	int			cfg_size;
	u32			rbar[PCI_STD_NUM_BARS + 1];
	void __iomem		*barmap[PCI_STD_NUM_BARS];
	bool			bar_mmap_supported[PCI_STD_NUM_BARS];
	u8			msi_qmax;
	u8			msix_bar;
	u32			msix_offset;
	u32			msix_size;
	bool			has_dyn_msix;
	bool			reset_works;
	bool			pci_2_3;
	bool			nointx;
	bool			virq_disabled;
	bool			bardirty;
	bool			has_vga;
	bool			extended_caps;
	bool			needs_pm_restore;
	struct pci_saved_state	*pm_save;
	bool			needs_reset;
	bool			disable_idle_d3;
	bool			pm_intx_masked;
	bool			pm_runtime_engaged;
	struct eventfd_ctx	*pm_wake_eventfd_ctx;
	struct vfio_pci_vf_token	*vf_token;
	struct notifier_block	nb;
	struct vfio_pci_core_device	*sriov_pf_core_dev;
	struct list_head	sriov_pfs_item;
	bool			sriov_active;
	int			irq_type;
	struct mutex		igate;		/* see above */
	spinlock_t		irqlock;	/* see above */
	struct vfio_pci_irq_ctx	*irq_ctx;
	int			num_irq_ctx;
	struct eventfd_ctx	*err_trigger;
	struct eventfd_ctx	*req_trigger;
	int			num_regions;
	struct pci_saved_state	*pci_saved_state;
	struct mutex		ioeventfds_lock;	/* see above */
	struct list_head	ioeventfds_list;
	int			ioeventfds_nr;
};

/* Life cycle, for a driver's probe/remove and its vfio_device_ops. */
int vfio_pci_core_init_dev(struct vfio_device *core_vdev);
void vfio_pci_core_release_dev(struct vfio_device *core_vdev);
int vfio_pci_core_register_device(struct vfio_pci_core_device *vdev);
void vfio_pci_core_unregister_device(struct vfio_pci_core_device *vdev);
int vfio_pci_core_enable(struct vfio_pci_core_device *vdev);
void vfio_pci_core_finish_enable(struct vfio_pci_core_device *vdev);
void vfio_pci_core_disable(struct vfio_pci_core_device *vdev);
void vfio_pci_core_close_device(struct vfio_device *core_vdev);
void vfio_pci_core_set_params(bool is_nointxmask, bool is_disable_vga,
			      bool is_disable_idle_d3);
int vfio_pci_core_sriov_configure(struct vfio_pci_core_device *vdev,
				  int nr_virtfn);

/* The device file. */
long vfio_pci_core_ioctl(struct vfio_device *core_vdev, unsigned int cmd,
			 unsigned long arg);
int vfio_pci_core_ioctl_feature(struct vfio_device *device, u32 flags,
				void __user *arg, size_t argsz);
ssize_t vfio_pci_core_read(struct vfio_device *core_vdev, char __user *buf,
			   size_t count, loff_t *ppos);
ssize_t vfio_pci_core_write(struct vfio_device *core_vdev,
			    const char __user *buf, size_t count,
			    loff_t *ppos);
int vfio_pci_core_match(struct vfio_device *core_vdev, char *buf);
int vfio_pci_core_mmap(struct vfio_device *core_vdev,
		       struct vm_area_struct *vma);
void vfio_pci_core_request(struct vfio_device *core_vdev, unsigned int count);

/* Register access for variant drivers that reach BARs themselves. */

/**
 * enum vfio_pci_io_width - the widest bus access vfio_pci_core_do_io_rw()
 *                          may use, in bytes
 * @VFIO_PCI_IO_WIDTH_1: bytes only
 * @VFIO_PCI_IO_WIDTH_2: up to 16 bits
 * @VFIO_PCI_IO_WIDTH_4: up to 32 bits
 * @VFIO_PCI_IO_WIDTH_8: up to 64 bits
 */
enum vfio_pci_io_width {
	VFIO_PCI_IO_WIDTH_1 = 1,
	VFIO_PCI_IO_WIDTH_2 = 2,
	VFIO_PCI_IO_WIDTH_4 = 4,
	VFIO_PCI_IO_WIDTH_8 = 8,
};

int vfio_pci_core_setup_barmap(struct vfio_pci_core_device *vdev, int bar);
ssize_t vfio_pci_core_do_io_rw(struct vfio_pci_core_device *vdev,
			       bool test_mem, void __iomem *io,
			       char __user *buf, loff_t off, size_t count,
			       size_t x_start, size_t x_end, bool iswrite,
			       enum vfio_pci_io_width max_width);
bool vfio_pci_core_range_intersect_range(loff_t buf_start, size_t buf_cnt,
					 loff_t reg_start, size_t reg_cnt,
					 loff_t *buf_offset,
					 size_t *intersect_count,
					 size_t *register_offset);
int vfio_pci_core_iowrite8(struct vfio_pci_core_device *vdev, bool test_mem,
			   u8 val, void __iomem *io);
int vfio_pci_core_iowrite16(struct vfio_pci_core_device *vdev, bool test_mem,
			    u16 val, void __iomem *io);
int vfio_pci_core_iowrite32(struct vfio_pci_core_device *vdev, bool test_mem,
			    u32 val, void __iomem *io);
int vfio_pci_core_ioread8(struct vfio_pci_core_device *vdev, bool test_mem,
			  u8 *val, void __iomem *io);
int vfio_pci_core_ioread16(struct vfio_pci_core_device *vdev, bool test_mem,
			   u16 *val, void __iomem *io);
int vfio_pci_core_ioread32(struct vfio_pci_core_device *vdev, bool test_mem,
			   u32 *val, void __iomem *io);
#if defined(ioread64) && defined(iowrite64)
int vfio_pci_core_iowrite64(struct vfio_pci_core_device *vdev, bool test_mem,
			    u64 val, void __iomem *io);
int vfio_pci_core_ioread64(struct vfio_pci_core_device *vdev, bool test_mem,
			   u64 *val, void __iomem *io);
#endif

/* PCIe errors reach the user through its error eventfd. */
pci_ers_result_t vfio_pci_core_aer_err_detected(struct pci_dev *pdev,
						pci_channel_state_t state);
extern const struct pci_error_handlers vfio_pci_core_err_handlers;

#endif /* _LINUX_VFIO_PCI_CORE_H */
