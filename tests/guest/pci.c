// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=pci
/*
 * vfio-pci, first slice: device, region and IRQ info, config space
 * virtualization, and BAR access through read()/write(), on QEMU's edu
 * and pci-testdev (each behind its own root port).
 */
#include <stddef.h>
#include <sys/mman.h>
#include <time.h>

#include <linux/pci_regs.h>

#include "pci_test.h"
#include "kselftest_harness.h"

#define CFG_OFF(x)	(REGION_OFF(VFIO_PCI_CONFIG_REGION_INDEX) + (x))
#define REGION_OFF(i)	((uint64_t)(i) << 40)

/* edu's BAR0 registers (QEMU docs/specs/edu.rst). */
#define EDU_ID		0x00
#define EDU_LIVENESS	0x04
#define EDU_FACTORIAL	0x08
#define EDU_STATUS	0x20
#define EDU_DMA_SRC	0x80
#define EDU_ID_VALUE	0x010000edU
#define EDU_BAR_SIZE	0x100000U

/* Flag sets, unsigned like the fields they are compared with. */
static const uint32_t REGION_RW = VFIO_REGION_INFO_FLAG_READ |
				  VFIO_REGION_INFO_FLAG_WRITE;
static const uint32_t REGION_RW_MMAP = VFIO_REGION_INFO_FLAG_READ |
				       VFIO_REGION_INFO_FLAG_WRITE |
				       VFIO_REGION_INFO_FLAG_MMAP;
static const uint32_t IRQ_NORESIZE_FLAGS = VFIO_IRQ_INFO_EVENTFD |
					   VFIO_IRQ_INFO_NORESIZE;
static const uint32_t DEVICE_FLAGS = VFIO_DEVICE_FLAGS_PCI |
				     VFIO_DEVICE_FLAGS_RESET;
static const uint32_t NUM_REGIONS = VFIO_PCI_NUM_REGIONS;
static const uint32_t NUM_IRQS = VFIO_PCI_NUM_IRQS;
static const uint32_t EDU_IDS = EDU_VENDOR | EDU_DEVICE << 16;
static const uint32_t IRQ_INTX_FLAGS = VFIO_IRQ_INFO_EVENTFD |
				       VFIO_IRQ_INFO_MASKABLE |
				       VFIO_IRQ_INFO_AUTOMASKED;

/* pread()/pwrite() as an errno: 0 when all of @len moved. */
static int rd(int fd, off_t off, void *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len, off);

	return n < 0 ? errno : n == (ssize_t)len ? 0 : EIO;
}

static int wr(int fd, off_t off, const void *buf, size_t len)
{
	ssize_t n = pwrite(fd, buf, len, off);

	return n < 0 ? errno : n == (ssize_t)len ? 0 : EIO;
}

static uint32_t cfg_read32(int fd, int off)
{
	uint32_t v = 0xdeadbeef;

	if (rd(fd, CFG_OFF(off), &v, 4))
		return 0xdeadbeef;
	return v;
}

static uint16_t cfg_read16(int fd, int off)
{
	uint16_t v = 0xdead;

	if (rd(fd, CFG_OFF(off), &v, 2))
		return 0xdead;
	return v;
}

static uint8_t cfg_read8(int fd, int off)
{
	uint8_t v = 0xde;

	if (rd(fd, CFG_OFF(off), &v, 1))
		return 0xde;
	return v;
}

static int cfg_write32(int fd, int off, uint32_t v)
{
	return wr(fd, CFG_OFF(off), &v, 4);
}

static int cfg_write16(int fd, int off, uint16_t v)
{
	return wr(fd, CFG_OFF(off), &v, 2);
}

/* The hardware's config space, as sysfs shows it to root. */
static int sysfs_config(const char *bdf, uint8_t *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno;
	n = pread(fd, buf, len, 0);
	close(fd);
	return n == (ssize_t)len ? 0 : EIO;
}

static uint32_t sysfs_config32(const char *bdf, int off)
{
	uint8_t buf[256];
	uint32_t v;

	if (sysfs_config(bdf, buf, sizeof(buf)))
		return 0xdeadbeef;
	memcpy(&v, buf + off, 4);
	return v;
}

/* Read @len bytes at @off of BAR @bar through sysfs: mmap for memory. */
static int sysfs_bar_read(const char *bdf, int bar, bool mem, off_t off,
			  void *buf, size_t len)
{
	char path[PATH_MAX];
	void *map;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%d",
		 bdf, bar);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		return errno;
	if (mem) {
		size_t i;

		map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			ret = errno;
		} else {
			/* Dword by dword, as the device expects. */
			for (i = 0; i + 4 <= len; i += 4)
				((uint32_t *)buf)[i / 4] =
					*(volatile uint32_t *)((char *)map +
							       off + i);
			munmap(map, 4096);
		}
	} else if (pread(fd, buf, len, off) != (ssize_t)len) {
		ret = EIO;
	}
	close(fd);
	return ret;
}

static int region_info(int fd, uint32_t index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return ioctl_errno(fd, VFIO_DEVICE_GET_REGION_INFO, ri);
}

static int irq_info(int fd, uint32_t index, struct vfio_irq_info *ii)
{
	memset(ii, 0, sizeof(*ii));
	ii->argsz = sizeof(*ii);
	ii->index = index;
	return ioctl_errno(fd, VFIO_DEVICE_GET_IRQ_INFO, ii);
}

static int bar_read32(int fd, int bar, off_t off, uint32_t *v)
{
	return rd(fd, REGION_OFF(bar) + off, v, 4);
}

static int bar_write32(int fd, int bar, off_t off, uint32_t v)
{
	return wr(fd, REGION_OFF(bar) + off, &v, 4);
}

FIXTURE(edu) {
	struct vfio_user u;
	bool type1;
};

