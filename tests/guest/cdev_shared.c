// SPDX-License-Identifier: GPL-2.0-only
// harness: machine=q35-shared-group feature=iommufd
/*
 * Hot reset on the cdev path: edu, pci-testdev and a virtio-rng behind one
 * bridge share an IOMMU group and a bus reset. A user that bound edu's
 * cdev to an iommufd context owns the group through that context, so it
 * sees device ids instead of group ids, and resets the bus without
 * passing group fds. The virtio-rng is moved to vfio-pci for each case.
 */
#include "iommufd_test.h"
#include "pci_test.h"
#include "kselftest_harness.h"

FIXTURE(shared_cdev) {
	char edu[32];
	char testdev[32];
	struct pci_moved parked;
	int iommufd;
	int device;
	uint32_t devid;
};

FIXTURE_SETUP(shared_cdev)
{
	char path[64];
	int group_id;

	self->iommufd = self->device = -1;
	self->parked.n = 0;
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->edu));
	ASSERT_EQ(0, pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0,
			      self->testdev));
	ASSERT_EQ(0, pci_bind(self->edu, "vfio-pci"));
	ASSERT_EQ(0, pci_bind(self->testdev, "vfio-pci"));
	group_id = pci_iommu_group(self->edu);
	ASSERT_LE(0, group_id);
	ASSERT_EQ(group_id, pci_iommu_group(self->testdev));
	/* Every function the reset reaches must be vfio-pci's. */
	pci_group_move(&self->parked, group_id, "vfio-pci", NULL, NULL);

	self->iommufd = open(IOMMUFD_PATH, O_RDWR);
	ASSERT_LE(0, self->iommufd);
	ASSERT_EQ(0, cdev_path(self->edu, path));
	self->device = open(path, O_RDWR);
	ASSERT_LE(0, self->device);
	ASSERT_EQ(0, bind_iommufd(self->device, self->iommufd, &self->devid));
}

FIXTURE_TEARDOWN(shared_cdev)
{
	if (self->device >= 0)
		close(self->device);
	if (self->iommufd >= 0)
		close(self->iommufd);
	if (self->edu[0])
		pci_bind(self->edu, "");
	if (self->testdev[0])
		pci_bind(self->testdev, "");
	pci_group_restore(&self->parked);
}

struct reset_info {
	struct vfio_pci_hot_reset_info hdr;
	struct vfio_pci_dependent_device devices[4];
};

/* The entry for function @bdf ("DDDD:BB:DD.F"), or NULL. */
static struct vfio_pci_dependent_device *
entry_of(struct reset_info *info, const char *bdf)
{
	unsigned int seg, bus, dev, fn;
	uint32_t i;

	if (sscanf(bdf, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4)
		return NULL;
	for (i = 0; i < info->hdr.count; i++)
		if (info->devices[i].segment == seg &&
		    info->devices[i].bus == bus &&
		    info->devices[i].devfn == (dev << 3 | fn))
			return &info->devices[i];
	return NULL;
}

/* Device ids, not groups: edu's own, and OWNED for its group mate. */
TEST_F(shared_cdev, hot_reset_info_reports_device_ids)
{
	struct reset_info info = { .hdr.argsz = sizeof(info) };
	struct vfio_pci_dependent_device *dep;

	ASSERT_EQ(0, ioctl_errno(self->device,
				 VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));
	EXPECT_EQ((uint32_t)(VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
			     VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED),
		  info.hdr.flags);
	ASSERT_EQ(3U, info.hdr.count);
	dep = entry_of(&info, self->edu);
	ASSERT_NE(NULL, dep);
	EXPECT_EQ(self->devid, dep->devid);
	dep = entry_of(&info, self->testdev);
	ASSERT_NE(NULL, dep);
	EXPECT_EQ((uint32_t)VFIO_PCI_DEVID_OWNED, dep->devid);
}

/* Both bound to the context: both have ids. */
TEST_F(shared_cdev, hot_reset_info_with_both_bound)
{
	struct reset_info info = { .hdr.argsz = sizeof(info) };
	struct vfio_pci_dependent_device *dep;
	uint32_t devid2 = 0;
	char path[64];
	int testdev;

	ASSERT_EQ(0, cdev_path(self->testdev, path));
	testdev = open(path, O_RDWR);
	ASSERT_LE(0, testdev);
	ASSERT_EQ(0, bind_iommufd(testdev, self->iommufd, &devid2));
	EXPECT_NE(self->devid, devid2);
	ASSERT_EQ(0, ioctl_errno(self->device,
				 VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));
	EXPECT_EQ((uint32_t)(VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
			     VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED),
		  info.hdr.flags);
	dep = entry_of(&info, self->testdev);
	ASSERT_NE(NULL, dep);
	EXPECT_EQ(devid2, dep->devid);
	close(testdev);
}

/*
 * The group is owned by this context: another cannot bind its mate (the
 * IOMMU core refuses a second DMA owner with EPERM).
 */
TEST_F(shared_cdev, other_context_cannot_bind_group_mate)
{
	char path[64];
	int other, testdev;

	other = open(IOMMUFD_PATH, O_RDWR);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, cdev_path(self->testdev, path));
	testdev = open(path, O_RDWR);
	ASSERT_LE(0, testdev);
	EXPECT_EQ(EPERM, bind_iommufd(testdev, other, NULL));
	close(testdev);
	close(other);
}

/* A reached function that is not vfio-pci's: not owned, no reset. */
TEST_F(shared_cdev, function_outside_the_set_is_not_owned)
{
	struct reset_info info = { .hdr.argsz = sizeof(info) };
	struct vfio_pci_hot_reset reset = { .argsz = sizeof(reset) };
	struct vfio_pci_dependent_device *dep;

	pci_bind(self->testdev, "");
	ASSERT_EQ(0, ioctl_errno(self->device,
				 VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));
	EXPECT_EQ((uint32_t)VFIO_PCI_HOT_RESET_FLAG_DEV_ID, info.hdr.flags);
	dep = entry_of(&info, self->testdev);
	ASSERT_NE(NULL, dep);
	EXPECT_EQ((uint32_t)VFIO_PCI_DEVID_NOT_OWNED, dep->devid);
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_PCI_HOT_RESET,
				      &reset));
}

/* No group fds: ownership is proven by the shared iommufd context. */
TEST_F(shared_cdev, hot_reset_without_group_fds)
{
	struct {
		struct vfio_pci_hot_reset hdr;
		int32_t fds[1];
	} reset = { .hdr.argsz = sizeof(reset.hdr) };

	EXPECT_EQ(0, ioctl_errno(self->device, VFIO_DEVICE_PCI_HOT_RESET,
				 &reset));
	/* On the cdev path group fds are refused. */
	reset.hdr.argsz = sizeof(reset);
	reset.hdr.count = 1;
	reset.fds[0] = self->iommufd;
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_PCI_HOT_RESET,
				      &reset));
	reset.hdr.count = 0;
	reset.hdr.flags = 1;
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_PCI_HOT_RESET,
				      &reset));
}

TEST_HARNESS_MAIN
