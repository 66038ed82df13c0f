// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=dma-logging timeout=180
/*
 * VFIO_DEVICE_FEATURE_DMA_LOGGING_START/_STOP/_REPORT: the core's checks
 * of what the user passes (direction, sizes, number of ranges, page
 * alignment, overflow, overlap, user pointers), through upstream's mtty
 * sample, whose log_ops accept everything and report nothing; and a
 * device without log_ops (vfio-pci's edu).
 */
#include <sys/mman.h>

#include "mdev_test.h"
#include "mig_test.h"
#include "kselftest_harness.h"

#define PAGE		4096ull
/* START takes at most a page of ranges. */
#define MAX_RANGES	(4096 / sizeof(struct vfio_device_feature_dma_logging_range))

FIXTURE(log) {
	struct mdev_user u;
	struct vfio_device_feature_dma_logging_range r[MAX_RANGES + 1];
};

FIXTURE_SETUP(log)
{
	memset(&self->u, 0, sizeof(self->u));
	self->u.container = self->u.group = self->u.device = -1;
	ASSERT_EQ(0, mdev_load("mtty"));
	ASSERT_EQ(0, mdev_user_open(&self->u, "mtty-1", 0x4e00));
}

FIXTURE_TEARDOWN(log)
{
	EXPECT_EQ(0, mdev_user_close(&self->u));
	EXPECT_EQ(0, mdev_unload("mtty"));
}

/* START with @n ranges at @ranges; *@page_size is written back. */
static int start(int device, uint32_t flags, uint64_t *page_size,
		 uint32_t n, const void *ranges)
{
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = *page_size, .num_ranges = n,
		.ranges = (uintptr_t)ranges,
	};
	int ret = feature(device, flags | VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
			  &c, sizeof(c));

	*page_size = c.page_size;
	return ret;
}

static int start_set(int device, uint64_t page_size, uint32_t n,
		     const void *ranges)
{
	return start(device, VFIO_DEVICE_FEATURE_SET, &page_size, n, ranges);
}

static int stop(int device, uint32_t flags)
{
	return feature(device, flags | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
		       NULL, 0);
}

static int report(int device, uint32_t flags, uint64_t iova,
		  uint64_t length, uint64_t page_size, void *bitmap)
{
	struct vfio_device_feature_dma_logging_report r = {
		.iova = iova, .length = length, .page_size = page_size,
		.bitmap = (uintptr_t)bitmap,
	};

	return feature(device, flags | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
		       &r, sizeof(r));
}

TEST_F(log, start_direction_and_size)
{
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = PAGE, .num_ranges = 1, .ranges = (uintptr_t)self->r,
	};
	uint32_t f = VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
	int dev = self->u.device;
	uint64_t ps = PAGE;

	self->r[0].iova = 0x100000;
	self->r[0].length = 0x10000;
	EXPECT_EQ(EINVAL, start(dev, VFIO_DEVICE_FEATURE_GET, &ps, 1, self->r));
	EXPECT_EQ(EINVAL, start(dev, 0, &ps, 1, self->r));
	EXPECT_EQ(0, start(dev, VFIO_DEVICE_FEATURE_PROBE |
			   VFIO_DEVICE_FEATURE_SET, &ps, 1, self->r));
	EXPECT_EQ(EINVAL, start(dev, VFIO_DEVICE_FEATURE_PROBE |
				VFIO_DEVICE_FEATURE_GET, &ps, 1, self->r));
	EXPECT_EQ(EINVAL, feature_argsz(dev, VFIO_DEVICE_FEATURE_SET | f, &c,
					sizeof(c),
					sizeof(struct vfio_device_feature) +
					sizeof(c) - 8));
	/* A good one, the page size it tracks written back. */
	EXPECT_EQ(0, start(dev, VFIO_DEVICE_FEATURE_SET, &ps, 1, self->r));
	EXPECT_EQ(PAGE, ps);
	EXPECT_EQ(0, stop(dev, VFIO_DEVICE_FEATURE_SET));
}

