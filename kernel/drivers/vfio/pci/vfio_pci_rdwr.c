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
#include <linux/pm_runtime.h>
#include <linux/uaccess.h>
#include <linux/vgaarb.h>

#include "vfio_pci_priv.h"

/* The ROM BAR of some devices breaks on 64-bit reads. */
#define ROM_MAX_WIDTH	VFIO_PCI_IO_WIDTH_4
#define BAR_MAX_WIDTH	VFIO_PCI_IO_WIDTH_8

/**
 * vfio_pci_core_setup_barmap - claim a BAR and map it into the kernel
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
int vfio_pci_core_setup_barmap(struct vfio_pci_core_device *vdev, int bar)
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
EXPORT_SYMBOL_GPL(vfio_pci_core_setup_barmap);

/**
 * vfio_pci_bar_unmap_all - undo every setup_barmap() of an open
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

/*
 * Enter the section around one BAR access.
 *
 * With @test_mem, only while the user has memory decode enabled, under
 * memory_lock. @woke is NULL when the caller woke the function and holds
 * it awake; otherwise it says whether this read() or write() has woken
 * it. Until it has, the function is accessed only while the open's
 * runtime PM reference holds it awake, which memory_lock keeps true
 * (pm_runtime_engaged changes under it held for writing): if the user
 * let the function go to low power, the lock is dropped (the resume
 * callback takes it), the function woken and *@woke set, for the caller
 * to give the reference back when the transfer is done.
 *
 * Return: 1 with memory_lock held for reading, 0 without it, or -EIO.
 */
static __always_inline int io_begin(struct vfio_pci_core_device *vdev,
				    bool test_mem, bool *woke)
{
	bool check_pm = woke && !*woke;

	if (!test_mem && !check_pm)
		return 0;
	down_read(&vdev->memory_lock);
	if (check_pm && vdev->pm_runtime_engaged) {
		up_read(&vdev->memory_lock);
		if (pm_runtime_resume_and_get(&vdev->pdev->dev)) {
			pci_info_ratelimited(vdev->pdev,
					     "runtime resume failed\n");
			return -EIO;
		}
		*woke = true;
		if (!test_mem)
			return 0;
		down_read(&vdev->memory_lock);
	}
	if (test_mem && !vfio_pci_memory_enabled(vdev)) {
		up_read(&vdev->memory_lock);
		return -EIO;
	}
	return 1;
}

static __always_inline void io_end(struct vfio_pci_core_device *vdev,
				   int locked)
{
	if (locked)
		up_read(&vdev->memory_lock);
}

/*
 * The user's side of one access of @width (1, 2, 4 or 8) bytes, in device
 * (little-endian) byte order. A register access is one fixed-size
 * get_user() or put_user(), a few instructions where copy_from_user() is
 * a call into the generic copy; a buffer not aligned for it (which some
 * architectures cannot load from directly) takes the generic copy, into
 * or out of the low bytes of a little-endian word.
 */
static int vfio_pci_get_user(u64 *val, const char __user *ubuf, int width)
{
	if (!IS_ALIGNED((unsigned long)ubuf, width)) {
		__le64 raw = 0;

		if (copy_from_user(&raw, ubuf, width))
			return -EFAULT;
		*val = le64_to_cpu(raw);
		return 0;
	}
	switch (width) {
	case 8: {
		__le64 v;

		if (get_user(v, (const __le64 __user *)ubuf))
			return -EFAULT;
		*val = le64_to_cpu(v);
		break;
	}
	case 4: {
		__le32 v;

		if (get_user(v, (const __le32 __user *)ubuf))
			return -EFAULT;
		*val = le32_to_cpu(v);
		break;
	}
	case 2: {
		__le16 v;

		if (get_user(v, (const __le16 __user *)ubuf))
			return -EFAULT;
		*val = le16_to_cpu(v);
		break;
	}
	default: {
		u8 v;

		if (get_user(v, (const u8 __user *)ubuf))
			return -EFAULT;
		*val = v;
		break;
	}
	}
	return 0;
}

