/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations shared by vfio.ko and its IOMMU backends, and nothing else.
 */
#ifndef __VFIO_VFIO_H__
#define __VFIO_VFIO_H__

#include <linux/cdev.h>
#include <linux/vfio.h>

#ifndef VFIO_CLEAN_ROOM_API
#error "the kernel's own linux/vfio.h was included instead of ours"
#endif

/**
 * enum vfio_group_type - how the devices of a group reach memory
 * @VFIO_IOMMU: through the platform IOMMU; a real iommu_group
 * @VFIO_EMULATED_IOMMU: through the driver, which pins pages with
 *                       vfio_pin_pages() or copies with vfio_dma_rw()
 * @VFIO_NO_IOMMU: unprotected (enable_unsafe_noiommu_mode)
 */
enum vfio_group_type {
	VFIO_IOMMU,
	VFIO_EMULATED_IOMMU,
	VFIO_NO_IOMMU,
};

/**
 * struct vfio_iommu_driver_ops - an IOMMU backend for containers
 * @name: shown in messages
 * @owner: the backend's module, pinned while a container uses it
 * @open: create the backend's state for a container; @arg is the
 *        VFIO_SET_IOMMU argument, which the backend already accepted
 *        through VFIO_CHECK_EXTENSION. Returns an ERR_PTR on failure.
 * @release: free the state
 * @ioctl: container ioctls the core does not handle. With a NULL
 *         @iommu_data only VFIO_CHECK_EXTENSION is asked, for containers
 *         that have no backend yet: answer >0 for supported extensions.
 * @attach_group: attach an iommu_group to the container's IOMMU
 * @detach_group: undo @attach_group
 * @pin_pages: pin @npage pages at @user_iova for an emulated-IOMMU device
 * @unpin_pages: undo @pin_pages
 * @register_device: an emulated-IOMMU device opened in this container;
 *                   its ops->dma_unmap must be called on every unmap
 * @unregister_device: undo @register_device
 * @dma_rw: copy between @data and user memory mapped at @user_iova
 *
 * Locking: the core calls @attach_group, @detach_group, @open and
 * @release under the container's lock; the rest may run concurrently and
 * the backend serializes itself.
 */
struct vfio_iommu_driver_ops {
	char *name;
	struct module *owner;
	void *(*open)(unsigned long arg);
	void (*release)(void *iommu_data);
	long (*ioctl)(void *iommu_data, unsigned int cmd, unsigned long arg);
	int (*attach_group)(void *iommu_data, struct iommu_group *group,
			    enum vfio_group_type type);
	void (*detach_group)(void *iommu_data, struct iommu_group *group);
	int (*pin_pages)(void *iommu_data, struct iommu_group *group,
			 dma_addr_t user_iova, int npage, int prot,
			 struct page **pages);
	void (*unpin_pages)(void *iommu_data, dma_addr_t user_iova, int npage);
	void (*register_device)(void *iommu_data, struct vfio_device *vdev);
	void (*unregister_device)(void *iommu_data, struct vfio_device *vdev);
	int (*dma_rw)(void *iommu_data, dma_addr_t user_iova, void *data,
		      size_t count, bool write);
};

int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops);
void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops);

struct vfio_container;

#if IS_ENABLED(CONFIG_VFIO_GROUP)
/**
 * struct vfio_group - /dev/vfio/N: the VFIO view of one iommu_group
 * @dev: the group's device; its reference count owns this structure
 * @cdev: the character device behind /dev/vfio/N
 * @drivers: registered vfio_devices in the group; at zero the group is
 *           unlinked and its device node removed
 * @vfio_next: link in the global group list, under vfio_groups.lock
 * @iommu_group: the IOMMU group; a reference is held while @drivers > 0
 * @type: how the group's devices reach memory
 * @group_lock: protects @opened_file, @container, @iommufd,
 *              @container_users, @container_next and
 *              @cdev_device_open_cnt
 * @opened_file: the one open file of /dev/vfio/N, or NULL
 * @container: the container the group is attached to, or NULL
 * @iommufd: the iommufd context given to VFIO_GROUP_SET_CONTAINER in
 *           place of a container, or NULL; the group holds a reference
 * @cdev_device_open_cnt: devices of the group bound through their cdev;
 *                        while non-zero the group cannot be opened, and
 *                        while the group is open no device can be bound
 * @container_next: link in @container's group list, under the
 *                  container's group_lock
 * @container_users: 1 for the attachment plus one per open device file;
 *                   container.c alone reads and writes it
 * @device_lock: protects @device_list
 * @device_list: registered devices, linked by vfio_device.group_next
 * @kvm_ref_lock: protects @kvm against vfio_file_set_kvm()
 * @kvm: the KVM instance the user associated with the group
 */
