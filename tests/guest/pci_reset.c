// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hot reset (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, VFIO_DEVICE_PCI_HOT_RESET)
 * with edu and pci-testdev behind one PCIe-to-PCI bridge: the bus reset
 * reaches every function behind it, so the user must hold the group of
 * them all, and all must be bound to vfio-pci. Members of the group that
 * a host driver holds (a virtio-rng) are moved to vfio-pci for a case,
 * and given back after it.
 */
// harness: machine=q35-shared-group timeout=120 feature=reset
#include <dirent.h>
#include <stddef.h>
#include <sys/mman.h>

#include <linux/pci_regs.h>

#include "edu.h"
#include "pci_test.h"
#include "kselftest_harness.h"

#define EDU_ID_VALUE	0x010000edU
#define MAX_DEPS	8
#define CFG_OFF(x)	(((uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) + (x))

FIXTURE(hot) {
	char edu[32];
	char testdev[32];
	int group_id;
	int container;
	int group;
	int device;
	/* Other members, moved from their host driver to vfio-pci. */
	struct pci_moved moved;
	bool type1;
};

FIXTURE_SETUP(hot)
{
	self->type1 = pci_test_get_type1();
	self->container = self->group = self->device = -1;
	self->moved.n = 0;
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->edu));
	ASSERT_EQ(0, pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0,
			      self->testdev));
	ASSERT_EQ(0, pci_bind(self->edu, "vfio-pci"));
	ASSERT_EQ(0, pci_bind(self->testdev, "vfio-pci"));
	self->group_id = pci_iommu_group(self->edu);
	ASSERT_LE(0, self->group_id);
	pci_group_move(&self->moved, self->group_id, "vfio-pci",
		       self->edu, self->testdev);

	self->container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_LE(0, self->container);
	self->group = vfio_group_open(self->group_id);
	ASSERT_LE(0, self->group);
	ASSERT_EQ(0, ioctl_errno(self->group, VFIO_GROUP_SET_CONTAINER,
				 &self->container));
	ASSERT_EQ(0, ioctl_errno(self->container, VFIO_SET_IOMMU,
				 (void *)VFIO_TYPE1v2_IOMMU));
	self->device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->edu);
	ASSERT_LE(0, self->device);
}

FIXTURE_TEARDOWN(hot)
{
	if (self->device >= 0)
		close(self->device);
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	if (self->edu[0])
		pci_bind(self->edu, "");
	if (self->testdev[0])
		pci_bind(self->testdev, "");
	pci_group_restore(&self->moved);
	pci_test_put_type1(self->type1);
}

struct info {
	struct vfio_pci_hot_reset_info hdr;
	struct vfio_pci_dependent_device devs[MAX_DEPS];
};

struct reset {
	struct vfio_pci_hot_reset hdr;
	int32_t fds[MAX_DEPS];
};