static int vfio_pci_put_user(u64 val, char __user *ubuf, int width)
{
	int ret;

	if (!IS_ALIGNED((unsigned long)ubuf, width)) {
		__le64 raw = cpu_to_le64(val);

		return copy_to_user(ubuf, &raw, width) ? -EFAULT : 0;
	}
	switch (width) {
	case 8:
		ret = put_user(cpu_to_le64(val), (__le64 __user *)ubuf);
		break;
	case 4:
		ret = put_user(cpu_to_le32(val), (__le32 __user *)ubuf);
		break;
	case 2:
		ret = put_user(cpu_to_le16(val), (__le16 __user *)ubuf);
		break;
	default:
		ret = put_user((u8)val, (u8 __user *)ubuf);
		break;
	}
	return ret ? -EFAULT : 0;
}

/* One bus access of @width bytes; @val is in CPU byte order. */
static u64 vfio_pci_io_access(void __iomem *addr, int width, bool iswrite,
			      u64 val)
{
	switch (width) {
	case 8:
		if (!iswrite)
			return ioread64(addr);
		iowrite64(val, addr);
		break;
	case 4:
		if (!iswrite)
			return ioread32(addr);
		iowrite32(val, addr);
		break;
	case 2:
		if (!iswrite)
			return ioread16(addr);
		iowrite16(val, addr);
		break;
	default:
		if (!iswrite)
			return ioread8(addr);
		iowrite8(val, addr);
		break;
	}
	return 0;
}

/*
 * One access of @width bytes at @addr, between the device and the user's
 * buffer at @ubuf: the user copy outside memory_lock, the bus access
 * inside it where io_begin() takes it.
 */
static int vfio_pci_user_io(struct vfio_pci_core_device *vdev, bool test_mem,
			    bool *woke, void __iomem *addr, int width,
			    bool iswrite, char __user *ubuf)
{
	u64 val = 0;
	int locked;

	if (iswrite) {
		int ret = vfio_pci_get_user(&val, ubuf, width);

		if (ret)
			return ret;
	}
	locked = io_begin(vdev, test_mem, woke);
	if (locked < 0)
		return locked;
	val = vfio_pci_io_access(addr, width, iswrite, val);
	io_end(vdev, locked);
	return iswrite ? 0 : vfio_pci_put_user(val, ubuf, width);
}

/* vfio_pci_core_do_io_rw(), for a caller that may not have woken @vdev. */
static ssize_t vfio_pci_do_io_rw(struct vfio_pci_core_device *vdev,
				 bool test_mem, bool *woke, void __iomem *io,
				 char __user *buf, loff_t off, size_t count,
				 size_t x_start, size_t x_end, bool iswrite,
				 enum vfio_pci_io_width max_width)
{
	size_t done = 0;
	int ret;

	while (done < count) {
		size_t left = count - done;
		int width;

		if (off >= x_start && off < x_end) {
			width = min_t(size_t, left, x_end - off);
			if (!iswrite) {
				int i;

				for (i = 0; i < width; i++)
					if (put_user(0xff, buf + done + i))
						return -EFAULT;
			}
			goto next;
		}
		if (off < x_start)
			left = min_t(size_t, left, x_start - off);

		if (max_width >= 8 && left >= 8 && !(off % 8))
			width = 8;
		else if (max_width >= 4 && left >= 4 && !(off % 4))
			width = 4;
		else if (left >= 2 && !(off % 2))
			width = 2;
		else
			width = 1;

		ret = vfio_pci_user_io(vdev, test_mem, woke, io + off, width,
				       iswrite, buf + done);
		if (ret)
			return ret;
next:
		done += width;
		off += width;
	}
	return done;
}

