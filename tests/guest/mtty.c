// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=mdev timeout=120
/*
 * Upstream's mtty sample as a VFIO user sees it, on both module sets: a
 * dual-port 16550-like UART behind an emulated IOMMU. Its regions, config
 * space, the UART registers through its I/O BARs (bytes written to THR
 * come back from RBR), INTx and MSI through eventfds, and the core's
 * validation of VFIO_DEVICE_SET_IRQS (vfio_set_irqs_validate_and_prepare,
 * which mtty calls).
 *
 * Never send mtty a config access past 0xff or a BAR access past BAR1:
 * the sample does not bound them (it would read past its buffers).
 */
#include <poll.h>
#include <sys/eventfd.h>

#include "mdev_test.h"
#include "kselftest_harness.h"

#define MTTY_ID		0x32534348	/* vendor 0x4348, device 0x3253 */
#define MTTY_CFG_SIZE	0xff
#define MTTY_BAR_SIZE	8

/* 16550 registers (uapi/linux/serial_reg.h names). */
#define REG_RX		0	/* read: receive buffer */
#define REG_TX		0	/* write: transmit holding */
#define REG_IER		1
#define REG_IIR		2	/* read */
#define REG_FCR		2	/* write */
#define REG_LCR		3
#define REG_MCR		4
#define REG_LSR		5
#define REG_SCR		7
#define IER_RDI		0x01
#define FCR_FIFO	0x07	/* enable, clear both FIFOs */
#define LCR_DLAB	0x80
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define IIR_NO_INT	0x01
#define IIR_RDI		0x04

FIXTURE(mtty) {
	struct mdev_user u;
	uint64_t off[VFIO_PCI_NUM_REGIONS];
};

FIXTURE_SETUP(mtty)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct vfio_region_info info;
	unsigned int i;

	self->u.created = false;
	self->u.container = self->u.group = self->u.device = -1;
	ASSERT_EQ(0, mdev_load("mtty"));
	mdev_remove_all();
	ASSERT_EQ(0, mdev_user_open(&self->u, "mtty-2", 0x200));
	/*
	 * As a VMM does, first: mtty answers GET_IRQ_INFO and SET_IRQS only
	 * after GET_INFO (it sizes them with what GET_INFO filled in).
	 */
	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_INFO,
				 &dinfo));
	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		ASSERT_EQ(0, mdev_region_info(self->u.device, i, &info));
		self->off[i] = info.offset;
	}
}

FIXTURE_TEARDOWN(mtty)
{
	EXPECT_EQ(0, mdev_user_close(&self->u));
	EXPECT_EQ(0, mdev_unload("mtty"));
}

