// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VFIO container: /dev/vfio/vfio.
 *
 * Each open of the misc device is a container that groups are attached
 * to and that an IOMMU backend is chosen for.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>

#include "vfio.h"

/**
 * struct vfio_container - one open of /dev/vfio/vfio
 * @placeholder: the container has no state until groups and IOMMU
 *               backends exist
 */
struct vfio_container {
	int placeholder;
};

static long vfio_container_check_extension(struct vfio_container *container,
					   unsigned long extension)
{
	/* No IOMMU backend is registered: no extension is supported. */
	return 0;
}

static long vfio_container_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	struct vfio_container *container = file->private_data;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return vfio_container_check_extension(container, arg);
	default:
		/* Upstream answers EINVAL, not ENOTTY, when no backend is set. */
		return -EINVAL;
	}
}

static int vfio_container_open(struct inode *inode, struct file *file)
{
	struct vfio_container *container;

	container = kzalloc(sizeof(*container), GFP_KERNEL_ACCOUNT);
	if (!container)
		return -ENOMEM;
	file->private_data = container;
	return 0;
}

static int vfio_container_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static const struct file_operations vfio_container_fops = {
	.owner		= THIS_MODULE,
	.open		= vfio_container_open,
	.release	= vfio_container_release,
	.unlocked_ioctl	= vfio_container_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice vfio_container_dev = {
	.minor		= VFIO_MINOR,
	.name		= "vfio",
	.nodename	= "vfio/vfio",
	.mode		= 0666,
	.fops		= &vfio_container_fops,
};

int vfio_container_init(void)
{
	return misc_register(&vfio_container_dev);
}

void vfio_container_cleanup(void)
{
	misc_deregister(&vfio_container_dev);
}
