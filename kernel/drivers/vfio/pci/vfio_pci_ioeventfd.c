// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO PCI: ioeventfds (VFIO_DEVICE_IOEVENTFD), fixed writes into a BAR
 * that the kernel does each time an eventfd is signaled, without a trip
 * through user space.
 *
 * The write is tried at once from the signaling context when memory_lock
 * can be had without waiting, otherwise from a work item. Writes into a
 * memory BAR while the user has memory decode off are dropped, as a
 * write() would have been refused.
 */

#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/list.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vfio_pci_priv.h"

/* The most ioeventfds a device may have at once (upstream's limit). */
#define IOEVENTFD_MAX	1000

/**
 * struct vfio_pci_ioeventfd - one registered ioeventfd
 * @link: in the device's ioeventfds list
 * @vdev: the device
 * @virqfd: the eventfd's callbacks
 * @addr: where to write, in the kernel mapping of @bar
 * @data: what to write
 * @pos: the offset in @bar, as the user gave it
 * @bar: the BAR
 * @count: the width of the write, 1, 2, 4 or 8 bytes
 * @test_mem: @bar is a memory BAR: check memory decode before writing
 *
 * All fields are set before the eventfd is armed and never change.
 */
struct vfio_pci_ioeventfd {
	struct list_head		link;
	struct vfio_pci_core_device	*vdev;
	struct virqfd			*virqfd;
	void __iomem			*addr;
	u64				data;
	loff_t				pos;
	int				bar;
	int				count;
	bool				test_mem;
};

static void vfio_pci_ioeventfd_do_write(struct vfio_pci_ioeventfd *ioev)
{
	switch (ioev->count) {
	case 1:
		iowrite8(ioev->data, ioev->addr);
		break;
	case 2:
		iowrite16(ioev->data, ioev->addr);
		break;
	case 4:
		iowrite32(ioev->data, ioev->addr);
		break;
	default:
		iowrite64(ioev->data, ioev->addr);
		break;
	}
}

/* In the signaling (atomic) context: nonzero defers to the thread. */
static int vfio_pci_ioeventfd_handler(void *opaque, void *unused)
{
	struct vfio_pci_ioeventfd *ioev = opaque;
	struct vfio_pci_core_device *vdev = ioev->vdev;

	if (!ioev->test_mem) {
		vfio_pci_ioeventfd_do_write(ioev);
		return 0;
	}
	if (!down_read_trylock(&vdev->memory_lock))
		return 1;
	if (vfio_pci_memory_enabled(vdev))
		vfio_pci_ioeventfd_do_write(ioev);
	up_read(&vdev->memory_lock);
	return 0;
}

static void vfio_pci_ioeventfd_thread(void *opaque, void *unused)
{
	struct vfio_pci_ioeventfd *ioev = opaque;
	struct vfio_pci_core_device *vdev = ioev->vdev;

	down_read(&vdev->memory_lock);
	if (vfio_pci_memory_enabled(vdev))
		vfio_pci_ioeventfd_do_write(ioev);
	up_read(&vdev->memory_lock);
}

static void vfio_pci_ioeventfd_free(struct vfio_pci_core_device *vdev,
				    struct vfio_pci_ioeventfd *ioev)
{
	lockdep_assert_held(&vdev->ioeventfds_lock);
	vfio_virqfd_disable(&ioev->virqfd);
	list_del(&ioev->link);
	vdev->ioeventfds_nr--;
	kfree(ioev);
}

/**
 * vfio_pci_ioeventfd_init - set up the ioeventfd state of a device
 * @vdev: the device, being initialized
 */
void vfio_pci_ioeventfd_init(struct vfio_pci_core_device *vdev)
{
	mutex_init(&vdev->ioeventfds_lock);
	INIT_LIST_HEAD(&vdev->ioeventfds_list);
	vdev->ioeventfds_nr = 0;
}

/**
 * vfio_pci_ioeventfd_release_all - disarm and free every ioeventfd
 * @vdev: the device, being closed (before its BARs are unmapped)
 */
