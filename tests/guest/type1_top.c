// SPDX-License-Identifier: GPL-2.0-only
/*
 * type1 at the top of a 64-bit IOVA space (q35-amd: its last usable
 * range ends at 2^64 - 1). A mapping there maps, pins, reports dirty
 * pages and unmaps like any other, on every path that removes it, and
 * locked_vm (VmLck) says so after each step; a range that would wrap
 * past the top is refused with EOVERFLOW.
 */
// harness: machine=q35-amd timeout=120 feature=type1
//
// Intended difference: these are upstream 6.18's semantics (ranges
// reasoned about by their last byte, EOVERFLOW for one that wraps).
// 6.12 computes iova + size, which is 0 there: it refuses a wrapping
// range with EINVAL, lets an overlapping map at the top succeed and pin
// twice, and its unmap there reports size 0 and unpins nothing.
// only(ours:top.*): 6.12 wraps iova + size to 0 at the top of the IOVA space (fixed in 6.18)
#include <sys/mman.h>

#include "vfio_test.h"
#include "kselftest_harness.h"
#include "type1.h"

#define TOP		0xffffffffffffe000ULL	/* the last 8 KiB */
#define SZ		0x2000ULL
static int dirty_ctl(int fd, uint32_t flags)
{
	struct vfio_iommu_type1_dirty_bitmap d = {
		.argsz = sizeof(d), .flags = flags,
	};

	return ioctl_errno(fd, VFIO_IOMMU_DIRTY_PAGES, &d);
}

/* GET_BITMAP of [iova, iova + size) into *bits. */
static int dirty_get(int fd, uint64_t iova, uint64_t size, uint64_t *bits)
{
	char buf[sizeof(struct vfio_iommu_type1_dirty_bitmap) +
		 sizeof(struct vfio_iommu_type1_dirty_bitmap_get)];
	struct vfio_iommu_type1_dirty_bitmap *d = (void *)buf;
	struct vfio_iommu_type1_dirty_bitmap_get *r = (void *)d->data;

	memset(buf, 0, sizeof(buf));
	d->argsz = sizeof(buf);
	d->flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	r->iova = iova;
	r->size = size;
	r->bitmap.pgsize = 4096;
	r->bitmap.size = sizeof(*bits);
	r->bitmap.data = (void *)bits;
	*bits = 0;
	return ioctl_errno(fd, VFIO_IOMMU_DIRTY_PAGES, d);
}

FIXTURE(top) {
	struct vfio_user u;
	void *buf;
};

FIXTURE_SETUP(top)
{
	int ret = vfio_user_open(&self->u, EDU_VENDOR, EDU_DEVICE, 0,
				 VFIO_TYPE1v2_IOMMU);

	ASSERT_EQ(0, ret) TH_LOG("edu via vfio: %s", strerror(-ret));
	self->buf = mmap(NULL, 4 * SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 0x5a, 4 * SZ);	/* real pages are charged */
	ASSERT_EQ(0, locked_vm_kib());
}

FIXTURE_TEARDOWN(top)
{
	char bdf[32];

	snprintf(bdf, sizeof(bdf), "%s", self->u.bdf);
	vfio_user_close(&self->u);
	if (bdf[0])
		pci_bind(bdf, "");
	/* Whatever the case did, closing gave every page back. */
	EXPECT_EQ(0, locked_vm_kib());
	munmap(self->buf, 4 * SZ);
}

/* The reproducer: map the last 8 KiB, unmap them. */
TEST_F(top, unmap)
{
	uint64_t size = 0;

	ASSERT_EQ(0, map_dma(self->u.container, self->buf, TOP, SZ, RW));
	EXPECT_EQ(8, locked_vm_kib());
	EXPECT_EQ(0, unmap_dma(self->u.container, TOP, SZ, 0, &size));
	EXPECT_EQ(SZ, size);
	EXPECT_EQ(0, locked_vm_kib());
	/* Gone from the IOMMU too: the range maps again, once. */
	EXPECT_EQ(0, map_dma(self->u.container, self->buf, TOP, SZ, RW));
	EXPECT_EQ(8, locked_vm_kib());
	EXPECT_EQ(0, unmap_dma(self->u.container, TOP, SZ, 0, &size));
	EXPECT_EQ(0, locked_vm_kib());
}

