// SPDX-License-Identifier: GPL-2.0-only
/*
 * State type1 derives from its mappings follows every path that removes
 * one: a mapping whose vaddr was invalidated (UNMAP_FLAG_VADDR) and then
 * unmapped no longer counts as invalid, so another group may join the
 * container (attaching is refused while a vaddr is invalid).
 */
// harness: machine=q35-intel timeout=120 feature=type1
#include <sys/mman.h>

#include "vfio_test.h"
#include "kselftest_harness.h"
#include "type1.h"

#define IOVA	0x40000000ULL
FIXTURE(vaddr) {
	struct vfio_user u;
	char testdev[32];
	int group2;
	void *buf;
};

FIXTURE_VARIANT(vaddr) {
	uint32_t unmap_flags;	/* how the invalidated mapping goes */
};

FIXTURE_VARIANT_ADD(vaddr, unmap) { .unmap_flags = 0 };
FIXTURE_VARIANT_ADD(vaddr, unmap_all) {
	.unmap_flags = VFIO_DMA_UNMAP_FLAG_ALL };

FIXTURE_SETUP(vaddr)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .flags = RW, .iova = IOVA,
		.size = 0x1000,
	};
	int ret;

	self->group2 = -1;
	ret = vfio_user_open(&self->u, EDU_VENDOR, EDU_DEVICE, 0,
			     VFIO_TYPE1v2_IOMMU);
	ASSERT_EQ(0, ret) TH_LOG("edu via vfio: %s", strerror(-ret));
	ASSERT_EQ(0, pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0,
			      self->testdev));
	ASSERT_EQ(0, pci_bind(self->testdev, "vfio-pci"));
	self->group2 = vfio_group_open(pci_iommu_group(self->testdev));
	ASSERT_LE(0, self->group2);

	self->buf = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 0x5a, 0x1000);
	map.vaddr = (uintptr_t)self->buf;
	ASSERT_EQ(0, ioctl_errno(self->u.container, VFIO_IOMMU_MAP_DMA, &map));
}

FIXTURE_TEARDOWN(vaddr)
{
	char bdf[32];

	if (self->group2 >= 0)
		close(self->group2);
	snprintf(bdf, sizeof(bdf), "%s", self->u.bdf);
	vfio_user_close(&self->u);
	if (bdf[0])
		pci_bind(bdf, "");
	pci_bind(self->testdev, "");
	EXPECT_EQ(0, locked_vm_kib());
}

TEST_F(vaddr, unmapped_invalid_vaddr_is_forgotten)
{
	uint64_t size = 0;
	uint64_t iova = variant->unmap_flags ? 0 : IOVA;
	uint64_t len = variant->unmap_flags ? 0 : 0x1000;

	EXPECT_EQ(4, locked_vm_kib());
	ASSERT_EQ(0, unmap_dma(self->u.container, IOVA, 0x1000,
			       VFIO_DMA_UNMAP_FLAG_VADDR, &size));
	EXPECT_EQ(0x1000ULL, size);
	/* While it is invalid, no group may join. */
	EXPECT_EQ(EBUSY, ioctl_errno(self->group2, VFIO_GROUP_SET_CONTAINER,
				     &self->u.container));

	ASSERT_EQ(0, unmap_dma(self->u.container, iova, len,
			       variant->unmap_flags, &size));
	EXPECT_EQ(0x1000ULL, size);
	EXPECT_EQ(0, locked_vm_kib());
	EXPECT_EQ(0, ioctl_errno(self->group2, VFIO_GROUP_SET_CONTAINER,
				 &self->u.container));
	EXPECT_EQ(0, ioctl_errno(self->group2, VFIO_GROUP_UNSET_CONTAINER,
				 NULL));
}

TEST_HARNESS_MAIN
