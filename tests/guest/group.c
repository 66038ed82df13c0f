// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=groups
/*
 * Groups and containers: /dev/vfio/N, GET_STATUS, SET/UNSET_CONTAINER,
 * SET_IOMMU and GET_DEVICE_FD, with edu and pci-testdev each in a group
 * of its own (machine q35-intel).
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "vfio_test.h"
#include "kselftest_harness.h"

FIXTURE(group) {
	char bdf[32];
	int group_id;
	int group;
	int container;
};

FIXTURE_SETUP(group)
{
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->bdf));
	ASSERT_EQ(0, pci_bind(self->bdf, "vfio-pci"));
	self->group_id = pci_iommu_group(self->bdf);
	ASSERT_LE(0, self->group_id);
	self->group = vfio_group_open(self->group_id);
	ASSERT_LE(0, self->group) TH_LOG("open group %d: %m", self->group_id);
	self->container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_LE(0, self->container);
}

FIXTURE_TEARDOWN(group)
{
	close(self->group);
	close(self->container);
}

static __u32 group_flags(int group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };

	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status))
		return ~0u;
	return status.flags;
}

TEST_F(group, node_is_a_char_device)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/vfio/%d", self->group_id);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST_F(group, viable_before_attach)
{
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, group_flags(self->group));
}

TEST_F(group, get_status_argsz_too_small)
{
	struct vfio_group_status status = { .argsz = 4 };

	EXPECT_EQ(EINVAL, ioctl_errno(self->group, VFIO_GROUP_GET_STATUS,
				      &status));
}

TEST_F(group, second_open_is_busy)
{
	EXPECT_EQ(-1, vfio_group_open(self->group_id));
	EXPECT_EQ(EBUSY, errno);
}

TEST_F(group, reopen_after_close)
{
	close(self->group);
	self->group = vfio_group_open(self->group_id);
	EXPECT_LE(0, self->group);
}

TEST_F(group, unknown_ioctl)
{
	EXPECT_EQ(ENOTTY, ioctl_errno(self->group, _IO(VFIO_TYPE, 0x7f), NULL));
}

TEST_F(group, set_container)
{
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET,
		  group_flags(self->group));
	/* Attached once is enough. */
	EXPECT_EQ(EINVAL, ioctl_errno(self->group, VFIO_GROUP_SET_CONTAINER,
				      &self->container));
}

TEST_F(group, set_container_bad_fds)
{
	int fd = -1;
	int null = open("/dev/null", O_RDWR);

	EXPECT_EQ(EBADF, ioctl_errno(self->group, VFIO_GROUP_SET_CONTAINER,
				     &fd));
	ASSERT_LE(0, null);
	EXPECT_EQ(EBADFD, ioctl_errno(self->group, VFIO_GROUP_SET_CONTAINER,
				      &null));
	EXPECT_EQ(EFAULT, ioctl_errno(self->group, VFIO_GROUP_SET_CONTAINER,
				      NULL));
	close(null);
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, group_flags(self->group));
}

TEST_F(group, unset_container)
{
	EXPECT_EQ(EINVAL, ioctl_errno(self->group, VFIO_GROUP_UNSET_CONTAINER,
				      NULL));
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	EXPECT_EQ(0, ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, group_flags(self->group));
	/* Unset gives the group back: it can attach again. */
	EXPECT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
}

TEST_F(group, set_iommu_needs_a_group)
{
	EXPECT_EQ(EINVAL, ioctl_errno(self->container, VFIO_SET_IOMMU,
				      (void *)VFIO_TYPE1v2_IOMMU));
}

TEST_F(group, set_iommu)
{
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	EXPECT_LT(0, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_TYPE1v2_IOMMU));
	/* No backend supports this type. */
	EXPECT_EQ(ENODEV, ioctl_errno(self->container, VFIO_SET_IOMMU,
				      (void *)0x7f));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU,
			   VFIO_TYPE1v2_IOMMU));
	/* Once set, never reset. */
	EXPECT_EQ(EINVAL, ioctl_errno(self->container, VFIO_SET_IOMMU,
				      (void *)VFIO_TYPE1v2_IOMMU));
}

