// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=mdev timeout=180
/*
 * The mdev bus and its sysfs, driven through upstream's mtty sample (and
 * mdpy for a parent that counts instances through the core): the types'
 * files, create and remove with good and bad UUIDs, instance counting,
 * the group and cdev an instance gets, removal while a user holds it, and
 * a parent that goes away with instances left.
 */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "iommufd_test.h"
#include "mdev_test.h"
#include "kselftest_harness.h"

#define MTTY_PORTS	24	/* MAX_MTTYS: mtty-1 takes one, mtty-2 two */
#define MAX_CREATED	16

FIXTURE(mdev) {
	char uuid[MAX_CREATED][37];
	int created;
};

FIXTURE_SETUP(mdev)
{
	self->created = 0;
	ASSERT_EQ(0, mdev_load("mtty"));
	mdev_remove_all();
}

FIXTURE_TEARDOWN(mdev)
{
	int i;

	for (i = 0; i < self->created; i++)
		if (mdev_exists(self->uuid[i]))
			mdev_remove(self->uuid[i]);
	EXPECT_EQ(0, mdev_unload("mtty"));
}

/* Create instance @n of @type, remembered for the teardown. */
static int create(FIXTURE_DATA(mdev) *self, const char *type, unsigned int n)
{
	char *uuid = self->uuid[self->created];

	if (self->created == MAX_CREATED)
		return -ENOSPC;
	mdev_uuid(n, uuid);
	self->created++;
	return mdev_create(type, uuid);
}

static bool link_ends_with(const char *path, const char *tail)
{
	char link[PATH_MAX];
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	size_t len = strlen(tail);

	if (n < 0)
		return false;
	link[n] = 0;
	return (size_t)n >= len && !strcmp(link + n - len, tail);
}

TEST_F(mdev, types_and_their_files)
{
	struct stat st;
	char dir[PATH_MAX], path[PATH_MAX + 32], buf[128];

	ASSERT_EQ(0, lstat(MDEV_CLASS "/mtty", &st));
	EXPECT_TRUE(S_ISLNK(st.st_mode));

	ASSERT_EQ(0, mdev_type_read("mtty-1", "name", buf, sizeof(buf)));
	EXPECT_STREQ("Single port serial", buf);
	ASSERT_EQ(0, mdev_type_read("mtty-2", "name", buf, sizeof(buf)));
	EXPECT_STREQ("Dual port serial", buf);
	ASSERT_EQ(0, mdev_type_read("mtty-1", "device_api", buf, sizeof(buf)));
	EXPECT_STREQ(VFIO_DEVICE_API_PCI_STRING, buf);
	EXPECT_EQ(MTTY_PORTS, mdev_available("mtty-1"));
	EXPECT_EQ(MTTY_PORTS / 2, mdev_available("mtty-2"));

	/* mtty shows no description: the file is not there at all. */
	EXPECT_EQ(-ENOENT, mdev_type_read("mtty-1", "description", buf,
					  sizeof(buf)));
	ASSERT_EQ(0, mdev_type_dir("mtty-1", dir));
	snprintf(path, sizeof(path), "%s/devices", dir);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	/* create is write-only, the others read-only. */
	snprintf(path, sizeof(path), "%s/create", dir);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0200u, st.st_mode & 0777);
	snprintf(path, sizeof(path), "%s/available_instances", dir);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0444u, st.st_mode & 0777);
	EXPECT_EQ(-ENOENT, mdev_type_dir("mtty-3", dir));
}