/**
 * vfio_pci_core_do_io_rw - copy between a user buffer and device memory
 * @vdev: the device, open
 * @test_mem: check, under memory_lock before each access, that the user
 *            left memory decode enabled; fail with -EIO otherwise
 * @io: the kernel mapping of the BAR (or ROM) to access
 * @buf: the user's buffer
 * @off: the offset in @io of the first byte
 * @count: bytes to transfer
 * @x_start: start of a range of @io excluded from the transfer
 * @x_end: its end (exclusive); @x_start == @x_end excludes nothing.
 *         Reads of excluded bytes return 0xff, writes to them are dropped
 *         (the MSI-X table, which the host owns, or a ROM's tail past its
 *         image).
 * @iswrite: write to the device, rather than read from it
 * @max_width: the widest bus access to use
 *
 * The transfer is cut into the widest naturally aligned accesses that
 * fit, up to @max_width bytes; data in @buf is in the device's (little
 * endian) byte order.
 *
 * Return: @count, or -EFAULT, or -EIO (see @test_mem).
 */
ssize_t vfio_pci_core_do_io_rw(struct vfio_pci_core_device *vdev,
			       bool test_mem, void __iomem *io,
			       char __user *buf, loff_t off, size_t count,
			       size_t x_start, size_t x_end, bool iswrite,
			       enum vfio_pci_io_width max_width)
{
	return vfio_pci_do_io_rw(vdev, test_mem, NULL, io, buf, off, count,
				 x_start, x_end, iswrite, max_width);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_do_io_rw);

/**
 * vfio_pci_core_iowrite8 - write a 8-bit register of a BAR
 * @vdev: the device, open
 * @test_mem: only while the user has memory decode enabled
 * @val: the value
 * @io: the register, in a mapping from vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO when @test_mem finds memory decode disabled.
 */
int vfio_pci_core_iowrite8(struct vfio_pci_core_device *vdev, bool test_mem,
			   u8 val, void __iomem *io)
{
	int locked = io_begin(vdev, test_mem, NULL);

	if (locked < 0)
		return locked;
	iowrite8(val, io);
	io_end(vdev, locked);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite8);

/**
 * vfio_pci_core_ioread8 - read a 8-bit register of a BAR
 * @vdev: the device, open
 * @test_mem: only while the user has memory decode enabled
 * @val: set to the value read
 * @io: the register, in a mapping from vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO when @test_mem finds memory decode disabled.
 */
int vfio_pci_core_ioread8(struct vfio_pci_core_device *vdev, bool test_mem,
			  u8 *val, void __iomem *io)
{
	int locked = io_begin(vdev, test_mem, NULL);

	if (locked < 0)
		return locked;
	*val = ioread8(io);
	io_end(vdev, locked);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread8);

/**
 * vfio_pci_core_iowrite16 - write a 16-bit register of a BAR
 * @vdev: the device, open
 * @test_mem: only while the user has memory decode enabled
 * @val: the value
 * @io: the register, in a mapping from vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO when @test_mem finds memory decode disabled.
 */
int vfio_pci_core_iowrite16(struct vfio_pci_core_device *vdev, bool test_mem,
			    u16 val, void __iomem *io)
{
	int locked = io_begin(vdev, test_mem, NULL);

	if (locked < 0)
		return locked;
	iowrite16(val, io);
	io_end(vdev, locked);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite16);

/**
 * vfio_pci_core_ioread16 - read a 16-bit register of a BAR
 * @vdev: the device, open
 * @test_mem: only while the user has memory decode enabled
 * @val: set to the value read
 * @io: the register, in a mapping from vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO when @test_mem finds memory decode disabled.
 */
int vfio_pci_core_ioread16(struct vfio_pci_core_device *vdev, bool test_mem,
			   u16 *val, void __iomem *io)
{
	int locked = io_begin(vdev, test_mem, NULL);

	if (locked < 0)
		return locked;
	*val = ioread16(io);
	io_end(vdev, locked);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread16);

/**
 * vfio_pci_core_iowrite32 - write a 32-bit register of a BAR
 * @vdev: the device, open
 * @test_mem: only while the user has memory decode enabled
 * @val: the value
 * @io: the register, in a mapping from vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO when @test_mem finds memory decode disabled.
 */