FIXTURE_SETUP(edu)
{
	int ret = pci_user_open(&self->u, &self->type1, EDU_VENDOR, EDU_DEVICE);

	ASSERT_EQ(0, ret) TH_LOG("open edu: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(edu)
{
	pci_user_close(&self->u, &self->type1);
}

FIXTURE(testdev) {
	struct vfio_user u;
	bool type1;
};

FIXTURE_SETUP(testdev)
{
	int ret = pci_user_open(&self->u, &self->type1, TESTDEV_VENDOR, TESTDEV_DEVICE);

	ASSERT_EQ(0, ret) TH_LOG("open pci-testdev: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(testdev)
{
	pci_user_close(&self->u, &self->type1);
}

/* --- VFIO_DEVICE_GET_INFO --- */

TEST_F(edu, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_INFO, &info));
	/* edu can be reset (alone below its root port: a bus reset). */
	EXPECT_EQ(DEVICE_FLAGS, info.flags);
	EXPECT_EQ(NUM_REGIONS, info.num_regions);
	EXPECT_EQ(NUM_IRQS, info.num_irqs);
	EXPECT_EQ(sizeof(info), info.argsz);
	EXPECT_EQ(0U, info.cap_offset);
}

/* argsz below the fields up to num_irqs is refused; exactly those is fine. */
TEST_F(edu, device_info_argsz)
{
	size_t minsz = offsetof(struct vfio_device_info, cap_offset);
	struct vfio_device_info info;

	memset(&info, 0, sizeof(info));
	info.argsz = minsz - 1;
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.device, VFIO_DEVICE_GET_INFO,
				      &info));

	/* Bytes past argsz are the user's: left untouched. */
	memset(&info, 0xa5, sizeof(info));
	info.argsz = minsz;
	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(minsz, info.argsz);
	EXPECT_EQ(NUM_REGIONS, info.num_regions);
	EXPECT_EQ(0xa5a5a5a5U, info.cap_offset);
}

/* A larger argsz is fine: only the structure is written. */
TEST_F(edu, device_info_large_argsz)
{
	struct {
		struct vfio_device_info info;
		uint32_t canary;
	} big;

	memset(&big, 0, sizeof(big));
	big.info.argsz = sizeof(big);
	big.canary = 0x5a5a5a5a;
	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_INFO, &big));
	EXPECT_EQ(sizeof(big), big.info.argsz);
	EXPECT_EQ(0x5a5a5a5aU, big.canary);
}

TEST_F(testdev, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(DEVICE_FLAGS, info.flags);
	EXPECT_EQ(NUM_REGIONS, info.num_regions);
	EXPECT_EQ(NUM_IRQS, info.num_irqs);
}

/* Unknown device ioctls. */
TEST_F(edu, unknown_ioctl)
{
	EXPECT_EQ(ENOTTY, ioctl_errno(self->u.device, _IO(VFIO_TYPE, 0x7f),
				      NULL));
}

/* --- VFIO_DEVICE_GET_REGION_INFO --- */

TEST_F(edu, region_info)
{
	struct vfio_region_info ri;
	uint32_t i;

	ASSERT_EQ(0, region_info(self->u.device, VFIO_PCI_BAR0_REGION_INDEX,
				 &ri));
	EXPECT_EQ(EDU_BAR_SIZE, ri.size);
	EXPECT_EQ(0U, ri.offset);
	EXPECT_EQ(REGION_RW_MMAP, ri.flags);
	EXPECT_EQ(0U, ri.cap_offset);
	EXPECT_EQ(sizeof(ri), ri.argsz);

	/* Unimplemented BARs exist, with no size and no flags. */
	for (i = VFIO_PCI_BAR1_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX;
	     i++) {
		ASSERT_EQ(0, region_info(self->u.device, i, &ri));
		EXPECT_EQ(0U, ri.size) TH_LOG("BAR%u", i);
		EXPECT_EQ(0U, ri.flags) TH_LOG("BAR%u", i);
		EXPECT_EQ(REGION_OFF(i), ri.offset) TH_LOG("BAR%u", i);
	}

	/* No ROM. */
	ASSERT_EQ(0, region_info(self->u.device, VFIO_PCI_ROM_REGION_INDEX,
				 &ri));
	EXPECT_EQ(0U, ri.size);
	EXPECT_EQ(0U, ri.flags);
	EXPECT_EQ(REGION_OFF(VFIO_PCI_ROM_REGION_INDEX), ri.offset);

	/* Conventional PCI: 256 bytes of config space. */
	ASSERT_EQ(0, region_info(self->u.device, VFIO_PCI_CONFIG_REGION_INDEX,
				 &ri));
	EXPECT_EQ(256U, ri.size);
	EXPECT_EQ(REGION_RW,
		  ri.flags);
	EXPECT_EQ(REGION_OFF(VFIO_PCI_CONFIG_REGION_INDEX), ri.offset);
}

/* Not a VGA device: no VGA region; nothing past it either. */
TEST_F(edu, region_info_bad_index)
{
	struct vfio_region_info ri;

	EXPECT_EQ(EINVAL, region_info(self->u.device,
				      VFIO_PCI_VGA_REGION_INDEX, &ri));
	EXPECT_EQ(EINVAL, region_info(self->u.device, VFIO_PCI_NUM_REGIONS,
				      &ri));
	EXPECT_EQ(EINVAL, region_info(self->u.device, 0xffffffff, &ri));
}