TEST_F(mdev, create_and_remove_each_type)
{
	static const char * const types[] = { "mtty-1", "mtty-2" };
	char path[PATH_MAX], want[64];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		long before = mdev_available(types[i]);
		const char *uuid = self->uuid[self->created];

		ASSERT_EQ(0, create(self, types[i], i)) TH_LOG("%s", types[i]);
		ASSERT_TRUE(mdev_exists(uuid));
		EXPECT_EQ(before - 1, mdev_available(types[i]));

		snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/mdev_type",
			 uuid);
		snprintf(want, sizeof(want), "/%s", types[i]);
		EXPECT_TRUE(link_ends_with(path, want)) TH_LOG("%s", path);
		snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/driver",
			 uuid);
		EXPECT_TRUE(link_ends_with(path, "/mtty"));
		snprintf(path, sizeof(path), MDEV_CLASS
			 "/mtty/mdev_supported_types/%s/devices/%s", types[i],
			 uuid);
		EXPECT_EQ(0, access(path, F_OK)) TH_LOG("%s", path);
		/* The instance is a child of the parent's device. */
		snprintf(path, sizeof(path), MDEV_CLASS "/mtty/%s", uuid);
		EXPECT_EQ(0, access(path, F_OK)) TH_LOG("%s", path);

		ASSERT_EQ(0, mdev_remove(uuid));
		EXPECT_FALSE(mdev_exists(uuid));
		EXPECT_EQ(before, mdev_available(types[i]));
		snprintf(path, sizeof(path), MDEV_CLASS
			 "/mtty/mdev_supported_types/%s/devices/%s", types[i],
			 uuid);
		EXPECT_EQ(-1, access(path, F_OK));
	}
}

/* mtty counts ports, shared by both types (its get_available). */
TEST_F(mdev, available_instances_count_ports)
{
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, create(self, "mtty-1", i));
	EXPECT_EQ(MTTY_PORTS - 3, mdev_available("mtty-1"));
	EXPECT_EQ((MTTY_PORTS - 3) / 2, mdev_available("mtty-2"));
	ASSERT_EQ(0, create(self, "mtty-2", 3));
	EXPECT_EQ(MTTY_PORTS - 5, mdev_available("mtty-1"));
	EXPECT_EQ((MTTY_PORTS - 5) / 2, mdev_available("mtty-2"));
	ASSERT_EQ(0, mdev_remove(self->uuid[0]));
	EXPECT_EQ(MTTY_PORTS - 4, mdev_available("mtty-1"));
	EXPECT_EQ((MTTY_PORTS - 4) / 2, mdev_available("mtty-2"));
}

TEST_F(mdev, bad_uuids)
{
	static const char valid[] = "5e1f0a7d-6b2c-4d8e-9f10-a1b2c3d4e5f6";
	char text[64];

	EXPECT_EQ(-EINVAL, mdev_create("mtty-1", "not-a-uuid"));
	/* 36 characters, one not a hex digit. */
	EXPECT_EQ(-EINVAL,
		  mdev_create("mtty-1", "5e1f0a7d-6b2c-4d8e-9f10-a1b2c3d4e5fg"));
	/* Dashes in the wrong places. */
	EXPECT_EQ(-EINVAL,
		  mdev_create("mtty-1", "5e1f0a7d6-b2c-4d8e-9f10-a1b2c3d4e5f6"));
	/* 35 characters. */
	EXPECT_EQ(-EINVAL, mdev_create_raw("mtty-1", valid, 35));
	/* 38: one byte more than a UUID and its newline. */
	snprintf(text, sizeof(text), "%s\n\n", valid);
	EXPECT_EQ(-EINVAL, mdev_create_raw("mtty-1", text, 38));
	EXPECT_FALSE(mdev_exists(valid));
	EXPECT_EQ(MTTY_PORTS, mdev_available("mtty-1"));

	/* With its newline, as echo writes it: accepted. */
	snprintf(self->uuid[self->created++], 37, "%s", valid);
	snprintf(text, sizeof(text), "%s\n", valid);
	ASSERT_EQ(0, mdev_create_raw("mtty-1", text, strlen(text)));
	EXPECT_TRUE(mdev_exists(valid));
	ASSERT_EQ(0, mdev_remove(valid));

	/* Upper case is parsed, and the device is named in lower case. */
	ASSERT_EQ(0, mdev_create("mtty-1",
				 "5E1F0A7D-6B2C-4D8E-9F10-A1B2C3D4E5F6"));
	EXPECT_TRUE(mdev_exists(valid));
}

