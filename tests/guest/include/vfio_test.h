/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the guest test programs: finding QEMU's emulated
 * devices, binding them to a driver, and the container/group/device
 * descriptors a VFIO user needs.
 */
#ifndef VFIO_TEST_H
#define VFIO_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#define VFIO_CONTAINER_PATH "/dev/vfio/vfio"

/* QEMU devices the machines in images/machines provide. */
#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define TESTDEV_VENDOR	0x1b36
#define TESTDEV_DEVICE	0x0005

/* ioctl() as an errno: 0 on success, else the errno it set. */
static inline int ioctl_errno(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg) < 0 ? errno : 0;
}

static inline int sysfs_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n < 0 ? -errno : 0;
}

static inline unsigned long sysfs_read_ulong(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return ~0UL;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return strtoul(buf, NULL, 0);
}

/* The n-th (from 0) PCI device with this vendor:device, as "DDDD:BB:DD.F". */
static inline int pci_find(uint16_t vendor, uint16_t device, int n,
			   char bdf[32])
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	char path[PATH_MAX];
	int found = -ENODEV;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 de->d_name);
		if (sysfs_read_ulong(path) != vendor)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		if (sysfs_read_ulong(path) != device || n--)
			continue;
		snprintf(bdf, 32, "%.31s", de->d_name);
		found = 0;
		break;
	}
	closedir(dir);
	return found;
}

/* The driver bound to a PCI device, or "" when none is. */
static inline void pci_driver(const char *bdf, char name[64])
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	name[0] = 0;
	if (n > 0) {
		link[n] = 0;
		snprintf(name, 64, "%s", basename(link));
	}
}

/* Bind a PCI device to @driver ("" leaves it unbound). */
static inline int pci_bind(const char *bdf, const char *driver)
{
	char path[PATH_MAX], current[64];
	int ret;

	pci_driver(bdf, current);
	if (!strcmp(current, driver))
		return 0;
	if (current[0]) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		ret = sysfs_write(path, bdf);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	ret = sysfs_write(path, driver[0] ? driver : "\n");
	if (ret || !driver[0])
		return ret;
	ret = sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	if (ret)
		return ret;
	pci_driver(bdf, current);
	return strcmp(current, driver) ? -ENODEV : 0;
}

/* The IOMMU group number of a device, or -errno. */
static inline int pci_iommu_group(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	return atoi(basename(link));
}

static inline int vfio_group_open(int group_id)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/%d", group_id);
	return open(path, O_RDWR);
}

/*
 * What a VFIO user holds for one device: fds of the container (with the
 * type1 IOMMU set), the group and the device. Every fd is -1 until open.
 */
struct vfio_user {
	char bdf[32];
	int group_id;
	int container;
	int group;
	int device;
};

static inline void vfio_user_init(struct vfio_user *u)
{
	memset(u, 0, sizeof(*u));
	u->container = u->group = u->device = -1;
}

/*
 * Open device @name of group @group_id through a new container with
 * @iommu_type. Returns 0 or -errno; the fds are set as far as it got.
 */
static inline int vfio_group_open_device(int group_id, int iommu_type,
					 const char *name, int *container,
					 int *group, int *device)
{
	*container = open(VFIO_CONTAINER_PATH, O_RDWR);
	if (*container < 0)
		return -errno;
	*group = vfio_group_open(group_id);
	if (*group < 0)
		return -errno;
	if (ioctl(*group, VFIO_GROUP_SET_CONTAINER, container))
		return -errno;
	if (ioctl(*container, VFIO_SET_IOMMU, iommu_type))
		return -errno;
	*device = ioctl(*group, VFIO_GROUP_GET_DEVICE_FD, name);
	return *device < 0 ? -errno : 0;
}

/*
 * Bind the n-th vendor:device to vfio-pci and open it through a container
 * with @iommu_type (VFIO_TYPE1_IOMMU or VFIO_TYPE1v2_IOMMU). Returns 0 or
 * -errno; on error, *u says how far it got and vfio_user_close() undoes it.
 */
static inline int vfio_user_open(struct vfio_user *u, uint16_t vendor,
				 uint16_t device, int n, int iommu_type)
{
	int ret;

	vfio_user_init(u);
	ret = pci_find(vendor, device, n, u->bdf);
	if (ret)
		return ret;
	ret = pci_bind(u->bdf, "vfio-pci");
	if (ret)
		return ret;
	u->group_id = pci_iommu_group(u->bdf);
	if (u->group_id < 0)
		return u->group_id;
	return vfio_group_open_device(u->group_id, iommu_type, u->bdf,
				      &u->container, &u->group, &u->device);
}

static inline void vfio_user_close(struct vfio_user *u)
{
	if (u->device >= 0)
		close(u->device);
	if (u->group >= 0)
		close(u->group);
	if (u->container >= 0)
		close(u->container);
	vfio_user_init(u);
}

/* The offset of a device region in the device fd, or -errno. */
static inline long long vfio_region_offset(int device, unsigned int index)
{
	struct vfio_region_info info = { .argsz = sizeof(info),
					 .index = index };

	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -errno;
	return info.offset;
}

/* Set bits in a PCI device's command register, through its config region. */
static inline int vfio_command_set(int device, uint16_t bits)
{
	long long config = vfio_region_offset(device,
					      VFIO_PCI_CONFIG_REGION_INDEX);
	uint16_t cmd;

	if (config < 0)
		return (int)config;
	if (pread(device, &cmd, 2, config + 4) != 2)
		return -errno;
	cmd |= bits;
	return pwrite(device, &cmd, 2, config + 4) == 2 ? 0 : -errno;
}

/* locked_vm of this process in KiB, from /proc/self/status. */
static inline long locked_vm_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

#endif /* VFIO_TEST_H */