TEST_F(edu, region_info_argsz)
{
	size_t minsz = offsetof(struct vfio_region_info, offset) + 8;
	struct vfio_region_info ri;

	memset(&ri, 0, sizeof(ri));
	ri.argsz = minsz - 1;
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.device,
				      VFIO_DEVICE_GET_REGION_INFO, &ri));
	ri.argsz = minsz;
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	ASSERT_EQ(0, ioctl_errno(self->u.device,
				 VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(EDU_BAR_SIZE, ri.size);
}

TEST_F(testdev, region_info)
{
	struct vfio_region_info ri;
	uint32_t i;

	/* BAR0: one page of MMIO, mappable. */
	ASSERT_EQ(0, region_info(self->u.device, VFIO_PCI_BAR0_REGION_INDEX,
				 &ri));
	EXPECT_EQ(0x1000U, ri.size);
	EXPECT_EQ(REGION_RW_MMAP, ri.flags);
	/* BAR1: I/O ports, never mappable. */
	ASSERT_EQ(0, region_info(self->u.device, VFIO_PCI_BAR1_REGION_INDEX,
				 &ri));
	EXPECT_EQ(0x100U, ri.size);
	EXPECT_EQ(REGION_RW,
		  ri.flags);
	EXPECT_EQ(REGION_OFF(1), ri.offset);
	for (i = VFIO_PCI_BAR2_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX;
	     i++) {
		ASSERT_EQ(0, region_info(self->u.device, i, &ri));
		EXPECT_EQ(0U, ri.size);
		EXPECT_EQ(0U, ri.flags);
	}
	ASSERT_EQ(0, region_info(self->u.device, VFIO_PCI_CONFIG_REGION_INDEX,
				 &ri));
	EXPECT_EQ(256U, ri.size);
}

/* --- VFIO_DEVICE_GET_IRQ_INFO --- */

TEST_F(edu, irq_info)
{
	struct vfio_irq_info ii;

	ASSERT_EQ(0, irq_info(self->u.device, VFIO_PCI_INTX_IRQ_INDEX, &ii));
	EXPECT_EQ(1U, ii.count);
	EXPECT_EQ(IRQ_INTX_FLAGS, ii.flags);

	/* One MSI vector. */
	ASSERT_EQ(0, irq_info(self->u.device, VFIO_PCI_MSI_IRQ_INDEX, &ii));
	EXPECT_EQ(1U, ii.count);
	EXPECT_EQ(IRQ_NORESIZE_FLAGS, ii.flags);

	/* No MSI-X capability: the index exists, with no vectors. */
	ASSERT_EQ(0, irq_info(self->u.device, VFIO_PCI_MSIX_IRQ_INDEX, &ii));
	EXPECT_EQ(0U, ii.count);
	EXPECT_EQ(IRQ_NORESIZE_FLAGS, ii.flags);

	/* edu is conventional PCI: no error interrupt. */
	EXPECT_EQ(EINVAL, irq_info(self->u.device, VFIO_PCI_ERR_IRQ_INDEX,
				   &ii));

	ASSERT_EQ(0, irq_info(self->u.device, VFIO_PCI_REQ_IRQ_INDEX, &ii));
	EXPECT_EQ(1U, ii.count);
	EXPECT_EQ(IRQ_NORESIZE_FLAGS, ii.flags);

	EXPECT_EQ(EINVAL, irq_info(self->u.device, VFIO_PCI_NUM_IRQS, &ii));
	EXPECT_EQ(EINVAL, irq_info(self->u.device, 0xffffffff, &ii));
}

TEST_F(edu, irq_info_argsz)
{
	size_t minsz = offsetof(struct vfio_irq_info, count) + 4;
	struct vfio_irq_info ii;

	memset(&ii, 0, sizeof(ii));
	ii.argsz = minsz - 1;
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.device, VFIO_DEVICE_GET_IRQ_INFO,
				      &ii));
}

/* No interrupt pin: INTx keeps its flags but has no vector; no MSI. */
TEST_F(testdev, irq_info)
{
	struct vfio_irq_info ii;

	ASSERT_EQ(0, irq_info(self->u.device, VFIO_PCI_INTX_IRQ_INDEX, &ii));
	EXPECT_EQ(0U, ii.count);
	EXPECT_EQ(IRQ_INTX_FLAGS, ii.flags);
	ASSERT_EQ(0, irq_info(self->u.device, VFIO_PCI_MSI_IRQ_INDEX, &ii));
	EXPECT_EQ(0U, ii.count);
	ASSERT_EQ(0, irq_info(self->u.device, VFIO_PCI_MSIX_IRQ_INDEX, &ii));
	EXPECT_EQ(0U, ii.count);
}

/* --- config space --- */

TEST_F(edu, config_ids)
{
	EXPECT_EQ(EDU_VENDOR, cfg_read16(self->u.device, PCI_VENDOR_ID));
	EXPECT_EQ(EDU_DEVICE, cfg_read16(self->u.device, PCI_DEVICE_ID));
	EXPECT_EQ(EDU_IDS,
		  cfg_read32(self->u.device, PCI_VENDOR_ID));
	EXPECT_EQ(0x34, cfg_read8(self->u.device, PCI_VENDOR_ID));
	EXPECT_EQ(0x12, cfg_read8(self->u.device, PCI_VENDOR_ID + 1));
	EXPECT_EQ(PCI_HEADER_TYPE_NORMAL,
		  cfg_read8(self->u.device, PCI_HEADER_TYPE) & 0x7f);
}

/*
 * Right after open, what the user reads equals the hardware, byte for
 * byte: on these devices nothing is hidden and the virtual copies start
 * from the hardware's values.
 */
TEST_F(edu, config_matches_hardware)
{
	uint8_t hw[256], user[256];
	int i;

	ASSERT_EQ(0, sysfs_config(self->u.bdf, hw, sizeof(hw)));
	ASSERT_EQ(0, rd(self->u.device, CFG_OFF(0), user, sizeof(user)));
	for (i = 0; i < 256; i++)
		EXPECT_EQ(hw[i], user[i]) TH_LOG("config byte %#x", i);
}