struct vfio_group {
	struct device dev;
	struct cdev cdev;
	refcount_t drivers;
	struct list_head vfio_next;
	struct iommu_group *iommu_group;
	enum vfio_group_type type;
	struct mutex group_lock;	/* see above */
	struct file *opened_file;
	struct vfio_container *container;
	struct iommufd_ctx *iommufd;
	unsigned int cdev_device_open_cnt;
	struct list_head container_next;
	unsigned int container_users;
	struct mutex device_lock;	/* protects device_list */
	struct list_head device_list;
	spinlock_t kvm_ref_lock;	/* protects kvm */
	struct kvm *kvm;
};

#endif

/**
 * struct vfio_device_file - one open file of a vfio_device
 * @device: the device; the file holds its registration reference
 * @group: the group the file was opened through, or NULL for a file of
 *         the device's cdev
 * @access_granted: the device is open for this file: set once, with
 *                  release semantics, when the group open or the cdev's
 *                  BIND_IOMMUFD succeeds; read with acquire semantics
 *                  before any other use of the file. Set and cleared
 *                  under dev_set->lock.
 * @devid: the device's object id in @iommufd (cdev path)
 * @iommufd: the iommufd context the device is open on, or NULL for a
 *           container; the cdev path holds a reference; under
 *           dev_set->lock
 * @kvm_ref_lock: protects @kvm
 * @kvm: the KVM instance associated with a cdev file before its bind
 */
struct vfio_device_file {
	struct vfio_device *device;
	struct vfio_group *group;
	u8 access_granted;
	u32 devid;
	struct iommufd_ctx *iommufd;
	spinlock_t kvm_ref_lock;	/* protects kvm */
	struct kvm *kvm;
};

/* group.c: /dev/vfio/N, which CONFIG_VFIO_GROUP=n leaves out */
#if IS_ENABLED(CONFIG_VFIO_GROUP)
#if IS_ENABLED(CONFIG_VFIO_NOIOMMU)
extern bool vfio_noiommu;
#else
#define vfio_noiommu false
#endif

/* Is @vdev in a no-IOMMU group (no translation, no isolation at all)? */
static inline bool vfio_device_is_noiommu(struct vfio_device *vdev)
{
	return IS_ENABLED(CONFIG_VFIO_NOIOMMU) &&
	       vdev->group->type == VFIO_NO_IOMMU;
}

int vfio_device_set_group(struct vfio_device *device,
			  enum vfio_group_type type);
void vfio_device_remove_group(struct vfio_device *device);
void vfio_device_group_register(struct vfio_device *device);
void vfio_device_group_unregister(struct vfio_device *device);
int vfio_device_group_use_iommu(struct vfio_device *device);
void vfio_device_group_unuse_iommu(struct vfio_device *device);
bool vfio_group_is_file(struct file *file);
int vfio_device_block_group(struct vfio_device *device);
void vfio_device_unblock_group(struct vfio_device *device);
void vfio_df_group_close(struct vfio_device_file *df);
struct file *vfio_device_open_file(struct vfio_device *device);
bool vfio_device_has_container(struct vfio_device *device);
bool vfio_group_enforced_coherent(struct vfio_group *group);
void vfio_group_set_kvm(struct vfio_group *group, struct kvm *kvm);
int vfio_group_init(void);
void vfio_group_cleanup(void);
#else
/* Devices are reached through their cdev only. */
#define vfio_noiommu false

static inline bool vfio_device_is_noiommu(struct vfio_device *vdev)
{
	return false;
}

static inline int vfio_device_set_group(struct vfio_device *device,
					enum vfio_group_type type)
{
	return 0;
}

static inline void vfio_device_remove_group(struct vfio_device *device)
{
}

static inline void vfio_device_group_register(struct vfio_device *device)
{
}

static inline void vfio_device_group_unregister(struct vfio_device *device)
{
}

static inline int vfio_device_group_use_iommu(struct vfio_device *device)
{
	return -EOPNOTSUPP;
}

static inline void vfio_device_group_unuse_iommu(struct vfio_device *device)
{
}

static inline bool vfio_group_is_file(struct file *file)
{
	return false;
}

