// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=iommufd timeout=300
/*
 * The device cdev and iommufd: /dev/vfio/devices/vfioN, which answers
 * nothing but VFIO_DEVICE_BIND_IOMMUFD until bound to an iommufd context,
 * then attaches to an IOAS or a HWPT of it; edu DMA through an IOAS; the
 * exclusion of groups and cdevs; and a group given an iommufd in place of
 * a container.
 */
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "edu.h"
#include "iommufd_test.h"
#include "kselftest_harness.h"
#include "iommu_fault.h"

#define PAGE		4096
#define IOVA_SRC	0x100000
#define IOVA_DST	0x200000
#define IOVA_NOWHERE	0x500000
#define NO_SUCH_ID	0xdead


FIXTURE(cdev) {
	char bdf[32];
	char path[64];
	int group_id;
	int iommufd;
	int device;
};

FIXTURE_SETUP(cdev)
{
	self->device = -1;
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->bdf));
	ASSERT_EQ(0, pci_bind(self->bdf, "vfio-pci"));
	self->group_id = pci_iommu_group(self->bdf);
	ASSERT_LE(0, self->group_id);
	ASSERT_EQ(0, cdev_path(self->bdf, self->path));
	self->iommufd = open(IOMMUFD_PATH, O_RDWR);
	ASSERT_LE(0, self->iommufd) TH_LOG("/dev/iommu: %m");
	self->device = open(self->path, O_RDWR);
	ASSERT_LE(0, self->device) TH_LOG("%s: %m", self->path);
}

FIXTURE_TEARDOWN(cdev)
{
	if (self->device >= 0)
		close(self->device);
	if (self->iommufd >= 0)
		close(self->iommufd);
}

/* A char device per vfio device, named as vfio-dev/vfioN, with its dev. */
TEST_F(cdev, node_and_sysfs)
{
	char sysdev[PATH_MAX], buf[32] = "";
	unsigned int major_nr, minor_nr;
	struct stat st;
	int fd;

	ASSERT_EQ(0, stat(self->path, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	snprintf(sysdev, sizeof(sysdev), "/sys/bus/pci/devices/%s/vfio-dev/%s/dev",
		 self->bdf, strrchr(self->path, '/') + 1);
	fd = open(sysdev, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("%s: %m", sysdev);
	ASSERT_LT(0, read(fd, buf, sizeof(buf) - 1));
	close(fd);
	ASSERT_EQ(2, sscanf(buf, "%u:%u", &major_nr, &minor_nr));
	EXPECT_EQ(major(st.st_rdev), major_nr);
	EXPECT_EQ(minor(st.st_rdev), minor_nr);
}

/* Before BIND, every other request and access fails with EINVAL. */
TEST_F(cdev, everything_fails_before_bind)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info region = { .argsz = sizeof(region) };
	struct vfio_irq_info irq = { .argsz = sizeof(irq) };
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};
	struct vfio_device_feature feature = {
		.argsz = sizeof(feature), .flags = VFIO_DEVICE_FEATURE_PROBE,
	};
	struct vfio_pci_hot_reset_info hri = { .argsz = sizeof(hri) };
	char buf[4];
	void *map;

	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_GET_REGION_INFO,
				      &region));
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_GET_IRQ_INFO,
				      &irq));
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_RESET, NULL));
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_FEATURE,
				      &feature));
	EXPECT_EQ(EINVAL, ioctl_errno(self->device,
				      VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hri));
	EXPECT_EQ(EINVAL, ioctl_errno(self->device,
				      VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	EXPECT_EQ(EINVAL, ioctl_errno(self->device,
				      VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_GROUP_GET_STATUS, NULL));
	EXPECT_EQ(-1, pread(self->device, buf, sizeof(buf), 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pwrite(self->device, buf, sizeof(buf), 0));
	EXPECT_EQ(EINVAL, errno);
	map = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->device, 0);
	EXPECT_EQ(MAP_FAILED, map);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(cdev, bind_refuses_bad_arguments)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind), .iommufd = self->iommufd,
	};
	int null_fd = open("/dev/null", O_RDWR);

	ASSERT_LE(0, null_fd);
	bind.iommufd = -1;
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_BIND_IOMMUFD,
				      &bind));
	bind.iommufd = 1000;		/* not open */
	EXPECT_EQ(EBADF, ioctl_errno(self->device, VFIO_DEVICE_BIND_IOMMUFD,
				     &bind));
	bind.iommufd = null_fd;
	EXPECT_EQ(EBADFD, ioctl_errno(self->device, VFIO_DEVICE_BIND_IOMMUFD,
				      &bind));
	bind.iommufd = self->iommufd;
	bind.flags = 1;
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_BIND_IOMMUFD,
				      &bind));
	bind.flags = 0;
	bind.argsz = offsetof(struct vfio_device_bind_iommufd, out_devid);
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_BIND_IOMMUFD,
				      &bind));
	EXPECT_EQ(EFAULT, ioctl_errno(self->device, VFIO_DEVICE_BIND_IOMMUFD,
				      NULL));
	close(null_fd);
	/* None of that bound the device. */
	EXPECT_EQ(EINVAL, ioctl_errno(self->device, VFIO_DEVICE_RESET, NULL));
}

