// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=mdev timeout=120
/*
 * Upstream's mbochs sample (a bochs-dispi display whose planes are
 * dma-bufs) as a VFIO user sees it, on both module sets: its memory
 * accounting across types, region info with the EDID region's type
 * capability, the framebuffer mmap, the bochs registers through its MMIO
 * BAR, and VFIO_DEVICE_QUERY_GFX_PLANE / VFIO_DEVICE_GET_GFX_DMABUF.
 *
 * Quirks of the 6.12 sample that the tests step around or pin down:
 * a pread of its memory BAR at offset X reads memory page X/4096 + 2 (it
 * subtracts the MMIO BAR's offset), so the last two pages must never be
 * read that way; and the first plane query for a new mode allocates the
 * dma-buf but answers ENOMEM (it drops the pointer): the second finds it;
 * and a second VFIO_DEVICE_GET_GFX_DMABUF of one id installs the dma-buf
 * in a second fd without a reference (never done here).
 */
#include <stddef.h>
#include <sys/mman.h>

#include "mdev_test.h"
#include "kselftest_harness.h"

#define PAGE			4096
#define MBOCHS_MMIO_OFFSET	PAGE
#define MBOCHS_EDID_OFFSET	(2 * PAGE)
#define MBOCHS_MEM_OFFSET	(3 * PAGE)
#define MBOCHS_EDID_INDEX	VFIO_PCI_NUM_REGIONS
#define SMALL_MB		4u
#define TOTAL_MB		256	/* the module's default */
#define DRM_XRGB8888		0x34325258u
#define DRM_PLANE_PRIMARY	1

/* bochs dispi registers, 16 bits each from 0x500 of the MMIO BAR. */
#define DISPI(index)		(0x500 + 2 * (index))
#define DISPI_XRES		1
#define DISPI_YRES		2
#define DISPI_BPP		3
#define DISPI_ENABLE		4

FIXTURE(mbochs) {
	struct mdev_user u;
};

FIXTURE_SETUP(mbochs)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	self->u.created = false;
	self->u.container = self->u.group = self->u.device = -1;
	ASSERT_EQ(0, mdev_load("mbochs"));
	mdev_remove_all();
	ASSERT_EQ(0, mdev_user_open(&self->u, "mbochs-small", 0x400));
	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_INFO, &info));
	ASSERT_EQ((__u32)VFIO_DEVICE_FLAGS_PCI, info.flags);
	/* The PCI regions and the EDID region after them. */
	ASSERT_EQ((__u32)VFIO_PCI_NUM_REGIONS + 1, info.num_regions);
}

FIXTURE_TEARDOWN(mbochs)
{
	EXPECT_EQ(0, mdev_user_close(&self->u));
	EXPECT_EQ(0, mdev_unload("mbochs"));
}

static int dispi_write(int device, unsigned int index, uint16_t v)
{
	return pwrite(device, &v, 2, MBOCHS_MMIO_OFFSET + DISPI(index)) == 2 ?
	       0 : -1;
}

static int dispi_read(int device, unsigned int index)
{
	uint16_t v;

	if (pread(device, &v, 2, MBOCHS_MMIO_OFFSET + DISPI(index)) != 2)
		return -1;
	return v;
}

static int query_plane(int device, struct vfio_device_gfx_plane_info *plane)
{
	memset(plane, 0, sizeof(*plane));
	plane->argsz = sizeof(*plane);
	plane->flags = VFIO_GFX_PLANE_TYPE_DMABUF;
	plane->drm_plane_type = DRM_PLANE_PRIMARY;
	return ioctl_errno(device, VFIO_DEVICE_QUERY_GFX_PLANE, plane);
}