TEST_F(mdev, duplicate_uuid)
{
	ASSERT_EQ(0, create(self, "mtty-1", 7));
	EXPECT_EQ(-EEXIST, mdev_create("mtty-1", self->uuid[0]));
	/* UUIDs are unique across types (and parents), not per type. */
	EXPECT_EQ(-EEXIST, mdev_create("mtty-2", self->uuid[0]));
	EXPECT_EQ(MTTY_PORTS - 1, mdev_available("mtty-1"));
	EXPECT_EQ((MTTY_PORTS - 1) / 2, mdev_available("mtty-2"));
}

/* mtty's own limit: its probe refuses once the ports are used up. */
TEST_F(mdev, ports_used_up)
{
	int i;

	for (i = 0; i < MTTY_PORTS / 2 - 1; i++)
		ASSERT_EQ(0, create(self, "mtty-2", i));
	ASSERT_EQ(0, create(self, "mtty-1", 100));
	EXPECT_EQ(1, mdev_available("mtty-1"));
	EXPECT_EQ(0, mdev_available("mtty-2"));
	EXPECT_EQ(-ENOSPC, create(self, "mtty-2", 101));
	EXPECT_FALSE(mdev_exists(self->uuid[self->created - 1]));
	ASSERT_EQ(0, create(self, "mtty-1", 102));
	EXPECT_EQ(0, mdev_available("mtty-1"));
	EXPECT_EQ(-ENOSPC, create(self, "mtty-1", 103));
	ASSERT_EQ(0, mdev_remove(self->uuid[0]));
	EXPECT_EQ(2, mdev_available("mtty-1"));
	EXPECT_EQ(1, mdev_available("mtty-2"));
}

TEST_F(mdev, remove_file_values)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, create(self, "mtty-1", 1));
	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/remove",
		 self->uuid[0]);
	EXPECT_EQ(-EINVAL, sysfs_write(path, "yes"));
	EXPECT_EQ(-EINVAL, sysfs_write(path, "-1"));
	/* Zero is a valid number that removes nothing. */
	EXPECT_EQ(0, sysfs_write(path, "0"));
	EXPECT_TRUE(mdev_exists(self->uuid[0]));
	EXPECT_EQ(0, sysfs_write(path, "0x10"));
	EXPECT_FALSE(mdev_exists(self->uuid[0]));
	EXPECT_EQ(-ENOENT, sysfs_write(path, "1"));
}

