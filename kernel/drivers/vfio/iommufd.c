// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO devices on iommufd: the core's side of binding a device to an
 * iommufd context, and the helpers drivers put in their vfio_device_ops.
 *
 * A device reaches an iommufd context two ways: through its cdev
 * (VFIO_DEVICE_BIND_IOMMUFD, then ATTACH_IOMMUFD_PT), or through its
 * group when the user gave VFIO_GROUP_SET_CONTAINER an iommufd, in which
 * case the device is attached to the context's compatibility IOAS. Either
 * way the driver's bind_iommufd/attach_ioas ops do the work; a driver of
 * a device behind the platform IOMMU uses the physical helpers below.
 *
 * Every op runs under the device set's lock, which serializes the
 * binding state kept in struct vfio_device.
 */
#include <linux/iommufd.h>
#include <linux/module.h>

#include "vfio.h"

MODULE_IMPORT_NS(IOMMUFD);
MODULE_IMPORT_NS(IOMMUFD_VFIO);

/**
 * vfio_df_iommufd_bind - bind a file's device to the file's iommufd
 * @df: the file; @df->iommufd is set, and @df->devid receives the id
 *
 * Called for the first open, under dev_set->lock.
 *
 * Return: 0 or what the driver's bind_iommufd returned.
 */
int vfio_df_iommufd_bind(struct vfio_device_file *df)
{
	struct vfio_device *device = df->device;

	lockdep_assert_held(&device->dev_set->lock);
	/* Nothing to bind: a no-IOMMU device opens without a binding. */
	if (vfio_device_is_noiommu(device))
		return 0;
	return device->ops->bind_iommufd(device, df->iommufd, &df->devid);
}

/**
 * vfio_df_iommufd_unbind - undo vfio_df_iommufd_bind()
 * @df: the file; called for the last close, under dev_set->lock
 */
void vfio_df_iommufd_unbind(struct vfio_device_file *df)
{
	struct vfio_device *device = df->device;

	lockdep_assert_held(&device->dev_set->lock);
	if (vfio_device_is_noiommu(device))
		return;
	if (device->ops->unbind_iommufd)
		device->ops->unbind_iommufd(device);
}

/**
 * vfio_iommufd_compat_attach_ioas - attach a device opened through its
 *                                   group to the compatibility IOAS
 * @device: the device, just bound to @ictx
 * @ictx: the iommufd context the group was given as its container
 *
 * Return: 0, -ENOENT when @ictx has no compatibility IOAS, or what the
 * driver's attach_ioas returned.
 */
int vfio_iommufd_compat_attach_ioas(struct vfio_device *device,
				    struct iommufd_ctx *ictx)
{
	u32 ioas_id;
	int ret;

	lockdep_assert_held(&device->dev_set->lock);
	if (vfio_device_is_noiommu(device))
		return 0;
	ret = iommufd_vfio_compat_ioas_get_id(ictx, &ioas_id);
	if (ret)
		return ret;
	/* The group path has no way to tell the user the id. */
	return device->ops->attach_ioas(device, &ioas_id);
}

/**
 * vfio_iommufd_device_has_compat_ioas - does @ictx have a compatibility
 *                                       IOAS?
 * @device: the device asking (unused but for symmetry with the callers)
 * @ictx: the iommufd context a group was given as its container
 *
 * Return: true when the user created one (IOMMU_VFIO_IOAS, or a
 * VFIO_SET_IOMMU on the iommufd), i.e. expects DMA translation.
 */
bool vfio_iommufd_device_has_compat_ioas(struct vfio_device *device,
					 struct iommufd_ctx *ictx)
{
	u32 ioas_id;

	return !iommufd_vfio_compat_ioas_get_id(ictx, &ioas_id);
}

/**
 * vfio_iommufd_device_ictx - the iommufd context a device is bound to
 * @vdev: the device
 *
 * Return: the context, or NULL when the device is not bound to one
 * through the physical helpers. No reference is taken: the binding holds
 * one while the device is open.
 */
struct iommufd_ctx *vfio_iommufd_device_ictx(struct vfio_device *vdev)
{
	if (!vdev->iommufd_device)
		return NULL;
	return iommufd_device_to_ictx(vdev->iommufd_device);
}
EXPORT_SYMBOL_GPL(vfio_iommufd_device_ictx);

