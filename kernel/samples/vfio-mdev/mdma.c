// SPDX-License-Identifier: GPL-2.0-only
/*
 * mdma: an emulated DMA engine exposed as a mediated PCI device.
 *
 * A sample driver for the VFIO emulated-IOMMU API: its "DMA" reaches
 * user memory only through vfio_dma_rw() and vfio_pin_pages(), so it
 * works behind type1 and behind an iommufd access alike. It honours the
 * dma_unmap callback, reports the pages it wrote through its own DMA
 * logging (vfio_log_ops) and migrates its registers and internal SRAM
 * with the migration v2 protocol (STOP_COPY, P2P and PRE_COPY).
 *
 * Written against the 6.12 driver API (<linux/vfio.h>, <linux/mdev.h>)
 * only, so that the same source builds against the kernel's headers and
 * against another implementation of them.
 *
 * The device, BAR0 (registers are 32 bits wide, little endian):
 *   0x00 ID        RO  MDMA_ID
 *   0x04 SRAM_SIZE RO  bytes of internal SRAM, mapped at BAR0 + 0x1000
 *   0x08 SRC_LO    RW  source IOVA
 *   0x0c SRC_HI
 *   0x10 DST_LO    RW  destination IOVA
 *   0x14 DST_HI
 *   0x18 LEN       RW  bytes to move
 *   0x1c CMD       RW  MDMA_OP_* | MDMA_CMD_PIN | MDMA_CMD_KEEP
 *   0x20 PATTERN   RW  the 32-bit pattern MDMA_OP_FILL writes
 *   0x24 SRAM_OFF  RW  SRAM offset of the MDMA_OP_*_SRAM operations
 *   0x28 DOORBELL  WO  any write runs CMD
 *   0x2c STATUS    RO  MDMA_STATUS_*
 *   0x30 ERROR     RO  the errno of the last failed transfer
 *   0x34 PINNED    RO  pages the device holds pinned
 *   0x38 COUNT     RO  transfers completed
 *
 * Each doorbell, done or failed, raises the device's one MSI vector
 * (VFIO_PCI_MSI_IRQ_INDEX, an eventfd the user sets with SET_IRQS).
 */
#include <linux/anon_inodes.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/interval_tree.h>
#include <linux/iommu.h>
#include <linux/iova_bitmap.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/pci_regs.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include <linux/vfio.h>
#include <linux/xarray.h>

#define MDMA_NAME		"mdma"
#define MDMA_VENDOR		0x1234
#define MDMA_DEVICE		0x6d64
#define MDMA_CLASS		0x088000	/* other system peripheral */
#define MDMA_ID			0x414d444d	/* "MDMA" */
#define MDMA_MAX_INSTANCES	8

#define MDMA_OFFSET_SHIFT	40
#define MDMA_OFFSET_MASK	((1ULL << MDMA_OFFSET_SHIFT) - 1)
#define MDMA_CONFIG_SIZE	256
#define MDMA_SRAM_BASE		0x1000
#define MDMA_MAX_LEN		SZ_64K
#define MDMA_MAX_PINS		32
#define MDMA_LOG_RANGES		4
#define MDMA_MSI_CAP		0x50

enum mdma_reg {
	MDMA_REG_ID		= 0x00,
	MDMA_REG_SRAM_SIZE	= 0x04,
	MDMA_REG_SRC_LO		= 0x08,
	MDMA_REG_SRC_HI		= 0x0c,
	MDMA_REG_DST_LO		= 0x10,
	MDMA_REG_DST_HI		= 0x14,
	MDMA_REG_LEN		= 0x18,
	MDMA_REG_CMD		= 0x1c,
	MDMA_REG_PATTERN	= 0x20,
	MDMA_REG_SRAM_OFF	= 0x24,
	MDMA_REG_DOORBELL	= 0x28,
	MDMA_REG_STATUS		= 0x2c,
	MDMA_REG_ERROR		= 0x30,
	MDMA_REG_PINNED		= 0x34,
	MDMA_REG_COUNT		= 0x38,
	MDMA_REG_END		= 0x40,
};

#define MDMA_OP_MASK		0xf
#define MDMA_OP_COPY		1	/* SRC -> DST */
#define MDMA_OP_FILL		2	/* PATTERN -> DST */
#define MDMA_OP_TO_SRAM		3	/* SRC -> SRAM at SRAM_OFF */
#define MDMA_OP_FROM_SRAM	4	/* SRAM at SRAM_OFF -> DST */
#define MDMA_CMD_PIN		BIT(8)	/* through vfio_pin_pages() */
#define MDMA_CMD_KEEP		BIT(9)	/* and keep the pages pinned */

#define MDMA_STATUS_DONE	BIT(0)
#define MDMA_STATUS_ERROR	BIT(1)

/**
 * struct mdma_type - an mdev type: how much SRAM its instances have
 * @type: the mdev core's part
 * @sram_size: bytes of SRAM; a power of two, at least PAGE_SIZE
 */
struct mdma_type {
	struct mdev_type type;
	u32 sram_size;
};

static struct mdma_type mdma_types[] = {
	{ .type.sysfs_name = "1", .type.pretty_name = "mdma 4K",
	  .sram_size = SZ_4K },
	{ .type.sysfs_name = "2", .type.pretty_name = "mdma 16K",
	  .sram_size = SZ_16K },
};

static struct mdev_type *mdma_mdev_types[] = {
	&mdma_types[0].type,
	&mdma_types[1].type,
};

/**
 * struct mdma_regs - the programmable state, as it is migrated
 * @src: source IOVA
 * @dst: destination IOVA
 * @len: transfer length
 * @cmd: command register
 * @pattern: fill pattern
 * @sram_off: SRAM offset of SRAM transfers
 * @status: MDMA_STATUS_*
 * @error: errno of the last failure
 * @count: completed transfers
 * @sram_size: the instance's SRAM size (checked on resume)
 * @config: PCI configuration space
 */
struct mdma_regs {
	u64 src;
	u64 dst;
	u32 len;
	u32 cmd;
	u32 pattern;
	u32 sram_off;
	u32 status;
	u32 error;
	u32 count;
	u32 sram_size;
	u8 config[MDMA_CONFIG_SIZE];
};