/* One bind per file, one bound file per device. */
TEST_F(cdev, bind_once)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint32_t devid = 0;
	int other;

	ASSERT_EQ(0, bind_iommufd(self->device, self->iommufd, &devid));
	EXPECT_NE(0, devid);
	EXPECT_EQ(0, ioctl_errno(self->device, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_EQ(EINVAL, bind_iommufd(self->device, self->iommufd, NULL));

	/* Another open succeeds, but cannot bind while this one is bound. */
	other = open(self->path, O_RDWR);
	ASSERT_LE(0, other);
	EXPECT_EQ(EINVAL, bind_iommufd(other, self->iommufd, NULL));
	close(other);

	/* Closing unbinds: a new file binds again. */
	close(self->device);
	self->device = open(self->path, O_RDWR);
	ASSERT_LE(0, self->device);
	EXPECT_EQ(0, bind_iommufd(self->device, self->iommufd, NULL));
}

TEST_F(cdev, attach_refuses_bad_arguments)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach), .flags = 1,
	};
	uint32_t ioas, pt;

	ASSERT_EQ(0, bind_iommufd(self->device, self->iommufd, NULL));
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &ioas));
	pt = NO_SUCH_ID;
	EXPECT_EQ(ENOENT, attach_pt(self->device, &pt));
	attach.pt_id = ioas;
	attach.flags = 1;
	EXPECT_EQ(EINVAL, ioctl_errno(self->device,
				      VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	attach.flags = 0;
	attach.argsz = offsetof(struct vfio_device_attach_iommufd_pt, pt_id);
	EXPECT_EQ(EINVAL, ioctl_errno(self->device,
				      VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	EXPECT_EQ(EINVAL, ioctl_errno(self->device,
				      VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
	detach.flags = 0;
	detach.argsz = 4;
	EXPECT_EQ(EINVAL, ioctl_errno(self->device,
				      VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
}

/* IOAS, then a HWPT of it, then another IOAS: each replaces the last. */
TEST_F(cdev, attach_ioas_hwpt_replace_detach)
{
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	uint32_t devid, ioas, ioas2, hwpt, pt;

	ASSERT_EQ(0, bind_iommufd(self->device, self->iommufd, &devid));
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &ioas));
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &ioas2));

	pt = ioas;
	ASSERT_EQ(0, attach_pt(self->device, &pt));
	/* An IOAS id comes back as the id of the HWPT used for it. */
	EXPECT_NE(ioas, pt);

	ASSERT_EQ(0, hwpt_alloc(self->iommufd, devid, ioas, &hwpt));
	pt = hwpt;
	ASSERT_EQ(0, attach_pt(self->device, &pt));
	EXPECT_EQ(hwpt, pt);

	pt = ioas2;
	ASSERT_EQ(0, attach_pt(self->device, &pt));
	/* Detaching twice is fine; the HWPT left over can go. */
	EXPECT_EQ(0, detach_pt(self->device));
	EXPECT_EQ(0, detach_pt(self->device));
	destroy.id = hwpt;
	EXPECT_EQ(0, ioctl_errno(self->iommufd, IOMMU_DESTROY, &destroy));
}

/* A HWPT the device uses cannot be destroyed under it. */
TEST_F(cdev, attached_hwpt_is_busy)
{
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	uint32_t devid, ioas, hwpt, pt;

	ASSERT_EQ(0, bind_iommufd(self->device, self->iommufd, &devid));
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &ioas));
	ASSERT_EQ(0, hwpt_alloc(self->iommufd, devid, ioas, &hwpt));
	pt = hwpt;
	ASSERT_EQ(0, attach_pt(self->device, &pt));
	destroy.id = hwpt;
	EXPECT_EQ(EBUSY, ioctl_errno(self->iommufd, IOMMU_DESTROY, &destroy));
	ASSERT_EQ(0, detach_pt(self->device));
	EXPECT_EQ(0, ioctl_errno(self->iommufd, IOMMU_DESTROY, &destroy));
}

/* Closing an attached device detaches and unbinds it. */
TEST_F(cdev, close_while_attached)
{
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	uint32_t ioas, pt;

	ASSERT_EQ(0, bind_iommufd(self->device, self->iommufd, NULL));
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &ioas));
	pt = ioas;
	ASSERT_EQ(0, attach_pt(self->device, &pt));
	close(self->device);
	self->device = -1;
	/* Nothing uses the IOAS any more. */
	destroy.id = ioas;
	EXPECT_EQ(0, ioctl_errno(self->iommufd, IOMMU_DESTROY, &destroy));
	/* The device is free for a new bind. */
	self->device = open(self->path, O_RDWR);
	ASSERT_LE(0, self->device);
	EXPECT_EQ(0, bind_iommufd(self->device, self->iommufd, NULL));
}