static int cfg_read(FIXTURE_DATA(mtty) *self, unsigned int pos, void *buf,
		    size_t len)
{
	ssize_t n = pread(self->u.device, buf, len,
			  self->off[VFIO_PCI_CONFIG_REGION_INDEX] + pos);

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

static int cfg_write(FIXTURE_DATA(mtty) *self, unsigned int pos,
		     const void *buf, size_t len)
{
	ssize_t n = pwrite(self->u.device, buf, len,
			   self->off[VFIO_PCI_CONFIG_REGION_INDEX] + pos);

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

/* Register @reg of @port (0 or 1: BAR0 or BAR1). */
static int uart_read(FIXTURE_DATA(mtty) *self, int port, unsigned int reg)
{
	uint8_t v;

	if (pread(self->u.device, &v, 1,
		  self->off[VFIO_PCI_BAR0_REGION_INDEX + port] + reg) != 1)
		return -1;
	return v;
}

static int uart_write(FIXTURE_DATA(mtty) *self, int port, unsigned int reg,
		      uint8_t v)
{
	ssize_t n = pwrite(self->u.device, &v, 1,
			   self->off[VFIO_PCI_BAR0_REGION_INDEX + port] + reg);

	return n == 1 ? 0 : -1;
}

/* SET_IRQS with an eventfd (or -1) for @index, start 0, count 1. */
static int set_trigger_fd(int device, unsigned int index, int fd)
{
	struct {
		struct vfio_irq_set set;
		int32_t fd;
	} s = {
		.set = {
			.argsz = sizeof(s), .index = index, .count = 1,
			.flags = VFIO_IRQ_SET_DATA_EVENTFD |
				 VFIO_IRQ_SET_ACTION_TRIGGER,
		},
		.fd = fd,
	};

	return ioctl_errno(device, VFIO_DEVICE_SET_IRQS, &s);
}

/* SET_IRQS with DATA_NONE: @action on @index, @count vectors. */
static int set_none(int device, unsigned int index, uint32_t action,
		    uint32_t count)
{
	struct vfio_irq_set s = {
		.argsz = sizeof(s), .index = index, .count = count,
		.flags = VFIO_IRQ_SET_DATA_NONE | action,
	};

	return ioctl_errno(device, VFIO_DEVICE_SET_IRQS, &s);
}

/* Did @efd fire (within @ms)? Consumes the count. */
static bool fired(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t n;

	if (poll(&p, 1, ms) != 1)
		return false;
	return read(efd, &n, sizeof(n)) == sizeof(n) && n > 0;
}

TEST_F(mtty, regions)
{
	struct vfio_region_info info;
	unsigned int i;

	ASSERT_EQ(0, mdev_region_info(self->u.device,
				      VFIO_PCI_CONFIG_REGION_INDEX, &info));
	EXPECT_EQ((__u64)(MTTY_CFG_SIZE), info.size);
	EXPECT_EQ((__u32)(VFIO_REGION_INFO_FLAG_READ |
			  VFIO_REGION_INFO_FLAG_WRITE), info.flags);
	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR1_REGION_INDEX;
	     i++) {
		ASSERT_EQ(0, mdev_region_info(self->u.device, i, &info));
		EXPECT_EQ((__u64)(MTTY_BAR_SIZE), info.size) TH_LOG("BAR%u", i);
	}
	for (i = VFIO_PCI_BAR2_REGION_INDEX; i < VFIO_PCI_NUM_REGIONS; i++) {
		if (i == VFIO_PCI_CONFIG_REGION_INDEX)
			continue;
		ASSERT_EQ(0, mdev_region_info(self->u.device, i, &info));
		EXPECT_EQ(0u, info.size) TH_LOG("region %u", i);
	}
	/* Offsets are distinct per region. */
	EXPECT_NE(self->off[0], self->off[1]);
	EXPECT_NE(self->off[1], self->off[2]);
	EXPECT_EQ(EINVAL, mdev_region_info(self->u.device,
					   VFIO_PCI_NUM_REGIONS, &info));
	/* argsz shorter than the fixed part. */
	info.argsz = 8;
	info.index = 0;
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.device,
				      VFIO_DEVICE_GET_REGION_INFO, &info));
}

TEST_F(mtty, config_space)
{
	uint32_t id, class, bar, mask;
	uint8_t pin, text[15];

	ASSERT_EQ(0, cfg_read(self, 0x00, &id, 4));
	EXPECT_EQ((__u64)(MTTY_ID), id);
	ASSERT_EQ(0, cfg_read(self, 0x08, &class, 4));
	/* Revision 0x10; 16550-compatible serial controller (07/00/02). */
	EXPECT_EQ(0x07000210u, class);
	ASSERT_EQ(0, cfg_read(self, 0x2c, &id, 4));
	EXPECT_EQ((__u64)(MTTY_ID), id);
	ASSERT_EQ(0, cfg_read(self, 0x3d, &pin, 1));
	EXPECT_EQ(1, pin);
	ASSERT_EQ(0, cfg_read(self, 0x60, text, sizeof(text)));
	EXPECT_EQ(0, memcmp(text, "PCI Serial/UART", sizeof(text)));

	/* BAR0 is I/O space; sizing it answers its 8 bytes. */
	ASSERT_EQ(0, cfg_read(self, 0x10, &bar, 4));
	EXPECT_EQ(1u, bar & 1);
	mask = 0xffffffff;
	ASSERT_EQ(0, cfg_write(self, 0x10, &mask, 4));
	ASSERT_EQ(0, cfg_read(self, 0x10, &bar, 4));
	EXPECT_EQ((uint32_t)-MTTY_BAR_SIZE | 1, bar);
	/* BAR2 is not implemented: writes read back as zero. */
	ASSERT_EQ(0, cfg_write(self, 0x18, &mask, 4));
	ASSERT_EQ(0, cfg_read(self, 0x18, &bar, 4));
	EXPECT_EQ(0u, bar);
}

