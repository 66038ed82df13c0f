// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA logging through a device that implements it: mdma reports the
 * pages it wrote (vfio_log_ops) within the ranges the user asked it to
 * track, through VFIO_DEVICE_FEATURE_DMA_LOGGING_{START,REPORT,STOP}.
 */
// harness: feature=dma-logging
// mdma imports vfio_mig_get_next_state() and vfio_combine_iova_ranges(),
// which our vfio exports from the mig branch on; with mdev and mig merged,
// every mdma case passes on ours. Drop this note when mig lands.
#include "kselftest_harness.h"
#include "mdma.h"

#define IOVA		0x200000ULL
#define NPAGES		8
#define PAGE		4096

FIXTURE(mdma_log) {
	struct mdma_t1 t;
	int device;
};

FIXTURE_SETUP(mdma_log)
{
	ASSERT_EQ(0, mdma_t1_open(&self->t, MDMA_TYPE_4K, IOVA,
				  NPAGES * PAGE));
	self->device = self->t.device;
}

FIXTURE_TEARDOWN(mdma_log)
{
	mdma_t1_close(&self->t);
	mdma_unload();
}

/* Start logging the pages [first, first + count) of each range. */
static int log_start(int device, const unsigned int (*pages)[2],
		     unsigned int nranges)
{
	struct vfio_device_feature_dma_logging_range ranges[8];
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_dma_logging_control ctl;
	} req = {
		.hdr = { .argsz = sizeof(req),
			 .flags = VFIO_DEVICE_FEATURE_SET |
				  VFIO_DEVICE_FEATURE_DMA_LOGGING_START },
		.ctl = { .page_size = PAGE, .num_ranges = nranges,
			 .ranges = (uintptr_t)ranges },
	};

	for (unsigned int i = 0; i < nranges; i++) {
		ranges[i].iova = IOVA + pages[i][0] * PAGE;
		ranges[i].length = pages[i][1] * PAGE;
	}
	return ioctl_errno(device, VFIO_DEVICE_FEATURE, &req);
}

static int log_stop(int device)
{
	struct vfio_device_feature hdr = {
		.argsz = sizeof(hdr),
		.flags = VFIO_DEVICE_FEATURE_SET |
			 VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
	};

	return ioctl_errno(device, VFIO_DEVICE_FEATURE, &hdr);
}

/* The report over the whole mapping, a bit per page. */
static int log_report(int device, uint64_t *bits)
{
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_dma_logging_report rep;
	} req = {
		.hdr = { .argsz = sizeof(req),
			 .flags = VFIO_DEVICE_FEATURE_GET |
				  VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT },
		.rep = { .iova = IOVA, .length = NPAGES * PAGE,
			 .page_size = PAGE, .bitmap = (uintptr_t)bits },
	};

	*bits = 0;
	return ioctl_errno(device, VFIO_DEVICE_FEATURE, &req);
}

static uint32_t write_page(int device, unsigned int page, uint32_t mode)
{
	return mdma_run(device, MDMA_OP_FILL | mode, 0,
			IOVA + page * PAGE + 64, 32);
}

TEST_F(mdma_log, probe)
{
	struct vfio_device_feature hdr = {
		.argsz = sizeof(hdr),
		.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
			 VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
	};

	EXPECT_EQ(0, ioctl_errno(self->device, VFIO_DEVICE_FEATURE, &hdr));
}

/* Written pages are reported, read ones are not; a report clears. */
TEST_F(mdma_log, report_after_device_writes)
{
	const unsigned int all[][2] = { { 0, NPAGES } };
	uint64_t bits;

	ASSERT_EQ(0, log_start(self->device, all, 1));
	ASSERT_EQ(0, log_report(self->device, &bits));
	EXPECT_EQ(0, bits);
	ASSERT_EQ(MDMA_STATUS_DONE,
		  mdma_run(self->device, MDMA_OP_COPY, IOVA, IOVA + 2 * PAGE,
			   256));
	ASSERT_EQ(MDMA_STATUS_DONE, write_page(self->device, 5, MDMA_CMD_PIN));
	/* Across a page boundary: two pages. */
	ASSERT_EQ(MDMA_STATUS_DONE,
		  mdma_run(self->device, MDMA_OP_FILL, 0, IOVA + 7 * PAGE - 8,
			   16));
	ASSERT_EQ(0, log_report(self->device, &bits));
	EXPECT_EQ((1ULL << 2) | (1ULL << 5) | (1ULL << 6) | (1ULL << 7),
		  bits);
	ASSERT_EQ(0, log_report(self->device, &bits));
	EXPECT_EQ(0, bits);
	ASSERT_EQ(MDMA_STATUS_DONE, write_page(self->device, 1, 0));
	ASSERT_EQ(0, log_report(self->device, &bits));
	EXPECT_EQ(1ULL << 1, bits);
	EXPECT_EQ(0, log_stop(self->device));
}

/* Only the ranges asked for are tracked. */
TEST_F(mdma_log, only_tracked_ranges)
{
	const unsigned int some[][2] = { { 1, 1 }, { 4, 2 } };
	uint64_t bits;

	ASSERT_EQ(0, log_start(self->device, some, 2));
	for (unsigned int page = 0; page < NPAGES; page++)
		ASSERT_EQ(MDMA_STATUS_DONE, write_page(self->device, page, 0));
	ASSERT_EQ(0, log_report(self->device, &bits));
	EXPECT_EQ((1ULL << 1) | (1ULL << 4) | (1ULL << 5), bits);
	EXPECT_EQ(0, log_stop(self->device));
}

/*
 * More ranges than the device tracks (4): it combines them
 * (vfio_combine_iova_ranges()), and every page written inside one of
 * the ranges asked for is still reported.
 */
TEST_F(mdma_log, more_ranges_than_the_device_tracks)
{
	const unsigned int many[][2] = {
		{ 0, 1 }, { 2, 1 }, { 4, 1 }, { 6, 1 }, { 7, 1 },
	};
	uint64_t bits;

	ASSERT_EQ(0, log_start(self->device, many, 5));
	for (unsigned int i = 0; i < 5; i++)
		ASSERT_EQ(MDMA_STATUS_DONE,
			  write_page(self->device, many[i][0], MDMA_CMD_PIN));
	ASSERT_EQ(0, log_report(self->device, &bits));
	EXPECT_EQ(0xd5, bits);
	EXPECT_EQ(0, log_stop(self->device));
}

/* Starting again restarts from a clean log; after STOP the device refuses
 * reports (EINVAL, this driver's choice). */
TEST_F(mdma_log, restart_and_stop)
{
	const unsigned int all[][2] = { { 0, NPAGES } };
	uint64_t bits;

	ASSERT_EQ(0, log_start(self->device, all, 1));
	ASSERT_EQ(MDMA_STATUS_DONE, write_page(self->device, 3, 0));
	ASSERT_EQ(0, log_start(self->device, all, 1));
	ASSERT_EQ(0, log_report(self->device, &bits));
	EXPECT_EQ(0, bits);
	EXPECT_EQ(0, log_stop(self->device));
	ASSERT_EQ(MDMA_STATUS_DONE, write_page(self->device, 3, 0));
	EXPECT_EQ(EINVAL, log_report(self->device, &bits));
}

TEST_HARNESS_MAIN