/* The group is open: no bind. A device is bound: no group open. */
TEST_F(cdev, group_and_cdev_exclude_each_other)
{
	int group = vfio_group_open(self->group_id);

	ASSERT_LE(0, group);
	EXPECT_EQ(EBUSY, bind_iommufd(self->device, self->iommufd, NULL));
	close(group);

	ASSERT_EQ(0, bind_iommufd(self->device, self->iommufd, NULL));
	EXPECT_EQ(-1, vfio_group_open(self->group_id));
	EXPECT_EQ(EBUSY, errno);
	close(self->device);
	self->device = -1;

	group = vfio_group_open(self->group_id);
	EXPECT_LE(0, group);
	if (group >= 0)
		close(group);
}

/* VFIO_GROUP_SET_CONTAINER takes an iommufd in place of a container. */
TEST_F(cdev, group_with_iommufd_as_container)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int group, device;

	close(self->device);
	self->device = -1;
	group = vfio_group_open(self->group_id);
	ASSERT_LE(0, group);
	ASSERT_EQ(0, ioctl_errno(group, VFIO_GROUP_SET_CONTAINER,
				 &self->iommufd));
	ASSERT_EQ(0, ioctl_errno(group, VFIO_GROUP_GET_STATUS, &status));
	EXPECT_EQ((uint32_t)(VFIO_GROUP_FLAGS_VIABLE |
			     VFIO_GROUP_FLAGS_CONTAINER_SET), status.flags);
	EXPECT_EQ(EINVAL, ioctl_errno(group, VFIO_GROUP_SET_CONTAINER,
				      &self->iommufd));

	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, self->bdf);
	ASSERT_LE(0, device) TH_LOG("GET_DEVICE_FD: %m");
	EXPECT_EQ(0, ioctl_errno(device, VFIO_DEVICE_GET_INFO, &info));
	/* A group's device file is open already: it cannot bind. */
	EXPECT_EQ(EINVAL, bind_iommufd(device, self->iommufd, NULL));
	close(device);

	EXPECT_EQ(0, ioctl_errno(group, VFIO_GROUP_UNSET_CONTAINER, NULL));
	EXPECT_EQ(EINVAL, ioctl_errno(group, VFIO_GROUP_UNSET_CONTAINER, NULL));
	close(group);
}