/**
 * vfio_iommufd_get_dev_id - a device's id as seen from an iommufd context
 * @vdev: a device, possibly not open
 * @ictx: the context asking (typically the caller's device's)
 *
 * Tells a driver whether the user of @ictx owns @vdev, for example to
 * report or authorize a hot reset that reaches it.
 *
 * Return: the device's object id when it is bound to @ictx; -ENOENT when
 * @ictx owns the device's IOMMU group through another device but this one
 * has no id there; -ENODEV (or another -errno) when @ictx does not own it.
 */
int vfio_iommufd_get_dev_id(struct vfio_device *vdev,
			    struct iommufd_ctx *ictx)
{
	struct iommu_group *group;
	int ret;

	if (vdev->iommufd_device &&
	    iommufd_device_to_ictx(vdev->iommufd_device) == ictx)
		return iommufd_device_to_id(vdev->iommufd_device);

	group = iommu_group_get(vdev->dev);
	if (!group)
		return -ENODEV;
	ret = iommufd_ctx_has_group(ictx, group) ? -ENOENT : -ENODEV;
	iommu_group_put(group);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_get_dev_id);

/**
 * vfio_iommufd_physical_bind - vfio_device_ops.bind_iommufd for a device
 *                              behind the platform IOMMU
 * @vdev: the device, registered with vfio_register_group_dev()
 * @ictx: the iommufd context
 * @out_device_id: receives the device's object id in @ictx
 *
 * Binding claims DMA ownership of the device for @ictx: it fails while a
 * kernel driver that does DMA is bound to any device of its group.
 *
 * Return: 0 or -errno.
 */
int vfio_iommufd_physical_bind(struct vfio_device *vdev,
			       struct iommufd_ctx *ictx, u32 *out_device_id)
{
	struct iommufd_device *idev;

	lockdep_assert_held(&vdev->dev_set->lock);
	idev = iommufd_device_bind(ictx, vdev->dev, out_device_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	vdev->iommufd_device = idev;
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_physical_bind);

/**
 * vfio_iommufd_physical_unbind - vfio_device_ops.unbind_iommufd for a
 *                                device behind the platform IOMMU
 * @vdev: the device; detached first if still attached
 */
void vfio_iommufd_physical_unbind(struct vfio_device *vdev)
{
	lockdep_assert_held(&vdev->dev_set->lock);
	if (WARN_ON(!vdev->iommufd_device))
		return;
	if (vdev->iommufd_attached) {
		iommufd_device_detach(vdev->iommufd_device);
		vdev->iommufd_attached = false;
	}
	iommufd_device_unbind(vdev->iommufd_device);
	vdev->iommufd_device = NULL;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_physical_unbind);

/**
 * vfio_iommufd_physical_attach_ioas - vfio_device_ops.attach_ioas for a
 *                                     device behind the platform IOMMU
 * @vdev: a bound device
 * @pt_id: an IOAS id (a HWPT is found or allocated for it) or a HWPT id;
 *         receives the id of the HWPT actually attached
 *
 * An attached device has its page table replaced, with no window in
 * which DMA is unblocked or untranslated.
 *
 * Return: 0 or -errno (-ENOENT for an unknown id).
 */
int vfio_iommufd_physical_attach_ioas(struct vfio_device *vdev, u32 *pt_id)
{
	int ret;

	lockdep_assert_held(&vdev->dev_set->lock);
	if (WARN_ON(!vdev->iommufd_device))
		return -EINVAL;
	if (vdev->iommufd_attached)
		ret = iommufd_device_replace(vdev->iommufd_device, pt_id);
	else
		ret = iommufd_device_attach(vdev->iommufd_device, pt_id);
	if (ret)
		return ret;
	vdev->iommufd_attached = true;
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_physical_attach_ioas);

/**
 * vfio_iommufd_physical_detach_ioas - vfio_device_ops.detach_ioas for a
 *                                     device behind the platform IOMMU
 * @vdev: a bound device; nothing happens when it is not attached
 *
 * From then on the device's DMA is blocked.
 */
void vfio_iommufd_physical_detach_ioas(struct vfio_device *vdev)
{
	lockdep_assert_held(&vdev->dev_set->lock);
	if (WARN_ON(!vdev->iommufd_device) || !vdev->iommufd_attached)
		return;
	iommufd_device_detach(vdev->iommufd_device);
	vdev->iommufd_attached = false;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_physical_detach_ioas);

/*
 * Emulated devices (mediated devices and the like) have no IOMMU of their
 * own: they reach user memory through an iommufd access object, which
 * pins pages and copies on their behalf and tells them when the user
 * unmaps an IOVA range they may have pinned.
 */
static void vfio_emulated_unmap(void *data, unsigned long iova,
				unsigned long length)
{
	struct vfio_device *vdev = data;

	/* vfio_pin_pages() refuses drivers without dma_unmap. */
	if (vdev->ops->dma_unmap)
		vdev->ops->dma_unmap(vdev, iova, length);
}

static const struct iommufd_access_ops vfio_emulated_access_ops = {
	.needs_pin_pages = 1,
	.unmap = vfio_emulated_unmap,
};

/**
 * vfio_iommufd_emulated_bind - vfio_device_ops.bind_iommufd for a device
 *                              registered with an emulated IOMMU
 * @vdev: the device, registered with vfio_register_emulated_iommu_dev()
 * @ictx: the iommufd context
 * @out_device_id: receives the id of the device's access object in @ictx
 *
 * Creates the access object through which vfio_pin_pages() and
 * vfio_dma_rw() reach the user's memory once the device is attached.
 *
 * Return: 0 or -errno.
 */
int vfio_iommufd_emulated_bind(struct vfio_device *vdev,
			       struct iommufd_ctx *ictx, u32 *out_device_id)
{
	struct iommufd_access *access;