/* Memory is shared by all types: each instance takes its size from it. */
TEST_F(mbochs, memory_accounting)
{
	char buf[128], uuid[37];

	ASSERT_EQ(0, mdev_type_read("mbochs-medium", "description", buf,
				    sizeof(buf)));
	EXPECT_STREQ("virtual display, 16 MB video memory", buf);
	ASSERT_EQ(0, mdev_type_read("mbochs-large", "name", buf,
				    sizeof(buf)));
	EXPECT_STREQ("mbochs-large", buf);
	EXPECT_EQ((TOTAL_MB - SMALL_MB) / 4, mdev_available("mbochs-small"));
	EXPECT_EQ((TOTAL_MB - SMALL_MB) / 16, mdev_available("mbochs-medium"));
	EXPECT_EQ((TOTAL_MB - SMALL_MB) / 64, mdev_available("mbochs-large"));

	mdev_uuid(0x401, uuid);
	ASSERT_EQ(0, mdev_create("mbochs-large", uuid));
	EXPECT_EQ((TOTAL_MB - SMALL_MB - 64) / 64,
		  mdev_available("mbochs-large"));
	EXPECT_EQ(0, mdev_remove(uuid));
	EXPECT_EQ((TOTAL_MB - SMALL_MB) / 64, mdev_available("mbochs-large"));
}

TEST_F(mbochs, regions)
{
	struct {
		struct vfio_region_info info;
		struct vfio_region_info_cap_type cap;
	} r;
	struct vfio_region_info_cap_type *cap;

	ASSERT_EQ(0, mdev_region_info(self->u.device,
				      VFIO_PCI_BAR0_REGION_INDEX, &r.info));
	EXPECT_EQ((__u64)MBOCHS_MEM_OFFSET, r.info.offset);
	EXPECT_EQ(SMALL_MB << 20, r.info.size);
	EXPECT_EQ((__u32)(VFIO_REGION_INFO_FLAG_READ |
			  VFIO_REGION_INFO_FLAG_WRITE |
			  VFIO_REGION_INFO_FLAG_MMAP), r.info.flags);
	ASSERT_EQ(0, mdev_region_info(self->u.device,
				      VFIO_PCI_BAR2_REGION_INDEX, &r.info));
	EXPECT_EQ((__u64)MBOCHS_MMIO_OFFSET, r.info.offset);
	EXPECT_EQ((__u64)PAGE, r.info.size);

	/* The EDID region names its type in a capability. */
	memset(&r, 0, sizeof(r));
	r.info.argsz = sizeof(r);
	r.info.index = MBOCHS_EDID_INDEX;
	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_REGION_INFO,
				 &r));
	EXPECT_EQ((__u64)MBOCHS_EDID_OFFSET, r.info.offset);
	EXPECT_EQ((__u64)PAGE, r.info.size);
	ASSERT_NE(0u, r.info.flags & VFIO_REGION_INFO_FLAG_CAPS);
	ASSERT_EQ(offsetof(typeof(r), cap), r.info.cap_offset);
	cap = (void *)((char *)&r + r.info.cap_offset);
	EXPECT_EQ(VFIO_REGION_INFO_CAP_TYPE, cap->header.id);
	EXPECT_EQ((__u32)VFIO_REGION_TYPE_GFX, cap->type);
	EXPECT_EQ((__u32)VFIO_REGION_SUBTYPE_GFX_EDID, cap->subtype);

	r.info.index = MBOCHS_EDID_INDEX + 1;
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.device,
				      VFIO_DEVICE_GET_REGION_INFO, &r));
}

TEST_F(mbochs, edid_registers)
{
	struct vfio_region_gfx_edid edid;

	/* The registers, one 32-bit read at a time. */
	ASSERT_EQ(4, pread(self->u.device, &edid.edid_offset, 4,
			   MBOCHS_EDID_OFFSET +
			   offsetof(struct vfio_region_gfx_edid, edid_offset)));
	EXPECT_EQ((__u32)PAGE / 2, edid.edid_offset);
	ASSERT_EQ(4, pread(self->u.device, &edid.max_xres, 4,
			   MBOCHS_EDID_OFFSET +
			   offsetof(struct vfio_region_gfx_edid, max_xres)));
	EXPECT_EQ(800u, edid.max_xres);
	ASSERT_EQ(4, pread(self->u.device, &edid.max_yres, 4,
			   MBOCHS_EDID_OFFSET +
			   offsetof(struct vfio_region_gfx_edid, max_yres)));
	EXPECT_EQ(600u, edid.max_yres);
}