/**
 * struct mdma_pin - a page the device holds pinned (MDMA_CMD_KEEP)
 * @iova: the page's IOVA, page aligned
 * @page: the pinned page
 * @write: pinned with IOMMU_WRITE
 */
struct mdma_pin {
	dma_addr_t iova;
	struct page *page;
	bool write;
};

#define MDMA_MIG_MAGIC		0x4d49474d
#define MDMA_REC_SRAM		1	/* payload: SRAM */
#define MDMA_REC_STATE		2	/* payload: struct mdma_regs, SRAM */

/**
 * struct mdma_rec - header of a record in the migration stream
 * @magic: MDMA_MIG_MAGIC
 * @kind: MDMA_REC_*
 * @len: bytes of payload that follow
 */
struct mdma_rec {
	u32 magic;
	u32 kind;
	u64 len;
};

/**
 * struct mdma_migf - one migration data file (a saving or a resuming one)
 * @filp: the file
 * @lock: protects every field below
 * @data: the stream: produced when saving, received when resuming
 * @size: capacity of @data
 * @total: bytes of @data filled
 * @pos: bytes of @data already read (saving)
 * @final: the saving session reached STOP_COPY: its end is permanent
 * @disabled: the session is over; the file answers -ENODEV
 *
 * The device keeps a reference on @filp while the session is its
 * current one and drops it when the session ends (mdma_disable_migf()).
 * Nothing here points back at the device, so the file may outlive it.
 */
struct mdma_migf {
	struct file *filp;
	struct mutex lock;	/* all fields */
	u8 *data;
	size_t size;
	size_t total;
	size_t pos;
	bool final;
	bool disabled;
};

/**
 * struct mdma_state - one mdma instance
 * @vdev: the VFIO device; first, as vfio_alloc_device() wants
 * @mdev: the mediated device
 * @lock: serializes everything the device does: register access,
 *        transfers, dma_unmap, migration and DMA logging; protects
 *        every field below. Taken after the IOMMU back end's own
 *        unmap-notification lock and before any lock vfio_pin_pages()
 *        takes.
 * @regs: the programmable state
 * @sram: internal memory, @regs.sram_size bytes
 * @pins: pages held pinned, @npins of them
 * @npins: entries used in @pins
 * @mig_state: migration v2 state
 * @saving: the current saving session, or NULL
 * @resuming: the current resuming session, or NULL
 * @logging: DMA logging is on
 * @log_ranges: the ranges DMA logging tracks, @nlog_ranges of them
 * @nlog_ranges: entries used in @log_ranges
 * @dirty: page numbers (IOVA >> PAGE_SHIFT) written while logging
 * @msi_trigger: the eventfd of the "done" MSI vector, or NULL
 */
struct mdma_state {
	struct vfio_device vdev;
	struct mdev_device *mdev;
	struct mutex lock;	/* see above */
	struct mdma_regs regs;
	u8 *sram;
	struct mdma_pin pins[MDMA_MAX_PINS];
	unsigned int npins;
	enum vfio_device_mig_state mig_state;
	struct mdma_migf *saving;
	struct mdma_migf *resuming;
	bool logging;
	struct {
		u64 start;
		u64 last;
	} log_ranges[MDMA_LOG_RANGES];
	unsigned int nlog_ranges;
	struct xarray dirty;
	struct eventfd_ctx *msi_trigger;
};

static atomic_t mdma_instances = ATOMIC_INIT(0);
/* The parent's class names the types: mdma-1, mdma-2. */
static const struct class mdma_class = { .name = MDMA_NAME };
static struct device *mdma_parent_dev;
static struct mdev_parent mdma_parent;

static struct mdma_state *to_mdma(struct vfio_device *vdev)
{
	return container_of(vdev, struct mdma_state, vdev);
}

static u32 mdma_bar0_size(struct mdma_state *m)
{
	return roundup_pow_of_two(MDMA_SRAM_BASE + m->regs.sram_size);
}

/* --- configuration space ------------------------------------------------ */

static void mdma_config_init(struct mdma_state *m)
{
	u8 *c = m->regs.config;

	memset(c, 0, MDMA_CONFIG_SIZE);
	put_unaligned_le16(MDMA_VENDOR, c + PCI_VENDOR_ID);
	put_unaligned_le16(MDMA_DEVICE, c + PCI_DEVICE_ID);
	put_unaligned_le16(PCI_STATUS_DEVSEL_MEDIUM | PCI_STATUS_CAP_LIST,
			   c + PCI_STATUS);
	put_unaligned_le32(MDMA_CLASS << 8 | 0x01, c + PCI_CLASS_REVISION);
	put_unaligned_le32(PCI_BASE_ADDRESS_SPACE_MEMORY |
			   PCI_BASE_ADDRESS_MEM_TYPE_32,
			   c + PCI_BASE_ADDRESS_0);
	put_unaligned_le16(MDMA_VENDOR, c + PCI_SUBSYSTEM_VENDOR_ID);
	put_unaligned_le16(MDMA_DEVICE, c + PCI_SUBSYSTEM_ID);
	/* One MSI vector, 32-bit address: the "done" interrupt. */
	c[PCI_CAPABILITY_LIST] = MDMA_MSI_CAP;
	c[MDMA_MSI_CAP + PCI_CAP_LIST_ID] = PCI_CAP_ID_MSI;
	c[MDMA_MSI_CAP + PCI_CAP_LIST_NEXT] = 0;
}

