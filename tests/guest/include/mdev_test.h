/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for mediated devices: load a sample driver on the loaded module
 * set, create and remove an instance of a type by UUID, find its IOMMU
 * group and cdev, and open it through a type1 container.
 *
 * Types are named as their sysfs directories are, "<driver>-<type>", e.g.
 * "mtty-1", "mtty-2", "mdpy-vga", "mbochs-1". Functions return 0 or a
 * negative errno unless said otherwise.
 */
#ifndef MDEV_TEST_H
#define MDEV_TEST_H

#include <glob.h>

#include "vfio_test.h"

#define MDEV_BUS_DEVICES	"/sys/bus/mdev/devices"
#define MDEV_CLASS		"/sys/class/mdev_bus"

/*
 * Load test driver @name ("mtty", "mdpy", "mbochs") on top of the loaded
 * module set: our set's build of it or the kernel's own (images/vfio-modset
 * extra). See mdev_unload().
 */
static inline int mdev_load(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "vfio-modset extra %s", name);
	return system(cmd) == 0 ? 0 : -ENOENT;
}

/*
 * Unload test driver @name again. A test that loaded one unloads it before
 * it ends: the driver holds references on vfio and mdev, which the harness
 * checks are back to where they were after each test.
 */
static inline int mdev_unload(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rmmod %s", name);
	return system(cmd) == 0 ? 0 : -EBUSY;
}

/*
 * A UUID for instance @n of a test; @n picks its last 16 bits, so tests
 * that need several instances use distinct numbers.
 */
static inline void mdev_uuid(unsigned int n, char uuid[37])
{
	snprintf(uuid, 37, "5e1f0a7d-6b2c-4d8e-9f10-a1b2c3d4%04x", n & 0xffff);
}

/* The directory of type @type under its parent's mdev_supported_types. */
static inline int mdev_type_dir(const char *type, char dir[PATH_MAX])
{
	char pattern[PATH_MAX];
	glob_t g;
	int ret = -ENOENT;

	snprintf(pattern, sizeof(pattern), MDEV_CLASS
		 "/*/mdev_supported_types/%s", type);
	if (glob(pattern, 0, NULL, &g) == 0) {
		if (g.gl_pathc == 1) {
			snprintf(dir, PATH_MAX, "%s", g.gl_pathv[0]);
			ret = 0;
		}
		globfree(&g);
	}
	return ret;
}

/* Read file @attr of type @type into @buf (newline stripped). */
static inline int mdev_type_read(const char *type, const char *attr,
				 char *buf, size_t size)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n;
	int fd, ret = mdev_type_dir(type, dir);

	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return ret;
}

/* available_instances of @type, or -errno. */
static inline long mdev_available(const char *type)
{
	char buf[32];
	int ret = mdev_type_read(type, "available_instances", buf, sizeof(buf));

	return ret ? ret : strtol(buf, NULL, 10);
}

/* Write @text, as given, to @type's create file. */
static inline int mdev_create_raw(const char *type, const char *text,
				  size_t len)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	ssize_t n;
	int fd, ret = mdev_type_dir(type, dir);

	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/create", dir);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	ret = n < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/* Create an instance of @type named @uuid. */
static inline int mdev_create(const char *type, const char *uuid)
{
	return mdev_create_raw(type, uuid, strlen(uuid));
}

/* Does /sys/bus/mdev/devices/@uuid exist? */
static inline bool mdev_exists(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s", uuid);
	return access(path, F_OK) == 0;
}

/* Write "1" to the instance's remove file. */
static inline int mdev_remove(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/remove", uuid);
	return sysfs_write(path, "1");
}

/*
 * Remove every instance on the mdev bus. Fixtures call it first: after an
 * ASSERT in a TEST_F body, kselftest_harness (6.12, -O2) may skip the
 * teardown, and a previous test's instances would then still be there.
 */
static inline void mdev_remove_all(void)
{
	glob_t g;
	size_t i;

	if (glob(MDEV_BUS_DEVICES "/*/remove", 0, NULL, &g))
		return;
	for (i = 0; i < g.gl_pathc; i++)
		sysfs_write(g.gl_pathv[i], "1");
	globfree(&g);
}

/* The IOMMU group number of instance @uuid, or -errno. */
static inline int mdev_iommu_group(const char *uuid)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), MDEV_BUS_DEVICES "/%s/iommu_group",
		 uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	return atoi(basename(link));
}

/* /dev/vfio/devices/vfioN of instance @uuid. */
static inline int mdev_cdev_path(const char *uuid, char path[64])
{
	char pattern[PATH_MAX];
	glob_t g;
	int ret = -ENOENT;

	snprintf(pattern, sizeof(pattern), MDEV_BUS_DEVICES
		 "/%s/vfio-dev/vfio*", uuid);
	if (glob(pattern, 0, NULL, &g) == 0) {
		snprintf(path, 64, "/dev/vfio/devices/%.40s",
			 basename(g.gl_pathv[0]));
		ret = 0;
		globfree(&g);
	}
	return ret;
}

/*
 * What a user of one mdev holds: the instance (created if @created), and
 * the container (type1v2), group and device fds, each -1 until open.
 */
struct mdev_user {
	char uuid[37];
	bool created;
	int group_id;
	int container;
	int group;
	int device;
};

/*
 * Create instance @n of @type and open it through its group and a type1v2
 * container. On error, *u says how far it got: mdev_user_close() undoes
 * it in any case.
 */
static inline int mdev_user_open(struct mdev_user *u, const char *type,
				 unsigned int n)
{
	int ret;

	memset(u, 0, sizeof(*u));
	u->container = u->group = u->device = -1;
	mdev_uuid(n, u->uuid);
	ret = mdev_create(type, u->uuid);
	if (ret)
		return ret;
	u->created = true;
	u->group_id = mdev_iommu_group(u->uuid);
	if (u->group_id < 0)
		return u->group_id;
	return vfio_group_open_device(u->group_id, VFIO_TYPE1v2_IOMMU, u->uuid,
				      &u->container, &u->group, &u->device);
}

/* Close what is open, then remove the instance; returns remove's result. */
static inline int mdev_user_close(struct mdev_user *u)
{
	int ret = 0;

	if (u->device >= 0)
		close(u->device);
	if (u->group >= 0)
		close(u->group);
	if (u->container >= 0)
		close(u->container);
	u->container = u->group = u->device = -1;
	if (u->created)
		ret = mdev_remove(u->uuid);
	u->created = false;
	return ret;
}

/* VFIO_DEVICE_GET_REGION_INFO of region @index (no capabilities). */
static inline int mdev_region_info(int device, unsigned int index,
				   struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl_errno(device, VFIO_DEVICE_GET_REGION_INFO, info);
}

#endif /* MDEV_TEST_H */
