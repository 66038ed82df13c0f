// SPDX-License-Identifier: GPL-2.0-only
// harness: machine=q35-shared-group feature=groups
/*
 * Group viability is DMA ownership: edu, pci-testdev and a virtio-rng
 * share one IOMMU group, and while virtio-pci (a kernel driver doing DMA)
 * is bound to the rng, the group cannot be given to a user.
 */
#include "vfio_test.h"
#include "kselftest_harness.h"

#define VIRTIO_VENDOR	0x1af4
#define VIRTIO_RNG	0x1005

FIXTURE(shared) {
	char edu[32];
	char rng[32];
	int group;
	int container;
};

FIXTURE_SETUP(shared)
{
	self->group = self->container = -1;
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->edu));
	ASSERT_EQ(0, pci_find(VIRTIO_VENDOR, VIRTIO_RNG, 0, self->rng));
	ASSERT_EQ(pci_iommu_group(self->edu), pci_iommu_group(self->rng));
	ASSERT_EQ(0, pci_bind(self->edu, "vfio-pci"));
	/* Each case starts with the kernel driver bound to the rng. */
	ASSERT_EQ(0, pci_bind(self->rng, "virtio-pci"));
	self->group = vfio_group_open(pci_iommu_group(self->edu));
	ASSERT_LE(0, self->group);
	self->container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_LE(0, self->container);
}

FIXTURE_TEARDOWN(shared)
{
	close(self->group);
	close(self->container);
}

static __u32 group_flags(int group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };

	return ioctl(group, VFIO_GROUP_GET_STATUS, &status) ? ~0u :
							      status.flags;
}

TEST_F(shared, not_viable_while_a_dma_driver_is_bound)
{
	EXPECT_EQ(0, group_flags(self->group));
	/* iommu_group_claim_dma_owner() refuses with EPERM. */
	EXPECT_EQ(EPERM, ioctl_errno(self->group, VFIO_GROUP_SET_CONTAINER,
				     &self->container));
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->edu));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(shared, viable_once_the_driver_lets_go)
{
	int device;

	ASSERT_EQ(0, pci_bind(self->rng, ""));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, group_flags(self->group));
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU,
			   VFIO_TYPE1v2_IOMMU));
	device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->edu);
	EXPECT_LE(0, device) TH_LOG("GET_DEVICE_FD: %m");
	close(device);
}

/* While a user owns the group, a DMA driver cannot bind into it. */
TEST_F(shared, user_ownership_blocks_dma_drivers)
{
	char driver[64];

	ASSERT_EQ(0, pci_bind(self->rng, ""));
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	EXPECT_NE(0, pci_bind(self->rng, "virtio-pci"));
	pci_driver(self->rng, driver);
	EXPECT_STREQ("", driver);
	/* Letting go of the group lets the driver in again. */
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER));
	EXPECT_EQ(0, pci_bind(self->rng, "virtio-pci"));
}

TEST_HARNESS_MAIN
