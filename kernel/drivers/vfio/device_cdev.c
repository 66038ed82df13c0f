// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device cdev: /dev/vfio/devices/vfioN, a character device per
 * registered vfio_device (N is the index of vfio-dev/vfioN in sysfs).
 *
 * Opening it gives a file that can do nothing but VFIO_DEVICE_BIND_IOMMUFD:
 * the bind opens the device on an iommufd context, claiming DMA ownership
 * for that context, and only then are the device's ioctls, read, write and
 * mmap available, plus ATTACH/DETACH_IOMMUFD_PT to choose the page table
 * its DMA goes through. Closing the file unbinds. A device is bound
 * through at most one file, and never while its group is open: groups
 * and cdevs exclude each other.
 */
#include <linux/iommufd.h>

#include "vfio.h"

static dev_t vfio_device_devt;

/**
 * vfio_device_add - make a registering device visible, with its cdev
 * @device: the device, whose struct device is initialized and named
 *
 * Return: 0 or -errno.
 */
int vfio_device_add(struct vfio_device *device)
{
	/*
	 * A no-IOMMU device has nothing to bind to an iommufd: it keeps its
	 * vfio-dev/vfioN entry but gets no cdev.
	 */
	if (vfio_device_is_noiommu(device))
		return device_add(&device->device);
	device->device.devt = MKDEV(MAJOR(vfio_device_devt), device->index);
	cdev_init(&device->cdev, &vfio_device_fops);
	device->cdev.owner = THIS_MODULE;
	return cdev_device_add(&device->cdev, &device->device);
}

/**
 * vfio_device_del - undo vfio_device_add(); new opens of the cdev fail
 * @device: the unregistering device
 */
void vfio_device_del(struct vfio_device *device)
{
	if (vfio_device_is_noiommu(device))
		device_del(&device->device);
	else
		cdev_device_del(&device->cdev, &device->device);
}

/**
 * vfio_device_fops_cdev_open - open(2) of /dev/vfio/devices/vfioN
 * @inode: the cdev's inode
 * @file: the new file
 *
 * The file holds the registration until it is closed, but has no access
 * to the device until it is bound.
 *
 * Return: 0, -ENODEV when the device is going away, or -ENOMEM.
 */
int vfio_device_fops_cdev_open(struct inode *inode, struct file *file)
{
	struct vfio_device *device =
		container_of(inode->i_cdev, struct vfio_device, cdev);
	struct vfio_device_file *df;

	if (!vfio_device_try_get_registration(device))
		return -ENODEV;
	df = vfio_allocate_device_file(device);
	if (IS_ERR(df)) {
		vfio_device_put_registration(device);
		return PTR_ERR(df);
	}
	file->private_data = df;
	/* All opens share the device's mappings, so a driver can zap them. */
	file->f_mapping = device->inode->i_mapping;
	return 0;
}

/**
 * vfio_df_ioctl_bind_iommufd - VFIO_DEVICE_BIND_IOMMUFD
 * @df: the file
 * @arg: the user's struct vfio_device_bind_iommufd
 *
 * Return: 0 with out_devid written; -EINVAL for a bad argument, a group's
 * device file, a file already bound, or a device already open elsewhere;
 * -EBUSY while the group is open; -EBADF/-EBADFD for a bad iommufd;
 * or what opening the device returned.
 */
long vfio_df_ioctl_bind_iommufd(struct vfio_device_file *df,
				struct vfio_device_bind_iommufd __user *arg)
{
	size_t minsz = offsetofend(struct vfio_device_bind_iommufd, out_devid);
	struct vfio_device *device = df->device;
	struct vfio_device_bind_iommufd bind;
	struct iommufd_ctx *ictx;
	bool took_kvm = false;
	long ret;

	static_assert(__same_type(bind.out_devid, df->devid));

	if (copy_from_user(&bind, arg, minsz))
		return -EFAULT;
	if (bind.argsz < minsz || bind.flags || bind.iommufd < 0)
		return -EINVAL;
	/* A device file from the group is open already. */
	if (df->group)
		return -EINVAL;

	ret = vfio_device_block_group(device);
	if (ret)
		return ret;

	mutex_lock(&device->dev_set->lock);
	if (df->access_granted) {
		ret = -EINVAL;		/* one bind per file */
		goto out_unlock;
	}
	ictx = iommufd_ctx_from_fd(bind.iommufd);
	if (IS_ERR(ictx)) {
		ret = PTR_ERR(ictx);
		goto out_unlock;
	}
	df->iommufd = ictx;

	/*
	 * The KVM associated with this file goes to the driver with the
	 * open. Only a first open may set it: a bind that finds the device
	 * open elsewhere fails below and must not touch the other's.
	 */
	if (!device->open_count) {
		spin_lock(&df->kvm_ref_lock);
		vfio_device_get_kvm_safe(device, df->kvm);
		spin_unlock(&df->kvm_ref_lock);
		took_kvm = true;
	}

