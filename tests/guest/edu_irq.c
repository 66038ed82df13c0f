// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=irqs
/*
 * Interrupts through SET_IRQS: edu raises INTx or MSI when a factorial
 * completes, and the user hears it on an eventfd.
 */
#include <poll.h>
#include <sys/eventfd.h>

#include "edu.h"
#include "irqs.h"
#include "kselftest_harness.h"
#include "pci_test.h"

FIXTURE(irq) {
	struct edu edu;
	int efd;
};

FIXTURE_SETUP(irq)
{
	ASSERT_EQ(0, edu_open(&self->edu)) TH_LOG("edu via vfio: %m");
	self->efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(irq)
{
	close(self->efd);
	vfio_user_close(&self->edu.u);
}

TEST_F(irq, irq_info)
{
	struct vfio_irq_info info = { .argsz = sizeof(info) };

	info.index = VFIO_PCI_INTX_IRQ_INDEX;
	ASSERT_EQ(0, ioctl(self->edu.u.device, VFIO_DEVICE_GET_IRQ_INFO, &info));
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
		  VFIO_IRQ_INFO_AUTOMASKED, info.flags);
	info.index = VFIO_PCI_MSI_IRQ_INDEX;
	ASSERT_EQ(0, ioctl(self->edu.u.device, VFIO_DEVICE_GET_IRQ_INFO, &info));
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, info.flags);
}

TEST_F(irq, intx_trigger_and_unmask)
{
	ASSERT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &self->efd));
	EXPECT_EQ(0, edu_intx_automask(&self->edu, self->efd));

	/* Disable: count 0, no data. */
	EXPECT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL));
}

/* A new eventfd replaces the old one while INTx stays enabled. */
TEST_F(irq, intx_trigger_replaced)
{
	int other = eventfd(0, EFD_NONBLOCK);

	ASSERT_LE(0, other);
	ASSERT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &self->efd));
	ASSERT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &other));
	ASSERT_TRUE(edu_factorial_irq(&self->edu, 3));
	EXPECT_LE(1, wait_eventfd(other, 2000));
	EXPECT_EQ(0, wait_eventfd(self->efd, 0));
	edu_ack(&self->edu);
	close(other);
}

/* An unmask eventfd (virqfd) does what the UNMASK ioctl does. */
TEST_F(irq, intx_unmask_by_eventfd)
{
	int unmask = eventfd(0, 0);
	uint64_t one = 1;

	ASSERT_LE(0, unmask);
	ASSERT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &self->efd));
	ASSERT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, &unmask));
	ASSERT_TRUE(edu_factorial_irq(&self->edu, 3));
	EXPECT_LE(1, wait_eventfd(self->efd, 2000));
	edu_ack(&self->edu);
	ASSERT_TRUE(edu_factorial_irq(&self->edu, 3));
	EXPECT_EQ(0, wait_eventfd(self->efd, 300));
	ASSERT_EQ(8, write(unmask, &one, 8));
	EXPECT_LE(1, wait_eventfd(self->efd, 2000));
	edu_ack(&self->edu);
	close(unmask);
}

TEST_F(irq, msi_trigger)
{
	ASSERT_EQ(0, edu_command_set(&self->edu, 0x4));	/* bus master */
	ASSERT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_MSI_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &self->efd));
	ASSERT_TRUE(edu_factorial_irq(&self->edu, 6));
	EXPECT_LE(1, wait_eventfd(self->efd, 2000));
	EXPECT_EQ(720, edu_read32(&self->edu, EDU_FACTORIAL));
	edu_ack(&self->edu);
	/* MSI is edge: no unmask needed for the next one. */
	ASSERT_TRUE(edu_factorial_irq(&self->edu, 2));
	EXPECT_LE(1, wait_eventfd(self->efd, 2000));
	edu_ack(&self->edu);
	EXPECT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_MSI_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL));
}

static int edu_command_clear(struct edu *edu, uint16_t bits)
{
	uint16_t cmd;

	if (pread(edu->u.device, &cmd, 2, edu->config + 4) != 2)
		return -errno;
	cmd &= ~bits;
	return pwrite(edu->u.device, &cmd, 2, edu->config + 4) == 2 ? 0 : -errno;
}

/*
 * INTx disable in the (virtual) command register masks the user's INTx;
 * clearing it unmasks, and a line still asserted is then heard.
 */
TEST_F(irq, intx_masked_by_command)
{
	ASSERT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &self->efd));
	ASSERT_EQ(0, edu_command_set(&self->edu, 0x400));
	ASSERT_TRUE(edu_factorial_irq(&self->edu, 3));
	EXPECT_EQ(0, wait_eventfd(self->efd, 300));
	ASSERT_EQ(0, edu_command_clear(&self->edu, 0x400));
	EXPECT_LE(1, wait_eventfd(self->efd, 2000));
	edu_ack(&self->edu);
	EXPECT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, NULL));
}

/* The command register as the hardware has it (not the user's view). */
static uint16_t real_command(const char *bdf)
{
	char path[PATH_MAX];
	uint16_t cmd = 0xffff;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0xffff;
	if (pread(fd, &cmd, 2, 4) != 2)
		cmd = 0xffff;
	close(fd);
	return cmd;
}