TEST_F(testdev, config_matches_hardware)
{
	uint8_t hw[256], user[256];
	int i;

	ASSERT_EQ(0, sysfs_config(self->u.bdf, hw, sizeof(hw)));
	ASSERT_EQ(0, rd(self->u.device, CFG_OFF(0), user, sizeof(user)));
	for (i = 0; i < 256; i++)
		EXPECT_EQ(hw[i], user[i]) TH_LOG("config byte %#x", i);
}

/* Odd sizes and offsets are split, and come out the same. */
TEST_F(edu, config_unaligned)
{
	uint8_t whole[64], part[64];
	int i;

	ASSERT_EQ(0, rd(self->u.device, CFG_OFF(0), whole, sizeof(whole)));
	memset(part, 0, sizeof(part));
	ASSERT_EQ(0, rd(self->u.device, CFG_OFF(1), part + 1, 7));
	ASSERT_EQ(0, rd(self->u.device, CFG_OFF(8), part + 8, 3));
	ASSERT_EQ(0, rd(self->u.device, CFG_OFF(11), part + 11, 53));
	part[0] = whole[0];
	for (i = 0; i < 64; i++)
		EXPECT_EQ(whole[i], part[i]) TH_LOG("config byte %#x", i);
}

/* Sizing a BAR: all-ones reads back the size mask, the hardware keeps
 * the host's address, and the user's value stays virtual. */
TEST_F(edu, config_bar_sizing)
{
	uint32_t orig = cfg_read32(self->u.device, PCI_BASE_ADDRESS_0);
	uint32_t hw = sysfs_config32(self->u.bdf, PCI_BASE_ADDRESS_0);
	uint32_t id;

	/* 32-bit, non-prefetchable memory. */
	EXPECT_EQ(0U, orig & 0xf);
	EXPECT_EQ(hw, orig);

	ASSERT_EQ(0, cfg_write32(self->u.device, PCI_BASE_ADDRESS_0,
				 0xffffffff));
	EXPECT_EQ((uint32_t)~(EDU_BAR_SIZE - 1),
		  cfg_read32(self->u.device, PCI_BASE_ADDRESS_0));
	EXPECT_EQ(hw, sysfs_config32(self->u.bdf, PCI_BASE_ADDRESS_0));

	/* Any address: low bits the size does not allow are dropped. */
	ASSERT_EQ(0, cfg_write32(self->u.device, PCI_BASE_ADDRESS_0,
				 0x12345678));
	EXPECT_EQ(0x12300000U, cfg_read32(self->u.device, PCI_BASE_ADDRESS_0));
	EXPECT_EQ(hw, sysfs_config32(self->u.bdf, PCI_BASE_ADDRESS_0));

	ASSERT_EQ(0, cfg_write32(self->u.device, PCI_BASE_ADDRESS_0, orig));
	EXPECT_EQ(orig, cfg_read32(self->u.device, PCI_BASE_ADDRESS_0));

	/* Unimplemented BARs and the absent ROM stay 0. */
	ASSERT_EQ(0, cfg_write32(self->u.device, PCI_BASE_ADDRESS_1,
				 0xffffffff));
	EXPECT_EQ(0U, cfg_read32(self->u.device, PCI_BASE_ADDRESS_1));
	ASSERT_EQ(0, cfg_write32(self->u.device, PCI_ROM_ADDRESS, 0xffffffff));
	EXPECT_EQ(0U, cfg_read32(self->u.device, PCI_ROM_ADDRESS));

	/* BAR access keeps working: the real BAR was not touched. */
	ASSERT_EQ(0, bar_read32(self->u.device, 0, EDU_ID, &id));
	EXPECT_EQ(EDU_ID_VALUE, id);
}

/* Sizing byte by byte works too: each byte is masked on its own. */
TEST_F(edu, config_bar_sizing_bytes)
{
	uint8_t ff = 0xff;
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, wr(self->u.device,
				CFG_OFF(PCI_BASE_ADDRESS_0 + i), &ff, 1));
	EXPECT_EQ((uint32_t)~(EDU_BAR_SIZE - 1),
		  cfg_read32(self->u.device, PCI_BASE_ADDRESS_0));
	EXPECT_EQ(0xf0, cfg_read8(self->u.device, PCI_BASE_ADDRESS_0 + 2));
}

TEST_F(testdev, config_bar_sizing)
{
	uint32_t bar0 = cfg_read32(self->u.device, PCI_BASE_ADDRESS_0);
	uint32_t bar1 = cfg_read32(self->u.device, PCI_BASE_ADDRESS_1);

	EXPECT_EQ((uint32_t)PCI_BASE_ADDRESS_SPACE_IO, bar1 & 0x3);

	ASSERT_EQ(0, cfg_write32(self->u.device, PCI_BASE_ADDRESS_0,
				 0xffffffff));
	EXPECT_EQ(0xfffff000, cfg_read32(self->u.device, PCI_BASE_ADDRESS_0));

	/* I/O BAR: 256 ports, the I/O space bit set, bit 1 reserved. */
	ASSERT_EQ(0, cfg_write32(self->u.device, PCI_BASE_ADDRESS_1,
				 0xffffffff));
	EXPECT_EQ(0xffffff01, cfg_read32(self->u.device, PCI_BASE_ADDRESS_1));

	ASSERT_EQ(0, cfg_write32(self->u.device, PCI_BASE_ADDRESS_0, bar0));
	ASSERT_EQ(0, cfg_write32(self->u.device, PCI_BASE_ADDRESS_1, bar1));
	EXPECT_EQ(bar0, cfg_read32(self->u.device, PCI_BASE_ADDRESS_0));
	EXPECT_EQ(bar1, cfg_read32(self->u.device, PCI_BASE_ADDRESS_1));
	EXPECT_EQ(bar0, sysfs_config32(self->u.bdf, PCI_BASE_ADDRESS_0));
	EXPECT_EQ(bar1, sysfs_config32(self->u.bdf, PCI_BASE_ADDRESS_1));
}