static void mdma_config_write(struct mdma_state *m, u32 off, u32 val,
			      u32 size)
{
	u8 *c = m->regs.config;
	u32 bar;

	switch (off) {
	case PCI_COMMAND:
		if (size == 2)
			put_unaligned_le16(val & (PCI_COMMAND_MEMORY |
						  PCI_COMMAND_MASTER),
					   c + PCI_COMMAND);
		break;
	case PCI_BASE_ADDRESS_0:
		if (size != 4)
			break;
		/* The low bits say what it is; sizing reads back the mask. */
		bar = val & ~(mdma_bar0_size(m) - 1);
		put_unaligned_le32(bar | PCI_BASE_ADDRESS_SPACE_MEMORY |
				   PCI_BASE_ADDRESS_MEM_TYPE_32,
				   c + PCI_BASE_ADDRESS_0);
		break;
	case PCI_INTERRUPT_LINE:
		if (size == 1)
			c[off] = val;
		break;
	case MDMA_MSI_CAP + PCI_MSI_FLAGS:
		if (size == 2)
			put_unaligned_le16(val & PCI_MSI_FLAGS_ENABLE,
					   c + off);
		break;
	case MDMA_MSI_CAP + PCI_MSI_ADDRESS_LO:
		if (size == 4)
			put_unaligned_le32(val & ~3U, c + off);
		break;
	case MDMA_MSI_CAP + PCI_MSI_DATA_32:
		if (size == 2)
			put_unaligned_le16(val, c + off);
		break;
	default:
		/* Everything else is read-only. */
		break;
	}
}

/* --- DMA ------------------------------------------------------------------ */

static bool mdma_running(struct mdma_state *m)
{
	switch (m->mig_state) {
	case VFIO_DEVICE_STATE_RUNNING:
	case VFIO_DEVICE_STATE_RUNNING_P2P:
	case VFIO_DEVICE_STATE_PRE_COPY:
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		return true;
	default:
		return false;
	}
}

static void mdma_unpin_one(struct mdma_state *m, unsigned int i)
{
	vfio_unpin_pages(&m->vdev, m->pins[i].iova, 1);
	m->pins[i] = m->pins[--m->npins];
}

static void mdma_unpin_range(struct mdma_state *m, u64 iova, u64 length)
{
	unsigned int i = 0;

	while (i < m->npins) {
		if (m->pins[i].iova >= iova &&
		    m->pins[i].iova - iova < length)
			mdma_unpin_one(m, i);
		else
			i++;
	}
}

static void mdma_log_dirty(struct mdma_state *m, u64 iova, size_t len)
{
	u64 pfn, last_pfn = (iova + len - 1) >> PAGE_SHIFT;
	unsigned int i;

	if (!m->logging || !len)
		return;
	for (pfn = iova >> PAGE_SHIFT; pfn <= last_pfn; pfn++) {
		u64 page = pfn << PAGE_SHIFT;

		for (i = 0; i < m->nlog_ranges; i++) {
			if (page + PAGE_SIZE - 1 < m->log_ranges[i].start ||
			    page > m->log_ranges[i].last)
				continue;
			/* A full xarray only loses the report's precision. */
			xa_store(&m->dirty, pfn, xa_mk_value(1), GFP_KERNEL);
			break;
		}
	}
}

/*
 * One page of a transfer through a pinned page: the pin is taken from
 * the device's pins when it holds one for that page, else made now and
 * kept only with MDMA_CMD_KEEP.
 */
static int mdma_pinned_copy(struct mdma_state *m, dma_addr_t iova, void *buf,
			    size_t len, bool write, bool keep)
{
	dma_addr_t page_iova = iova & PAGE_MASK;
	int prot = IOMMU_READ | (write ? IOMMU_WRITE : 0);
	struct page *page = NULL;
	bool held = false;
	unsigned int i;
	void *va;
	int ret;

	for (i = 0; i < m->npins; i++) {
		if (m->pins[i].iova != page_iova)
			continue;
		if (write && !m->pins[i].write) {
			/* Held for reading only: pin it again, writable. */
			mdma_unpin_one(m, i);
			break;
		}
		page = m->pins[i].page;
		held = true;
		break;
	}
	if (!page) {
		if (keep && m->npins == MDMA_MAX_PINS)
			return -ENOSPC;
		ret = vfio_pin_pages(&m->vdev, page_iova, 1, prot, &page);
		if (ret < 0)
			return ret;
		if (ret != 1)
			return -EFAULT;
	}
	va = kmap_local_page(page);
	if (write)
		memcpy(va + offset_in_page(iova), buf, len);
	else
		memcpy(buf, va + offset_in_page(iova), len);
	kunmap_local(va);
	if (held)
		return 0;
	if (keep) {
		m->pins[m->npins].iova = page_iova;
		m->pins[m->npins].page = page;
		m->pins[m->npins].write = write;
		m->npins++;
	} else {
		vfio_unpin_pages(&m->vdev, page_iova, 1);
	}
	return 0;
}

static int mdma_access(struct mdma_state *m, dma_addr_t iova, void *buf,
		       size_t len, bool write)
{
	bool pin = m->regs.cmd & MDMA_CMD_PIN;
	bool keep = m->regs.cmd & MDMA_CMD_KEEP;
	size_t done = 0;
	int ret = 0;

	if (iova + len < iova)
		return -EINVAL;
	if (!pin) {
		ret = vfio_dma_rw(&m->vdev, iova, buf, len, write);
	} else {
		while (done < len) {
			size_t chunk = min_t(size_t, len - done,
					     PAGE_SIZE -
					     offset_in_page(iova + done));

			ret = mdma_pinned_copy(m, iova + done, buf + done,
					       chunk, write, keep);
			if (ret)
				break;
			done += chunk;
		}
	}
	if (write)
		mdma_log_dirty(m, iova, ret ? done : len);
	return ret;
}

