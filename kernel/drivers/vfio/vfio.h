/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations shared by vfio.ko and its IOMMU backends, and nothing else.
 */
#ifndef __VFIO_VFIO_H__
#define __VFIO_VFIO_H__

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

int vfio_container_init(void);
void vfio_container_cleanup(void);

#endif /* __VFIO_VFIO_H__ */