/* Overlaps at the top are overlaps; ends inside a mapping bisect it. */
TEST_F(top, overlap)
{
	uint64_t size = 0;

	ASSERT_EQ(0, map_dma(self->u.container, self->buf, TOP, SZ, RW));
	EXPECT_EQ(EEXIST, map_dma(self->u.container, self->buf + SZ,
				  TOP + 0x1000, 0x1000, RW));
	EXPECT_EQ(EEXIST, map_dma(self->u.container, self->buf + SZ,
				  TOP - 0x1000, SZ, RW));
	EXPECT_EQ(8, locked_vm_kib());
	EXPECT_EQ(EINVAL, unmap_dma(self->u.container, TOP + 0x1000, 0x1000,
				    0, NULL));
	/* A neighbour just below is its own mapping. */
	ASSERT_EQ(0, map_dma(self->u.container, self->buf + SZ, TOP - SZ, SZ, RW));
	EXPECT_EQ(16, locked_vm_kib());
	EXPECT_EQ(0, unmap_dma(self->u.container, TOP - SZ, 2 * SZ, 0, &size));
	EXPECT_EQ(2 * SZ, size);
	EXPECT_EQ(0, locked_vm_kib());
}

/* A range past the top wraps: EOVERFLOW, and nothing is pinned. */
TEST_F(top, wrapping_ranges)
{
	uint64_t bits;

	EXPECT_EQ(EOVERFLOW, map_dma(self->u.container, self->buf,
				     TOP + 0x1000, SZ, RW));
	EXPECT_EQ(0, locked_vm_kib());
	EXPECT_EQ(EOVERFLOW, unmap_dma(self->u.container, TOP + 0x1000, SZ,
				       0, NULL));
	ASSERT_EQ(0, dirty_ctl(self->u.container,
			       VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	EXPECT_EQ(EOVERFLOW, dirty_get(self->u.container, TOP + 0x1000, SZ,
				       &bits));
	/* Up to the last byte is fine. */
	EXPECT_EQ(0, dirty_get(self->u.container, TOP, SZ, &bits));
	EXPECT_EQ(0, dirty_ctl(self->u.container,
			       VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
}

/* UNMAP_FLAG_ALL takes the top mapping with the others. */
TEST_F(top, unmap_all)
{
	uint64_t size = 0;

	ASSERT_EQ(0, map_dma(self->u.container, self->buf, TOP, SZ, RW));
	ASSERT_EQ(0, map_dma(self->u.container, self->buf + SZ, 0x40000000,
			     SZ, RW));
	EXPECT_EQ(16, locked_vm_kib());
	EXPECT_EQ(0, unmap_dma(self->u.container, 0, 0,
			       VFIO_DMA_UNMAP_FLAG_ALL, &size));
	EXPECT_EQ(2 * SZ, size);
	EXPECT_EQ(0, locked_vm_kib());
}

/* Closing every fd releases it (checked by the teardown). */
TEST_F(top, released_on_close)
{
	ASSERT_EQ(0, map_dma(self->u.container, self->buf, TOP, SZ, RW));
	EXPECT_EQ(8, locked_vm_kib());
}

/*
 * Dirty tracking at the top: every page of the mapping is reported
 * (edu's group pins nothing, so all it could reach is dirty), by
 * GET_BITMAP and by an unmap that asks for the bitmap.
 */
TEST_F(top, dirty_bitmap)
{
	struct {
		struct vfio_iommu_type1_dma_unmap unmap;
		struct vfio_bitmap bitmap;
	} u = {};
	uint64_t bits = 0;

	ASSERT_EQ(0, dirty_ctl(self->u.container,
			       VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	ASSERT_EQ(0, map_dma(self->u.container, self->buf, TOP, SZ, RW));
	EXPECT_EQ(0, dirty_get(self->u.container, TOP, SZ, &bits));
	EXPECT_EQ(0x3ULL, bits);

	u.unmap.argsz = sizeof(u);
	u.unmap.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	u.unmap.iova = TOP;
	u.unmap.size = SZ;
	u.bitmap.pgsize = 4096;
	u.bitmap.size = sizeof(bits);
	u.bitmap.data = (void *)&bits;
	bits = 0;
	EXPECT_EQ(0, ioctl_errno(self->u.container, VFIO_IOMMU_UNMAP_DMA, &u));
	EXPECT_EQ(SZ, u.unmap.size);
	EXPECT_EQ(0x3ULL, bits);
	EXPECT_EQ(0, locked_vm_kib());
	EXPECT_EQ(0, dirty_ctl(self->u.container,
			       VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
}

TEST_HARNESS_MAIN
