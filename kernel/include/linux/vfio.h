/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VFIO: the in-kernel API for drivers that expose devices to user space.
 *
 * Clean-room implementation. The user-visible ABI (structures and ioctl
 * numbers) comes from <uapi/linux/vfio.h> of the kernel being built
 * against and is never redefined here. Names of the driver-facing API
 * match upstream's so that drivers written for it build unchanged.
 */
#ifndef _LINUX_VFIO_H
#define _LINUX_VFIO_H

#include <linux/cdev.h>
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/iova_bitmap.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <uapi/linux/vfio.h>

/*
 * Set when this header, not the kernel's own <linux/vfio.h>, is the one
 * being compiled: the build checks it to prove the include order.
 */
#define VFIO_CLEAN_ROOM_API 1

struct kvm;
struct vfio_group;
struct dentry;
struct iommufd_ctx;
struct iommufd_device;
struct iommufd_access;

/**
 * struct vfio_device_set - devices whose open and close are serialized
 * @set_id: what the members share (a bus, a slot, or the device itself)
 * @lock: held around every member's open_device() and close_device(),
 *        and protects @device_list
 * @device_list: members, linked by vfio_device.dev_set_list
 * @device_count: number of members; the set is freed when it drops to 0
 *
 * Drivers whose devices are reset together (for example PCI functions
 * behind one bus reset) put them in one set, so a driver can ask whether
 * any member is open (vfio_device_set_open_count()) before resetting.
 */
struct vfio_device_set {
	void *set_id;
	struct mutex lock;	/* open/close of members; device_list */
	struct list_head device_list;
	unsigned int device_count;
};

/**
 * struct vfio_device - a device exposed through VFIO
 * @dev: the parent (physical or mediated) device
 * @ops: the driver's callbacks
 * @mig_ops: the driver's migration callbacks, or NULL; set before
 *           registration, together with @migration_flags
 * @log_ops: the driver's DMA logging callbacks, or NULL; set before
 *           registration
 * @group: the VFIO group the device belongs to (CONFIG_VFIO_GROUP)
 * @group_next: link in the group's device list, under the group's lock
 * @dev_set: the device set; never NULL after registration
 * @dev_set_list: link in @dev_set's device_list, under dev_set->lock
 * @migration_flags: VFIO_MIGRATION_* the driver supports; must include
 *                   VFIO_MIGRATION_STOP_COPY when @mig_ops is set
 * @kvm: the KVM instance associated by the user, valid between
 *       open_device() and close_device() (under dev_set->lock)
 * @index: the N of vfio-dev/vfioN in sysfs
 * @device: the vfio-dev/vfioN device; its reference count owns the
 *          memory of the whole structure
 * @refcount: registration reference: users take it while they hold a
 *            device file; vfio_unregister_group_dev() waits for it
 * @comp: completed when @refcount drops to zero
 * @open_count: opens of the device, under dev_set->lock
 * @put_kvm: releases @kvm
 * @inode: shared by every file of the device, so that drivers can zap
 *         all user mappings with unmap_mapping_range(inode->i_mapping)
 * @cdev: the character device behind /dev/vfio/devices/vfioN
 * @iommufd_device: the device's binding to an iommufd context, set by
 *                  vfio_iommufd_physical_bind(); under dev_set->lock
 * @iommufd_access: the access object of an emulated device bound to an
 *                  iommufd context; under dev_set->lock
 * @iommufd_attached: the binding is attached to a page table (an IOAS or
 *                    a HWPT); under dev_set->lock
 * @cdev_opened: the device is open through its cdev (bound to iommufd)
 *               rather than a group; under dev_set->lock
 * @debug_root: the device's directory in debugfs (vfio/<dev_name>),
 *              created at registration and removed at unregistration
 *
 * Drivers embed this structure first in their own and allocate it with
 * vfio_alloc_device(). Members after @kvm belong to the core.
 */
struct vfio_device {
	struct device *dev;
	const struct vfio_device_ops *ops;
	const struct vfio_migration_ops *mig_ops;
	const struct vfio_log_ops *log_ops;
#if IS_ENABLED(CONFIG_VFIO_GROUP)
	struct vfio_group *group;
	struct list_head group_next;
#endif
	struct vfio_device_set *dev_set;
	struct list_head dev_set_list;
	unsigned int migration_flags;
	struct kvm *kvm;