/* Every byte written to THR comes back from RBR, in order. */
TEST_F(mtty, uart_loopback)
{
	static const char msg[] = "vfio mdev!";
	char got[sizeof(msg)] = "";
	unsigned int i;

	ASSERT_EQ(0, uart_write(self, 0, REG_FCR, FCR_FIFO));
	ASSERT_EQ(0, uart_write(self, 0, REG_MCR, MCR_LOOP));
	EXPECT_EQ(MCR_LOOP, uart_read(self, 0, REG_MCR));
	EXPECT_EQ(LSR_THRE | LSR_TEMT, uart_read(self, 0, REG_LSR));

	for (i = 0; i < sizeof(msg) - 1; i++)
		ASSERT_EQ(0, uart_write(self, 0, REG_TX, msg[i]));
	EXPECT_EQ(LSR_DR, uart_read(self, 0, REG_LSR));
	/* The other port's FIFO is its own. */
	EXPECT_EQ(LSR_THRE | LSR_TEMT, uart_read(self, 1, REG_LSR));

	for (i = 0; i < sizeof(msg) - 1; i++)
		got[i] = uart_read(self, 0, REG_RX);
	EXPECT_STREQ(msg, got);
	EXPECT_EQ(LSR_THRE | LSR_TEMT, uart_read(self, 0, REG_LSR));

	/* Clearing the FIFOs drops what was not read. */
	ASSERT_EQ(0, uart_write(self, 1, REG_FCR, FCR_FIFO));
	ASSERT_EQ(0, uart_write(self, 1, REG_TX, 'x'));
	EXPECT_EQ(LSR_DR, uart_read(self, 1, REG_LSR));
	ASSERT_EQ(0, uart_write(self, 1, REG_FCR, FCR_FIFO));
	EXPECT_EQ(LSR_THRE | LSR_TEMT, uart_read(self, 1, REG_LSR));
}

TEST_F(mtty, uart_registers)
{
	ASSERT_EQ(0, uart_write(self, 0, REG_SCR, 0xa5));
	EXPECT_EQ(0xa5, uart_read(self, 0, REG_SCR));
	ASSERT_EQ(0, uart_write(self, 1, REG_SCR, 0x5a));
	EXPECT_EQ(0x5a, uart_read(self, 1, REG_SCR));
	EXPECT_EQ(0xa5, uart_read(self, 0, REG_SCR));

	/* With DLAB set, offsets 0 and 1 are the divisor latch. */
	ASSERT_EQ(0, uart_write(self, 0, REG_LCR, LCR_DLAB | 0x03));
	EXPECT_EQ(LCR_DLAB | 0x03, uart_read(self, 0, REG_LCR));
	ASSERT_EQ(0, uart_write(self, 0, 0, 0x0c));
	ASSERT_EQ(0, uart_write(self, 0, 1, 0x00));
	EXPECT_EQ(0x0c, uart_read(self, 0, 0));
	EXPECT_EQ(0x00, uart_read(self, 0, 1));
	ASSERT_EQ(0, uart_write(self, 0, REG_LCR, 0x03));
	/* No interrupt enabled: none pending, FIFO bits set. */
	EXPECT_EQ(0xc0 | IIR_NO_INT, uart_read(self, 0, REG_IIR));
	ASSERT_EQ(0, uart_write(self, 0, REG_IER, IER_RDI));
	EXPECT_EQ(IER_RDI, uart_read(self, 0, REG_IER));
	ASSERT_EQ(0, uart_write(self, 0, REG_FCR, FCR_FIFO));
	ASSERT_EQ(0, uart_write(self, 0, REG_TX, 'a'));
	EXPECT_EQ(0xc0 | IIR_RDI, uart_read(self, 0, REG_IIR));
	EXPECT_EQ('a', uart_read(self, 0, REG_RX));
}

TEST_F(mtty, irq_info)
{
	struct vfio_irq_info info = { .argsz = sizeof(info) };

	info.index = VFIO_PCI_INTX_IRQ_INDEX;
	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_IRQ_INFO,
				 &info));
	EXPECT_EQ((__u32)(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			  VFIO_IRQ_INFO_AUTOMASKED), info.flags);
	EXPECT_EQ(1u, info.count);
	info.index = VFIO_PCI_MSI_IRQ_INDEX;
	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_IRQ_INFO,
				 &info));
	EXPECT_EQ((__u32)(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE),
		  info.flags);
	EXPECT_EQ(1u, info.count);
	info.index = VFIO_PCI_MSIX_IRQ_INDEX;
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.device,
				      VFIO_DEVICE_GET_IRQ_INFO, &info));
	info.index = VFIO_PCI_NUM_IRQS;
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.device,
				      VFIO_DEVICE_GET_IRQ_INFO, &info));
}