	lockdep_assert_held(&vdev->dev_set->lock);
	access = iommufd_access_create(ictx, &vfio_emulated_access_ops, vdev,
				       out_device_id);
	if (IS_ERR(access))
		return PTR_ERR(access);
	vdev->iommufd_access = access;
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_emulated_bind);

/**
 * vfio_iommufd_emulated_unbind - vfio_device_ops.unbind_iommufd for a
 *                                device registered with an emulated IOMMU
 * @vdev: the device; its access object is detached and destroyed
 *
 * The driver's close_device() has run, so it holds no pins any more.
 */
void vfio_iommufd_emulated_unbind(struct vfio_device *vdev)
{
	lockdep_assert_held(&vdev->dev_set->lock);
	if (!vdev->iommufd_access)
		return;
	iommufd_access_destroy(vdev->iommufd_access);
	vdev->iommufd_access = NULL;
	vdev->iommufd_attached = false;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_emulated_unbind);

/**
 * vfio_iommufd_emulated_attach_ioas - vfio_device_ops.attach_ioas for a
 *                                     device registered with an emulated
 *                                     IOMMU
 * @vdev: a bound device
 * @pt_id: the IOAS to reach user memory through; an access object has no
 *         hardware page table, so a HWPT id fails (-ENOENT, as iommufd
 *         answers) and @pt_id is not changed
 *
 * An attached device has its IOAS replaced.
 *
 * Return: 0 or -errno.
 */
int vfio_iommufd_emulated_attach_ioas(struct vfio_device *vdev, u32 *pt_id)
{
	int ret;

	lockdep_assert_held(&vdev->dev_set->lock);
	if (WARN_ON(!vdev->iommufd_access))
		return -EINVAL;
	if (vdev->iommufd_attached)
		ret = iommufd_access_replace(vdev->iommufd_access, *pt_id);
	else
		ret = iommufd_access_attach(vdev->iommufd_access, *pt_id);
	if (ret)
		return ret;
	vdev->iommufd_attached = true;
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_emulated_attach_ioas);

/**
 * vfio_iommufd_emulated_detach_ioas - vfio_device_ops.detach_ioas for a
 *                                     device registered with an emulated
 *                                     IOMMU
 * @vdev: a bound device; nothing happens when it is not attached
 *
 * iommufd first asks the driver (through dma_unmap) to drop what it has
 * pinned in the IOAS; afterwards vfio_pin_pages() and vfio_dma_rw() fail.
 */
void vfio_iommufd_emulated_detach_ioas(struct vfio_device *vdev)
{
	lockdep_assert_held(&vdev->dev_set->lock);
	if (WARN_ON(!vdev->iommufd_access) || !vdev->iommufd_attached)
		return;
	iommufd_access_detach(vdev->iommufd_access);
	vdev->iommufd_attached = false;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_emulated_detach_ioas);
