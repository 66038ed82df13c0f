/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for the device cdev and iommufd: the cdev of a PCI device bound
 * to vfio-pci, BIND/ATTACH/DETACH, and the iommufd objects they use.
 * Each returns 0 or the errno of the failed ioctl.
 */
#ifndef IOMMUFD_TEST_H
#define IOMMUFD_TEST_H

#include <linux/iommufd.h>

#include "vfio_test.h"

#define IOMMUFD_PATH	"/dev/iommu"

/* /dev/vfio/devices/vfioN of a PCI device bound to vfio-pci, or -errno. */
static inline int cdev_path(const char *bdf, char path[64])
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int ret = -ENOENT;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vfio", 4)) {
			snprintf(path, 64, "/dev/vfio/devices/%.40s",
				 de->d_name);
			ret = 0;
			break;
		}
	closedir(d);
	return ret;
}

static inline int bind_iommufd(int device, int iommufd, uint32_t *devid)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind), .iommufd = iommufd,
	};
	int ret = ioctl_errno(device, VFIO_DEVICE_BIND_IOMMUFD, &bind);

	if (!ret && devid)
		*devid = bind.out_devid;
	return ret;
}

static inline int attach_pt(int device, uint32_t *pt_id)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach), .pt_id = *pt_id,
	};
	int ret = ioctl_errno(device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);

	*pt_id = attach.pt_id;
	return ret;
}

static inline int detach_pt(int device)
{
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};

	return ioctl_errno(device, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach);
}

static inline int ioas_alloc(int iommufd, uint32_t *id)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	int ret = ioctl_errno(iommufd, IOMMU_IOAS_ALLOC, &alloc);

	*id = alloc.out_ioas_id;
	return ret;
}

static inline int hwpt_alloc(int iommufd, uint32_t devid, uint32_t ioas,
			     uint32_t *id)
{
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc), .dev_id = devid, .pt_id = ioas,
		.data_type = IOMMU_HWPT_DATA_NONE,
	};
	int ret = ioctl_errno(iommufd, IOMMU_HWPT_ALLOC, &alloc);

	*id = alloc.out_hwpt_id;
	return ret;
}

static inline int ioas_map(int iommufd, uint32_t ioas, void *buf,
			   uint64_t iova, uint64_t len)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map), .ioas_id = ioas,
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)buf, .length = len, .iova = iova,
	};

	return ioctl_errno(iommufd, IOMMU_IOAS_MAP, &map);
}

static inline int ioas_unmap(int iommufd, uint32_t ioas, uint64_t iova,
			     uint64_t len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = ioas, .iova = iova,
		.length = len,
	};

	return ioctl_errno(iommufd, IOMMU_IOAS_UNMAP, &unmap);
}

/*
 * Open the n-th vendor:device as a cdev user: bound to vfio-pci, its cdev
 * bound to a new iommufd context and attached to a new IOAS of it, as a
 * VMM does before it maps guest memory. Fills u->bdf and u->device (the
 * group and container stay -1), *iommufd and *ioas. Returns 0 or a
 * positive errno; on error the caller closes what is >= 0.
 */
static inline int cdev_user_open(struct vfio_user *u, int *iommufd,
				 uint32_t *ioas, uint16_t vendor,
				 uint16_t device, int n)
{
	char path[64];
	uint32_t pt;
	int ret;

	vfio_user_init(u);
	*iommufd = -1;
	ret = -pci_find(vendor, device, n, u->bdf);
	if (!ret)
		ret = -pci_bind(u->bdf, "vfio-pci");
	if (!ret)
		ret = -cdev_path(u->bdf, path);
	if (ret)
		return ret;
	*iommufd = open(IOMMUFD_PATH, O_RDWR);
	if (*iommufd < 0)
		return errno;
	u->device = open(path, O_RDWR);
	if (u->device < 0)
		return errno;
	ret = bind_iommufd(u->device, *iommufd, NULL);
	if (!ret)
		ret = ioas_alloc(*iommufd, ioas);
	if (ret)
		return ret;
	pt = *ioas;
	return attach_pt(u->device, &pt);
}

/* Close what cdev_user_open() opened: the device first, then iommufd. */
static inline void cdev_user_close(struct vfio_user *u, int *iommufd)
{
	vfio_user_close(u);
	if (*iommufd >= 0)
		close(*iommufd);
	*iommufd = -1;
}

#endif /* IOMMUFD_TEST_H */