/*
 * INTx: a byte reaching the trigger level fires; the line then stays
 * masked until the user unmasks it.
 */
TEST_F(mtty, intx_eventfd)
{
	int efd = eventfd(0, EFD_NONBLOCK);
	int dev = self->u.device;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, set_trigger_fd(dev, VFIO_PCI_INTX_IRQ_INDEX, efd));
	ASSERT_EQ(0, uart_write(self, 0, REG_FCR, FCR_FIFO));
	ASSERT_EQ(0, uart_write(self, 0, REG_IER, IER_RDI));
	ASSERT_EQ(0, uart_write(self, 0, REG_TX, '1'));
	EXPECT_TRUE(fired(efd, 1000));
	EXPECT_EQ('1', uart_read(self, 0, REG_RX));

	/* Automasked: the next byte does not fire. */
	ASSERT_EQ(0, uart_write(self, 0, REG_TX, '2'));
	EXPECT_FALSE(fired(efd, 200));
	EXPECT_EQ('2', uart_read(self, 0, REG_RX));
	ASSERT_EQ(0, set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_UNMASK, 1));
	ASSERT_EQ(0, uart_write(self, 0, REG_TX, '3'));
	EXPECT_TRUE(fired(efd, 1000));
	EXPECT_EQ('3', uart_read(self, 0, REG_RX));

	/* Masked by the user, a DATA_NONE trigger does nothing. */
	ASSERT_EQ(0, set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_UNMASK, 1));
	ASSERT_EQ(0, set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_MASK, 1));
	ASSERT_EQ(0, set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 1));
	EXPECT_FALSE(fired(efd, 200));
	ASSERT_EQ(0, set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_UNMASK, 1));
	ASSERT_EQ(0, set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 1));
	EXPECT_TRUE(fired(efd, 1000));

	/* MSI cannot be set up while INTx is. */
	EXPECT_EQ(EINVAL, set_trigger_fd(dev, VFIO_PCI_MSI_IRQ_INDEX, efd));
	/* count 0 with DATA_NONE tears INTx down. */
	EXPECT_EQ(0, set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0));
	ASSERT_EQ(0, uart_write(self, 0, REG_TX, '4'));
	EXPECT_FALSE(fired(efd, 200));
	close(efd);
}

/* MSI: every byte that reaches the trigger level fires; no masking. */
TEST_F(mtty, msi_eventfd)
{
	int efd = eventfd(0, EFD_NONBLOCK);
	int dev = self->u.device;
	int i;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, set_trigger_fd(dev, VFIO_PCI_MSI_IRQ_INDEX, efd));
	ASSERT_EQ(0, uart_write(self, 1, REG_FCR, FCR_FIFO));
	ASSERT_EQ(0, uart_write(self, 1, REG_IER, IER_RDI));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, uart_write(self, 1, REG_TX, 'a' + i));
		EXPECT_TRUE(fired(efd, 1000)) TH_LOG("byte %d", i);
		EXPECT_EQ('a' + i, uart_read(self, 1, REG_RX));
	}
	/* MSI has no mask. */
	EXPECT_EQ(ENOTTY, set_none(dev, VFIO_PCI_MSI_IRQ_INDEX,
				   VFIO_IRQ_SET_ACTION_MASK, 1));
	EXPECT_EQ(EINVAL, set_trigger_fd(dev, VFIO_PCI_INTX_IRQ_INDEX, efd));
	ASSERT_EQ(0, set_none(dev, VFIO_PCI_MSI_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, 1));
	EXPECT_TRUE(fired(efd, 1000));
	/* An fd of -1 tears it down, and INTx may be set up again. */
	EXPECT_EQ(0, set_trigger_fd(dev, VFIO_PCI_MSI_IRQ_INDEX, -1));
	ASSERT_EQ(0, uart_write(self, 1, REG_TX, 'z'));
	EXPECT_FALSE(fired(efd, 200));
	EXPECT_EQ(0, set_trigger_fd(dev, VFIO_PCI_INTX_IRQ_INDEX, efd));
	EXPECT_EQ(0, set_trigger_fd(dev, VFIO_PCI_INTX_IRQ_INDEX, -1));
	close(efd);
}