	/* Private to the VFIO core. */
	unsigned int index;
	struct device device;
	refcount_t refcount;
	struct completion comp;
	unsigned int open_count;
	void (*put_kvm)(struct kvm *kvm);
	struct inode *inode;
#if IS_ENABLED(CONFIG_VFIO_DEVICE_CDEV)
	struct cdev cdev;
#endif
	struct iommufd_access *iommufd_access;
#if IS_ENABLED(CONFIG_IOMMUFD)
	struct iommufd_device *iommufd_device;
	u8 iommufd_attached:1;
#endif
	u8 cdev_opened:1;
#ifdef CONFIG_DEBUG_FS
	struct dentry *debug_root;
#endif
};

/**
 * struct vfio_device_ops - a VFIO driver's device callbacks
 * @name: the driver's name
 * @init: initialize the driver's part of a just allocated device
 * @release: free what @init allocated; called when the last reference
 *           to the device is put
 * @bind_iommufd: the device is being opened on an iommufd context @ictx:
 *                bind to it and return the device's object id there in
 *                @out_device_id. Called under dev_set->lock, before
 *                @open_device.
 * @unbind_iommufd: undo @bind_iommufd (detaching first if attached);
 *                  called under dev_set->lock after @close_device
 * @attach_ioas: attach the bound device to the page table @pt_id (an
 *               IOAS or a HWPT), replacing the current one if attached;
 *               the id actually used (e.g. an auto-allocated HWPT) is
 *               written back to @pt_id. Under dev_set->lock.
 * @detach_ioas: detach from the page table, if attached; under
 *               dev_set->lock
 * @open_device: the first open of the device; called under dev_set->lock
 * @close_device: the last close; called under dev_set->lock
 * @read: read(2) on the device file
 * @write: write(2) on the device file
 * @ioctl: ioctl(2) on the device file, for VFIO_DEVICE_* requests
 * @mmap: mmap(2) on the device file
 * @request: ask the user to release the device; @count is how many
 *           times it has been asked during this unregistration
 * @match: does a VFIO_GROUP_GET_DEVICE_FD name select this device?
 *         Returns >0 for a match, 0 for no match, -errno to abort.
 *         Without it the name must equal dev_name(@dev).
 * @dma_unmap: the user unmapped [iova, iova + length) from the IOMMU the
 *             device uses; an emulated-IOMMU driver must unpin there
 * @device_feature: VFIO_DEVICE_FEATURE requests the core does not handle
 */
struct vfio_device_ops {
	char *name;
	int (*init)(struct vfio_device *vdev);
	void (*release)(struct vfio_device *vdev);
	int (*bind_iommufd)(struct vfio_device *vdev,
			    struct iommufd_ctx *ictx, u32 *out_device_id);
	void (*unbind_iommufd)(struct vfio_device *vdev);
	int (*attach_ioas)(struct vfio_device *vdev, u32 *pt_id);
	void (*detach_ioas)(struct vfio_device *vdev);
	int (*open_device)(struct vfio_device *vdev);
	void (*close_device)(struct vfio_device *vdev);
	ssize_t (*read)(struct vfio_device *vdev, char __user *buf,
			size_t count, loff_t *ppos);
	ssize_t (*write)(struct vfio_device *vdev, const char __user *buf,
			 size_t count, loff_t *ppos);
	long (*ioctl)(struct vfio_device *vdev, unsigned int cmd,
		      unsigned long arg);
	int (*mmap)(struct vfio_device *vdev, struct vm_area_struct *vma);
	void (*request)(struct vfio_device *vdev, unsigned int count);
	int (*match)(struct vfio_device *vdev, char *buf);
	void (*dma_unmap)(struct vfio_device *vdev, u64 iova, u64 length);
	int (*device_feature)(struct vfio_device *vdev, u32 flags,
			      void __user *arg, size_t argsz);
};

/**
 * struct vfio_migration_ops - a driver's side of migration v2
 * @migration_set_state: move the device to @new_state, one arc of the
 *                       protocol (the core walks combination arcs with
 *                       vfio_mig_get_next_state()). Returns the data
 *                       file for the arcs that produce one (into
 *                       STOP_COPY, PRE_COPY, RESUMING), NULL for the
 *                       others, or an ERR_PTR().
 * @migration_get_state: the device's current state
 * @migration_get_data_size: an estimate, in bytes, of the data the
 *                           STOP_COPY state will produce
 *
 * All three are called with no core lock held: the driver serializes
 * them against its own state.
 */
struct vfio_migration_ops {
	struct file *(*migration_set_state)(struct vfio_device *device,
					    enum vfio_device_mig_state new_state);
	int (*migration_get_state)(struct vfio_device *device,
				   enum vfio_device_mig_state *curr_state);
	int (*migration_get_data_size)(struct vfio_device *device,
				       unsigned long *stop_copy_length);
};