/* Memory decode is the user's: off, BAR access fails with EIO. */
TEST_F(edu, config_command_memory)
{
	uint16_t cmd = cfg_read16(self->u.device, PCI_COMMAND);
	uint32_t id;

	EXPECT_TRUE(cmd & PCI_COMMAND_MEMORY);

	ASSERT_EQ(0, cfg_write16(self->u.device, PCI_COMMAND,
				 cmd & ~PCI_COMMAND_MEMORY));
	EXPECT_EQ(0, cfg_read16(self->u.device, PCI_COMMAND) &
		  PCI_COMMAND_MEMORY);
	EXPECT_EQ(EIO, bar_read32(self->u.device, 0, EDU_ID, &id));
	EXPECT_EQ(EIO, bar_write32(self->u.device, 0, EDU_LIVENESS, 1));

	ASSERT_EQ(0, cfg_write16(self->u.device, PCI_COMMAND,
				 cmd | PCI_COMMAND_MEMORY));
	EXPECT_TRUE(cfg_read16(self->u.device, PCI_COMMAND) &
		    PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, bar_read32(self->u.device, 0, EDU_ID, &id));
	EXPECT_EQ(EDU_ID_VALUE, id);
}

/* Bus mastering reaches the hardware; INTx disable is emulated. */
TEST_F(edu, config_command_bits)
{
	uint16_t cmd = cfg_read16(self->u.device, PCI_COMMAND);
	uint16_t hw;

	/* Open leaves bus mastering off. */
	EXPECT_EQ(0, cmd & PCI_COMMAND_MASTER);

	ASSERT_EQ(0, cfg_write16(self->u.device, PCI_COMMAND,
				 cmd | PCI_COMMAND_MASTER));
	EXPECT_TRUE(cfg_read16(self->u.device, PCI_COMMAND) &
		    PCI_COMMAND_MASTER);
	hw = sysfs_config32(self->u.bdf, PCI_COMMAND);
	EXPECT_TRUE(hw & PCI_COMMAND_MASTER);

	ASSERT_EQ(0, cfg_write16(self->u.device, PCI_COMMAND,
				 cmd | PCI_COMMAND_INTX_DISABLE));
	EXPECT_TRUE(cfg_read16(self->u.device, PCI_COMMAND) &
		    PCI_COMMAND_INTX_DISABLE);
	EXPECT_EQ(0, cfg_read16(self->u.device, PCI_COMMAND) &
		  PCI_COMMAND_MASTER);

	ASSERT_EQ(0, cfg_write16(self->u.device, PCI_COMMAND, cmd));
	EXPECT_EQ(cmd, cfg_read16(self->u.device, PCI_COMMAND));
}

/* Read-only header fields drop writes, without an error. */
TEST_F(edu, config_readonly_fields)
{
	uint32_t class = cfg_read32(self->u.device, PCI_CLASS_REVISION);

	ASSERT_EQ(0, cfg_write32(self->u.device, PCI_VENDOR_ID, 0));
	EXPECT_EQ(EDU_IDS,
		  cfg_read32(self->u.device, PCI_VENDOR_ID));
	ASSERT_EQ(0, cfg_write32(self->u.device, PCI_CLASS_REVISION, 0));
	EXPECT_EQ(class, cfg_read32(self->u.device, PCI_CLASS_REVISION));
	/* Interrupt pin is virtual and read-only; the line is writable. */
	ASSERT_EQ(0, cfg_write16(self->u.device, PCI_INTERRUPT_LINE, 0x0099));
	EXPECT_EQ(0x99, cfg_read8(self->u.device, PCI_INTERRUPT_LINE));
	EXPECT_EQ(1, cfg_read8(self->u.device, PCI_INTERRUPT_PIN));
	/* ... and the line is not the hardware's. */
	EXPECT_NE(0x99U, sysfs_config32(self->u.bdf, PCI_INTERRUPT_LINE) &
		  0xff);
}

/* edu's only capability is MSI (64-bit, one vector). */
TEST_F(edu, config_capability_list)
{
	int pos, n = 0;

	EXPECT_TRUE(cfg_read16(self->u.device, PCI_STATUS) &
		    PCI_STATUS_CAP_LIST);
	pos = cfg_read8(self->u.device, PCI_CAPABILITY_LIST);
	EXPECT_EQ(0x40, pos);
	while (pos && n < 48) {
		uint8_t id = cfg_read8(self->u.device, pos + PCI_CAP_LIST_ID);

		EXPECT_EQ(PCI_CAP_ID_MSI, id) TH_LOG("cap at %#x", pos);
		pos = cfg_read8(self->u.device, pos + PCI_CAP_LIST_NEXT);
		n++;
	}
	EXPECT_EQ(1, n);
	EXPECT_EQ(PCI_MSI_FLAGS_64BIT,
		  cfg_read16(self->u.device, 0x40 + PCI_MSI_FLAGS));
}

TEST_F(testdev, config_capability_list)
{
	EXPECT_EQ(0, cfg_read16(self->u.device, PCI_STATUS) &
		  PCI_STATUS_CAP_LIST);
	EXPECT_EQ(0, cfg_read8(self->u.device, PCI_CAPABILITY_LIST));
}

/*
 * MSI is programmed by the host: address and data are virtual, and the
 * enable bit cannot be set through config space (only SET_IRQS can).
 */
