// SPDX-License-Identifier: GPL-2.0-only
/*
 * SET_IRQS on a PCIe endpoint: MSI-X vectors of QEMU's e1000e (5 table
 * entries) enabled, detached, added while enabled and delivered; the
 * error and request eventfds, the latter fired by an unbind while the
 * device is held.
 */
// harness: machine=q35-pcie timeout=120 feature=irqs
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

#include "irqs.h"
#include "pci_test.h"
#include "kselftest_harness.h"
#include "e1000e.h"

#define NIC_MSIX_COUNT	5

/* e1000e registers (BAR0) used to raise an interrupt cause. */

#define REGION_OFF(i)	((uint64_t)(i) << 40)
#define CFG_OFF(x)	(REGION_OFF(VFIO_PCI_CONFIG_REGION_INDEX) + (x))

/* Host IRQs with a handler requested for one of the user's vectors. */
static int requested(const char *bdf)
{
	return irq_lines(bdf, "vfio-msix[");
}

static int bar0_w32(int device, uint32_t off, uint32_t v)
{
	return pwrite(device, &v, 4, REGION_OFF(0) + off) == 4 ? 0 : errno;
}

FIXTURE(nic) {
	struct vfio_user u;
	bool type1;
	int efd[3];
};

FIXTURE_SETUP(nic)
{
	int ret, i;

	ret = pci_user_open(&self->u, &self->type1, NIC_VENDOR, NIC_DEVICE);
	ASSERT_EQ(0, ret) TH_LOG("open e1000e: %s", strerror(-ret));
	for (i = 0; i < 3; i++) {
		self->efd[i] = eventfd(0, EFD_NONBLOCK);
		ASSERT_LE(0, self->efd[i]);
	}
}

FIXTURE_TEARDOWN(nic)
{
	int i;

	for (i = 0; i < 3; i++)
		close(self->efd[i]);
	pci_user_close(&self->u, &self->type1);
}

/*
 * Vectors come and go with SET_IRQS: enabling allocates start + count,
 * -1 detaches a vector's eventfd but keeps it allocated, a vector past
 * those allocated is added while enabled (dynamic MSI-X: the e1000e
 * reports no NORESIZE), and count 0 with no data frees all.
 */
TEST_F(nic, msix_vectors)
{
	int dev = self->u.device;
	const char *bdf = self->u.bdf;
	int32_t none = -1;

	EXPECT_EQ(0, msi_irqs(bdf));
	ASSERT_EQ(0, vfio_irq_trigger(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2,
				      self->efd));
	EXPECT_EQ(2, msi_irqs(bdf));
	EXPECT_EQ(2, requested(bdf));

	EXPECT_EQ(0, vfio_irq_trigger(dev, VFIO_PCI_MSIX_IRQ_INDEX, 1, 1,
				      &none));
	EXPECT_EQ(2, msi_irqs(bdf));
	EXPECT_EQ(1, requested(bdf));

	EXPECT_EQ(0, vfio_irq_trigger(dev, VFIO_PCI_MSIX_IRQ_INDEX, 4, 1,
				      &self->efd[2]));
	EXPECT_EQ(3, msi_irqs(bdf));
	EXPECT_EQ(2, requested(bdf));

	/* Past the table; and the other kinds are excluded meanwhile. */
	EXPECT_EQ(EINVAL, vfio_irq_trigger(dev, VFIO_PCI_MSIX_IRQ_INDEX, 5, 1,
					   self->efd));
	EXPECT_EQ(EINVAL, vfio_irq_trigger(dev, VFIO_PCI_MSI_IRQ_INDEX, 0, 1,
					   self->efd));
	EXPECT_EQ(EINVAL, vfio_irq_trigger(dev, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
					   self->efd));
	/* MSI-X vectors cannot be masked through SET_IRQS. */
	EXPECT_EQ(ENOTTY, vfio_set_irqs(dev, VFIO_PCI_MSIX_IRQ_INDEX,
				   VFIO_IRQ_SET_DATA_NONE |
				   VFIO_IRQ_SET_ACTION_MASK, 0, 1, NULL));

	EXPECT_EQ(0, vfio_irqs_off(dev, VFIO_PCI_MSIX_IRQ_INDEX));
	EXPECT_EQ(0, msi_irqs(bdf));
	EXPECT_EQ(0, requested(bdf));

	/* Then MSI can have its turn. */
	EXPECT_EQ(0, vfio_irq_trigger(dev, VFIO_PCI_MSI_IRQ_INDEX, 0, 1,
				      self->efd));
	EXPECT_EQ(1, msi_irqs(bdf));
	EXPECT_EQ(0, vfio_irqs_off(dev, VFIO_PCI_MSI_IRQ_INDEX));
	EXPECT_EQ(0, msi_irqs(bdf));
}