TEST_F(mbochs, framebuffer_mmap)
{
	uint32_t *fb, word = 0;
	void *p;

	fb = mmap(NULL, SMALL_MB << 20, PROT_READ | PROT_WRITE, MAP_SHARED,
		  self->u.device, MBOCHS_MEM_OFFSET);
	ASSERT_NE(MAP_FAILED, fb) TH_LOG("mmap: %m");
	fb[0] = 0x0badcafe;
	fb[2 * PAGE / 4 + 1] = 0x12345678;
	/* (See above: a read at BAR0 offset X is memory page X/4096 + 2.) */
	ASSERT_EQ(4, pread(self->u.device, &word, 4, MBOCHS_MEM_OFFSET + 4));
	EXPECT_EQ(0x12345678u, word);
	munmap(fb, SMALL_MB << 20);

	p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, self->u.device,
		 MBOCHS_MEM_OFFSET);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->u.device,
		 MBOCHS_MMIO_OFFSET);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(mbochs, gfx_plane_dmabuf)
{
	struct vfio_device_gfx_plane_info plane;
	int dev = self->u.device;
	uint32_t *fb, *buf;
	int32_t id;
	int fd;

	memset(&plane, 0, sizeof(plane));
	plane.argsz = sizeof(plane);
	plane.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF;
	EXPECT_EQ(0, ioctl_errno(dev, VFIO_DEVICE_QUERY_GFX_PLANE, &plane));
	plane.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION;
	EXPECT_EQ(EINVAL, ioctl_errno(dev, VFIO_DEVICE_QUERY_GFX_PLANE,
				      &plane));

	/* Display off: no plane, but no error either. */
	ASSERT_EQ(0, query_plane(dev, &plane));
	EXPECT_EQ(0u, plane.width);
	EXPECT_EQ(0u, plane.dmabuf_id);

	ASSERT_EQ(0, dispi_write(dev, DISPI_XRES, 640));
	ASSERT_EQ(0, dispi_write(dev, DISPI_YRES, 480));
	ASSERT_EQ(0, dispi_write(dev, DISPI_BPP, 32));
	ASSERT_EQ(0, dispi_write(dev, DISPI_ENABLE, 1));
	EXPECT_EQ(640, dispi_read(dev, DISPI_XRES));

	/* 6.12's sample: the first query of a mode answers ENOMEM. */
	EXPECT_EQ(ENOMEM, query_plane(dev, &plane));
	ASSERT_EQ(0, query_plane(dev, &plane));
	EXPECT_EQ(DRM_XRGB8888, plane.drm_format);
	EXPECT_EQ(640u, plane.width);
	EXPECT_EQ(480u, plane.height);
	EXPECT_EQ(640u * 4, plane.stride);
	EXPECT_EQ(640u * 480 * 4, plane.size);
	ASSERT_NE(0u, plane.dmabuf_id);

	fb = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, dev,
		  MBOCHS_MEM_OFFSET);
	ASSERT_NE(MAP_FAILED, fb);
	fb[3] = 0xfeedface;

	id = plane.dmabuf_id;
	fd = ioctl(dev, VFIO_DEVICE_GET_GFX_DMABUF, &id);
	ASSERT_LE(0, fd) TH_LOG("GET_GFX_DMABUF: %m");
	/* A dma-buf answers SEEK_END with its size. */
	EXPECT_EQ((off_t)plane.size, lseek(fd, 0, SEEK_END));
	/*
	 * The sample exports it read-only, so a MAP_SHARED mapping loses
	 * VM_SHARED, which mbochs requires: no CPU mapping (6.12).
	 */
	buf = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, buf);
	EXPECT_EQ(EINVAL, errno);
	if (buf != MAP_FAILED)
		munmap(buf, PAGE);
	/*
	 * Never ask for the same id twice: 6.12's sample installs the one
	 * dma-buf file in a second fd without taking a reference, and the
	 * second close WARNs ("file count is 0") and frees it under the
	 * other.
	 */
	close(fd);
	munmap(fb, PAGE);

	id = plane.dmabuf_id + 100;
	EXPECT_EQ(ENOENT, ioctl_errno(dev, VFIO_DEVICE_GET_GFX_DMABUF, &id));
}

TEST_HARNESS_MAIN