TEST_F(log, start_number_of_ranges)
{
	int dev = self->u.device;
	uint32_t i;

	for (i = 0; i <= MAX_RANGES; i++) {
		self->r[i].iova = 2 * i * PAGE;
		self->r[i].length = PAGE;
	}
	EXPECT_EQ(EINVAL, start_set(dev, PAGE, 0, self->r));
	EXPECT_EQ(E2BIG, start_set(dev, PAGE, MAX_RANGES + 1, self->r));
	EXPECT_EQ(0, start_set(dev, PAGE, MAX_RANGES, self->r));
	EXPECT_EQ(0, stop(dev, VFIO_DEVICE_FEATURE_SET));
	EXPECT_EQ(0, start_set(dev, PAGE, 1, self->r));
	EXPECT_EQ(0, stop(dev, VFIO_DEVICE_FEATURE_SET));
}

TEST_F(log, start_range_checks)
{
	struct vfio_device_feature_dma_logging_range *r = self->r;
	int dev = self->u.device;
	void *unmapped;

	/* Page alignment of the start and of the length. */
	r[0].iova = 0x100800;
	r[0].length = PAGE;
	EXPECT_EQ(EINVAL, start_set(dev, PAGE, 1, r));
	r[0].iova = 0x100000;
	r[0].length = PAGE + 0x200;
	EXPECT_EQ(EINVAL, start_set(dev, PAGE, 1, r));
	/* A bigger page size makes the same range unaligned. */
	r[0].length = PAGE;
	EXPECT_EQ(EINVAL, start_set(dev, 2 * 1024 * 1024, 1, r));

	/* Past the end of the address space. */
	r[0].iova = 0xfffffffffffff000ull;
	r[0].length = 2 * PAGE;
	EXPECT_EQ(EOVERFLOW, start_set(dev, PAGE, 1, r));
	/* Even ending exactly at 2^64: the end must fit in 64 bits. */
	r[0].length = PAGE;
	EXPECT_EQ(EOVERFLOW, start_set(dev, PAGE, 1, r));

	/* Overlap, in either order; touching is fine. */
	r[0].iova = 0x100000;
	r[0].length = 4 * PAGE;
	r[1].iova = 0x103000;
	r[1].length = 4 * PAGE;
	EXPECT_EQ(EINVAL, start_set(dev, PAGE, 2, r));
	r[1].iova = 0x0ff000;
	r[1].length = 2 * PAGE;
	EXPECT_EQ(EINVAL, start_set(dev, PAGE, 2, r));
	r[1].iova = 0x104000;
	EXPECT_EQ(0, start_set(dev, PAGE, 2, r));
	EXPECT_EQ(0, stop(dev, VFIO_DEVICE_FEATURE_SET));

	/* Ranges the kernel cannot read. */
	unmapped = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	EXPECT_EQ(EFAULT, start_set(dev, PAGE, 1, unmapped));
	munmap(unmapped, PAGE);
}

TEST_F(log, stop)
{
	int dev = self->u.device;

	/* Without a START: the driver's answer (mtty's is 0). */
	EXPECT_EQ(0, stop(dev, VFIO_DEVICE_FEATURE_SET));
	EXPECT_EQ(EINVAL, stop(dev, VFIO_DEVICE_FEATURE_GET));
	EXPECT_EQ(EINVAL, stop(dev, 0));
	EXPECT_EQ(0, stop(dev, VFIO_DEVICE_FEATURE_PROBE |
			  VFIO_DEVICE_FEATURE_SET));
}