static int mdma_transfer(struct mdma_state *m)
{
	struct mdma_regs *r = &m->regs;
	u32 op = r->cmd & MDMA_OP_MASK;
	size_t len = r->len;
	u8 *buf;
	int ret;

	if (!len || len > MDMA_MAX_LEN)
		return -EINVAL;
	if ((op == MDMA_OP_TO_SRAM || op == MDMA_OP_FROM_SRAM) &&
	    (r->sram_off > r->sram_size || len > r->sram_size - r->sram_off))
		return -EINVAL;

	switch (op) {
	case MDMA_OP_TO_SRAM:
		return mdma_access(m, r->src, m->sram + r->sram_off, len,
				   false);
	case MDMA_OP_FROM_SRAM:
		return mdma_access(m, r->dst, m->sram + r->sram_off, len,
				   true);
	case MDMA_OP_COPY:
	case MDMA_OP_FILL:
		break;
	default:
		return -EINVAL;
	}

	buf = kvmalloc(len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (op == MDMA_OP_COPY) {
		ret = mdma_access(m, r->src, buf, len, false);
	} else {
		size_t i;

		for (i = 0; i < len; i++)
			buf[i] = r->pattern >> (8 * (i % 4));
		ret = 0;
	}
	if (!ret)
		ret = mdma_access(m, r->dst, buf, len, true);
	kvfree(buf);
	return ret;
}

static void mdma_doorbell(struct mdma_state *m)
{
	int ret;

	/* Stopped devices do nothing (the migration protocol's STOP). */
	if (!mdma_running(m))
		return;
	ret = mdma_transfer(m);
	if (ret) {
		m->regs.status = MDMA_STATUS_DONE | MDMA_STATUS_ERROR;
		m->regs.error = -ret;
	} else {
		m->regs.status = MDMA_STATUS_DONE;
		m->regs.error = 0;
		m->regs.count++;
	}
	if (m->msi_trigger)
		eventfd_signal(m->msi_trigger);
}

/* --- BAR0 ----------------------------------------------------------------- */

static u32 mdma_reg_read(struct mdma_state *m, u32 off)
{
	struct mdma_regs *r = &m->regs;

	switch (off) {
	case MDMA_REG_ID:		return MDMA_ID;
	case MDMA_REG_SRAM_SIZE:	return r->sram_size;
	case MDMA_REG_SRC_LO:		return lower_32_bits(r->src);
	case MDMA_REG_SRC_HI:		return upper_32_bits(r->src);
	case MDMA_REG_DST_LO:		return lower_32_bits(r->dst);
	case MDMA_REG_DST_HI:		return upper_32_bits(r->dst);
	case MDMA_REG_LEN:		return r->len;
	case MDMA_REG_CMD:		return r->cmd;
	case MDMA_REG_PATTERN:		return r->pattern;
	case MDMA_REG_SRAM_OFF:		return r->sram_off;
	case MDMA_REG_STATUS:		return r->status;
	case MDMA_REG_ERROR:		return r->error;
	case MDMA_REG_PINNED:		return m->npins;
	case MDMA_REG_COUNT:		return r->count;
	default:			return 0;
	}
}

static void mdma_reg_write(struct mdma_state *m, u32 off, u32 val)
{
	struct mdma_regs *r = &m->regs;

	/* A stopped device's state does not change. */
	if (!mdma_running(m))
		return;
	switch (off) {
	case MDMA_REG_SRC_LO:
		r->src = (r->src & GENMASK_ULL(63, 32)) | val;
		break;
	case MDMA_REG_SRC_HI:
		r->src = lower_32_bits(r->src) | (u64)val << 32;
		break;
	case MDMA_REG_DST_LO:
		r->dst = (r->dst & GENMASK_ULL(63, 32)) | val;
		break;
	case MDMA_REG_DST_HI:
		r->dst = lower_32_bits(r->dst) | (u64)val << 32;
		break;
	case MDMA_REG_LEN:
		r->len = val;
		break;
	case MDMA_REG_CMD:
		r->cmd = val & (MDMA_OP_MASK | MDMA_CMD_PIN | MDMA_CMD_KEEP);
		break;
	case MDMA_REG_PATTERN:
		r->pattern = val;
		break;
	case MDMA_REG_SRAM_OFF:
		r->sram_off = val;
		break;
	case MDMA_REG_DOORBELL:
		mdma_doorbell(m);
		break;
	default:
		break;
	}
}

/*
 * One access of 1, 2 or 4 bytes (registers: 4, aligned) at @pos;
 * @val is little endian in and out.
 */
static int mdma_rw_one(struct mdma_state *m, u64 pos, u32 *val, u32 size,
		       bool write)
{
	u32 index = pos >> MDMA_OFFSET_SHIFT;
	u64 off = pos & MDMA_OFFSET_MASK;

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		if (off + size > MDMA_CONFIG_SIZE)
			return -EINVAL;
		if (write) {
			mdma_config_write(m, off, *val, size);
		} else {
			*val = 0;
			memcpy(val, m->regs.config + off, size);
			*val = le32_to_cpu((__force __le32)*val);
		}
		return 0;
	case VFIO_PCI_BAR0_REGION_INDEX:
		if (off >= MDMA_SRAM_BASE &&
		    off + size <= MDMA_SRAM_BASE + m->regs.sram_size) {
			u8 *p = m->sram + off - MDMA_SRAM_BASE;

			if (!write) {
				*val = 0;
				memcpy(val, p, size);
			} else if (mdma_running(m)) {
				memcpy(p, val, size);
			}
			return 0;
		}
		if (off >= MDMA_REG_END || size != 4 || off % 4)
			return -EINVAL;
		if (write)
			mdma_reg_write(m, off, *val);
		else
			*val = mdma_reg_read(m, off);
		return 0;
	default:
		return -EINVAL;
	}
}

static ssize_t mdma_rw(struct vfio_device *vdev, char __user *ubuf,
		       size_t count, loff_t *ppos, bool write)
{
	struct mdma_state *m = to_mdma(vdev);
	u64 pos = *ppos;
	size_t done = 0;
	int ret = 0;

	mutex_lock(&m->lock);
	while (done < count) {
		u32 size, val = 0;

		if (count - done >= 4 && !(pos % 4))
			size = 4;
		else if (count - done >= 2 && !(pos % 2))
			size = 2;
		else
			size = 1;
		if (write && copy_from_user(&val, ubuf + done, size)) {
			ret = -EFAULT;
			break;
		}
		ret = mdma_rw_one(m, pos, &val, size, write);
		if (ret)
			break;
		if (!write && copy_to_user(ubuf + done, &val, size)) {
			ret = -EFAULT;
			break;
		}
		done += size;
		pos += size;
	}
	mutex_unlock(&m->lock);
	if (ret && !done)
		return ret;
	*ppos = pos;
	return done;
}

static ssize_t mdma_read(struct vfio_device *vdev, char __user *buf,
			 size_t count, loff_t *ppos)
{
	return mdma_rw(vdev, buf, count, ppos, false);
}

static ssize_t mdma_write(struct vfio_device *vdev, const char __user *buf,
			  size_t count, loff_t *ppos)
{
	return mdma_rw(vdev, (char __user *)buf, count, ppos, true);
}