static inline int vfio_device_block_group(struct vfio_device *device)
{
	return 0;
}

static inline void vfio_device_unblock_group(struct vfio_device *device)
{
}

static inline void vfio_df_group_close(struct vfio_device_file *df)
{
}

static inline bool vfio_device_has_container(struct vfio_device *device)
{
	return false;
}

static inline bool vfio_group_enforced_coherent(struct vfio_group *group)
{
	return true;
}

static inline void vfio_group_set_kvm(struct vfio_group *group,
				      struct kvm *kvm)
{
}

static inline int vfio_group_init(void)
{
	return 0;
}

static inline void vfio_group_cleanup(void)
{
}
#endif /* CONFIG_VFIO_GROUP */

/* container.c: /dev/vfio/vfio, which CONFIG_VFIO_CONTAINER=n leaves out */
#if IS_ENABLED(CONFIG_VFIO_CONTAINER)
struct vfio_container *vfio_container_from_file(struct file *file);
int vfio_container_attach_group(struct vfio_container *container,
				struct vfio_group *group);
void vfio_group_detach_container(struct vfio_group *group);
int vfio_group_use_container(struct vfio_group *group);
bool vfio_group_container_busy(struct vfio_group *group);
void vfio_group_unuse_container(struct vfio_group *group);
void vfio_device_container_register(struct vfio_device *device);
void vfio_device_container_unregister(struct vfio_device *device);
int vfio_device_container_pin_pages(struct vfio_device *device,
				    dma_addr_t iova, int npage, int prot,
				    struct page **pages);
void vfio_device_container_unpin_pages(struct vfio_device *device,
				       dma_addr_t iova, int npage);
int vfio_device_container_dma_rw(struct vfio_device *device,
				 dma_addr_t iova, void *data, size_t len,
				 bool write);
bool vfio_container_enforced_coherent(struct vfio_container *container);
int vfio_container_init(void);
void vfio_container_cleanup(void);
#else
/* A group can only be given an iommufd: no container ever exists. */
static inline struct vfio_container *vfio_container_from_file(struct file *file)
{
	return NULL;
}

static inline int vfio_container_attach_group(struct vfio_container *container,
					      struct vfio_group *group)
{
	return -EOPNOTSUPP;
}

static inline void vfio_group_detach_container(struct vfio_group *group)
{
}

static inline int vfio_group_use_container(struct vfio_group *group)
{
	return -EOPNOTSUPP;
}

static inline void vfio_group_unuse_container(struct vfio_group *group)
{
}

static inline void vfio_device_container_register(struct vfio_device *device)
{
}

static inline void
vfio_device_container_unregister(struct vfio_device *device)
{
}

static inline int vfio_device_container_pin_pages(struct vfio_device *device,
						  dma_addr_t iova, int npage,
						  int prot,
						  struct page **pages)
{
	return -EOPNOTSUPP;
}

static inline void
vfio_device_container_unpin_pages(struct vfio_device *device,
				  dma_addr_t iova, int npage)
{
}

static inline int vfio_device_container_dma_rw(struct vfio_device *device,
					       dma_addr_t iova, void *data,
					       size_t len, bool write)
{
	return -EOPNOTSUPP;
}

static inline bool
vfio_container_enforced_coherent(struct vfio_container *container)
{
	return true;
}

static inline int vfio_container_init(void)
{
	return 0;
}

static inline void vfio_container_cleanup(void)
{
}
#endif /* CONFIG_VFIO_CONTAINER */

/* virqfd.c */
int vfio_virqfd_init(void);
void vfio_virqfd_exit(void);

/* vfio_main.c */
extern const struct file_operations vfio_device_fops;
bool vfio_device_try_get_registration(struct vfio_device *device);
void vfio_device_put_registration(struct vfio_device *device);
struct vfio_device_file *
vfio_allocate_device_file(struct vfio_device *device);
int vfio_df_open(struct vfio_device_file *df);
void vfio_df_close(struct vfio_device_file *df);
void vfio_device_get_kvm_safe(struct vfio_device *device, struct kvm *kvm);
void vfio_device_put_kvm(struct vfio_device *device);

/* migration.c: the migration v2 features of VFIO_DEVICE_FEATURE */
int vfio_ioctl_device_feature_migration(struct vfio_device *device,
					u32 flags, void __user *arg,
					size_t argsz);
int vfio_ioctl_device_feature_mig_device_state(struct vfio_device *device,
					       u32 flags, void __user *arg,
					       size_t argsz);