/**
 * struct vfio_log_ops - a driver's DMA logging (dirty tracking)
 * @log_start: start tracking the IOVA ranges in @ranges (an interval
 *             tree of @nnodes nodes, already combined down to what the
 *             driver accepts); @page_size is the requested granule, and
 *             the driver may write back the one it uses
 * @log_stop: stop tracking and free what @log_start set up
 * @log_read_and_clear: report the pages of [iova, iova + length) written
 *                      since the last report into @dirty, and clear them
 *
 * Called with no core lock held; the driver serializes them.
 */
struct vfio_log_ops {
	int (*log_start)(struct vfio_device *device,
			 struct rb_root_cached *ranges, u32 nnodes,
			 u64 *page_size);
	int (*log_stop)(struct vfio_device *device);
	int (*log_read_and_clear)(struct vfio_device *device,
				  unsigned long iova, unsigned long length,
				  struct iova_bitmap *dirty);
};

#if IS_ENABLED(CONFIG_IOMMUFD)
struct iommufd_ctx *vfio_iommufd_device_ictx(struct vfio_device *vdev);
int vfio_iommufd_get_dev_id(struct vfio_device *vdev,
			    struct iommufd_ctx *ictx);
int vfio_iommufd_physical_bind(struct vfio_device *vdev,
			       struct iommufd_ctx *ictx, u32 *out_device_id);
void vfio_iommufd_physical_unbind(struct vfio_device *vdev);
int vfio_iommufd_physical_attach_ioas(struct vfio_device *vdev, u32 *pt_id);
void vfio_iommufd_physical_detach_ioas(struct vfio_device *vdev);
int vfio_iommufd_emulated_bind(struct vfio_device *vdev,
			       struct iommufd_ctx *ictx, u32 *out_device_id);
void vfio_iommufd_emulated_unbind(struct vfio_device *vdev);
int vfio_iommufd_emulated_attach_ioas(struct vfio_device *vdev, u32 *pt_id);
void vfio_iommufd_emulated_detach_ioas(struct vfio_device *vdev);
#else
static inline struct iommufd_ctx *
vfio_iommufd_device_ictx(struct vfio_device *vdev)
{
	return NULL;
}

static inline int vfio_iommufd_get_dev_id(struct vfio_device *vdev,
					  struct iommufd_ctx *ictx)
{
	return VFIO_PCI_DEVID_NOT_OWNED;
}

/* Without iommufd the ops stay NULL, and the core never calls them. */
#define vfio_iommufd_physical_bind					\
	((int (*)(struct vfio_device *vdev, struct iommufd_ctx *ictx,	\
		  u32 *out_device_id))NULL)
#define vfio_iommufd_physical_unbind					\
	((void (*)(struct vfio_device *vdev))NULL)
#define vfio_iommufd_physical_attach_ioas				\
	((int (*)(struct vfio_device *vdev, u32 *pt_id))NULL)
#define vfio_iommufd_physical_detach_ioas				\
	((void (*)(struct vfio_device *vdev))NULL)
#define vfio_iommufd_emulated_bind					\
	((int (*)(struct vfio_device *vdev, struct iommufd_ctx *ictx,	\
		  u32 *out_device_id))NULL)
#define vfio_iommufd_emulated_unbind					\
	((void (*)(struct vfio_device *vdev))NULL)
#define vfio_iommufd_emulated_attach_ioas				\
	((int (*)(struct vfio_device *vdev, u32 *pt_id))NULL)
#define vfio_iommufd_emulated_detach_ioas				\
	((void (*)(struct vfio_device *vdev))NULL)
#endif

/**
 * vfio_device_cdev_opened - is the device open through its cdev?
 * @device: the device
 *
 * A device opened through /dev/vfio/devices/vfioN is owned through an
 * iommufd context, not a group: drivers check it to decide how a user
 * proves ownership of other devices (for example for a hot reset).
 *
 * Return: true when open through the cdev.
 */
static inline bool vfio_device_cdev_opened(struct vfio_device *device)
{
	return device->cdev_opened;
}

/**
 * vfio_check_feature - validate a VFIO_DEVICE_FEATURE request
 * @flags: the request's flags
 * @argsz: the size of the feature's data
 * @supported_ops: VFIO_DEVICE_FEATURE_GET and/or _SET, as the feature has
 * @minsz: the smallest data the feature accepts
 *
 * Return: 1 when the driver should carry out the GET or SET, 0 for a
 * successful PROBE, or -EINVAL.
 */