/* --- migration ------------------------------------------------------------ */

static void mdma_disable_migf(struct mdma_migf **pmigf)
{
	struct mdma_migf *migf = *pmigf;

	if (!migf)
		return;
	mutex_lock(&migf->lock);
	migf->disabled = true;
	mutex_unlock(&migf->lock);
	fput(migf->filp);
	*pmigf = NULL;
}

static void mdma_disable_files(struct mdma_state *m)
{
	mdma_disable_migf(&m->saving);
	mdma_disable_migf(&m->resuming);
}

static int mdma_migf_release(struct inode *inode, struct file *filp)
{
	struct mdma_migf *migf = filp->private_data;

	mutex_destroy(&migf->lock);
	kvfree(migf->data);
	kfree(migf);
	return 0;
}

static ssize_t mdma_save_read(struct file *filp, char __user *buf,
			      size_t len, loff_t *pos)
{
	struct mdma_migf *migf = filp->private_data;
	ssize_t ret;

	if (pos)
		return -ESPIPE;
	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
		goto out;
	}
	len = min(len, migf->total - migf->pos);
	if (!len) {
		/* A temporary end while pre-copying, a permanent one after. */
		ret = migf->final ? 0 : -ENOMSG;
		goto out;
	}
	if (copy_to_user(buf, migf->data + migf->pos, len)) {
		ret = -EFAULT;
		goto out;
	}
	migf->pos += len;
	ret = len;
out:
	mutex_unlock(&migf->lock);
	return ret;
}

static long mdma_save_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	struct mdma_migf *migf = filp->private_data;
	unsigned long minsz = offsetofend(struct vfio_precopy_info,
					  dirty_bytes);
	struct vfio_precopy_info info = {};
	int ret = 0;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	mutex_lock(&migf->lock);
	/* Only a pre-copying session (PRE_COPY or PRE_COPY_P2P) answers. */
	if (migf->disabled || migf->final) {
		ret = -EINVAL;
	} else {
		info.initial_bytes = migf->total - migf->pos;
		info.dirty_bytes = 0;
	}
	mutex_unlock(&migf->lock);
	if (ret)
		return ret;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static const struct file_operations mdma_save_fops = {
	.owner = THIS_MODULE,
	.read = mdma_save_read,
	.unlocked_ioctl = mdma_save_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = mdma_migf_release,
};

static ssize_t mdma_resume_write(struct file *filp, const char __user *buf,
				 size_t len, loff_t *pos)
{
	struct mdma_migf *migf = filp->private_data;
	ssize_t ret;

	if (pos)
		return -ESPIPE;
	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
		goto out;
	}
	if (len > migf->size - migf->total) {
		ret = -ENOSPC;
		goto out;
	}
	if (copy_from_user(migf->data + migf->total, buf, len)) {
		ret = -EFAULT;
		goto out;
	}
	migf->total += len;
	ret = len;
out:
	mutex_unlock(&migf->lock);
	return ret;
}

static const struct file_operations mdma_resume_fops = {
	.owner = THIS_MODULE,
	.write = mdma_resume_write,
	.release = mdma_migf_release,
};

/* The largest stream: a pre-copy SRAM record, then the final state. */
static size_t mdma_stream_size(struct mdma_state *m)
{
	return 2 * sizeof(struct mdma_rec) + sizeof(struct mdma_regs) +
	       2 * m->regs.sram_size;
}

static struct mdma_migf *mdma_migf_new(struct mdma_state *m, bool save)
{
	struct mdma_migf *migf;

	migf = kzalloc(sizeof(*migf), GFP_KERNEL_ACCOUNT);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	migf->size = mdma_stream_size(m);
	migf->data = kvzalloc(migf->size, GFP_KERNEL_ACCOUNT);
	if (!migf->data) {
		kfree(migf);
		return ERR_PTR(-ENOMEM);
	}
	mutex_init(&migf->lock);
	migf->filp = anon_inode_getfile("mdma_mig",
					save ? &mdma_save_fops :
					&mdma_resume_fops, migf,
					save ? O_RDONLY : O_WRONLY);
	if (IS_ERR(migf->filp)) {
		struct file *err = migf->filp;

		mutex_destroy(&migf->lock);
		kvfree(migf->data);
		kfree(migf);
		return ERR_CAST(err);
	}
	stream_open(migf->filp->f_inode, migf->filp);
	return migf;
}

/* Append a record; the caller holds migf->lock or owns it alone. */
static void mdma_migf_put(struct mdma_migf *migf, u32 kind, const void *a,
			  size_t alen, const void *b, size_t blen)
{
	struct mdma_rec rec = {
		.magic = MDMA_MIG_MAGIC, .kind = kind, .len = alen + blen,
	};
	u8 *p = migf->data + migf->total;

	memcpy(p, &rec, sizeof(rec));
	memcpy(p + sizeof(rec), a, alen);
	if (blen)
		memcpy(p + sizeof(rec) + alen, b, blen);
	migf->total += sizeof(rec) + alen + blen;
}

static struct file *mdma_save_start(struct mdma_state *m, bool precopy)
{
	struct mdma_migf *migf = mdma_migf_new(m, true);

	if (IS_ERR(migf))
		return ERR_CAST(migf);
	if (precopy)
		mdma_migf_put(migf, MDMA_REC_SRAM, m->sram, m->regs.sram_size,
			      NULL, 0);
	else
		mdma_migf_put(migf, MDMA_REC_STATE, &m->regs,
			      sizeof(m->regs), m->sram, m->regs.sram_size);
	migf->final = !precopy;
	get_file(migf->filp);
	m->saving = migf;
	return migf->filp;
}

/* PRE_COPY_P2P -> STOP_COPY: the same session ends with the full state. */
static struct file *mdma_save_final(struct mdma_state *m)
{
	struct mdma_migf *migf = m->saving;

	if (!migf)
		return ERR_PTR(-EINVAL);
	mutex_lock(&migf->lock);
	mdma_migf_put(migf, MDMA_REC_STATE, &m->regs, sizeof(m->regs),
		      m->sram, m->regs.sram_size);
	migf->final = true;
	mutex_unlock(&migf->lock);
	return get_file(migf->filp);
}