int vfio_ioctl_device_feature_migration_data_size(struct vfio_device *device,
						  u32 flags, void __user *arg,
						  size_t argsz);

/* dma_logging.c: the DMA logging features of VFIO_DEVICE_FEATURE */
int vfio_ioctl_device_feature_logging_start(struct vfio_device *device,
					    u32 flags, void __user *arg,
					    size_t argsz);
int vfio_ioctl_device_feature_logging_stop(struct vfio_device *device,
					   u32 flags, void __user *arg,
					   size_t argsz);
int vfio_ioctl_device_feature_logging_report(struct vfio_device *device,
					     u32 flags, void __user *arg,
					     size_t argsz);

/* debugfs.c */
#if IS_ENABLED(CONFIG_VFIO_DEBUGFS)
void vfio_debugfs_create_root(void);
void vfio_debugfs_remove_root(void);
void vfio_device_debugfs_init(struct vfio_device *device);
void vfio_device_debugfs_exit(struct vfio_device *device);
#else
static inline void vfio_debugfs_create_root(void)
{
}

static inline void vfio_debugfs_remove_root(void)
{
}

static inline void vfio_device_debugfs_init(struct vfio_device *device)
{
}

static inline void vfio_device_debugfs_exit(struct vfio_device *device)
{
}
#endif

/* iommufd.c */
#if IS_ENABLED(CONFIG_IOMMUFD)
int vfio_df_iommufd_bind(struct vfio_device_file *df);
void vfio_df_iommufd_unbind(struct vfio_device_file *df);
int vfio_iommufd_compat_attach_ioas(struct vfio_device *device,
				    struct iommufd_ctx *ictx);
bool vfio_iommufd_device_has_compat_ioas(struct vfio_device *device,
					 struct iommufd_ctx *ictx);
#else
static inline int vfio_df_iommufd_bind(struct vfio_device_file *df)
{
	return -EOPNOTSUPP;
}

static inline void vfio_df_iommufd_unbind(struct vfio_device_file *df)
{
}

static inline int vfio_iommufd_compat_attach_ioas(struct vfio_device *device,
						  struct iommufd_ctx *ictx)
{
	return -EOPNOTSUPP;
}

static inline bool
vfio_iommufd_device_has_compat_ioas(struct vfio_device *device,
				    struct iommufd_ctx *ictx)
{
	return false;
}
#endif

/* device_cdev.c */
#if IS_ENABLED(CONFIG_VFIO_DEVICE_CDEV)
int vfio_device_add(struct vfio_device *device);
void vfio_device_del(struct vfio_device *device);
int vfio_device_fops_cdev_open(struct inode *inode, struct file *file);
long vfio_df_ioctl_bind_iommufd(struct vfio_device_file *df,
				struct vfio_device_bind_iommufd __user *arg);
void vfio_df_unbind_iommufd(struct vfio_device_file *df);
long vfio_df_ioctl_attach_pt(struct vfio_device_file *df,
			     struct vfio_device_attach_iommufd_pt __user *arg);
long vfio_df_ioctl_detach_pt(struct vfio_device_file *df,
			     struct vfio_device_detach_iommufd_pt __user *arg);
int vfio_cdev_init(struct class *device_class);
void vfio_cdev_cleanup(void);
#else
static inline int vfio_device_add(struct vfio_device *device)
{
	return device_add(&device->device);
}

static inline void vfio_device_del(struct vfio_device *device)
{
	device_del(&device->device);
}

#define vfio_device_fops_cdev_open NULL

static inline long
vfio_df_ioctl_bind_iommufd(struct vfio_device_file *df,
			   struct vfio_device_bind_iommufd __user *arg)
{
	return -ENOTTY;
}

static inline void vfio_df_unbind_iommufd(struct vfio_device_file *df)
{
}

static inline long
vfio_df_ioctl_attach_pt(struct vfio_device_file *df,
			struct vfio_device_attach_iommufd_pt __user *arg)
{
	return -ENOTTY;
}

static inline long
vfio_df_ioctl_detach_pt(struct vfio_device_file *df,
			struct vfio_device_detach_iommufd_pt __user *arg)
{
	return -ENOTTY;
}

static inline int vfio_cdev_init(struct class *device_class)
{
	return 0;
}

static inline void vfio_cdev_cleanup(void)
{
}
#endif

#endif /* __VFIO_VFIO_H__ */
