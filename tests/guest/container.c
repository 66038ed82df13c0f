// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=container
/*
 * The container device /dev/vfio/vfio before any group or IOMMU backend.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "vfio_test.h"
#include "kselftest_harness.h"

FIXTURE(container) {
	int fd;
};

FIXTURE_SETUP(container)
{
	self->fd = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %m", VFIO_CONTAINER_PATH);
}

FIXTURE_TEARDOWN(container)
{
	close(self->fd);
}

TEST(device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(VFIO_CONTAINER_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(10, major(st.st_rdev));	/* misc */
	EXPECT_EQ(196, minor(st.st_rdev));	/* VFIO_MINOR */
	EXPECT_EQ(0666, st.st_mode & 07777);
}

TEST_F(container, api_version)
{
	EXPECT_EQ(VFIO_API_VERSION, ioctl(self->fd, VFIO_GET_API_VERSION));
}

TEST_F(container, unknown_extension)
{
	EXPECT_EQ(0, ioctl(self->fd, VFIO_CHECK_EXTENSION, 0xdead));
	EXPECT_EQ(0, ioctl(self->fd, VFIO_CHECK_EXTENSION, 0));
	EXPECT_EQ(0, ioctl(self->fd, VFIO_CHECK_EXTENSION, ~0UL));
}

/* Backend ioctls on a container with no IOMMU set fail with EINVAL. */
TEST_F(container, iommu_ioctl_without_backend)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };

	EXPECT_EQ(EINVAL, ioctl_errno(self->fd, VFIO_IOMMU_GET_INFO, &info));
	EXPECT_EQ(EINVAL, ioctl_errno(self->fd, _IO(VFIO_TYPE, 0x7f), NULL));
}

/* Each open is its own container. */
TEST(independent_opens)
{
	int a = open(VFIO_CONTAINER_PATH, O_RDWR);
	int b = open(VFIO_CONTAINER_PATH, O_RDWR);

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_NE(a, b);
	EXPECT_EQ(VFIO_API_VERSION, ioctl(b, VFIO_GET_API_VERSION));
	close(a);
	EXPECT_EQ(VFIO_API_VERSION, ioctl(b, VFIO_GET_API_VERSION));
	close(b);
}

TEST_HARNESS_MAIN
