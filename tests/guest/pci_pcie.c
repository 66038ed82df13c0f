// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci on a PCIe endpoint: QEMU's e1000e behind a root port, for its
 * capabilities (PM, MSI, PCIe, MSI-X), extended capabilities (AER, DSN),
 * MSI-X table BAR, option ROM and I/O BAR.
 */
// harness: machine=q35-pcie feature=pci
#include <stddef.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <linux/pci_regs.h>

#include "pci_test.h"
#include "kselftest_harness.h"
#include "e1000e.h"
#include "modset.h"


/* Where QEMU's e1000e puts things. */
#define NIC_PM		0xc8
#define NIC_MSI		0xd0
#define NIC_EXP		0xe0
#define NIC_MSIX	0xa0
#define NIC_AER		0x100
#define NIC_DSN		0x140
#define NIC_MSIX_BAR	3

#define REGION_OFF(i)	((uint64_t)(i) << 40)
#define CFG_OFF(x)	(REGION_OFF(VFIO_PCI_CONFIG_REGION_INDEX) + (x))

static const uint32_t REGION_RW = VFIO_REGION_INFO_FLAG_READ |
				  VFIO_REGION_INFO_FLAG_WRITE;
static const uint32_t REGION_RW_MMAP = VFIO_REGION_INFO_FLAG_READ |
				       VFIO_REGION_INFO_FLAG_WRITE |
				       VFIO_REGION_INFO_FLAG_MMAP;

static int rd(int fd, uint64_t off, void *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len, off);

	return n < 0 ? errno : n == (ssize_t)len ? 0 : EIO;
}

static int wr(int fd, uint64_t off, const void *buf, size_t len)
{
	ssize_t n = pwrite(fd, buf, len, off);

	return n < 0 ? errno : n == (ssize_t)len ? 0 : EIO;
}

static uint32_t cfg32(int fd, int off)
{
	uint32_t v = 0xdeadbeef;

	return rd(fd, CFG_OFF(off), &v, 4) ? 0xdeadbeef : v;
}

static uint16_t cfg16(int fd, int off)
{
	uint16_t v = 0xdead;

	return rd(fd, CFG_OFF(off), &v, 2) ? 0xdead : v;
}

static uint8_t cfg8(int fd, int off)
{
	uint8_t v = 0xde;

	return rd(fd, CFG_OFF(off), &v, 1) ? 0xde : v;
}

static int cfg_w32(int fd, int off, uint32_t v)
{
	return wr(fd, CFG_OFF(off), &v, 4);
}

static int cfg_w16(int fd, int off, uint16_t v)
{
	return wr(fd, CFG_OFF(off), &v, 2);
}

FIXTURE(nic) {
	struct vfio_user u;
	bool type1;
};

FIXTURE_SETUP(nic)
{
	int ret;

	ret = pci_user_open(&self->u, &self->type1, NIC_VENDOR, NIC_DEVICE);
	ASSERT_EQ(0, ret) TH_LOG("open e1000e: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(nic)
{
	pci_user_close(&self->u, &self->type1);
}

/* Alone below its root port: resettable (by a bus reset; no FLR). */
TEST_F(nic, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ((uint32_t)(VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET),
		  info.flags);
	EXPECT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_RESET, NULL));
}

TEST_F(nic, region_info)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	static const struct {
		uint32_t index;
		uint64_t size;
		uint32_t flags;
	} want[] = {
		{ 0, 0x20000, REGION_RW_MMAP },
		{ 1, 0x20000, REGION_RW_MMAP },
		{ 2, 0x20, REGION_RW },		/* I/O ports */
		{ 4, 0, 0 },
		{ 5, 0, 0 },
		{ VFIO_PCI_ROM_REGION_INDEX, 0x40000,
		  VFIO_REGION_INFO_FLAG_READ },
		{ VFIO_PCI_CONFIG_REGION_INDEX, 0x1000, REGION_RW },
	};
	unsigned int i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		memset(&ri, 0, sizeof(ri));
		ri.argsz = sizeof(ri);
		ri.index = want[i].index;
		ASSERT_EQ(0, ioctl_errno(self->u.device,
					 VFIO_DEVICE_GET_REGION_INFO, &ri));
		EXPECT_EQ(want[i].size, ri.size) TH_LOG("region %u", ri.index);
		EXPECT_EQ(want[i].flags, ri.flags) TH_LOG("region %u", ri.index);
		EXPECT_EQ(REGION_OFF(ri.index), ri.offset);
	}
	ri.index = VFIO_PCI_VGA_REGION_INDEX;
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.device,
				      VFIO_DEVICE_GET_REGION_INFO, &ri));
}

/*
 * The MSI-X table's BAR carries a capability saying it may be mapped
 * whole. A buffer too small for it gets the size needed, no chain.
 */