/* The core's checks of the SET_IRQS header, before mtty sees it. */
TEST_F(mtty, set_irqs_validation)
{
	struct {
		struct vfio_irq_set set;
		int32_t fd[2];
	} s;
	int dev = self->u.device;

	memset(&s, 0, sizeof(s));
	s.set = (struct vfio_irq_set) {
		.argsz = sizeof(s.set) - 1, .index = VFIO_PCI_INTX_IRQ_INDEX,
		.count = 1,
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
	};
	EXPECT_EQ(EINVAL, ioctl_errno(dev, VFIO_DEVICE_SET_IRQS, &s));
	s.set.argsz = sizeof(s.set);
	s.set.index = VFIO_PCI_NUM_IRQS;
	EXPECT_EQ(EINVAL, ioctl_errno(dev, VFIO_DEVICE_SET_IRQS, &s));
	s.set.index = VFIO_PCI_INTX_IRQ_INDEX;
	/*
	 * Two data types, an unknown flag. (Two actions at once are the
	 * driver's to refuse: the core lets them through, and mtty ignores
	 * them.)
	 */
	s.set.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL |
		      VFIO_IRQ_SET_ACTION_TRIGGER;
	EXPECT_EQ(EINVAL, ioctl_errno(dev, VFIO_DEVICE_SET_IRQS, &s));
	s.set.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER |
		      0x100;
	EXPECT_EQ(EINVAL, ioctl_errno(dev, VFIO_DEVICE_SET_IRQS, &s));
	/* Eventfd data longer than argsz leaves room for. */
	s.set.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	s.set.argsz = sizeof(s.set) + 2;
	EXPECT_EQ(EINVAL, ioctl_errno(dev, VFIO_DEVICE_SET_IRQS, &s));
	/* More vectors than mtty has: the core passes it, mtty refuses. */
	s.set.argsz = sizeof(s);
	s.set.count = 2;
	s.fd[0] = s.fd[1] = -1;
	EXPECT_EQ(EINVAL, ioctl_errno(dev, VFIO_DEVICE_SET_IRQS, &s));
	/* start + count past the core's bound, and wrapping. */
	s.set.count = 1;
	s.set.start = 5;
	EXPECT_EQ(EINVAL, ioctl_errno(dev, VFIO_DEVICE_SET_IRQS, &s));
	s.set.start = 1;
	s.set.count = 0xffffffff;
	EXPECT_EQ(EINVAL, ioctl_errno(dev, VFIO_DEVICE_SET_IRQS, &s));
	s.set.start = 0;
	/* MSI-X and the error/request indexes are not mtty's. */
	s.set.count = 1;
	s.set.index = VFIO_PCI_MSIX_IRQ_INDEX;
	EXPECT_EQ(ENOTTY, ioctl_errno(dev, VFIO_DEVICE_SET_IRQS, &s));
	s.set.index = VFIO_PCI_REQ_IRQ_INDEX;
	EXPECT_EQ(ENOTTY, ioctl_errno(dev, VFIO_DEVICE_SET_IRQS, &s));
}

TEST_F(mtty, reset)
{
	EXPECT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_RESET, NULL));
	ASSERT_EQ(0, uart_write(self, 0, REG_SCR, 0x42));
	EXPECT_EQ(0x42, uart_read(self, 0, REG_SCR));
}

/* A single-port instance has BAR0 only. */
TEST(single_port)
{
	struct vfio_region_info info;
	struct mdev_user u;

	ASSERT_EQ(0, mdev_load("mtty"));
	mdev_remove_all();
	ASSERT_EQ(0, mdev_user_open(&u, "mtty-1", 0x201));
	ASSERT_EQ(0, mdev_region_info(u.device, VFIO_PCI_BAR0_REGION_INDEX,
				      &info));
	EXPECT_EQ((__u64)(MTTY_BAR_SIZE), info.size);
	ASSERT_EQ(0, mdev_region_info(u.device, VFIO_PCI_BAR1_REGION_INDEX,
				      &info));
	EXPECT_EQ(0u, info.size);
	EXPECT_EQ(0, mdev_user_close(&u));
	EXPECT_EQ(0, mdev_unload("mtty"));
}

TEST_HARNESS_MAIN