/* RESUMING -> STOP: take in what the user wrote, or refuse all of it. */
static int mdma_load(struct mdma_state *m)
{
	struct mdma_migf *migf = m->resuming;
	u32 sram_size = m->regs.sram_size;
	bool have_state = false;
	size_t off = 0;
	int ret = 0;

	mutex_lock(&migf->lock);
	while (off < migf->total) {
		struct mdma_rec rec;
		const u8 *payload;

		if (migf->total - off < sizeof(rec)) {
			ret = -EINVAL;
			break;
		}
		memcpy(&rec, migf->data + off, sizeof(rec));
		off += sizeof(rec);
		payload = migf->data + off;
		if (rec.magic != MDMA_MIG_MAGIC || rec.len > migf->total - off) {
			ret = -EINVAL;
			break;
		}
		off += rec.len;
		if (rec.kind == MDMA_REC_SRAM && rec.len == sram_size) {
			/* Pre-copy data: superseded by the final state. */
			continue;
		}
		if (rec.kind == MDMA_REC_STATE &&
		    rec.len == sizeof(struct mdma_regs) + sram_size) {
			struct mdma_regs regs;

			memcpy(&regs, payload, sizeof(regs));
			if (regs.sram_size != sram_size) {
				ret = -EINVAL;
				break;
			}
			m->regs = regs;
			memcpy(m->sram, payload + sizeof(regs), sram_size);
			have_state = true;
			continue;
		}
		ret = -EINVAL;
		break;
	}
	if (!ret && !have_state)
		ret = -EINVAL;
	mutex_unlock(&migf->lock);
	return ret;
}

static struct file *mdma_step(struct mdma_state *m,
			      enum vfio_device_mig_state next)
{
	enum vfio_device_mig_state cur = m->mig_state;
	int ret;

	if ((cur == VFIO_DEVICE_STATE_RUNNING &&
	     next == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	     (next == VFIO_DEVICE_STATE_RUNNING ||
	      next == VFIO_DEVICE_STATE_STOP)) ||
	    (cur == VFIO_DEVICE_STATE_STOP &&
	     next == VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY &&
	     next == VFIO_DEVICE_STATE_PRE_COPY_P2P) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	     next == VFIO_DEVICE_STATE_PRE_COPY))
		return NULL;	/* nothing to do for an emulated device */

	if ((cur == VFIO_DEVICE_STATE_RUNNING &&
	     next == VFIO_DEVICE_STATE_PRE_COPY) ||
	    (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
	     next == VFIO_DEVICE_STATE_PRE_COPY_P2P))
		return mdma_save_start(m, true);

	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_STOP_COPY)
		return mdma_save_start(m, false);

	if (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	    next == VFIO_DEVICE_STATE_STOP_COPY)
		return mdma_save_final(m);

	if ((cur == VFIO_DEVICE_STATE_STOP_COPY &&
	     next == VFIO_DEVICE_STATE_STOP) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY &&
	     next == VFIO_DEVICE_STATE_RUNNING) ||
	    (cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
	     next == VFIO_DEVICE_STATE_RUNNING_P2P)) {
		mdma_disable_migf(&m->saving);
		return NULL;
	}

	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_RESUMING) {
		struct mdma_migf *migf = mdma_migf_new(m, false);

		if (IS_ERR(migf))
			return ERR_CAST(migf);
		get_file(migf->filp);
		m->resuming = migf;
		return migf->filp;
	}

	if (cur == VFIO_DEVICE_STATE_RESUMING &&
	    next == VFIO_DEVICE_STATE_STOP) {
		ret = mdma_load(m);
		mdma_disable_migf(&m->resuming);
		return ret ? ERR_PTR(ret) : NULL;
	}

	/* The core only asks for the arcs above. */
	WARN_ON_ONCE(1);
	return ERR_PTR(-EINVAL);
}

static struct file *mdma_set_state(struct vfio_device *vdev,
				   enum vfio_device_mig_state new_state)
{
	struct mdma_state *m = to_mdma(vdev);
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	int ret;