TEST_F(log, report)
{
	uint64_t bitmap[4] = {};
	uint32_t f = VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT;
	struct vfio_device_feature_dma_logging_report r = {
		.iova = 0x100000, .length = 0x40000, .page_size = PAGE,
		.bitmap = (uintptr_t)bitmap,
	};
	int dev = self->u.device;
	void *unmapped;

	self->r[0].iova = 0x100000;
	self->r[0].length = 0x40000;
	ASSERT_EQ(0, start_set(dev, PAGE, 1, self->r));

	EXPECT_EQ(0, report(dev, VFIO_DEVICE_FEATURE_GET, 0x100000, 0x40000,
			    PAGE, bitmap));
	/* mtty does no DMA: nothing dirty. */
	EXPECT_EQ(0ull, bitmap[0] | bitmap[1]);
	EXPECT_EQ(EINVAL, report(dev, VFIO_DEVICE_FEATURE_SET, 0x100000,
				 0x40000, PAGE, bitmap));
	EXPECT_EQ(EINVAL, report(dev, 0, 0x100000, 0x40000, PAGE, bitmap));
	EXPECT_EQ(0, report(dev, VFIO_DEVICE_FEATURE_PROBE |
			    VFIO_DEVICE_FEATURE_GET, 0x100000, 0x40000, PAGE,
			    bitmap));
	EXPECT_EQ(EINVAL, feature_argsz(dev, VFIO_DEVICE_FEATURE_GET | f, &r,
					sizeof(r),
					sizeof(struct vfio_device_feature) +
					sizeof(r) - 8));

	/* Page size: at least 4K, a power of two. */
	EXPECT_EQ(EINVAL, report(dev, VFIO_DEVICE_FEATURE_GET, 0x100000,
				 0x40000, 0, bitmap));
	EXPECT_EQ(EINVAL, report(dev, VFIO_DEVICE_FEATURE_GET, 0x100000,
				 0x40000, 2048, bitmap));
	EXPECT_EQ(EINVAL, report(dev, VFIO_DEVICE_FEATURE_GET, 0x100000,
				 0x40000, 3 * PAGE, bitmap));
	EXPECT_EQ(0, report(dev, VFIO_DEVICE_FEATURE_GET, 0x100000,
			    0x40000, 2 * PAGE, bitmap));
	/* The end wraps. */
	EXPECT_EQ(EOVERFLOW, report(dev, VFIO_DEVICE_FEATURE_GET,
				    0xfffffffffffff000ull, 2 * PAGE, PAGE,
				    bitmap));

	/*
	 * A bitmap the kernel cannot write: 6.12's iova_bitmap pins it only
	 * when the driver sets a bit, and mtty sets none, so it is accepted.
	 */
	unmapped = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	EXPECT_EQ(0, report(dev, VFIO_DEVICE_FEATURE_GET, 0x100000, 0x40000,
			    PAGE, unmapped));
	munmap(unmapped, PAGE);

	EXPECT_EQ(0, stop(dev, VFIO_DEVICE_FEATURE_SET));
}

/* A device whose driver has no log_ops (nor mig_ops): ENOTTY for all. */
TEST(no_log_ops)
{
	struct vfio_device_feature_dma_logging_range r = {
		.iova = 0x100000, .length = PAGE,
	};
	struct vfio_device_feature_migration mig = {};
	uint64_t bitmap[1] = {}, ps = PAGE;
	struct vfio_user u;

	vfio_user_init(&u);
	ASSERT_EQ(0, vfio_user_open(&u, EDU_VENDOR, EDU_DEVICE, 0,
				    VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(ENOTTY, start(u.device, VFIO_DEVICE_FEATURE_SET, &ps, 1, &r));
	EXPECT_EQ(ENOTTY, start(u.device, VFIO_DEVICE_FEATURE_PROBE |
				VFIO_DEVICE_FEATURE_SET, &ps, 1, &r));
	EXPECT_EQ(ENOTTY, stop(u.device, VFIO_DEVICE_FEATURE_SET));
	EXPECT_EQ(ENOTTY, report(u.device, VFIO_DEVICE_FEATURE_GET, 0x100000,
				 PAGE, PAGE, bitmap));
	/* Checked before anything else: even a bad direction. */
	EXPECT_EQ(ENOTTY, stop(u.device, VFIO_DEVICE_FEATURE_GET));
	EXPECT_EQ(ENOTTY, feature(u.device, VFIO_DEVICE_FEATURE_GET |
				  VFIO_DEVICE_FEATURE_MIGRATION, &mig,
				  sizeof(mig)));
	vfio_user_close(&u);
}

TEST_HARNESS_MAIN
