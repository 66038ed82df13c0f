// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO PCI: read() and write() on the BAR and ROM regions.
 *
 * A request is carried out as the largest naturally aligned accesses
 * that fit (8, 4, 2 then 1 bytes), so a user that reads a 32-bit register
 * with a 4-byte pread() gets exactly one 32-bit bus access. Data in the
 * user's buffer is in the device's (little-endian) byte order.
 */

#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/pci.h>
#include <linux/uaccess.h>

#include "vfio_pci_priv.h"

/* The ROM BAR of some devices breaks on 64-bit reads. */
#define ROM_MAX_WIDTH	4
#define BAR_MAX_WIDTH	8

/**
 * vfio_pci_bar_map - claim a BAR and map it into the kernel
 * @vdev: the device, open
 * @bar: the BAR, a memory or I/O BAR the host assigned
 *
 * Done on the first read(), write() or mmap() of the BAR; the mapping and
 * the claim last until the device is closed.
 *
 * Context: may be called under the mmap lock (from mmap()), so it takes
 * @vdev->memory_lock, never @vdev->config_lock, which is held across
 * copies from and to user space.
 * Return: 0 or -errno.
 */
int vfio_pci_bar_map(struct vfio_pci_core_device *vdev, int bar)
{
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *io;
	int ret = 0;

	/*
	 * A BAR stays mapped from its first use to the close of the device,
	 * so once it is published no lock is needed to find it: every BAR
	 * read() and write() passes here.
	 */
	if (smp_load_acquire(&vdev->barmap[bar]))
		return 0;

	down_write(&vdev->memory_lock);
	if (vdev->barmap[bar])
		goto out_unlock;

	ret = pci_request_selected_regions(pdev, 1 << bar, "vfio");
	if (ret)
		goto out_unlock;
	io = pci_iomap(pdev, bar, 0);
	if (!io) {
		ret = -ENOMEM;
		goto err_release_region;
	}
	/* Pairs with the smp_load_acquire() of the lockless check above. */
	smp_store_release(&vdev->barmap[bar], io);
	goto out_unlock;

err_release_region:
	pci_release_selected_regions(pdev, 1 << bar);
out_unlock:
	up_write(&vdev->memory_lock);
	return ret;
}

/**
 * vfio_pci_bar_unmap_all - undo every bar_map() of an open
 * @vdev: the device, being closed
 */
void vfio_pci_bar_unmap_all(struct vfio_pci_core_device *vdev)
{
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (!vdev->barmap[bar])
			continue;
		pci_iounmap(vdev->pdev, vdev->barmap[bar]);
		pci_release_selected_regions(vdev->pdev, 1 << bar);
		vdev->barmap[bar] = NULL;
	}
}

/* One bus access of @width bytes; @data is in device byte order. */
static void vfio_pci_io_access(void __iomem *addr, int width, bool iswrite,
			       u8 *data)
{
	switch (width) {
	case 8:
		if (iswrite)
			iowrite64(le64_to_cpu(*(__le64 *)data), addr);
		else
			*(__le64 *)data = cpu_to_le64(ioread64(addr));
		break;
	case 4:
		if (iswrite)
			iowrite32(le32_to_cpu(*(__le32 *)data), addr);
		else
			*(__le32 *)data = cpu_to_le32(ioread32(addr));
		break;
	case 2:
		if (iswrite)
			iowrite16(le16_to_cpu(*(__le16 *)data), addr);
		else
			*(__le16 *)data = cpu_to_le16(ioread16(addr));
		break;
	default:
		if (iswrite)
			iowrite8(*data, addr);
		else
			*data = ioread8(addr);
		break;
	}
}

/*
 * Transfer @count bytes at @off of @io. Bytes in [@skip_start, @skip_end)
 * never reach the device: reads of them return 0xff, writes are dropped
 * (the MSI-X table, which the host owns, or a ROM's tail past its image).
 * With @test_mem, each access first checks that the user left memory
 * decode enabled, under memory_lock, and fails with -EIO otherwise.
 */
