/* SPDX-License-Identifier: GPL-2.0-only */
/* The type1 backend's MAP_DMA and UNMAP_DMA, as errnos. */
#ifndef VFIO_TEST_TYPE1_H
#define VFIO_TEST_TYPE1_H

#include "vfio_test.h"

#define RW	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static inline int map_dma(int fd, void *vaddr, uint64_t iova, uint64_t size,
			  uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .flags = flags,
		.vaddr = (uintptr_t)vaddr, .iova = iova, .size = size,
	};

	return ioctl_errno(fd, VFIO_IOMMU_MAP_DMA, &map);
}

/* UNMAP_DMA as an errno; *unmapped (if given) gets the size reported. */
static inline int unmap_dma(int fd, uint64_t iova, uint64_t size,
			    uint32_t flags, uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .flags = flags,
		.iova = iova, .size = size,
	};
	int ret = ioctl_errno(fd, VFIO_IOMMU_UNMAP_DMA, &unmap);

	if (unmapped)
		*unmapped = unmap.size;
	return ret;
}

#endif