TEST_F(edu, config_msi_virtual)
{
	int msi = 0x40;

	ASSERT_EQ(0, cfg_write32(self->u.device, msi + PCI_MSI_ADDRESS_LO,
				 0xfee01004));
	EXPECT_EQ(0xfee01004,
		  cfg_read32(self->u.device, msi + PCI_MSI_ADDRESS_LO));
	EXPECT_EQ(0U, sysfs_config32(self->u.bdf, msi + PCI_MSI_ADDRESS_LO));

	ASSERT_EQ(0, cfg_write16(self->u.device, msi + PCI_MSI_DATA_64,
				 0x4321));
	EXPECT_EQ(0x4321, cfg_read16(self->u.device, msi + PCI_MSI_DATA_64));

	/* The enable bit is dropped, and so are more vectors than set up. */
	ASSERT_EQ(0, cfg_write16(self->u.device, msi + PCI_MSI_FLAGS,
				 PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_ENABLE |
				 PCI_MSI_FLAGS_QSIZE));
	EXPECT_EQ(PCI_MSI_FLAGS_64BIT,
		  cfg_read16(self->u.device, msi + PCI_MSI_FLAGS));
	EXPECT_EQ(0U, sysfs_config32(self->u.bdf, msi) >> 16 &
		  PCI_MSI_FLAGS_ENABLE);

	/* The ID and next pointer stay put. */
	ASSERT_EQ(0, cfg_write16(self->u.device, msi, 0xffff));
	EXPECT_EQ(PCI_CAP_ID_MSI, cfg_read8(self->u.device, msi));
	EXPECT_EQ(0, cfg_read8(self->u.device, msi + PCI_CAP_LIST_NEXT));
}

/* Accesses outside config space fail with EFAULT, even partly outside. */
TEST_F(edu, config_out_of_range)
{
	uint8_t buf[8];

	EXPECT_EQ(EFAULT, rd(self->u.device, CFG_OFF(256), buf, 1));
	EXPECT_EQ(EFAULT, rd(self->u.device, CFG_OFF(0xfc), buf, 8));
	EXPECT_EQ(EFAULT, wr(self->u.device, CFG_OFF(0xff), buf, 2));
	EXPECT_EQ(0, rd(self->u.device, CFG_OFF(0xfc), buf, 4));
	/* Nothing to read is nothing. */
	EXPECT_EQ(0, pread(self->u.device, buf, 0, CFG_OFF(0)));
}

/* --- BARs through read()/write() --- */

TEST_F(edu, bar0_id)
{
	uint32_t id = 0;

	ASSERT_EQ(0, bar_read32(self->u.device, 0, EDU_ID, &id));
	EXPECT_EQ(EDU_ID_VALUE, id);
}

TEST_F(edu, bar0_liveness)
{
	static const uint32_t values[] = { 0x12345678, 0, 0xffffffff,
					   0xa5a5a5a5 };
	unsigned int i;
	uint32_t v;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		ASSERT_EQ(0, bar_write32(self->u.device, 0, EDU_LIVENESS,
					 values[i]));
		ASSERT_EQ(0, bar_read32(self->u.device, 0, EDU_LIVENESS, &v));
		EXPECT_EQ(~values[i], v);
	}
}

TEST_F(edu, bar0_factorial)
{
	struct timespec ts = { 0, 1000000 };
	uint32_t status = 1, v = 0;
	int tries;

	ASSERT_EQ(0, bar_write32(self->u.device, 0, EDU_FACTORIAL, 5));
	for (tries = 0; tries < 1000 && (status & 1); tries++) {
		ASSERT_EQ(0, bar_read32(self->u.device, 0, EDU_STATUS,
					&status));
		if (status & 1)
			nanosleep(&ts, NULL);
	}
	EXPECT_EQ(0U, status & 1);
	ASSERT_EQ(0, bar_read32(self->u.device, 0, EDU_FACTORIAL, &v));
	EXPECT_EQ(120U, v);
}

/*
 * An aligned 8-byte request is one 8-byte access: edu's 64-bit DMA
 * address register round-trips, while below 0x80 edu answers 8-byte
 * reads with all-ones.
 */
TEST_F(edu, bar0_64bit)
{
	uint64_t v = 0x1122334455667788ULL, back = 0;

	ASSERT_EQ(0, wr(self->u.device, EDU_DMA_SRC, &v, 8));
	ASSERT_EQ(0, rd(self->u.device, EDU_DMA_SRC, &back, 8));
	EXPECT_EQ(v, back);
	ASSERT_EQ(0, rd(self->u.device, EDU_ID, &back, 8));
	EXPECT_EQ(~0ULL, back);
}

/*
 * A request larger than a register is split into the largest aligned
 * pieces: 8 bytes at 4 are two 4-byte accesses (4 is not 8-aligned).
 */
TEST_F(edu, bar0_split)
{
	uint32_t regs[2] = { 0, 0 };

	ASSERT_EQ(0, bar_write32(self->u.device, 0, EDU_LIVENESS, 0x0f0f0f0f));
	ASSERT_EQ(0, rd(self->u.device, EDU_LIVENESS, regs, sizeof(regs)));
	EXPECT_EQ(0xf0f0f0f0, regs[0]);
	/* 6 bytes at 0: the ID register whole, then a 2-byte access. */
	ASSERT_EQ(0, rd(self->u.device, EDU_ID, regs, 6));
	EXPECT_EQ(EDU_ID_VALUE, regs[0]);
}

/*
 * VFIO_DEVICE_RESET (a bus reset for edu) clears the real BARs and the
 * command register; the user's view is unchanged. Enabling memory decode
 * again puts the host's BARs back, and the registers answer again.
 */