static inline int vfio_check_feature(u32 flags, size_t argsz,
				     u32 supported_ops, size_t minsz)
{
	u32 dir = flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET);

	if (dir & ~supported_ops)
		return -EINVAL;
	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	if (!dir || argsz < minsz)
		return -EINVAL;
	return 1;
}

struct vfio_device *_vfio_alloc_device(size_t size, struct device *dev,
				       const struct vfio_device_ops *ops);

/**
 * vfio_alloc_device - allocate a driver's device structure
 * @dev_struct: the driver's structure type
 * @member: its struct vfio_device member, which must come first
 * @dev: the parent device
 * @ops: the driver's callbacks
 *
 * Return: the new structure, or an ERR_PTR(). Free with vfio_put_device().
 */
#define vfio_alloc_device(dev_struct, member, dev, ops)			\
	container_of(_vfio_alloc_device(sizeof(struct dev_struct) +	\
					BUILD_BUG_ON_ZERO(offsetof(	\
						struct dev_struct, member)), \
					dev, ops),			\
		     struct dev_struct, member)

/**
 * vfio_put_device - drop a reference from vfio_alloc_device()
 * @device: the device
 */
static inline void vfio_put_device(struct vfio_device *device)
{
	put_device(&device->device);
}

int vfio_register_group_dev(struct vfio_device *device);
int vfio_register_emulated_iommu_dev(struct vfio_device *device);
void vfio_unregister_group_dev(struct vfio_device *device);

int vfio_assign_device_set(struct vfio_device *device, void *set_id);

int vfio_mig_get_next_state(struct vfio_device *device,
			    enum vfio_device_mig_state cur_fsm,
			    enum vfio_device_mig_state new_fsm,
			    enum vfio_device_mig_state *next_fsm);
void vfio_combine_iova_ranges(struct rb_root_cached *root, u32 cur_nodes,
			      u32 req_nodes);
unsigned int vfio_device_set_open_count(struct vfio_device_set *dev_set);
struct vfio_device *
vfio_find_device_in_devset(struct vfio_device_set *dev_set,
			   struct device *dev);

/* The external user API, for KVM and drivers. */
#if IS_ENABLED(CONFIG_VFIO_GROUP)
struct iommu_group *vfio_file_iommu_group(struct file *file);
bool vfio_file_is_group(struct file *file);
bool vfio_file_has_dev(struct file *file, struct vfio_device *device);
#else
/* Without groups no file is one. */
static inline struct iommu_group *vfio_file_iommu_group(struct file *file)
{
	return NULL;
}

static inline bool vfio_file_is_group(struct file *file)
{
	return false;
}

static inline bool vfio_file_has_dev(struct file *file,
				     struct vfio_device *device)
{
	return false;
}
#endif
bool vfio_file_is_valid(struct file *file);
bool vfio_file_enforced_coherent(struct file *file);
void vfio_file_set_kvm(struct file *file, struct kvm *kvm);

#define VFIO_PIN_PAGES_MAX_ENTRIES	(PAGE_SIZE / sizeof(unsigned long))

int vfio_pin_pages(struct vfio_device *device, dma_addr_t iova,
		   int npage, int prot, struct page **pages);
void vfio_unpin_pages(struct vfio_device *device, dma_addr_t iova,
		      int npage);
int vfio_dma_rw(struct vfio_device *device, dma_addr_t iova, void *data,
		size_t len, bool write);

/**
 * struct vfio_info_cap - a capability chain being built for an INFO ioctl
 * @buf: the chain; each header's next is an offset from @buf
 * @size: bytes in @buf
 */
struct vfio_info_cap {
	struct vfio_info_cap_header *buf;
	size_t size;
};

struct vfio_info_cap_header *vfio_info_cap_add(struct vfio_info_cap *caps,
					       size_t size, u16 id,
					       u16 version);
void vfio_info_cap_shift(struct vfio_info_cap *caps, size_t offset);
int vfio_info_add_capability(struct vfio_info_cap *caps,
			     struct vfio_info_cap_header *cap, size_t size);

int vfio_set_irqs_validate_and_prepare(struct vfio_irq_set *hdr,
				       int num_irqs, int max_irq_type,
				       size_t *data_size);

/* An eventfd whose signals call back the driver; see virqfd.c. */
struct virqfd;

int vfio_virqfd_enable(void *opaque, int (*handler)(void *, void *),
		       void (*thread)(void *, void *), void *data,
		       struct virqfd **pvirqfd, int fd);
void vfio_virqfd_disable(struct virqfd **pvirqfd);
void vfio_virqfd_flush_thread(struct virqfd **pvirqfd);

#endif /* _LINUX_VFIO_H */