/* edu's DMA engine through an IOAS the device is attached to. */
FIXTURE(cdev_dma) {
	struct edu edu;
	int iommufd;
	uint32_t ioas;
	uint8_t *src;
	uint8_t *dst;
};

FIXTURE_SETUP(cdev_dma)
{
	int i;

	ASSERT_EQ(0, cdev_user_open(&self->edu.u, &self->iommufd, &self->ioas,
				    EDU_VENDOR, EDU_DEVICE, 0));
	self->src = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = self->src + PAGE;
	for (i = 0; i < PAGE; i++)
		self->src[i] = (uint8_t)(i * 7 + 3);
	memset(self->dst, 0, PAGE);
	ASSERT_EQ(0, ioas_map(self->iommufd, self->ioas, self->src, IOVA_SRC,
			      PAGE));
	ASSERT_EQ(0, ioas_map(self->iommufd, self->ioas, self->dst, IOVA_DST,
			      PAGE));
	ASSERT_EQ(0, edu_locate(&self->edu));
	ASSERT_EQ(0, edu_command_set(&self->edu, 0x6));	/* MEM | MASTER */
}

FIXTURE_TEARDOWN(cdev_dma)
{
	cdev_user_close(&self->edu.u, &self->iommufd);
}

TEST_F(cdev_dma, dma_round_trip)
{
	EXPECT_EQ(0x010000edu, edu_read32(&self->edu, EDU_ID));
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_SRC, EDU_BUFFER, EDU_DMA_MAX, 0));
	ASSERT_EQ(0, edu_dma(&self->edu, EDU_BUFFER, IOVA_DST, EDU_DMA_MAX,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, memcmp(self->src, self->dst, EDU_DMA_MAX));
	EXPECT_EQ(0, self->dst[EDU_DMA_MAX]);
}

TEST_F(cdev_dma, dma_to_unmapped_iova_is_blocked)
{
	unsigned long mark = dmar_fault_irqs();

	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_SRC, EDU_BUFFER, 256, 0));
	ASSERT_EQ(0, edu_dma(&self->edu, EDU_BUFFER, IOVA_NOWHERE, 256,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, self->dst[0]);
	EXPECT_TRUE(dmar_fault_since(mark))
		TH_LOG("the IOMMU raised no fault event (dmar0 interrupt)");
}

TEST_F(cdev_dma, unmap_revokes_the_iova)
{
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_SRC, EDU_BUFFER, 256, 0));
	ASSERT_EQ(0, ioas_unmap(self->iommufd, self->ioas, IOVA_DST, PAGE));
	ASSERT_EQ(0, edu_dma(&self->edu, EDU_BUFFER, IOVA_DST, 256,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, self->dst[0]);
	ASSERT_EQ(0, ioas_map(self->iommufd, self->ioas, self->dst, IOVA_DST,
			      PAGE));
	ASSERT_EQ(0, edu_dma(&self->edu, EDU_BUFFER, IOVA_DST, 256,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, memcmp(self->src, self->dst, 256));
}

/* Detached, the device's DMA is blocked: nothing reaches the buffer. */
TEST_F(cdev_dma, detach_blocks_dma)
{
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_SRC, EDU_BUFFER, 256, 0));
	ASSERT_EQ(0, detach_pt(self->edu.u.device));
	ASSERT_EQ(0, edu_dma(&self->edu, EDU_BUFFER, IOVA_DST, 256,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, self->dst[0]);
}

TEST_HARNESS_MAIN