TEST_F(mdev, group_and_type1_open)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct mdev_user u;
	char path[64];
	int fd;

	ASSERT_EQ(0, mdev_user_open(&u, "mtty-2", 1)) {
		mdev_user_close(&u);
	}
	snprintf(self->uuid[self->created++], 37, "%s", u.uuid);
	snprintf(path, sizeof(path), "/dev/vfio/%d", u.group_id);
	EXPECT_EQ(0, access(path, F_OK));
	EXPECT_EQ(0, ioctl_errno(u.group, VFIO_GROUP_GET_STATUS, &status));
	EXPECT_EQ((__u32)(VFIO_GROUP_FLAGS_VIABLE |
			  VFIO_GROUP_FLAGS_CONTAINER_SET), status.flags);

	ASSERT_EQ(0, ioctl_errno(u.device, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_NE(0u, info.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_EQ(0u, info.flags & VFIO_DEVICE_FLAGS_RESET);
	EXPECT_EQ((__u64)(VFIO_PCI_NUM_REGIONS), info.num_regions);
	EXPECT_EQ((__u64)(VFIO_PCI_NUM_IRQS), info.num_irqs);

	/* A name that is not in the group. */
	fd = ioctl(u.group, VFIO_GROUP_GET_DEVICE_FD,
		   "00000000-0000-0000-0000-000000000000");
	EXPECT_EQ(-1, fd);
	if (fd >= 0)
		close(fd);

	ASSERT_EQ(0, mdev_user_close(&u));
	EXPECT_FALSE(mdev_exists(u.uuid));
	EXPECT_EQ(-1, access(path, F_OK));
}

/* Each instance is its own group: two users need not share anything. */
TEST_F(mdev, one_group_per_instance)
{
	struct mdev_user a, b;

	ASSERT_EQ(0, mdev_user_open(&a, "mtty-1", 1)) {
		mdev_user_close(&a);
	}
	ASSERT_EQ(0, mdev_user_open(&b, "mtty-1", 2)) {
		mdev_user_close(&a);
		mdev_user_close(&b);
	}
	EXPECT_NE(a.group_id, b.group_id);
	EXPECT_EQ(0, mdev_user_close(&b));
	EXPECT_EQ(0, mdev_user_close(&a));
}

static void on_alarm(int sig)
{
}

/*
 * Removing an instance a user holds waits (in the remove write) for the
 * user to close it; mtty has no request callback to ask the user.
 */
TEST_F(mdev, remove_waits_for_the_user)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct mdev_user u;
	int status = -1;
	pid_t pid;

	ASSERT_EQ(0, mdev_user_open(&u, "mtty-1", 1)) {
		mdev_user_close(&u);
	}
	snprintf(self->uuid[self->created++], 37, "%s", u.uuid);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The copies fork made would hold the device open too. */
		close(u.device);
		close(u.group);
		close(u.container);
		_exit(mdev_remove(u.uuid) ? 1 : 0);
	}

	sleep(2);
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG)) {
		TH_LOG("the remove did not wait for the user");
	}
	close(u.device);
	u.device = -1;
	sigaction(SIGALRM, &sa, NULL);
	alarm(30);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	alarm(0);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_FALSE(mdev_exists(u.uuid));
	u.created = false;
	mdev_user_close(&u);
}

/* Unloading the parent's driver removes the instances it still has. */
TEST_F(mdev, parent_goes_with_instances)
{
	char path[64];
	int group;

	ASSERT_EQ(0, create(self, "mtty-1", 1));
	ASSERT_EQ(0, create(self, "mtty-2", 2));
	group = mdev_iommu_group(self->uuid[0]);
	ASSERT_LE(0, group);
	ASSERT_EQ(0, mdev_unload("mtty"));
	EXPECT_FALSE(mdev_exists(self->uuid[0]));
	EXPECT_FALSE(mdev_exists(self->uuid[1]));
	EXPECT_EQ(-1, access(MDEV_CLASS "/mtty", F_OK));
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	EXPECT_EQ(-1, access(path, F_OK));
	/* And the parent comes back whole. */
	ASSERT_EQ(0, mdev_load("mtty"));
	EXPECT_EQ(MTTY_PORTS, mdev_available("mtty-1"));
	EXPECT_FALSE(mdev_exists(self->uuid[0]));
}