TEST_F(nic, region_info_msix_cap)
{
	struct {
		struct vfio_region_info info;
		struct vfio_info_cap_header cap;
	} big;
	struct vfio_region_info ri;

	memset(&ri, 0, sizeof(ri));
	ri.argsz = sizeof(ri);
	ri.index = NIC_MSIX_BAR;
	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_REGION_INFO,
				 &ri));
	EXPECT_EQ(REGION_RW_MMAP | VFIO_REGION_INFO_FLAG_CAPS, ri.flags);
	EXPECT_EQ(sizeof(big), ri.argsz);
	EXPECT_EQ(0U, ri.cap_offset);
	EXPECT_EQ(0x4000U, ri.size);

	memset(&big, 0, sizeof(big));
	big.info.argsz = sizeof(big);
	big.info.index = NIC_MSIX_BAR;
	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_REGION_INFO,
				 &big));
	EXPECT_EQ(sizeof(big.info), big.info.cap_offset);
	EXPECT_EQ(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, big.cap.id);
	EXPECT_EQ(1, big.cap.version);
	EXPECT_EQ(0U, big.cap.next);
}

/* MSI-X can grow while enabled: no NORESIZE; PCIe: an error IRQ. */
TEST_F(nic, irq_info)
{
	static const struct {
		uint32_t index, count, flags;
	} want[] = {
		{ VFIO_PCI_INTX_IRQ_INDEX, 1, VFIO_IRQ_INFO_EVENTFD |
		  VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED },
		{ VFIO_PCI_MSI_IRQ_INDEX, 1, VFIO_IRQ_INFO_EVENTFD |
		  VFIO_IRQ_INFO_NORESIZE },
		{ VFIO_PCI_MSIX_IRQ_INDEX, 5, VFIO_IRQ_INFO_EVENTFD },
		{ VFIO_PCI_ERR_IRQ_INDEX, 1, VFIO_IRQ_INFO_EVENTFD |
		  VFIO_IRQ_INFO_NORESIZE },
		{ VFIO_PCI_REQ_IRQ_INDEX, 1, VFIO_IRQ_INFO_EVENTFD |
		  VFIO_IRQ_INFO_NORESIZE },
	};
	struct vfio_irq_info ii;
	unsigned int i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		memset(&ii, 0, sizeof(ii));
		ii.argsz = sizeof(ii);
		ii.index = want[i].index;
		ASSERT_EQ(0, ioctl_errno(self->u.device,
					 VFIO_DEVICE_GET_IRQ_INFO, &ii));
		EXPECT_EQ(want[i].count, ii.count) TH_LOG("irq %u", ii.index);
		EXPECT_EQ(want[i].flags, ii.flags) TH_LOG("irq %u", ii.index);
	}
}

TEST_F(nic, config_capability_lists)
{
	static const uint8_t caps[][2] = {
		{ NIC_PM, PCI_CAP_ID_PM }, { NIC_MSI, PCI_CAP_ID_MSI },
		{ NIC_EXP, PCI_CAP_ID_EXP }, { NIC_MSIX, PCI_CAP_ID_MSIX },
	};
	int fd = self->u.device;
	uint32_t header;
	unsigned int i;
	int pos;

	EXPECT_TRUE(cfg16(fd, PCI_STATUS) & PCI_STATUS_CAP_LIST);
	pos = cfg8(fd, PCI_CAPABILITY_LIST);
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		EXPECT_EQ(caps[i][0], pos);
		EXPECT_EQ(caps[i][1], cfg8(fd, pos));
		pos = cfg8(fd, pos + PCI_CAP_LIST_NEXT);
	}
	EXPECT_EQ(0, pos);

	header = cfg32(fd, NIC_AER);
	EXPECT_EQ(PCI_EXT_CAP_ID_ERR, (int)PCI_EXT_CAP_ID(header));
	EXPECT_EQ(NIC_DSN, (int)PCI_EXT_CAP_NEXT(header));
	header = cfg32(fd, NIC_DSN);
	EXPECT_EQ(PCI_EXT_CAP_ID_DSN, (int)PCI_EXT_CAP_ID(header));
	EXPECT_EQ(0, (int)PCI_EXT_CAP_NEXT(header));
}

