// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=debugfs timeout=180
/*
 * The VFIO debugfs: /sys/kernel/debug/vfio/<device>/ for every registered
 * device, named after its parent (an mdev UUID, a PCI address), with
 * migration/state for a device that supports migration; gone with the
 * device, and with the module.
 */
#include <sys/stat.h>

#include "mdev_test.h"
#include "mig_test.h"
#include "kselftest_harness.h"

static bool exists(const char *fmt, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), fmt, name);
	return access(path, F_OK) == 0;
}

TEST(vfio_root)
{
	struct stat st;

	ASSERT_EQ(0, stat(VFIO_DEBUGFS, &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST(mtty_state_file_lives_with_the_device)
{
	char path[PATH_MAX], buf[32];
	struct mdev_user u;
	struct stat st;

	memset(&u, 0, sizeof(u));
	u.container = u.group = u.device = -1;
	ASSERT_EQ(0, mdev_load("mtty"));
	ASSERT_EQ(0, mdev_user_open(&u, "mtty-1", 0x4f00));

	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/migration/state",
		 u.uuid);
	ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s", path);
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(0444u, st.st_mode & 0777);
	ASSERT_EQ(0, mig_debugfs_state(u.uuid, buf, sizeof(buf)));
	EXPECT_STREQ("RUNNING", buf);

	ASSERT_EQ(0, mig_move(u.device, VFIO_DEVICE_STATE_STOP));
	ASSERT_EQ(0, mig_debugfs_state(u.uuid, buf, sizeof(buf)));
	EXPECT_STREQ("STOP", buf);
	ASSERT_EQ(0, mig_move(u.device, VFIO_DEVICE_STATE_RUNNING));

	/* Readable whether or not the device is open. */
	close(u.device);
	u.device = -1;
	ASSERT_EQ(0, mig_debugfs_state(u.uuid, buf, sizeof(buf)));
	EXPECT_STREQ("RUNNING", buf);

	EXPECT_EQ(0, mdev_user_close(&u));
	EXPECT_FALSE(exists(VFIO_DEBUGFS "/%s", u.uuid));
	EXPECT_EQ(0, mdev_unload("mtty"));
}

/* A reader holding the file open while the device goes away. */
TEST(state_file_open_across_removal)
{
	char path[PATH_MAX], buf[32];
	struct mdev_user u;
	int fd;

	memset(&u, 0, sizeof(u));
	u.container = u.group = u.device = -1;
	ASSERT_EQ(0, mdev_load("mtty"));
	ASSERT_EQ(0, mdev_user_open(&u, "mtty-1", 0x4f01));
	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/migration/state",
		 u.uuid);
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, mdev_user_close(&u));
	EXPECT_FALSE(exists(VFIO_DEBUGFS "/%s", u.uuid));
	/* The file is dead: no read reaches the gone device. */
	EXPECT_GT(0, read(fd, buf, sizeof(buf)));
	close(fd);
	EXPECT_EQ(0, mdev_unload("mtty"));
}

/* vfio-pci's edu: a directory, but no migration in it. */
TEST(device_without_migration)
{
	struct vfio_user u;

	vfio_user_init(&u);
	ASSERT_EQ(0, vfio_user_open(&u, EDU_VENDOR, EDU_DEVICE, 0,
				    VFIO_TYPE1v2_IOMMU));
	EXPECT_TRUE(exists(VFIO_DEBUGFS "/%s", u.bdf));
	EXPECT_FALSE(exists(VFIO_DEBUGFS "/%s/migration", u.bdf));
	vfio_user_close(&u);
}

TEST_HARNESS_MAIN