	ret = vfio_df_open(df);
	if (ret)
		goto put_kvm;
	if (copy_to_user(&arg->out_devid, &df->devid, sizeof(df->devid))) {
		ret = -EFAULT;
		goto close;
	}
	device->cdev_opened = true;
	/* Pairs with the acquire load before every use of the file. */
	smp_store_release(&df->access_granted, true);
	mutex_unlock(&device->dev_set->lock);
	return 0;

close:
	vfio_df_close(df);
put_kvm:
	if (took_kvm)
		vfio_device_put_kvm(device);
	iommufd_ctx_put(ictx);
	df->iommufd = NULL;
out_unlock:
	mutex_unlock(&device->dev_set->lock);
	vfio_device_unblock_group(device);
	return ret;
}

/**
 * vfio_df_unbind_iommufd - close a cdev file's device, if bound
 * @df: the file being released
 */
void vfio_df_unbind_iommufd(struct vfio_device_file *df)
{
	struct vfio_device *device = df->device;

	/* Release cannot race with a bind on the same file. */
	if (!df->access_granted)
		return;

	mutex_lock(&device->dev_set->lock);
	vfio_df_close(df);
	vfio_device_put_kvm(device);
	iommufd_ctx_put(df->iommufd);
	df->iommufd = NULL;
	device->cdev_opened = false;
	mutex_unlock(&device->dev_set->lock);
	vfio_device_unblock_group(device);
}

/**
 * vfio_df_ioctl_attach_pt - VFIO_DEVICE_ATTACH_IOMMUFD_PT
 * @df: a bound cdev file
 * @arg: the user's struct vfio_device_attach_iommufd_pt
 *
 * Attaches the device to an IOAS or a HWPT of its iommufd context, or
 * replaces the page table it is attached to. The id of the HWPT actually
 * attached is written back to pt_id.
 *
 * Return: 0, -EINVAL for a bad argument, -ENOENT for an unknown id, or
 * what the driver's attach_ioas returned.
 */
long vfio_df_ioctl_attach_pt(struct vfio_device_file *df,
			     struct vfio_device_attach_iommufd_pt __user *arg)
{
	size_t minsz = offsetofend(struct vfio_device_attach_iommufd_pt, pt_id);
	struct vfio_device_attach_iommufd_pt attach;
	struct vfio_device *device = df->device;
	long ret;

	if (copy_from_user(&attach, arg, minsz))
		return -EFAULT;
	if (attach.argsz < minsz || attach.flags)
		return -EINVAL;

	mutex_lock(&device->dev_set->lock);
	ret = device->ops->attach_ioas(device, &attach.pt_id);
	if (!ret && copy_to_user(&arg->pt_id, &attach.pt_id,
				 sizeof(attach.pt_id))) {
		device->ops->detach_ioas(device);
		ret = -EFAULT;
	}
	mutex_unlock(&device->dev_set->lock);
	return ret;
}

/**
 * vfio_df_ioctl_detach_pt - VFIO_DEVICE_DETACH_IOMMUFD_PT
 * @df: a bound cdev file
 * @arg: the user's struct vfio_device_detach_iommufd_pt
 *
 * Detaching a device that is not attached succeeds and does nothing.
 *
 * Return: 0, or -EINVAL for a bad argument.
 */
long vfio_df_ioctl_detach_pt(struct vfio_device_file *df,
			     struct vfio_device_detach_iommufd_pt __user *arg)
{
	size_t minsz = offsetofend(struct vfio_device_detach_iommufd_pt, flags);
	struct vfio_device_detach_iommufd_pt detach;
	struct vfio_device *device = df->device;

	if (copy_from_user(&detach, arg, minsz))
		return -EFAULT;
	if (detach.argsz < minsz || detach.flags)
		return -EINVAL;

	mutex_lock(&device->dev_set->lock);
	device->ops->detach_ioas(device);
	mutex_unlock(&device->dev_set->lock);
	return 0;
}

static char *vfio_device_devnode(const struct device *dev, umode_t *mode)
{
	return kasprintf(GFP_KERNEL, "vfio/devices/%s", dev_name(dev));
}

/**
 * vfio_cdev_init - reserve the device cdevs' numbers
 * @device_class: the vfio-dev class, whose nodes go under vfio/devices/
 *
 * Return: 0 or -errno.
 */
int vfio_cdev_init(struct class *device_class)
{
	device_class->devnode = vfio_device_devnode;
	return alloc_chrdev_region(&vfio_device_devt, 0, MINORMASK + 1,
				   "vfio-dev");
}

/**
 * vfio_cdev_cleanup - undo vfio_cdev_init()
 */
void vfio_cdev_cleanup(void)
{
	unregister_chrdev_region(vfio_device_devt, MINORMASK + 1);
}