/* Is the function named @bdf among the @n dependent devices? */
static bool listed(const struct vfio_pci_dependent_device *devs, int n,
		   const char *bdf)
{
	unsigned int seg, bus, dev, fn;
	int i;

	if (sscanf(bdf, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4)
		return false;
	for (i = 0; i < n; i++)
		if (devs[i].segment == seg && devs[i].bus == bus &&
		    devs[i].devfn == ((dev << 3) | fn))
			return true;
	return false;
}

TEST_F(hot, info_lists_the_bus)
{
	struct info info = { .hdr.argsz = sizeof(info) };
	int i;

	ASSERT_EQ(0, ioctl_errno(self->device,
				 VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));
	EXPECT_EQ(0u, info.hdr.flags);
	ASSERT_LE(2u, info.hdr.count);
	ASSERT_GE((unsigned int)MAX_DEPS, info.hdr.count);
	EXPECT_TRUE(listed(info.devs, info.hdr.count, self->edu));
	EXPECT_TRUE(listed(info.devs, info.hdr.count, self->testdev));
	for (i = 0; i < (int)info.hdr.count; i++)
		EXPECT_EQ((uint32_t)self->group_id, info.devs[i].group_id);
}

/* Too small an array: ENOSPC, with the count needed. */
TEST_F(hot, info_enospc)
{
	struct info info = { .hdr.argsz = sizeof(info.hdr) };
	struct info full = { .hdr.argsz = sizeof(full) };

	ASSERT_EQ(0, ioctl_errno(self->device,
				 VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &full));
	EXPECT_EQ(ENOSPC, ioctl_errno(self->device,
				      VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
				      &info));
	EXPECT_EQ(full.hdr.count, info.hdr.count);

	/* One entry short. */
	info.hdr.argsz = sizeof(info.hdr) +
			 (full.hdr.count - 1) * sizeof(info.devs[0]);
	info.hdr.count = 0;
	EXPECT_EQ(ENOSPC, ioctl_errno(self->device,
				      VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
				      &info));
	EXPECT_EQ(full.hdr.count, info.hdr.count);

	info.hdr.argsz = sizeof(info.hdr) - 1;
	EXPECT_EQ(EINVAL, ioctl_errno(self->device,
				      VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
				      &info));
}

/* The group fd proves ownership of the whole bus: the reset is done. */
TEST_F(hot, reset_with_group)
{
	struct reset r = {
		.hdr.argsz = sizeof(r.hdr) + sizeof(int32_t),
		.hdr.count = 1,
		.fds[0] = self->group,
	};
	long long bar0 = vfio_region_offset(self->device,
					    VFIO_PCI_BAR0_REGION_INDEX);
	volatile uint32_t *regs;
	uint16_t cmd;
	uint32_t id = 0;

	ASSERT_LE(0, bar0);
	ASSERT_EQ(2, pread(self->device, &cmd, 2, CFG_OFF(PCI_COMMAND)));
	cmd |= PCI_COMMAND_MEMORY;
	ASSERT_EQ(2, pwrite(self->device, &cmd, 2, CFG_OFF(PCI_COMMAND)));
	regs = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		    self->device, bar0);
	ASSERT_NE(MAP_FAILED, regs);
	EXPECT_EQ(EDU_ID_VALUE, regs[0]);

	EXPECT_EQ(0, ioctl_errno(self->device, VFIO_DEVICE_PCI_HOT_RESET, &r));

	/* The device works after it, through read() and the mapping. */
	ASSERT_EQ(4, pread(self->device, &id, 4, bar0));
	EXPECT_EQ(EDU_ID_VALUE, id);
	EXPECT_EQ(EDU_ID_VALUE, regs[0]);
	munmap((void *)regs, 4096);
}

/* Both functions open by this user: the reset covers both. */
TEST_F(hot, reset_with_both_open)
{
	struct reset r = {
		.hdr.argsz = sizeof(r.hdr) + sizeof(int32_t),
		.hdr.count = 1,
		.fds[0] = self->group,
	};
	uint32_t ids = 0;
	int testdev;

	testdev = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->testdev);
	ASSERT_LE(0, testdev);
	EXPECT_EQ(0, ioctl_errno(testdev, VFIO_DEVICE_PCI_HOT_RESET, &r));
	EXPECT_EQ(0, ioctl_errno(self->device, VFIO_DEVICE_PCI_HOT_RESET, &r));
	ASSERT_EQ(4, pread(testdev, &ids, 4, CFG_OFF(PCI_VENDOR_ID)));
	EXPECT_EQ(TESTDEV_VENDOR | TESTDEV_DEVICE << 16, (int)ids);
	close(testdev);
}

TEST_F(hot, reset_bad_arguments)
{
	struct reset r = {
		.hdr.argsz = sizeof(r.hdr) + sizeof(int32_t),
		.hdr.count = 1,
		.fds[0] = self->group,
	};

	/* No fds at all: a group-opened device must show its groups. */
	r.hdr.count = 0;
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_PCI_HOT_RESET,
				      &r));
	r.hdr.count = 1;
	r.hdr.flags = 1;
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_PCI_HOT_RESET,
				      &r));
	r.hdr.flags = 0;
	r.hdr.argsz = sizeof(r.hdr) - 1;
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_PCI_HOT_RESET,
				      &r));
	r.hdr.argsz = sizeof(r);
	/* More fds than functions on the bus. */
	r.hdr.count = MAX_DEPS;
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_PCI_HOT_RESET,
				      &r));
	r.hdr.count = 1;
	/* Not an fd; not a group fd. */
	r.fds[0] = 1000;
	EXPECT_EQ(EBADF, ioctl_errno(self->device, VFIO_DEVICE_PCI_HOT_RESET,
				     &r));
	r.fds[0] = self->container;
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_PCI_HOT_RESET,
				      &r));
	r.fds[0] = self->device;
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_PCI_HOT_RESET,
				      &r));
}

/*
 * A function on the bus that no VFIO driver holds (here pci-testdev,
 * unbound) would be reset behind its driver's back: refused.
 */
TEST_F(hot, reset_refused_with_function_outside_vfio)
{
	struct reset r = {
		.hdr.argsz = sizeof(r.hdr) + sizeof(int32_t),
		.hdr.count = 1,
		.fds[0] = self->group,
	};

	ASSERT_EQ(0, pci_bind(self->testdev, ""));
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_PCI_HOT_RESET,
				      &r));
}

TEST_HARNESS_MAIN
