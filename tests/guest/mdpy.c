// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=mdev timeout=120
/*
 * Upstream's mdpy sample (a display with a plain framebuffer region) as a
 * VFIO user sees it, on both module sets: type files, config space, region
 * info, the framebuffer mmap'ed through the device fd (the core hands the
 * mmap to the driver), VFIO_DEVICE_QUERY_GFX_PLANE for a region plane,
 * and the per-device sysfs group the driver adds.
 *
 * mdpy's read/write of its framebuffer ignores the offset (every access
 * lands at its start) and does not bound config accesses past 0xff: the
 * tests stay inside what it handles.
 */
#include <stddef.h>
#include <sys/mman.h>

#include "mdev_test.h"
#include "kselftest_harness.h"

#define MDPY_VENDOR		0x1b36	/* PCI_VENDOR_ID_REDHAT */
#define MDPY_DEVICE		0x000f
#define MDPY_DISPLAY_REGION	16
#define MDPY_FB_OFFSET		4096
#define MDPY_VGA_FB_SIZE	(2 << 20)	/* 640x480x4, to a power of 2 */
#define DRM_XRGB8888		0x34325258	/* fourcc "XR24" */

FIXTURE(mdpy) {
	struct mdev_user u;
};

FIXTURE_SETUP(mdpy)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	self->u.created = false;
	self->u.container = self->u.group = self->u.device = -1;
	ASSERT_EQ(0, mdev_load("mdpy"));
	mdev_remove_all();
	ASSERT_EQ(0, mdev_user_open(&self->u, "mdpy-vga", 0x300));
	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_INFO, &info));
	ASSERT_EQ((__u64)(VFIO_DEVICE_FLAGS_PCI), info.flags);
	ASSERT_EQ((__u64)(VFIO_PCI_NUM_REGIONS), info.num_regions);
}

FIXTURE_TEARDOWN(mdpy)
{
	EXPECT_EQ(0, mdev_user_close(&self->u));
	EXPECT_EQ(0, mdev_unload("mdpy"));
}

TEST_F(mdpy, type_files)
{
	char buf[128], path[PATH_MAX];
	int fd;
	ssize_t n;

	ASSERT_EQ(0, mdev_type_read("mdpy-xga", "name", buf, sizeof(buf)));
	EXPECT_STREQ("mdpy-xga", buf);
	ASSERT_EQ(0, mdev_type_read("mdpy-hd", "description", buf,
				    sizeof(buf)));
	EXPECT_STREQ("virtual display, 1920x1080 framebuffer", buf);
	ASSERT_EQ(0, mdev_type_read("mdpy-vga", "device_api", buf,
				    sizeof(buf)));
	EXPECT_STREQ(VFIO_DEVICE_API_PCI_STRING, buf);
	/* max_instances 4, one in use: counted by the core for every type. */
	EXPECT_EQ(3, mdev_available("mdpy-vga"));
	EXPECT_EQ(3, mdev_available("mdpy-hd"));

	/* The driver's own attribute group on the instance. */
	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/vendor/resolution",
		 self->u.uuid);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("%s: %m", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_LT(0, n);
	buf[n] = 0;
	EXPECT_STREQ("640x480\n", buf);
}

TEST_F(mdpy, config_space)
{
	uint8_t cfg[0x50];
	uint32_t v;

	ASSERT_EQ((ssize_t)sizeof(cfg), pread(self->u.device, cfg, sizeof(cfg), 0));
	EXPECT_EQ(MDPY_VENDOR, cfg[0] | cfg[1] << 8);
	EXPECT_EQ(MDPY_DEVICE, cfg[2] | cfg[3] << 8);
	/* Display controller, "other". */
	EXPECT_EQ(0x0380, cfg[0x0a] | cfg[0x0b] << 8);
	/* A vendor capability at 0x40 carries format and resolution. */
	EXPECT_EQ(0x40, cfg[0x34]);
	EXPECT_EQ(0x09, cfg[0x40]);
	EXPECT_EQ(0x00, cfg[0x41]);
	memcpy(&v, cfg + 0x44, 4);
	EXPECT_EQ((__u64)(DRM_XRGB8888), v);
	memcpy(&v, cfg + 0x48, 4);
	EXPECT_EQ(640u, v);
	memcpy(&v, cfg + 0x4c, 4);
	EXPECT_EQ(480u, v);
}

