// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci with edu and pci-testdev behind one PCIe-to-PCI bridge: one
 * IOMMU group, two devices; and the bridge itself, which vfio-pci must
 * refuse. Other members of the group that a host driver holds are
 * unbound for the duration of a case.
 */
// harness: machine=q35-shared-group feature=pci
#include <dirent.h>
#include <stddef.h>

#include <linux/pci_regs.h>

#include "pci_test.h"
#include "kselftest_harness.h"

#define BRIDGE_VENDOR	0x1b36
#define BRIDGE_DEVICE	0x000e	/* QEMU's pcie-pci-bridge */

#define CFG_OFF(x)	(((uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) + (x))

FIXTURE(shared) {
	char edu[32];
	char testdev[32];
	int container;
	int group;
	/* Other members a host driver had, unbound here, rebound after. */
	struct pci_moved parked;
	bool type1;
};

FIXTURE_SETUP(shared)
{
	int group_id;

	self->type1 = pci_test_get_type1();
	self->container = self->group = -1;
	self->parked.n = 0;
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->edu));
	ASSERT_EQ(0, pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0,
			      self->testdev));
	ASSERT_EQ(0, pci_bind(self->edu, "vfio-pci"));
	ASSERT_EQ(0, pci_bind(self->testdev, "vfio-pci"));
	group_id = pci_iommu_group(self->edu);
	ASSERT_LE(0, group_id);
	ASSERT_EQ(group_id, pci_iommu_group(self->testdev));
	/* A host driver in the group makes it non-viable: park it. */
	pci_group_move(&self->parked, group_id, "", NULL, NULL);

	self->container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_LE(0, self->container);
	self->group = vfio_group_open(group_id);
	ASSERT_LE(0, self->group);
	ASSERT_EQ(0, ioctl_errno(self->group, VFIO_GROUP_SET_CONTAINER,
				 &self->container));
	ASSERT_EQ(0, ioctl_errno(self->container, VFIO_SET_IOMMU,
				 (void *)VFIO_TYPE1v2_IOMMU));
}

FIXTURE_TEARDOWN(shared)
{
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	if (self->edu[0])
		pci_bind(self->edu, "");
	if (self->testdev[0])
		pci_bind(self->testdev, "");
	pci_group_restore(&self->parked);
	pci_test_put_type1(self->type1);
}

/* Both functions of the group open at once, each with its own view. */
TEST_F(shared, both_devices)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint32_t ids = 0;
	int edu, testdev;

	edu = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->edu);
	ASSERT_LE(0, edu);
	testdev = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->testdev);
	ASSERT_LE(0, testdev);

	ASSERT_EQ(0, ioctl_errno(edu, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_NE(0U, info.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_EQ(VFIO_PCI_NUM_REGIONS, (int)info.num_regions);

	ASSERT_EQ(4, pread(edu, &ids, 4, CFG_OFF(PCI_VENDOR_ID)));
	EXPECT_EQ(EDU_VENDOR | EDU_DEVICE << 16, (int)ids);
	ASSERT_EQ(4, pread(testdev, &ids, 4, CFG_OFF(PCI_VENDOR_ID)));
	EXPECT_EQ(TESTDEV_VENDOR | TESTDEV_DEVICE << 16, (int)ids);

	/* Virtual state is per device: sizing one BAR leaves the other. */
	ids = 0xffffffff;
	ASSERT_EQ(4, pwrite(edu, &ids, 4, CFG_OFF(PCI_BASE_ADDRESS_0)));
	ASSERT_EQ(4, pread(edu, &ids, 4, CFG_OFF(PCI_BASE_ADDRESS_0)));
	EXPECT_EQ(0xfff00000, ids);
	ASSERT_EQ(4, pread(testdev, &ids, 4, CFG_OFF(PCI_BASE_ADDRESS_0)));
	EXPECT_NE(0xfffff000, ids);

	close(testdev);
	close(edu);
}

/*
 * Behind a conventional bridge no function can be reset alone: the
 * secondary bus reset would take the other one along.
 */
TEST_F(shared, no_function_reset)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int edu;

	edu = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->edu);
	ASSERT_LE(0, edu);
	ASSERT_EQ(0, ioctl_errno(edu, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(VFIO_DEVICE_FLAGS_PCI, (int)info.flags);
	EXPECT_EQ(EINVAL, ioctl_errno(edu, VFIO_DEVICE_RESET, NULL));
	close(edu);
}

/* A bridge (type 1 header) is not for vfio-pci: its probe refuses it. */
TEST(bridge_refused)
{
	char bdf[32], path[PATH_MAX], drv[64];

	ASSERT_EQ(0, pci_find(BRIDGE_VENDOR, BRIDGE_DEVICE, 0, bdf));
	pci_driver(bdf, drv);
	ASSERT_STREQ("", drv) TH_LOG("bridge bound to %s", drv);

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/driver_override", bdf);
	ASSERT_EQ(0, sysfs_write(path, "vfio-pci"));
	sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	pci_driver(bdf, drv);
	EXPECT_STREQ("", drv);
	ASSERT_EQ(0, sysfs_write(path, "\n"));
}

TEST_HARNESS_MAIN
