// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=dma
/*
 * Data through the IOMMU: QEMU's edu DMA engine reads and writes guest
 * memory at IOVAs mapped with type1, and nowhere else.
 */
#include <sys/mman.h>

#include "edu.h"
#include "kselftest_harness.h"
#include "iommu_fault.h"

#define PAGE		4096
#define IOVA_SRC	0x100000
#define IOVA_DST	0x200000
#define IOVA_NOWHERE	0x500000

FIXTURE(edu) {
	struct edu edu;
	uint8_t *src;
	uint8_t *dst;
};

FIXTURE_SETUP(edu)
{
	int i;

	ASSERT_EQ(0, edu_open(&self->edu)) TH_LOG("edu via vfio: %m");
	ASSERT_EQ(0, edu_command_set(&self->edu, 0x6));	/* MEM | MASTER */
	self->src = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = self->src + PAGE;
	for (i = 0; i < PAGE; i++)
		self->src[i] = (uint8_t)(i * 7 + 3);
	memset(self->dst, 0, PAGE);
	ASSERT_EQ(0, vfio_map(self->edu.u.container, self->src, IOVA_SRC,
			      PAGE));
	ASSERT_EQ(0, vfio_map(self->edu.u.container, self->dst, IOVA_DST,
			      PAGE));
}

FIXTURE_TEARDOWN(edu)
{
	vfio_user_close(&self->edu.u);
}

TEST_F(edu, identity_through_bar0)
{
	EXPECT_EQ(0x010000ed, edu_read32(&self->edu, EDU_ID));
	ASSERT_EQ(0, edu_write32(&self->edu, EDU_LIVENESS, 0x12345678));
	EXPECT_EQ(~0x12345678u, edu_read32(&self->edu, EDU_LIVENESS));
}

TEST_F(edu, dma_round_trip)
{
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_SRC, EDU_BUFFER, EDU_DMA_MAX, 0));
	ASSERT_EQ(0, edu_dma(&self->edu, EDU_BUFFER, IOVA_DST, EDU_DMA_MAX,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, memcmp(self->src, self->dst, EDU_DMA_MAX));
	/* The byte past the transfer was not written. */
	EXPECT_EQ(0, self->dst[EDU_DMA_MAX]);
}

/* A DMA to an IOVA nobody mapped lands nowhere, and the IOMMU says so. */
TEST_F(edu, dma_to_unmapped_iova_is_blocked)
{
	unsigned long mark = dmar_fault_irqs();

	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_SRC, EDU_BUFFER, 256, 0));
	ASSERT_EQ(0, edu_dma(&self->edu, EDU_BUFFER, IOVA_NOWHERE, 256,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, self->dst[0]);
	EXPECT_EQ(0, self->dst[255]);
	EXPECT_TRUE(dmar_fault_since(mark))
		TH_LOG("the IOMMU raised no fault event (dmar0 interrupt)");
}

/* After an unmap the old IOVA no longer reaches the buffer. */
TEST_F(edu, unmap_revokes_the_iova)
{
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_SRC, EDU_BUFFER, 256, 0));
	ASSERT_EQ(0, vfio_unmap(self->edu.u.container, IOVA_DST, PAGE));
	ASSERT_EQ(0, edu_dma(&self->edu, EDU_BUFFER, IOVA_DST, 256,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, self->dst[0]);
	/* Mapped again, the same IOVA reaches it again. */
	ASSERT_EQ(0, vfio_map(self->edu.u.container, self->dst, IOVA_DST,
			      PAGE));
	ASSERT_EQ(0, edu_dma(&self->edu, EDU_BUFFER, IOVA_DST, 256,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, memcmp(self->src, self->dst, 256));
}

/* Read-only mappings: the device may read but not write through them. */
TEST_F(edu, read_only_mapping_blocks_device_writes)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .flags = VFIO_DMA_MAP_FLAG_READ,
		.vaddr = (uintptr_t)self->dst, .iova = 0x300000, .size = PAGE,
	};

	ASSERT_EQ(0, ioctl(self->edu.u.container, VFIO_IOMMU_MAP_DMA, &map));
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_SRC, EDU_BUFFER, 256, 0));
	ASSERT_EQ(0, edu_dma(&self->edu, EDU_BUFFER, 0x300000, 256,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, self->dst[0]);
	EXPECT_EQ(0, self->dst[255]);
}

TEST_HARNESS_MAIN