/* MASK by ioctl (no data, or a true bool); a mask eventfd is refused. */
TEST_F(irq, intx_mask_ioctl)
{
	uint8_t yes = 1;
	int32_t fd = self->efd;
	char buf[sizeof(struct vfio_irq_set) + 1];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	/* Not before INTx is enabled. */
	EXPECT_EQ(EINVAL, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
				   VFIO_IRQ_SET_DATA_NONE |
				   VFIO_IRQ_SET_ACTION_MASK, 0, 1, NULL));
	ASSERT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &self->efd));
	EXPECT_EQ(ENOTTY, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
				   VFIO_IRQ_SET_DATA_EVENTFD |
				   VFIO_IRQ_SET_ACTION_MASK, 0, 1, &fd));

	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK;
	set->index = VFIO_PCI_INTX_IRQ_INDEX;
	set->start = 0;
	set->count = 1;
	set->data[0] = yes;
	ASSERT_EQ(0, ioctl(self->edu.u.device, VFIO_DEVICE_SET_IRQS, set));
	/* edu masks INTx itself (PCI 2.3): DisINTx is what masks it. */
	EXPECT_EQ(0x400, real_command(self->edu.u.bdf) & 0x400);
	ASSERT_TRUE(edu_factorial_irq(&self->edu, 3));
	EXPECT_EQ(0, wait_eventfd(self->efd, 300));
	EXPECT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, NULL));
	EXPECT_LE(1, wait_eventfd(self->efd, 2000));
	edu_ack(&self->edu);

	/* Loopback: DATA_NONE on TRIGGER signals the eventfd. */
	EXPECT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, NULL));
	EXPECT_EQ(1, wait_eventfd(self->efd, 0));
}

/* Closing the device with INTx on releases the host IRQ. */
TEST_F(irq, intx_released_on_close)
{
	char line[512];
	int found = 0;
	FILE *f;

	ASSERT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &self->efd));
	close(self->edu.u.device);
	self->edu.u.device = -1;
	f = fopen("/proc/interrupts", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "vfio-intx"))
			found++;
	fclose(f);
	EXPECT_EQ(0, found);
}

/*
 * With nointxmask, DisINTx is not used: the handler disables the host
 * IRQ instead, until the user unmasks. The user sees the same thing.
 */
TEST_F(irq, intx_nointxmask)
{
	char bdf[32];
	bool ok;

	snprintf(bdf, sizeof(bdf), "%s", self->edu.u.bdf);
	vfio_user_close(&self->edu.u);
	ASSERT_EQ(0, pci_bind(bdf, ""));
	ASSERT_EQ(0, reload_vfio_pci("nointxmask=1"));
	ok = !edu_open(&self->edu);
	EXPECT_TRUE(ok);
	if (ok) {
		EXPECT_EQ(0, vfio_set_irqs(self->edu.u.device,
				      VFIO_PCI_INTX_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_EVENTFD |
				      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
				      &self->efd));
		EXPECT_TRUE(edu_factorial_irq(&self->edu, 4));
		EXPECT_LE(1, wait_eventfd(self->efd, 2000));
		edu_ack(&self->edu);
		EXPECT_TRUE(edu_factorial_irq(&self->edu, 3));
		EXPECT_EQ(0, wait_eventfd(self->efd, 300));
		/* Masked, but not by DisINTx. */
		EXPECT_EQ(0, real_command(bdf) & 0x400);
		EXPECT_EQ(0, vfio_set_irqs(self->edu.u.device,
				      VFIO_PCI_INTX_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_NONE |
				      VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, NULL));
		EXPECT_LE(1, wait_eventfd(self->efd, 2000));
		edu_ack(&self->edu);
		EXPECT_EQ(0, vfio_set_irqs(self->edu.u.device,
				      VFIO_PCI_INTX_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_NONE |
				      VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, NULL));
	}
	/* Put the module back as it was, the device unbound. */
	vfio_user_close(&self->edu.u);
	EXPECT_EQ(0, pci_bind(bdf, ""));
	EXPECT_EQ(0, reload_vfio_pci(""));
}

/* While MSI is enabled INTx cannot be, and the reverse. */
TEST_F(irq, intx_and_msi_exclude_each_other)
{
	ASSERT_EQ(0, vfio_set_irqs(self->edu.u.device, VFIO_PCI_MSI_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_EVENTFD |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &self->efd));
	EXPECT_EQ(EINVAL, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
				   VFIO_IRQ_SET_DATA_EVENTFD |
				   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
				   &self->efd));
}

TEST_F(irq, set_irqs_errors)
{
	int32_t null = open("/dev/null", O_RDONLY);

	/* Index past the device's interrupt types. */
	EXPECT_EQ(EINVAL, vfio_set_irqs(self->edu.u.device, VFIO_PCI_NUM_IRQS,
				   VFIO_IRQ_SET_DATA_NONE |
				   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, NULL));
	/* More vectors than MSI has here. */
	EXPECT_EQ(EINVAL, vfio_set_irqs(self->edu.u.device, VFIO_PCI_MSI_IRQ_INDEX,
				   VFIO_IRQ_SET_DATA_EVENTFD |
				   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2,
				   (int32_t[]){ self->efd, self->efd }));
	/* Not an eventfd. (A negative fd means "none", not an error.) */
	EXPECT_EQ(EINVAL, vfio_set_irqs(self->edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
				   VFIO_IRQ_SET_DATA_EVENTFD |
				   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &null));
	close(null);
}

TEST_HARNESS_MAIN