	mutex_lock(&m->lock);
	while (m->mig_state != new_state) {
		ret = vfio_mig_get_next_state(vdev, m->mig_state, new_state,
					      &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = mdma_step(m, next);
		if (IS_ERR(res))
			break;
		m->mig_state = next;
		/* Only the last arc may return a file. */
		if (res && next != new_state) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	mutex_unlock(&m->lock);
	return res;
}

static int mdma_get_state(struct vfio_device *vdev,
			  enum vfio_device_mig_state *curr_state)
{
	struct mdma_state *m = to_mdma(vdev);

	mutex_lock(&m->lock);
	*curr_state = m->mig_state;
	mutex_unlock(&m->lock);
	return 0;
}

static int mdma_get_data_size(struct vfio_device *vdev,
			      unsigned long *stop_copy_length)
{
	struct mdma_state *m = to_mdma(vdev);

	*stop_copy_length = sizeof(struct mdma_rec) + sizeof(m->regs) +
			    m->regs.sram_size;
	return 0;
}

static const struct vfio_migration_ops mdma_mig_ops = {
	.migration_set_state = mdma_set_state,
	.migration_get_state = mdma_get_state,
	.migration_get_data_size = mdma_get_data_size,
};

/* --- DMA logging ---------------------------------------------------------- */

static void mdma_log_clear(struct mdma_state *m)
{
	m->logging = false;
	m->nlog_ranges = 0;
	xa_destroy(&m->dirty);
}

static int mdma_log_start(struct vfio_device *vdev,
			  struct rb_root_cached *ranges, u32 nnodes,
			  u64 *page_size)
{
	struct mdma_state *m = to_mdma(vdev);
	struct interval_tree_node *node;
	unsigned int n = 0;

	if (nnodes > MDMA_LOG_RANGES) {
		vfio_combine_iova_ranges(ranges, nnodes, MDMA_LOG_RANGES);
		nnodes = MDMA_LOG_RANGES;
	}
	mutex_lock(&m->lock);
	mdma_log_clear(m);
	for (node = interval_tree_iter_first(ranges, 0, ULONG_MAX);
	     node && n < MDMA_LOG_RANGES;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		m->log_ranges[n].start = node->start;
		m->log_ranges[n].last = node->last;
		n++;
	}
	m->nlog_ranges = n;
	m->logging = true;
	mutex_unlock(&m->lock);
	/* Pages are tracked at PAGE_SIZE; a report may ask for any size. */
	return 0;
}

static int mdma_log_stop(struct vfio_device *vdev)
{
	struct mdma_state *m = to_mdma(vdev);

	mutex_lock(&m->lock);
	mdma_log_clear(m);
	mutex_unlock(&m->lock);
	return 0;
}

static int mdma_log_read_and_clear(struct vfio_device *vdev,
				   unsigned long iova, unsigned long length,
				   struct iova_bitmap *dirty)
{
	struct mdma_state *m = to_mdma(vdev);
	unsigned long first = iova >> PAGE_SHIFT;
	unsigned long last = (iova + length - 1) >> PAGE_SHIFT;
	unsigned long pfn;
	void *entry;

	mutex_lock(&m->lock);
	if (!m->logging) {
		mutex_unlock(&m->lock);
		return -EINVAL;
	}
	xa_for_each_range(&m->dirty, pfn, entry, first, last) {
		unsigned long start = max(pfn << PAGE_SHIFT, iova);
		unsigned long end = min((pfn << PAGE_SHIFT) + PAGE_SIZE - 1,
					iova + length - 1);

		iova_bitmap_set(dirty, start, end - start + 1);
		xa_erase(&m->dirty, pfn);
	}
	mutex_unlock(&m->lock);
	return 0;
}

static const struct vfio_log_ops mdma_log_ops = {
	.log_start = mdma_log_start,
	.log_stop = mdma_log_stop,
	.log_read_and_clear = mdma_log_read_and_clear,
};

/* --- interrupts ----------------------------------------------------------- */

static int mdma_num_irqs(unsigned int index)
{
	return index == VFIO_PCI_MSI_IRQ_INDEX ? 1 : 0;
}

/* Caller holds m->lock. */
static void mdma_msi_release(struct mdma_state *m)
{
	if (m->msi_trigger) {
		eventfd_ctx_put(m->msi_trigger);
		m->msi_trigger = NULL;
	}
}

/* Caller holds m->lock; @data holds what the flags say it holds. */
static int mdma_set_msi_trigger(struct mdma_state *m, struct vfio_irq_set *hdr,
				void *data)
{
	u32 type = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	struct eventfd_ctx *ctx;
	s32 fd;

	if (type == VFIO_IRQ_SET_DATA_NONE && !hdr->count) {
		mdma_msi_release(m);
		return 0;
	}
	if (type == VFIO_IRQ_SET_DATA_NONE ||
	    (type == VFIO_IRQ_SET_DATA_BOOL && *(u8 *)data)) {
		/* A loopback: signal the vector now. */
		if (m->msi_trigger)
			eventfd_signal(m->msi_trigger);
		return 0;
	}
	if (type == VFIO_IRQ_SET_DATA_BOOL)
		return 0;

	fd = *(s32 *)data;
	if (fd < 0) {
		mdma_msi_release(m);
		return 0;
	}
	ctx = eventfd_ctx_fdget(fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	mdma_msi_release(m);
	m->msi_trigger = ctx;
	return 0;
}

static int mdma_set_irqs(struct mdma_state *m, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	size_t data_size = 0;
	void *data = NULL;
	int ret;

	if (copy_from_user(&hdr, (void __user *)arg, minsz))
		return -EFAULT;
	ret = vfio_set_irqs_validate_and_prepare(&hdr,
						 mdma_num_irqs(hdr.index),
						 VFIO_PCI_NUM_IRQS, &data_size);
	if (ret)
		return ret;
	if (data_size) {
		data = memdup_user((void __user *)(arg + minsz), data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}

	if (hdr.index != VFIO_PCI_MSI_IRQ_INDEX ||
	    (hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) !=
	    VFIO_IRQ_SET_ACTION_TRIGGER) {
		/* As vfio-pci: no masking of MSI, nothing behind the rest. */
		ret = -ENOTTY;
	} else {
		mutex_lock(&m->lock);
		ret = mdma_set_msi_trigger(m, &hdr, data);
		mutex_unlock(&m->lock);
	}
	kfree(data);
	return ret;
}

/* --- the VFIO device ------------------------------------------------------ */

/* Back to the state after power-on; the caller holds m->lock. */
static void mdma_reset(struct mdma_state *m)
{
	u32 sram_size = m->regs.sram_size;

	mdma_unpin_range(m, 0, U64_MAX);
	mdma_disable_files(m);
	memset(&m->regs, 0, sizeof(m->regs));
	m->regs.sram_size = sram_size;
	mdma_config_init(m);
	memset(m->sram, 0, sram_size);
	m->mig_state = VFIO_DEVICE_STATE_RUNNING;
}

static int mdma_init_dev(struct vfio_device *vdev)
{
	struct mdma_state *m = to_mdma(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);
	struct mdma_type *type = container_of(mdev->type, struct mdma_type,
					      type);

	if (atomic_inc_return(&mdma_instances) > MDMA_MAX_INSTANCES) {
		atomic_dec(&mdma_instances);
		return -ENOSPC;
	}
	m->sram = kvzalloc(type->sram_size, GFP_KERNEL);
	if (!m->sram) {
		atomic_dec(&mdma_instances);
		return -ENOMEM;
	}
	m->mdev = mdev;
	m->regs.sram_size = type->sram_size;
	mutex_init(&m->lock);
	xa_init(&m->dirty);
	mdma_config_init(m);
	m->mig_state = VFIO_DEVICE_STATE_RUNNING;
	return 0;
}

static void mdma_release_dev(struct vfio_device *vdev)
{
	struct mdma_state *m = to_mdma(vdev);

	xa_destroy(&m->dirty);
	mutex_destroy(&m->lock);
	kvfree(m->sram);
	atomic_dec(&mdma_instances);
}

static int mdma_open_device(struct vfio_device *vdev)
{
	struct mdma_state *m = to_mdma(vdev);

	mutex_lock(&m->lock);
	mdma_reset(m);
	mutex_unlock(&m->lock);
	return 0;
}

static void mdma_close_device(struct vfio_device *vdev)
{
	struct mdma_state *m = to_mdma(vdev);

	mutex_lock(&m->lock);
	mdma_unpin_range(m, 0, U64_MAX);
	mdma_disable_files(m);
	mdma_log_clear(m);
	mdma_msi_release(m);
	mutex_unlock(&m->lock);
}

static void mdma_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
	struct mdma_state *m = to_mdma(vdev);

	mutex_lock(&m->lock);
	mdma_unpin_range(m, iova, length);
	mutex_unlock(&m->lock);
}

static int mdma_region_info(struct mdma_state *m, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_region_info info;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	switch (info.index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info.size = MDMA_CONFIG_SIZE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		info.size = mdma_bar0_size(m);
		break;
	default:
		if (info.index >= VFIO_PCI_NUM_REGIONS)
			return -EINVAL;
		info.size = 0;
		break;
	}
	info.offset = (u64)info.index << MDMA_OFFSET_SHIFT;
	info.flags = info.size ? VFIO_REGION_INFO_FLAG_READ |
				 VFIO_REGION_INFO_FLAG_WRITE : 0;
	info.cap_offset = 0;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static long mdma_ioctl(struct vfio_device *vdev, unsigned int cmd,
		       unsigned long arg)
{
	struct mdma_state *m = to_mdma(vdev);
	unsigned long minsz;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info info;

		minsz = offsetofend(struct vfio_device_info, num_irqs);
		if (copy_from_user(&info, (void __user *)arg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		info.num_regions = VFIO_PCI_NUM_REGIONS;
		info.num_irqs = VFIO_PCI_NUM_IRQS;
		return copy_to_user((void __user *)arg, &info, minsz) ?
		       -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO:
		return mdma_region_info(m, arg);
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info info;

		minsz = offsetofend(struct vfio_irq_info, count);
		if (copy_from_user(&info, (void __user *)arg, minsz))
			return -EFAULT;
		if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
			return -EINVAL;
		info.count = mdma_num_irqs(info.index);
		info.flags = info.count ? VFIO_IRQ_INFO_EVENTFD |
					  VFIO_IRQ_INFO_NORESIZE : 0;
		return copy_to_user((void __user *)arg, &info, minsz) ?
		       -EFAULT : 0;
	}
	case VFIO_DEVICE_SET_IRQS:
		return mdma_set_irqs(m, arg);
	case VFIO_DEVICE_RESET:
		mutex_lock(&m->lock);
		mdma_reset(m);
		mutex_unlock(&m->lock);
		return 0;
	default:
		return -ENOTTY;
	}
}

static const struct vfio_device_ops mdma_dev_ops = {
	.name = "vfio-mdma",
	.init = mdma_init_dev,
	.release = mdma_release_dev,
	.open_device = mdma_open_device,
	.close_device = mdma_close_device,
	.read = mdma_read,
	.write = mdma_write,
	.ioctl = mdma_ioctl,
	.dma_unmap = mdma_dma_unmap,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};

/* --- the mdev driver and parent ------------------------------------------- */

static int mdma_probe(struct mdev_device *mdev)
{
	struct mdma_state *m;
	int ret;

	m = vfio_alloc_device(mdma_state, vdev, &mdev->dev, &mdma_dev_ops);
	if (IS_ERR(m))
		return PTR_ERR(m);
	m->vdev.migration_flags = VFIO_MIGRATION_STOP_COPY |
				  VFIO_MIGRATION_P2P |
				  VFIO_MIGRATION_PRE_COPY;
	m->vdev.mig_ops = &mdma_mig_ops;
	m->vdev.log_ops = &mdma_log_ops;
	ret = vfio_register_emulated_iommu_dev(&m->vdev);
	if (ret) {
		vfio_put_device(&m->vdev);
		return ret;
	}
	dev_set_drvdata(&mdev->dev, m);
	return 0;
}

static void mdma_remove(struct mdev_device *mdev)
{
	struct mdma_state *m = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&m->vdev);
	vfio_put_device(&m->vdev);
}

static unsigned int mdma_get_available(struct mdev_type *mtype)
{
	return MDMA_MAX_INSTANCES - atomic_read(&mdma_instances);
}

static ssize_t mdma_show_description(struct mdev_type *mtype, char *buf)
{
	struct mdma_type *type = container_of(mtype, struct mdma_type, type);

	return sysfs_emit(buf, "DMA engine, %u bytes of SRAM\n",
			  type->sram_size);
}

static struct mdev_driver mdma_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = MDMA_NAME,
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.probe = mdma_probe,
	.remove = mdma_remove,
	.get_available = mdma_get_available,
	.show_description = mdma_show_description,
};

static int __init mdma_init(void)
{
	int ret;

	ret = mdev_register_driver(&mdma_driver);
	if (ret)
		return ret;
	ret = class_register(&mdma_class);
	if (ret)
		goto err_driver;
	mdma_parent_dev = device_create(&mdma_class, NULL, MKDEV(0, 0), NULL,
					MDMA_NAME);
	if (IS_ERR(mdma_parent_dev)) {
		ret = PTR_ERR(mdma_parent_dev);
		goto err_class;
	}
	ret = mdev_register_parent(&mdma_parent, mdma_parent_dev, &mdma_driver,
				   mdma_mdev_types,
				   ARRAY_SIZE(mdma_mdev_types));
	if (ret)
		goto err_device;
	return 0;

err_device:
	device_unregister(mdma_parent_dev);
err_class:
	class_unregister(&mdma_class);
err_driver:
	mdev_unregister_driver(&mdma_driver);
	return ret;
}

static void __exit mdma_exit(void)
{
	mdev_unregister_parent(&mdma_parent);
	device_unregister(mdma_parent_dev);
	class_unregister(&mdma_class);
	mdev_unregister_driver(&mdma_driver);
}

module_init(mdma_init);
module_exit(mdma_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Emulated DMA engine: a VFIO mediated device sample");
MODULE_IMPORT_NS(IOMMUFD);
