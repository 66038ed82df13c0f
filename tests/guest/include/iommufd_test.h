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

#endif /* IOMMUFD_TEST_H */