TEST_F(edu, reset_then_reenable)
{
	uint16_t cmd = cfg_read16(self->u.device, PCI_COMMAND);
	uint32_t bar0 = cfg_read32(self->u.device, PCI_BASE_ADDRESS_0);
	uint32_t id = 0;

	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_RESET, NULL));
	EXPECT_EQ(bar0, cfg_read32(self->u.device, PCI_BASE_ADDRESS_0));

	ASSERT_EQ(0, cfg_write16(self->u.device, PCI_COMMAND,
				 cmd | PCI_COMMAND_MEMORY));
	EXPECT_EQ(bar0, sysfs_config32(self->u.bdf, PCI_BASE_ADDRESS_0));
	ASSERT_EQ(0, bar_read32(self->u.device, 0, EDU_ID, &id));
	EXPECT_EQ(EDU_ID_VALUE, id);
}

/* Past the end of a BAR: EINVAL at the end, short transfers before it. */
TEST_F(edu, bar_out_of_range)
{
	uint8_t buf[16];
	ssize_t n;

	EXPECT_EQ(EINVAL, rd(self->u.device, EDU_BAR_SIZE, buf, 4));
	EXPECT_EQ(EINVAL, wr(self->u.device, EDU_BAR_SIZE, buf, 4));
	n = pread(self->u.device, buf, 16, EDU_BAR_SIZE - 8);
	EXPECT_EQ(8, n);

	/* Unimplemented BAR, absent ROM, no VGA, no region 9. */
	EXPECT_EQ(EINVAL, rd(self->u.device, REGION_OFF(1), buf, 4));
	EXPECT_EQ(EINVAL, rd(self->u.device,
			     REGION_OFF(VFIO_PCI_ROM_REGION_INDEX), buf, 4));
	EXPECT_EQ(EINVAL, wr(self->u.device,
			     REGION_OFF(VFIO_PCI_ROM_REGION_INDEX), buf, 4));
	EXPECT_EQ(EINVAL, rd(self->u.device,
			     REGION_OFF(VFIO_PCI_VGA_REGION_INDEX), buf, 4));
	EXPECT_EQ(EINVAL, rd(self->u.device,
			     REGION_OFF(VFIO_PCI_NUM_REGIONS), buf, 4));
}

/* The MMIO BAR reads the same through VFIO as through sysfs. */
TEST_F(testdev, bar0_matches_sysfs)
{
	uint32_t user[16], hw[16];
	int i;

	ASSERT_EQ(0, rd(self->u.device, REGION_OFF(0), user, sizeof(user)));
	ASSERT_EQ(0, sysfs_bar_read(self->u.bdf, 0, true, 0, hw, sizeof(hw)));
	for (i = 0; i < 16; i++)
		EXPECT_EQ(hw[i], user[i]) TH_LOG("BAR0 offset %#x", 4 * i);
}

/* The I/O BAR: reads through VFIO match sysfs; end of region EINVAL. */
TEST_F(testdev, bar1_io)
{
	uint32_t user = 0, hw = 1;
	uint8_t buf[4];

	ASSERT_EQ(0, rd(self->u.device, REGION_OFF(1), &user, 4));
	ASSERT_EQ(0, sysfs_bar_read(self->u.bdf, 1, false, 0, &hw, 4));
	EXPECT_EQ(hw, user);

	EXPECT_EQ(EINVAL, rd(self->u.device, REGION_OFF(1) + 0x100, buf, 1));
	EXPECT_EQ(2, pread(self->u.device, buf, 4, REGION_OFF(1) + 0xfe));
}

/* Names with anything but a VF token after the device's are no match. */
TEST_F(edu, device_fd_names)
{
	char name[128];

	snprintf(name, sizeof(name), "%sx", self->u.bdf);
	EXPECT_GT(0, ioctl(self->u.group, VFIO_GROUP_GET_DEVICE_FD, name));
	snprintf(name, sizeof(name), "%s bogus", self->u.bdf);
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.group,
				      VFIO_GROUP_GET_DEVICE_FD, name));
	/* Not a PF nor a VF: a VF token is refused. */
	snprintf(name, sizeof(name),
		 "%s vf_token=2ab74924-c335-45f4-9b16-8569e5b08258",
		 self->u.bdf);
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.group,
				      VFIO_GROUP_GET_DEVICE_FD, name));
}

/*
 * --- q35's own AHCI controller (ICH9, 00:1f.2) ---
 *
 * Unbound in the guest and in a group whose other members (LPC, SMBus)
 * are unbound too: a second kind of device, with an MSI capability off
 * 0x40, a SATA capability, an I/O BAR of 32 ports, a private register
 * outside any capability (0x90) and no way to reset it.
 */
#define AHCI_VENDOR	0x8086
#define AHCI_DEVICE	0x2922

FIXTURE(ahci) {
	struct vfio_user u;
	bool type1;
};

FIXTURE_SETUP(ahci)
{
	int ret = pci_user_open(&self->u, &self->type1, AHCI_VENDOR, AHCI_DEVICE);

	ASSERT_EQ(0, ret) TH_LOG("open AHCI: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(ahci)
{
	pci_user_close(&self->u, &self->type1);
}

/* No reset method for a root bus function without FLR or PM reset. */
TEST_F(ahci, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ((uint32_t)VFIO_DEVICE_FLAGS_PCI, info.flags);
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.device, VFIO_DEVICE_RESET,
				      NULL));
}

TEST_F(ahci, region_info)
{
	struct vfio_region_info ri;

	ASSERT_EQ(0, region_info(self->u.device, VFIO_PCI_BAR4_REGION_INDEX,
				 &ri));
	EXPECT_EQ(0x20U, ri.size);
	EXPECT_EQ(REGION_RW, ri.flags);
	ASSERT_EQ(0, region_info(self->u.device, VFIO_PCI_BAR5_REGION_INDEX,
				 &ri));
	EXPECT_EQ(0x1000U, ri.size);
	EXPECT_EQ(REGION_RW_MMAP, ri.flags);
}