TEST_F(group, device_fd_needs_container_and_iommu)
{
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->bdf));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->bdf));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(group, device_fd)
{
	char path[PATH_MAX];
	struct stat st;
	int device;

	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU,
			   VFIO_TYPE1v2_IOMMU));

	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
			    "0000:ff:1f.7"));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(EFAULT, ioctl_errno(self->group, VFIO_GROUP_GET_DEVICE_FD,
				      NULL));

	device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->bdf);
	ASSERT_LE(0, device) TH_LOG("GET_DEVICE_FD %s: %m", self->bdf);
	/* Device fds are close-on-exec. */
	EXPECT_EQ(FD_CLOEXEC, fcntl(device, F_GETFD) & FD_CLOEXEC);

	/* An open device pins the attachment. */
	EXPECT_EQ(EBUSY, ioctl_errno(self->group, VFIO_GROUP_UNSET_CONTAINER,
				     NULL));
	close(device);
	EXPECT_EQ(0, ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER));

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev",
		 self->bdf);
	EXPECT_EQ(0, stat(path, &st)) TH_LOG("%s: %m", path);
}

/* A device fd keeps its group file alive after the user closes the group. */
TEST_F(group, device_outlives_group_fd)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int device;

	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU,
			   VFIO_TYPE1v2_IOMMU));
	device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->bdf);
	ASSERT_LE(0, device);
	close(self->group);
	close(self->container);
	EXPECT_EQ(0, ioctl(device, VFIO_DEVICE_GET_INFO, &info));
	/* The group is still held open through the device. */
	EXPECT_EQ(-1, vfio_group_open(self->group_id));
	EXPECT_EQ(EBUSY, errno);
	close(device);
	self->group = vfio_group_open(self->group_id);
	EXPECT_LE(0, self->group);
	self->container = open(VFIO_CONTAINER_PATH, O_RDWR);
}

/* Two groups share one container and one IOMMU backend. */
TEST_F(group, two_groups_one_container)
{
	char bdf2[32];
	int group2, dev1, dev2;

	ASSERT_EQ(0, pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0, bdf2));
	ASSERT_EQ(0, pci_bind(bdf2, "vfio-pci"));
	ASSERT_NE(self->group_id, pci_iommu_group(bdf2));
	group2 = vfio_group_open(pci_iommu_group(bdf2));
	ASSERT_LE(0, group2);

	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU,
			   VFIO_TYPE1v2_IOMMU));
	/* A group joining after SET_IOMMU is attached to the backend. */
	ASSERT_EQ(0, ioctl(group2, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	dev1 = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->bdf);
	dev2 = ioctl(group2, VFIO_GROUP_GET_DEVICE_FD, bdf2);
	EXPECT_LE(0, dev1);
	EXPECT_LE(0, dev2);
	/* A device of the other group is not reachable through this one. */
	EXPECT_EQ(-1, ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, bdf2));
	EXPECT_EQ(ENODEV, errno);
	close(dev1);
	close(dev2);
	close(group2);
}

/*
 * Unbinding the driver waits for the user: the device fd stays usable
 * until closed, and only then does the unbind finish and the group go.
 */
TEST_F(group, unbind_waits_for_the_user)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char path[PATH_MAX], driver[64];
	struct timespec t0, t1;
	int device, status;
	pid_t child;

	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
			   &self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU,
			   VFIO_TYPE1v2_IOMMU));
	device = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, self->bdf);
	ASSERT_LE(0, device);

	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		/* The fork copied the fds: drop them, or we wait on ourselves. */
		close(device);
		close(self->group);
		close(self->container);
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver/unbind", self->bdf);
		_exit(sysfs_write(path, self->bdf) ? 1 : 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	usleep(500 * 1000);
	/* The unbind is still waiting, and the device still answers. */
	EXPECT_EQ(0, waitpid(child, &status, WNOHANG));
	EXPECT_EQ(0, ioctl(device, VFIO_DEVICE_GET_INFO, &info));
	close(device);
	close(self->group);
	self->group = -1;
	ASSERT_EQ(child, waitpid(child, &status, 0));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_LE(0.5, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	pci_driver(self->bdf, driver);
	EXPECT_STREQ("", driver);
	/* The last device of the group left: so did /dev/vfio/N. */
	snprintf(path, sizeof(path), "/dev/vfio/%d", self->group_id);
	EXPECT_NE(0, access(path, F_OK));
	/* Put things back for the next case. */
	ASSERT_EQ(0, pci_bind(self->bdf, "vfio-pci"));
}

TEST_HARNESS_MAIN