TEST_F(mdpy, regions)
{
	struct vfio_region_info info;

	ASSERT_EQ(0, mdev_region_info(self->u.device,
				      VFIO_PCI_BAR0_REGION_INDEX, &info));
	EXPECT_EQ((__u64)(MDPY_FB_OFFSET), info.offset);
	EXPECT_EQ((__u64)(MDPY_VGA_FB_SIZE), info.size);
	EXPECT_EQ((__u32)(VFIO_REGION_INFO_FLAG_READ |
			  VFIO_REGION_INFO_FLAG_WRITE |
			  VFIO_REGION_INFO_FLAG_MMAP), info.flags);
	ASSERT_EQ(0, mdev_region_info(self->u.device, MDPY_DISPLAY_REGION,
				      &info));
	EXPECT_EQ((__u64)(MDPY_FB_OFFSET), info.offset);
	EXPECT_EQ((__u64)(MDPY_VGA_FB_SIZE), info.size);
	ASSERT_EQ(0, mdev_region_info(self->u.device,
				      VFIO_PCI_BAR2_REGION_INDEX, &info));
	EXPECT_EQ(0u, info.size);
	EXPECT_EQ(0u, info.flags);
	EXPECT_EQ(EINVAL, mdev_region_info(self->u.device,
					   VFIO_PCI_NUM_REGIONS, &info));
}

/* The framebuffer mmap'ed through the device fd is the driver's memory. */
TEST_F(mdpy, framebuffer_mmap)
{
	uint32_t *fb, word = 0;
	void *p;

	fb = mmap(NULL, MDPY_VGA_FB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		  self->u.device, MDPY_FB_OFFSET);
	ASSERT_NE(MAP_FAILED, fb) TH_LOG("mmap: %m");
	fb[0] = 0x11223344;
	fb[MDPY_VGA_FB_SIZE / 4 - 1] = 0x55667788;
	ASSERT_EQ(4, pread(self->u.device, &word, 4, MDPY_FB_OFFSET));
	EXPECT_EQ(0x11223344u, word);
	word = 0xcafef00d;
	ASSERT_EQ(4, pwrite(self->u.device, &word, 4, MDPY_FB_OFFSET));
	EXPECT_EQ(0xcafef00d, fb[0]);
	/* A second mapping sees the same memory. */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->u.device,
		 MDPY_FB_OFFSET);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0xcafef00d, *(uint32_t *)p);
	munmap(p, 4096);
	munmap(fb, MDPY_VGA_FB_SIZE);

	/* mdpy refuses private, oversized and misplaced mappings. */
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, self->u.device,
		 MDPY_FB_OFFSET);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * MDPY_VGA_FB_SIZE, PROT_READ, MAP_SHARED,
		 self->u.device, MDPY_FB_OFFSET);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->u.device, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(mdpy, query_gfx_plane)
{
	struct vfio_device_gfx_plane_info plane;

	memset(&plane, 0, sizeof(plane));
	plane.argsz = sizeof(plane);
	plane.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION;
	EXPECT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_QUERY_GFX_PLANE,
				 &plane));
	plane.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF;
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.device,
				      VFIO_DEVICE_QUERY_GFX_PLANE, &plane));
	plane.flags = 0;
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.device,
				      VFIO_DEVICE_QUERY_GFX_PLANE, &plane));

	plane.flags = VFIO_GFX_PLANE_TYPE_REGION;
	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_QUERY_GFX_PLANE,
				 &plane));
	EXPECT_EQ((__u64)(DRM_XRGB8888), plane.drm_format);
	EXPECT_EQ(640u, plane.width);
	EXPECT_EQ(480u, plane.height);
	EXPECT_EQ(640u * 4u, plane.stride);
	EXPECT_EQ((__u64)(MDPY_VGA_FB_SIZE), plane.size);
	EXPECT_EQ((__u64)(MDPY_DISPLAY_REGION), plane.region_index);

	plane.argsz = offsetof(struct vfio_device_gfx_plane_info,
			       region_index);
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.device,
				      VFIO_DEVICE_QUERY_GFX_PLANE, &plane));
}

TEST_F(mdpy, no_interrupts)
{
	struct vfio_irq_info irq = { .argsz = sizeof(irq) };
	struct vfio_irq_set set = {
		.argsz = sizeof(set), .index = VFIO_PCI_INTX_IRQ_INDEX,
		.count = 0,
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
	};

	irq.index = VFIO_PCI_INTX_IRQ_INDEX;
	ASSERT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_GET_IRQ_INFO,
				 &irq));
	EXPECT_EQ(0u, irq.count);
	EXPECT_EQ(EINVAL, ioctl_errno(self->u.device, VFIO_DEVICE_SET_IRQS,
				      &set));
	EXPECT_EQ(0, ioctl_errno(self->u.device, VFIO_DEVICE_RESET, NULL));
	/* An ioctl mdpy does not know. */
	EXPECT_EQ(ENOTTY, ioctl_errno(self->u.device, VFIO_DEVICE_GET_GFX_DMABUF,
				      &irq));
}

TEST_HARNESS_MAIN