int vfio_pci_core_iowrite32(struct vfio_pci_core_device *vdev, bool test_mem,
			    u32 val, void __iomem *io)
{
	int locked = io_begin(vdev, test_mem, NULL);

	if (locked < 0)
		return locked;
	iowrite32(val, io);
	io_end(vdev, locked);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite32);

/**
 * vfio_pci_core_ioread32 - read a 32-bit register of a BAR
 * @vdev: the device, open
 * @test_mem: only while the user has memory decode enabled
 * @val: set to the value read
 * @io: the register, in a mapping from vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO when @test_mem finds memory decode disabled.
 */
int vfio_pci_core_ioread32(struct vfio_pci_core_device *vdev, bool test_mem,
			   u32 *val, void __iomem *io)
{
	int locked = io_begin(vdev, test_mem, NULL);

	if (locked < 0)
		return locked;
	*val = ioread32(io);
	io_end(vdev, locked);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread32);

#if defined(ioread64) && defined(iowrite64)
/**
 * vfio_pci_core_iowrite64 - write a 64-bit register of a BAR
 * @vdev: the device, open
 * @test_mem: only while the user has memory decode enabled
 * @val: the value
 * @io: the register, in a mapping from vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO when @test_mem finds memory decode disabled.
 */
int vfio_pci_core_iowrite64(struct vfio_pci_core_device *vdev, bool test_mem,
			    u64 val, void __iomem *io)
{
	int locked = io_begin(vdev, test_mem, NULL);

	if (locked < 0)
		return locked;
	iowrite64(val, io);
	io_end(vdev, locked);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite64);

/**
 * vfio_pci_core_ioread64 - read a 64-bit register of a BAR
 * @vdev: the device, open
 * @test_mem: only while the user has memory decode enabled
 * @val: set to the value read
 * @io: the register, in a mapping from vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO when @test_mem finds memory decode disabled.
 */
int vfio_pci_core_ioread64(struct vfio_pci_core_device *vdev, bool test_mem,
			   u64 *val, void __iomem *io)
{
	int locked = io_begin(vdev, test_mem, NULL);

	if (locked < 0)
		return locked;
	*val = ioread64(io);
	io_end(vdev, locked);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread64);
#endif

/**
 * vfio_pci_core_range_intersect_range - where a user's access meets a
 *                                       register
 * @buf_start: the offset the access starts at
 * @buf_cnt: its length
 * @reg_start: the offset of the register
 * @reg_cnt: the register's size
 * @buf_offset: set to where in the user's buffer the overlap starts
 * @intersect_count: set to the overlap's length
 * @register_offset: set to where in the register the overlap starts
 *
 * Return: true when the two ranges overlap (and the outputs are set).
 */
bool vfio_pci_core_range_intersect_range(loff_t buf_start, size_t buf_cnt,
					 loff_t reg_start, size_t reg_cnt,
					 loff_t *buf_offset,
					 size_t *intersect_count,
					 size_t *register_offset)
{
	loff_t start = max(buf_start, reg_start);
	loff_t end = min_t(loff_t, buf_start + buf_cnt, reg_start + reg_cnt);

	if (start >= end)
		return false;
	*buf_offset = start - buf_start;
	*intersect_count = end - start;
	*register_offset = start - reg_start;
	return true;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_range_intersect_range);

/**
 * vfio_pci_bar_rw - read or write a BAR region, or read the ROM region
 * @vdev: the device, open
 * @buf: the user's buffer
 * @count: bytes to transfer; cut short at the end of the region
 * @ppos: the file offset; advanced by the bytes transferred
 * @iswrite: write, rather than read
 * @awake: the caller woke the function and holds it awake; else (BARs
 *         only) it is woken here if the user let it go to low power
 *
 * Return: the bytes transferred, -EINVAL for a BAR the host did not
 * assign or an offset past its end, -EIO while the user has memory
 * decode disabled, or another -errno.
 */