/* DATA_NONE and DATA_BOOL signal the vectors' eventfds (loopback). */
TEST_F(nic, msix_loopback)
{
	int dev = self->u.device;
	uint8_t bools[2] = { 0, 1 };

	ASSERT_EQ(0, vfio_irq_trigger(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2,
				      self->efd));
	EXPECT_EQ(0, vfio_set_irqs(dev, VFIO_PCI_MSIX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, NULL));
	EXPECT_EQ(1, wait_eventfd(self->efd[0], 0));
	EXPECT_EQ(0, wait_eventfd(self->efd[1], 0));
	EXPECT_EQ(0, vfio_set_irqs(dev, VFIO_PCI_MSIX_IRQ_INDEX,
			      VFIO_IRQ_SET_DATA_BOOL |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2, bools));
	EXPECT_EQ(0, wait_eventfd(self->efd[0], 0));
	EXPECT_EQ(1, wait_eventfd(self->efd[1], 0));
	EXPECT_EQ(0, vfio_irqs_off(dev, VFIO_PCI_MSIX_IRQ_INDEX));
}

/*
 * The e1000e raises a cause set through ICS on the MSI-X vector IVAR
 * maps it to: vector 1 here, heard on its eventfd and not on vector 0's.
 */
TEST_F(nic, msix_delivery)
{
	int dev = self->u.device;
	uint16_t cmd = 0x6;	/* memory decode, bus master */

	ASSERT_EQ(2, pwrite(dev, &cmd, 2, CFG_OFF(0x04)));
	ASSERT_EQ(0, vfio_irq_trigger(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2,
				      self->efd));
	ASSERT_EQ(0, e1000e_msix_raise(dev, REGION_OFF(0), 1));
	EXPECT_LE(1, wait_eventfd(self->efd[1], 2000));
	EXPECT_EQ(0, wait_eventfd(self->efd[0], 0));

	/* Another eventfd on the same vector, while enabled. */
	ASSERT_EQ(0, bar0_w32(dev, E1000_ICR, 0xffffffff));
	ASSERT_EQ(0, vfio_irq_trigger(dev, VFIO_PCI_MSIX_IRQ_INDEX, 1, 1,
				      &self->efd[2]));
	wait_eventfd(self->efd[1], 300);	/* a late double, if any */
	ASSERT_EQ(0, bar0_w32(dev, E1000_ICS, E1000_ICR_RXQ0));
	EXPECT_LE(1, wait_eventfd(self->efd[2], 2000));
	EXPECT_EQ(0, wait_eventfd(self->efd[1], 0));

	/*
	 * Detached, the vector is heard no more. (QEMU's e1000e may send
	 * a cause twice: what came before the detach is drained.)
	 */
	ASSERT_EQ(0, bar0_w32(dev, E1000_ICR, 0xffffffff));
	EXPECT_EQ(0, vfio_irq_trigger(dev, VFIO_PCI_MSIX_IRQ_INDEX, 1, 1,
				      (int32_t[]){ -1 }));
	wait_eventfd(self->efd[2], 300);
	ASSERT_EQ(0, bar0_w32(dev, E1000_ICS, E1000_ICR_RXQ0));
	EXPECT_EQ(0, wait_eventfd(self->efd[2], 300));

	ASSERT_EQ(0, bar0_w32(dev, E1000_IMC, 0xffffffff));
	EXPECT_EQ(0, vfio_irqs_off(dev, VFIO_PCI_MSIX_IRQ_INDEX));
}