/* Capability bodies: only the fields the tables open are writable. */
TEST_F(nic, config_capability_writes)
{
	int fd = self->u.device;
	uint32_t dsn = cfg32(fd, NIC_DSN + 4);

	/* Read-only: MSI-X control, the serial number, headers. */
	ASSERT_EQ(0, cfg_w32(fd, NIC_MSIX, 0xffffffff));
	EXPECT_EQ(0x00040011U, cfg32(fd, NIC_MSIX));
	ASSERT_EQ(0, cfg_w32(fd, NIC_DSN + 4, 0));
	EXPECT_EQ(dsn, cfg32(fd, NIC_DSN + 4));
	ASSERT_EQ(0, cfg_w32(fd, NIC_AER, 0));
	EXPECT_EQ(PCI_EXT_CAP_ID_ERR, (int)PCI_EXT_CAP_ID(cfg32(fd, NIC_AER)));

	/* AER masks reach the device, as far as it implements them. */
	ASSERT_EQ(0, cfg_w32(fd, NIC_AER + PCI_ERR_UNCOR_SEVER, 0xffffffff));
	EXPECT_EQ(0x03fff030U, cfg32(fd, NIC_AER + PCI_ERR_UNCOR_SEVER));
	ASSERT_EQ(0, cfg_w32(fd, NIC_AER + PCI_ERR_COR_MASK, 0xffffffff));
	EXPECT_EQ(0x0000f1c1U, cfg32(fd, NIC_AER + PCI_ERR_COR_MASK));

	/*
	 * PCIe device control: payload and read request sizes are
	 * virtual, function reset reads as 0.
	 */
	ASSERT_EQ(0, cfg_w16(fd, NIC_EXP + PCI_EXP_DEVCTL, 0xffff));
	EXPECT_EQ(PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_READRQ,
		  cfg16(fd, NIC_EXP + PCI_EXP_DEVCTL));
	ASSERT_EQ(0, cfg_w16(fd, NIC_EXP + PCI_EXP_DEVCTL, 0));
	EXPECT_EQ(0, cfg16(fd, NIC_EXP + PCI_EXP_DEVCTL));

	/* Outside any capability: straight to the device (QEMU keeps it). */
	ASSERT_EQ(0, cfg_w32(fd, 0x40, 0x12345678));
	EXPECT_EQ(0x12345678U, cfg32(fd, 0x40));
	ASSERT_EQ(0, cfg_w32(fd, 0x40, 0));
}

/*
 * D3hot through the PM capability: memory BARs are off limits until the
 * user comes back to D0, which restores the function's state.
 */
/*
 * A config write whose source buffer cannot be read.
 *
 * Intended difference: into a range with no write handler (the MSI-X
 * table offset/BIR register, read-only and not virtualized) upstream 6.12
 * returns the count without reading the buffer; ours reads the user's
 * bytes first and answers EFAULT, as write(2) does for a bad buffer,
 * whatever the device then does with them. Where a write handler exists
 * (the command register) both sets answer EFAULT.
 */
TEST_F(nic, config_write_from_unreadable_buffer)
{
	int fd = self->u.device;
	uint32_t table = cfg32(fd, NIC_MSIX + PCI_MSIX_TABLE);
	uint16_t cmd = cfg16(fd, PCI_COMMAND);
	void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);

	ASSERT_NE(MAP_FAILED, bad);
	if (modset_is("upstream")) {
		EXPECT_EQ(4, pwrite(fd, bad, 4,
				    CFG_OFF(NIC_MSIX + PCI_MSIX_TABLE)));
	} else {
		EXPECT_EQ(EFAULT, wr(fd, CFG_OFF(NIC_MSIX + PCI_MSIX_TABLE),
				     bad, 4));
	}
	EXPECT_EQ(table, cfg32(fd, NIC_MSIX + PCI_MSIX_TABLE));
	EXPECT_EQ(EFAULT, wr(fd, CFG_OFF(PCI_COMMAND), bad, 2));
	EXPECT_EQ(cmd, cfg16(fd, PCI_COMMAND));
	munmap(bad, 4096);
}