ssize_t vfio_pci_bar_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite, bool awake)
{
	struct pci_dev *pdev = vdev->pdev;
	int bar = VFIO_PCI_OFFSET_TO_INDEX(*ppos);
	loff_t off = *ppos & VFIO_PCI_OFFSET_MASK;
	bool test_mem = pci_resource_flags(pdev, bar) & IORESOURCE_MEM;
	size_t x_start = 0, x_end = 0;
	resource_size_t end;
	bool woke = false;
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
		/* Only @awake: pci_map_rom() writes the ROM BAR. */
		io = pci_map_rom(pdev, &rom_size);
		if (!io)
			return -ENOMEM;
		/* The BAR can be larger than the image it holds. */
		done = vfio_pci_core_do_io_rw(vdev, test_mem, io, buf, off,
					      count, rom_size, end, false,
					      ROM_MAX_WIDTH);
		pci_unmap_rom(pdev, io);
	} else {
		ret = vfio_pci_core_setup_barmap(vdev, bar);
		if (ret)
			return ret;
		if (bar == vdev->msix_bar) {
			x_start = vdev->msix_offset;
			x_end = vdev->msix_offset + vdev->msix_size;
		}
		done = vfio_pci_do_io_rw(vdev, test_mem, awake ? NULL : &woke,
					 vdev->barmap[bar], buf, off, count,
					 x_start, x_end, iswrite,
					 BAR_MAX_WIDTH);
		if (woke)
			pm_runtime_put(&pdev->dev);
	}

	if (done >= 0)
		*ppos += done;
	return done;
}

/**
 * vfio_pci_vga_rw - read or write the VGA region
 * @vdev: the device, open, a VGA function with VGA access enabled
 * @buf: the user's buffer
 * @count: bytes to transfer; cut short at the end of the range it starts in
 * @ppos: the file offset; the region's offsets are the legacy addresses:
 *        memory 0xa0000-0xbffff, I/O ports 0x3b0-0x3bb and 0x3c0-0x3df
 * @iswrite: write, rather than read
 *
 * Each access holds the VGA arbiter's lock on the legacy resource, so the
 * other VGA devices stop decoding it meanwhile.
 *
 * Return: the bytes transferred, -EINVAL outside those ranges or without
 * VGA access, or another -errno.
 */
ssize_t vfio_pci_vga_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite)
{
	loff_t pos = *ppos & VFIO_PCI_OFFSET_MASK;
	unsigned long base, end;
	unsigned int rsrc;
	void __iomem *io;
	ssize_t done;
	int ret;

	if (!vdev->has_vga)
		return -EINVAL;
	if (pos >= 0xa0000 && pos <= 0xbffff) {
		base = 0xa0000;
		end = 0xc0000;
		rsrc = VGA_RSRC_LEGACY_MEM;
		io = ioremap(base, end - base);
	} else if (pos >= 0x3b0 && pos <= 0x3bb) {
		base = 0x3b0;
		end = 0x3bc;
		rsrc = VGA_RSRC_LEGACY_IO;
		io = ioport_map(base, end - base);
	} else if (pos >= 0x3c0 && pos <= 0x3df) {
		base = 0x3c0;
		end = 0x3e0;
		rsrc = VGA_RSRC_LEGACY_IO;
		io = ioport_map(base, end - base);
	} else {
		return -EINVAL;
	}
	if (!io)
		return -ENOMEM;
	count = min_t(size_t, count, end - pos);

	ret = vga_get_interruptible(vdev->pdev, rsrc);
	if (ret) {
		done = ret;
		goto unmap;
	}
	/* Legacy ranges, not BARs: memory decode is not checked. */
	done = vfio_pci_core_do_io_rw(vdev, false, io, buf, pos - base, count,
				      0, 0, iswrite, BAR_MAX_WIDTH);
	vga_put(vdev->pdev, rsrc);
	if (done >= 0)
		*ppos += done;
unmap:
	if (rsrc == VGA_RSRC_LEGACY_IO)
		ioport_unmap(io);
	else
		iounmap(io);
	return done;
}