static ssize_t vfio_pci_io_rw(struct vfio_pci_core_device *vdev,
			      void __iomem *io, char __user *buf, loff_t off,
			      size_t count, size_t skip_start, size_t skip_end,
			      bool iswrite, bool test_mem, int max_width)
{
	size_t done = 0;

	while (done < count) {
		size_t left = count - done;
		u8 data[8];
		int width;

		if (off >= skip_start && off < skip_end) {
			width = min_t(size_t, left, skip_end - off);
			if (!iswrite) {
				int i;

				for (i = 0; i < width; i++)
					if (put_user(0xff, buf + done + i))
						return -EFAULT;
			}
			goto next;
		}
		if (off < skip_start)
			left = min_t(size_t, left, skip_start - off);

		if (max_width >= 8 && left >= 8 && !(off % 8))
			width = 8;
		else if (max_width >= 4 && left >= 4 && !(off % 4))
			width = 4;
		else if (left >= 2 && !(off % 2))
			width = 2;
		else
			width = 1;

		if (iswrite && copy_from_user(data, buf + done, width))
			return -EFAULT;

		if (test_mem) {
			down_read(&vdev->memory_lock);
			if (!vfio_pci_memory_enabled(vdev)) {
				up_read(&vdev->memory_lock);
				return -EIO;
			}
		}
		vfio_pci_io_access(io + off, width, iswrite, data);
		if (test_mem)
			up_read(&vdev->memory_lock);

		if (!iswrite && copy_to_user(buf + done, data, width))
			return -EFAULT;
next:
		done += width;
		off += width;
	}
	return done;
}

/**
 * vfio_pci_bar_rw - read or write a BAR region, or read the ROM region
 * @vdev: the device, open
 * @buf: the user's buffer
 * @count: bytes to transfer; cut short at the end of the region
 * @ppos: the file offset; advanced by the bytes transferred
 * @iswrite: write, rather than read
 *
 * Return: the bytes transferred, -EINVAL for a BAR the host did not
 * assign or an offset past its end, -EIO while the user has memory
 * decode disabled, or another -errno.
 */
ssize_t vfio_pci_bar_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite)
{
	struct pci_dev *pdev = vdev->pdev;
	int bar = VFIO_PCI_OFFSET_TO_INDEX(*ppos);
	loff_t off = *ppos & VFIO_PCI_OFFSET_MASK;
	bool test_mem = pci_resource_flags(pdev, bar) & IORESOURCE_MEM;
	size_t skip_start = 0, skip_end = 0;
	resource_size_t end;
	void __iomem *io;
	size_t rom_size;
	ssize_t done;
	int ret;

	if (pci_resource_start(pdev, bar))
		end = pci_resource_len(pdev, bar);
	else if (bar == PCI_ROM_RESOURCE &&
		 pdev->resource[bar].flags & IORESOURCE_ROM_SHADOW)
		end = 0x20000;
	else
		return -EINVAL;
	if (off >= end)
		return -EINVAL;
	count = min_t(size_t, count, end - off);

	if (bar == PCI_ROM_RESOURCE) {
		io = pci_map_rom(pdev, &rom_size);
		if (!io)
			return -ENOMEM;
		/* The BAR can be larger than the image it holds. */
		done = vfio_pci_io_rw(vdev, io, buf, off, count, rom_size, end,
				      false, test_mem, ROM_MAX_WIDTH);
		pci_unmap_rom(pdev, io);
	} else {
		ret = vfio_pci_bar_map(vdev, bar);
		if (ret)
			return ret;
		if (bar == vdev->msix_bar) {
			skip_start = vdev->msix_offset;
			skip_end = vdev->msix_offset + vdev->msix_size;
		}
		done = vfio_pci_io_rw(vdev, vdev->barmap[bar], buf, off, count,
				      skip_start, skip_end, iswrite, test_mem,
				      BAR_MAX_WIDTH);
	}

	if (done >= 0)
		*ppos += done;
	return done;
}