TEST_F(ahci, config_matches_hardware)
{
	uint8_t hw[256], user[256];
	int i;

	ASSERT_EQ(0, sysfs_config(self->u.bdf, hw, sizeof(hw)));
	ASSERT_EQ(0, rd(self->u.device, CFG_OFF(0), user, sizeof(user)));
	for (i = 0; i < 256; i++)
		EXPECT_EQ(hw[i], user[i]) TH_LOG("config byte %#x", i);
}

/* MSI at 0x80, then SATA at 0xa8 (8 bytes: registers live in a BAR). */
TEST_F(ahci, config_capability_list)
{
	EXPECT_EQ(0x80, cfg_read8(self->u.device, PCI_CAPABILITY_LIST));
	EXPECT_EQ(PCI_CAP_ID_MSI, cfg_read8(self->u.device, 0x80));
	EXPECT_EQ(0xa8, cfg_read8(self->u.device, 0x81));
	EXPECT_EQ(PCI_CAP_ID_SATA, cfg_read8(self->u.device, 0xa8));
	EXPECT_EQ(0, cfg_read8(self->u.device, 0xa9));
	/* The capability body is read-only. */
	ASSERT_EQ(0, cfg_write32(self->u.device, 0xac, 0));
	EXPECT_EQ(sysfs_config32(self->u.bdf, 0xac),
		  cfg_read32(self->u.device, 0xac));
}

TEST_F(ahci, config_bar_sizing)
{
	uint32_t bar4 = cfg_read32(self->u.device, PCI_BASE_ADDRESS_4);

	ASSERT_EQ(0, cfg_write32(self->u.device, PCI_BASE_ADDRESS_4,
				 0xffffffff));
	EXPECT_EQ(0xffffffe1U, cfg_read32(self->u.device, PCI_BASE_ADDRESS_4));
	ASSERT_EQ(0, cfg_write32(self->u.device, PCI_BASE_ADDRESS_5,
				 0xffffffff));
	EXPECT_EQ(0xfffff000U, cfg_read32(self->u.device, PCI_BASE_ADDRESS_5));
	ASSERT_EQ(0, cfg_write32(self->u.device, PCI_BASE_ADDRESS_4, bar4));
	EXPECT_EQ(bar4, cfg_read32(self->u.device, PCI_BASE_ADDRESS_4));
	EXPECT_EQ(bar4, sysfs_config32(self->u.bdf, PCI_BASE_ADDRESS_4));
}

/* ABAR through VFIO reads as through sysfs (CAP, GHC, IS, PI, VS). */
TEST_F(ahci, bar5_matches_sysfs)
{
	uint32_t user[5], hw[5];
	int i;

	ASSERT_EQ(0, rd(self->u.device, REGION_OFF(5), user, sizeof(user)));
	ASSERT_EQ(0, sysfs_bar_read(self->u.bdf, 5, true, 0, hw, sizeof(hw)));
	for (i = 0; i < 5; i++)
		EXPECT_EQ(hw[i], user[i]) TH_LOG("ABAR offset %#x", 4 * i);
}

/* --- binding --- */

/* (Re)load vfio-pci of the current set with @params. */
static int load_vfio_pci(const char *params)
{
	char set[32], cmd[256];

	pci_test_modset(set);
	if (!strcmp(set, "ours"))
		snprintf(cmd, sizeof(cmd), "insmod /vfio/ours/vfio_pci.ko %s",
			 params);
	else
		snprintf(cmd, sizeof(cmd), "modprobe vfio_pci %s", params);
	return system(cmd);
}

/* Without driver_override or an ID, vfio-pci binds nothing. */
TEST(no_default_binding)
{
	char bdf[32], drv[64];

	ASSERT_EQ(0, pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0, bdf));
	ASSERT_EQ(0, pci_bind(bdf, ""));
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/drivers_probe", bdf));
	pci_driver(bdf, drv);
	EXPECT_STREQ("", drv);
}

/* new_id binds matching unbound functions at once; remove_id undoes it. */
TEST(new_id)
{
	char bdf[32], drv[64], path[PATH_MAX];

	ASSERT_EQ(0, pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0, bdf));
	ASSERT_EQ(0, pci_bind(bdf, ""));
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/drivers/vfio-pci/new_id",
				 "1b36 0005"));
	pci_driver(bdf, drv);
	EXPECT_STREQ("vfio-pci", drv);

	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/drivers/vfio-pci/remove_id",
				 "1b36 0005"));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind",
		 bdf);
	ASSERT_EQ(0, sysfs_write(path, bdf));
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/drivers_probe", bdf));
	pci_driver(bdf, drv);
	EXPECT_STREQ("", drv);
}

/*
 * ids= at load time binds the listed functions; malformed entries are
 * skipped with a warning, the rest still apply.
 */
TEST(ids_param)
{
	char edu[32], testdev[32], drv[64];

	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, edu));
	ASSERT_EQ(0, pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0, testdev));
	ASSERT_EQ(0, pci_bind(edu, ""));
	ASSERT_EQ(0, pci_bind(testdev, ""));
	ASSERT_EQ(0, system("rmmod vfio_pci"));

	ASSERT_EQ(0, load_vfio_pci("ids=zz,1234:11e8:1af4:1100,1b36"));
	pci_driver(edu, drv);
	EXPECT_STREQ("vfio-pci", drv);
	pci_driver(testdev, drv);
	EXPECT_STREQ("", drv);

	ASSERT_EQ(0, system("rmmod vfio_pci"));
	ASSERT_EQ(0, load_vfio_pci(""));
	pci_driver(edu, drv);
	EXPECT_STREQ("", drv);
}

TEST_HARNESS_MAIN
