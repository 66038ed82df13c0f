// SPDX-License-Identifier: GPL-2.0-only
/*
 * An emulated device on the cdev/iommufd path: mdma opened through
 * /dev/vfio/devices/vfioN, bound to an iommufd (the emulated bind: an
 * iommufd access), attached to an IOAS; its vfio_dma_rw() and
 * vfio_pin_pages() reach what IOMMU_IOAS_MAP mapped, and unmapping what
 * it holds pinned calls its dma_unmap.
 */
// harness: feature=iommufd
// mdma imports vfio_mig_get_next_state() and vfio_combine_iova_ranges(),
// which our vfio exports from the mig branch on; with mdev and mig merged,
// every mdma case passes on ours. Drop this note when mig lands.
#include "kselftest_harness.h"
#include "iommufd_test.h"
#include "mdma.h"

#define IOVA		0x400000ULL
#define NPAGES		8
#define PAGE		4096

FIXTURE(mdma_cdev) {
	char uuid[40];
	int iommufd, device;
	uint32_t devid, ioas;
	uint8_t *buf;
};

FIXTURE_SETUP(mdma_cdev)
{
	char path[64];
	uint32_t pt;

	self->uuid[0] = 0;
	self->iommufd = self->device = -1;
	self->buf = MAP_FAILED;
	ASSERT_EQ(0, mdma_load());
	ASSERT_EQ(0, mdma_create(MDMA_TYPE_4K, self->uuid));
	ASSERT_EQ(0, mdma_cdev_path(self->uuid, path));
	self->device = open(path, O_RDWR);
	ASSERT_LE(0, self->device);
	self->iommufd = open(IOMMUFD_PATH, O_RDWR);
	ASSERT_LE(0, self->iommufd);
	ASSERT_EQ(0, bind_iommufd(self->device, self->iommufd,
				  &self->devid));
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &self->ioas));
	pt = self->ioas;
	ASSERT_EQ(0, attach_pt(self->device, &pt));
	EXPECT_EQ(self->ioas, pt);
	self->buf = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 0, NPAGES * PAGE);
	ASSERT_EQ(0, ioas_map(self->iommufd, self->ioas, self->buf, IOVA,
			      NPAGES * PAGE));
}

FIXTURE_TEARDOWN(mdma_cdev)
{
	if (self->device >= 0)
		close(self->device);
	if (self->iommufd >= 0)
		close(self->iommufd);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, NPAGES * PAGE);
	if (self->uuid[0])
		mdma_remove(self->uuid);
	mdma_unload();
}

static void copy_round_trip(struct __test_metadata *_metadata,
			    FIXTURE_DATA(mdma_cdev) *self, uint32_t flags)
{
	uint8_t *src = self->buf + 300, *dst = self->buf + 3 * PAGE + 5;
	uint32_t len = 2 * PAGE;

	mdma_fill_bytes(src, len, 9);
	ASSERT_EQ(MDMA_STATUS_DONE,
		  mdma_run(self->device, MDMA_OP_COPY | flags, IOVA + 300,
			   IOVA + 3 * PAGE + 5, len));
	EXPECT_EQ(0, memcmp(src, dst, len));
	EXPECT_EQ(0, dst[len]);
	EXPECT_EQ(0, mdma_rd(self->device, MDMA_REG_PINNED));
}

TEST_F(mdma_cdev, copy_through_dma_rw)
{
	copy_round_trip(_metadata, self, 0);
}

TEST_F(mdma_cdev, copy_through_pinned_pages)
{
	copy_round_trip(_metadata, self, MDMA_CMD_PIN);
}

TEST_F(mdma_cdev, unmapped_iova_is_refused)
{
	uint32_t modes[] = { 0, MDMA_CMD_PIN };

	for (unsigned int i = 0; i < 2; i++) {
		EXPECT_EQ(MDMA_STATUS_DONE | MDMA_STATUS_ERROR,
			  mdma_run(self->device, MDMA_OP_COPY | modes[i],
				   IOVA + NPAGES * PAGE, IOVA, 64));
		EXPECT_NE(0, mdma_rd(self->device, MDMA_REG_ERROR));
	}
	EXPECT_EQ(0, mdma_rd(self->device, MDMA_REG_COUNT));
}

TEST_F(mdma_cdev, unmap_while_pinned)
{
	mdma_fill_bytes(self->buf, 128, 1);
	ASSERT_EQ(MDMA_STATUS_DONE,
		  mdma_run(self->device,
			   MDMA_OP_COPY | MDMA_CMD_PIN | MDMA_CMD_KEEP,
			   IOVA, IOVA + 6 * PAGE, 128));
	EXPECT_EQ(2, mdma_rd(self->device, MDMA_REG_PINNED));
	ASSERT_EQ(0, ioas_unmap(self->iommufd, self->ioas, IOVA,
				NPAGES * PAGE));
	EXPECT_EQ(0, mdma_rd(self->device, MDMA_REG_PINNED));
	EXPECT_EQ(MDMA_STATUS_DONE | MDMA_STATUS_ERROR,
		  mdma_run(self->device, MDMA_OP_COPY | MDMA_CMD_PIN, IOVA,
			   IOVA + 6 * PAGE, 128));
	EXPECT_EQ(MDMA_STATUS_DONE | MDMA_STATUS_ERROR,
		  mdma_run(self->device, MDMA_OP_COPY, IOVA, IOVA + 6 * PAGE,
			   128));
}

/* Detaching drops the pins too: the access loses its IOAS. */
TEST_F(mdma_cdev, detach_while_pinned)
{
	ASSERT_EQ(MDMA_STATUS_DONE,
		  mdma_run(self->device,
			   MDMA_OP_FILL | MDMA_CMD_PIN | MDMA_CMD_KEEP, 0,
			   IOVA, 2 * PAGE));
	EXPECT_EQ(2, mdma_rd(self->device, MDMA_REG_PINNED));
	ASSERT_EQ(0, detach_pt(self->device));
	EXPECT_EQ(0, mdma_rd(self->device, MDMA_REG_PINNED));
	EXPECT_EQ(MDMA_STATUS_DONE | MDMA_STATUS_ERROR,
		  mdma_run(self->device, MDMA_OP_FILL, 0, IOVA, 8));
}

TEST_HARNESS_MAIN