/* Closing the device with MSI-X on frees its vectors. */
TEST_F(nic, msix_released_on_close)
{
	ASSERT_EQ(0, vfio_irq_trigger(self->u.device, VFIO_PCI_MSIX_IRQ_INDEX,
				      0, 3, self->efd));
	EXPECT_EQ(3, msi_irqs(self->u.bdf));
	close(self->u.device);
	self->u.device = -1;
	EXPECT_EQ(0, msi_irqs(self->u.bdf));
	EXPECT_EQ(0, requested(self->u.bdf));
}

/* ERR and REQ: one eventfd each, which DATA_NONE/DATA_BOOL can signal. */
TEST_F(nic, err_req_loopback)
{
	static const uint32_t index[] = { VFIO_PCI_ERR_IRQ_INDEX,
					  VFIO_PCI_REQ_IRQ_INDEX };
	int dev = self->u.device;
	uint8_t yes = 1;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		/* Nothing to signal yet. */
		EXPECT_EQ(EINVAL, vfio_set_irqs(dev, index[i],
					   VFIO_IRQ_SET_DATA_NONE |
					   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
					   NULL));
		EXPECT_EQ(0, vfio_irq_trigger(dev, index[i], 0, 1, self->efd));
		EXPECT_EQ(0, vfio_set_irqs(dev, index[i], VFIO_IRQ_SET_DATA_NONE |
				      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
				      NULL));
		EXPECT_EQ(1, wait_eventfd(self->efd[0], 0));
		EXPECT_EQ(0, vfio_set_irqs(dev, index[i], VFIO_IRQ_SET_DATA_BOOL |
				      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
				      &yes));
		EXPECT_EQ(1, wait_eventfd(self->efd[0], 0));
		/* One only, and no masking. */
		EXPECT_EQ(EINVAL, vfio_irq_trigger(dev, index[i], 0, 2,
						   self->efd));
		EXPECT_EQ(ENOTTY, vfio_set_irqs(dev, index[i],
					   VFIO_IRQ_SET_DATA_NONE |
					   VFIO_IRQ_SET_ACTION_MASK, 0, 1,
					   NULL));
		/* Count 0, no data: gone. */
		EXPECT_EQ(0, vfio_irqs_off(dev, index[i]));
		EXPECT_EQ(EINVAL, vfio_set_irqs(dev, index[i],
					   VFIO_IRQ_SET_DATA_NONE |
					   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
					   NULL));
	}
}

/*
 * Unbinding the device while it is held asks the user, through the REQ
 * eventfd, to let it go; closing it lets the unbind finish.
 */
TEST_F(nic, req_on_unbind)
{
	char path[PATH_MAX], drv[64];
	int status = -1;
	pid_t pid;

	ASSERT_EQ(0, vfio_irq_trigger(self->u.device, VFIO_PCI_REQ_IRQ_INDEX, 0,
				      1, self->efd));
	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/driver/unbind", self->u.bdf);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Its copy of the device file would hold the device too. */
		close(self->u.device);
		_exit(sysfs_write(path, self->u.bdf) ? 1 : 0);
	}

	EXPECT_LE(1, wait_eventfd(self->efd[0], 5000));
	close(self->u.device);
	self->u.device = -1;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	pci_driver(self->u.bdf, drv);
	EXPECT_STREQ("", drv);
}

TEST_HARNESS_MAIN