TEST_F(nic, power_state)
{
	int fd = self->u.device;
	uint16_t ctrl = cfg16(fd, NIC_PM + PCI_PM_CTRL);
	uint32_t status = 0, bar0 = cfg32(fd, PCI_BASE_ADDRESS_0);

	EXPECT_EQ(0, ctrl & PCI_PM_CTRL_STATE_MASK);
	ASSERT_EQ(0, rd(fd, REGION_OFF(0) + 8, &status, 4));

	ASSERT_EQ(0, cfg_w16(fd, NIC_PM + PCI_PM_CTRL, ctrl | 3));
	EXPECT_EQ(3, cfg16(fd, NIC_PM + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK);
	EXPECT_EQ(EIO, rd(fd, REGION_OFF(0) + 8, &status, 4));

	ASSERT_EQ(0, cfg_w16(fd, NIC_PM + PCI_PM_CTRL, ctrl));
	EXPECT_EQ(0, cfg16(fd, NIC_PM + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK);
	EXPECT_EQ(0, rd(fd, REGION_OFF(0) + 8, &status, 4));
	EXPECT_EQ(bar0, cfg32(fd, PCI_BASE_ADDRESS_0));
}

/* Read a register through a mapping in a child; its wait() status. */
static int touch_in_child(volatile uint32_t *reg)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0)
		_exit(*reg == 0xffffffffU ? 1 : 0);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* In D3hot a mapping of BAR0 faults (SIGBUS); back in D0 it works. */
TEST_F(nic, power_state_revokes_mapping)
{
	int fd = self->u.device;
	uint16_t ctrl = cfg16(fd, NIC_PM + PCI_PM_CTRL);
	volatile uint32_t *regs;
	int status;

	regs = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, REGION_OFF(0));
	ASSERT_NE(MAP_FAILED, regs);
	status = touch_in_child(&regs[8 / 4]);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	ASSERT_EQ(0, cfg_w16(fd, NIC_PM + PCI_PM_CTRL, ctrl | 3));
	status = touch_in_child(&regs[8 / 4]);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		TH_LOG("wait status %#x", status);

	ASSERT_EQ(0, cfg_w16(fd, NIC_PM + PCI_PM_CTRL, ctrl));
	status = touch_in_child(&regs[8 / 4]);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("wait status %#x", status);
	munmap((void *)regs, 4096);
}

/* The MSI-X table reads as all-ones and ignores writes; the rest works. */
TEST_F(nic, msix_table_hidden)
{
	uint32_t v[4], zero[4] = { 0 };

	ASSERT_EQ(0, rd(self->u.device, REGION_OFF(NIC_MSIX_BAR), v,
			sizeof(v)));
	EXPECT_EQ(0xffffffffU, v[0]);
	EXPECT_EQ(0xffffffffU, v[3]);
	ASSERT_EQ(0, wr(self->u.device, REGION_OFF(NIC_MSIX_BAR), zero,
			sizeof(zero)));
	ASSERT_EQ(0, rd(self->u.device, REGION_OFF(NIC_MSIX_BAR), v,
			sizeof(v)));
	EXPECT_EQ(0xffffffffU, v[0]);
}

/*
 * The MSI-X table's BAR may be mapped whole (the capability above says
 * so); BAR0 works through a mapping; the I/O BAR cannot be mapped.
 */
TEST_F(nic, mmap_bars)
{
	int fd = self->u.device;
	volatile uint32_t *regs;
	uint32_t status = 0;
	uint16_t cmd = 0;
	void *p;

	ASSERT_EQ(0, rd(fd, CFG_OFF(PCI_COMMAND), &cmd, 2));
	cmd |= PCI_COMMAND_MEMORY;
	ASSERT_EQ(0, wr(fd, CFG_OFF(PCI_COMMAND), &cmd, 2));

	p = mmap(NULL, 0x4000, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 REGION_OFF(NIC_MSIX_BAR));
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, 0x4000);

	regs = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, REGION_OFF(0));
	ASSERT_NE(MAP_FAILED, regs);
	ASSERT_EQ(0, rd(fd, REGION_OFF(0) + 8, &status, 4));
	EXPECT_EQ(status, regs[8 / 4]);
	munmap((void *)regs, 4096);

	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, REGION_OFF(2));
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

/* The option ROM: readable, starts with the 0x55 0xaa signature. */
TEST_F(nic, rom)
{
	uint8_t sig[2] = { 0, 0 };

	ASSERT_EQ(0, rd(self->u.device, REGION_OFF(VFIO_PCI_ROM_REGION_INDEX),
			sig, 2));
	EXPECT_EQ(0x55, sig[0]);
	EXPECT_EQ(0xaa, sig[1]);
	EXPECT_EQ(EINVAL, wr(self->u.device,
			     REGION_OFF(VFIO_PCI_ROM_REGION_INDEX), sig, 2));
	EXPECT_EQ(EINVAL, rd(self->u.device,
			     REGION_OFF(VFIO_PCI_ROM_REGION_INDEX) + 0x40000,
			     sig, 2));
	/* The ROM BAR is virtual, and sizes like the others. */
	ASSERT_EQ(0, cfg_w32(self->u.device, PCI_ROM_ADDRESS, 0xffffffff));
	EXPECT_EQ(0xfffc0001U, cfg32(self->u.device, PCI_ROM_ADDRESS));
}

/* Extended config space ends at 4 KiB. */
TEST_F(nic, config_out_of_range)
{
	uint32_t v;

	EXPECT_EQ(0, rd(self->u.device, CFG_OFF(0xffc), &v, 4));
	EXPECT_EQ(EFAULT, rd(self->u.device, CFG_OFF(0xffe), &v, 4));
	EXPECT_EQ(EFAULT, rd(self->u.device, CFG_OFF(0x1000), &v, 1));
}

TEST_HARNESS_MAIN