void vfio_pci_ioeventfd_release_all(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_ioeventfd *ioev, *next;

	mutex_lock(&vdev->ioeventfds_lock);
	list_for_each_entry_safe(ioev, next, &vdev->ioeventfds_list, link)
		vfio_pci_ioeventfd_free(vdev, ioev);
	mutex_unlock(&vdev->ioeventfds_lock);
}

/* Add (@fd >= 0) or remove (@fd == -1) the ioeventfd for this write. */
static int vfio_pci_ioeventfd_set(struct vfio_pci_core_device *vdev, int bar,
				  loff_t pos, u64 data, int count, int fd)
{
	struct vfio_pci_ioeventfd *ioev;
	int ret;

	ret = vfio_pci_core_setup_barmap(vdev, bar);
	if (ret)
		return ret;

	mutex_lock(&vdev->ioeventfds_lock);
	list_for_each_entry(ioev, &vdev->ioeventfds_list, link) {
		if (ioev->bar != bar || ioev->pos != pos ||
		    ioev->data != data || ioev->count != count)
			continue;
		if (fd == -1)
			vfio_pci_ioeventfd_free(vdev, ioev);
		else
			ret = -EEXIST;
		goto out_unlock;
	}

	if (fd == -1) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (vdev->ioeventfds_nr >= IOEVENTFD_MAX) {
		ret = -ENOSPC;
		goto out_unlock;
	}

	ioev = kzalloc(sizeof(*ioev), GFP_KERNEL_ACCOUNT);
	if (!ioev) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	ioev->vdev = vdev;
	ioev->addr = vdev->barmap[bar] + pos;
	ioev->data = data;
	ioev->pos = pos;
	ioev->bar = bar;
	ioev->count = count;
	ioev->test_mem = pci_resource_flags(vdev->pdev, bar) & IORESOURCE_MEM;

	ret = vfio_virqfd_enable(ioev, vfio_pci_ioeventfd_handler,
				 vfio_pci_ioeventfd_thread, NULL, &ioev->virqfd,
				 fd);
	if (ret)
		goto err_free_ioev;
	list_add(&ioev->link, &vdev->ioeventfds_list);
	vdev->ioeventfds_nr++;
	goto out_unlock;

err_free_ioev:
	kfree(ioev);
out_unlock:
	mutex_unlock(&vdev->ioeventfds_lock);
	return ret;
}

/**
 * vfio_pci_ioctl_ioeventfd - VFIO_DEVICE_IOEVENTFD
 * @vdev: the device, open
 * @arg: the user's struct vfio_device_ioeventfd
 *
 * An fd of -1 removes the ioeventfd with the same offset, data and size.
 *
 * Return: 0 or -errno: -EINVAL for bad flags or fd, an offset outside the
 * BARs or overlapping the MSI-X table; -EEXIST when the same write is
 * already registered; -ENODEV removing one that is not; -ENOSPC past
 * the limit per device.
 */
int vfio_pci_ioctl_ioeventfd(struct vfio_pci_core_device *vdev,
			     struct vfio_device_ioeventfd __user *arg)
{
	size_t minsz = offsetofend(struct vfio_device_ioeventfd, fd);
	struct vfio_device_ioeventfd req;
	int count, bar;
	loff_t pos;

	if (copy_from_user(&req, arg, minsz))
		return -EFAULT;
	if (req.argsz < minsz ||
	    req.flags & ~VFIO_DEVICE_IOEVENTFD_SIZE_MASK)
		return -EINVAL;
	count = req.flags & VFIO_DEVICE_IOEVENTFD_SIZE_MASK;
	if (hweight8(count) != 1 || req.fd < -1)
		return -EINVAL;

	bar = VFIO_PCI_OFFSET_TO_INDEX(req.offset);
	pos = req.offset & VFIO_PCI_OFFSET_MASK;
	if (bar > VFIO_PCI_BAR5_REGION_INDEX ||
	    pos + count > pci_resource_len(vdev->pdev, bar))
		return -EINVAL;
	/* The MSI-X table belongs to the host. */
	if (bar == vdev->msix_bar && pos + count > vdev->msix_offset &&
	    pos < vdev->msix_offset + vdev->msix_size)
		return -EINVAL;

	return vfio_pci_ioeventfd_set(vdev, bar, pos, req.data, count, req.fd);
}