/* Through the device cdev and iommufd instead of a group. */
TEST_F(mdev, cdev_bind_and_attach)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info region;
	char path[64];
	uint32_t devid, ioas, pt, id;
	int iommufd, device;

	ASSERT_EQ(0, create(self, "mtty-2", 1));
	ASSERT_EQ(0, mdev_cdev_path(self->uuid[0], path));
	iommufd = open(IOMMUFD_PATH, O_RDWR);
	ASSERT_LE(0, iommufd);
	device = open(path, O_RDWR);
	ASSERT_LE(0, device) TH_LOG("%s: %m", path);
	ASSERT_EQ(0, bind_iommufd(device, iommufd, &devid));
	ASSERT_EQ(0, ioas_alloc(iommufd, &ioas));
	pt = ioas;
	EXPECT_EQ(0, attach_pt(device, &pt));
	EXPECT_EQ(ioas, pt);

	/* The device answers as through a group. */
	ASSERT_EQ(0, ioctl_errno(device, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_NE(0u, info.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT_EQ(0, mdev_region_info(device, VFIO_PCI_CONFIG_REGION_INDEX,
				      &region));
	ASSERT_EQ(4, pread(device, &id, 4, region.offset));
	EXPECT_EQ(0x32534348u, id);	/* mtty's vendor and device IDs */

	EXPECT_EQ(0, detach_pt(device));
	close(device);
	close(iommufd);
}

/* An open device holds its driver's module: mtty cannot be unloaded. */
TEST_F(mdev, open_device_pins_the_driver)
{
	struct mdev_user u;

	ASSERT_EQ(0, mdev_user_open(&u, "mtty-1", 1)) {
		mdev_user_close(&u);
	}
	snprintf(self->uuid[self->created++], 37, "%s", u.uuid);
	EXPECT_NE(0, mdev_unload("mtty"));
	EXPECT_TRUE(mdev_exists(u.uuid));
	close(u.device);
	u.device = -1;
	EXPECT_EQ(0, mdev_unload("mtty"));
	EXPECT_FALSE(mdev_exists(u.uuid));
	u.created = false;
	mdev_user_close(&u);
	ASSERT_EQ(0, mdev_load("mtty"));
}

/* A group and the cdev of the device in it exclude each other. */
TEST_F(mdev, group_and_cdev_exclude_each_other)
{
	char path[64], gpath[64];
	uint32_t devid;
	int iommufd, device, group;

	ASSERT_EQ(0, create(self, "mtty-1", 1));
	ASSERT_EQ(0, mdev_cdev_path(self->uuid[0], path));
	snprintf(gpath, sizeof(gpath), "/dev/vfio/%d",
		 mdev_iommu_group(self->uuid[0]));
	iommufd = open(IOMMUFD_PATH, O_RDWR);
	ASSERT_LE(0, iommufd);

	/* Bound through the cdev: the group will not open. */
	device = open(path, O_RDWR);
	ASSERT_LE(0, device);
	ASSERT_EQ(0, bind_iommufd(device, iommufd, &devid));
	EXPECT_EQ(-1, open(gpath, O_RDWR));
	EXPECT_EQ(EBUSY, errno);
	close(device);

	/* The group open: a cdev bind is refused. */
	group = open(gpath, O_RDWR);
	ASSERT_LE(0, group) TH_LOG("%s: %m", gpath);
	device = open(path, O_RDWR);
	ASSERT_LE(0, device);
	EXPECT_EQ(EBUSY, bind_iommufd(device, iommufd, &devid));
	close(device);
	close(group);
	close(iommufd);
}

/* mdpy counts instances through the core (max_instances, EUSERS). */
TEST(core_counts_instances)
{
	char uuid[5][37];
	int i;

	ASSERT_EQ(0, mdev_load("mdpy"));
	mdev_remove_all();
	EXPECT_EQ(4, mdev_available("mdpy-vga"));
	for (i = 0; i < 4; i++) {
		mdev_uuid(0x100 + i, uuid[i]);
		ASSERT_EQ(0, mdev_create("mdpy-vga", uuid[i]));
	}
	EXPECT_EQ(0, mdev_available("mdpy-vga"));
	EXPECT_EQ(0, mdev_available("mdpy-xga"));
	mdev_uuid(0x104, uuid[4]);
	EXPECT_EQ(-EUSERS, mdev_create("mdpy-xga", uuid[4]));
	/* A duplicate is refused before the count is looked at. */
	EXPECT_EQ(-EEXIST, mdev_create("mdpy-vga", uuid[0]));
	EXPECT_EQ(0, mdev_remove(uuid[1]));
	EXPECT_EQ(1, mdev_available("mdpy-xga"));
	for (i = 0; i < 4; i++)
		if (mdev_exists(uuid[i]))
			EXPECT_EQ(0, mdev_remove(uuid[i]));
	EXPECT_EQ(4, mdev_available("mdpy-vga"));
	EXPECT_EQ(0, mdev_unload("mdpy"));
}

TEST_HARNESS_MAIN
