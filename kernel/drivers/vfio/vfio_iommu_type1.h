/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What vfio_iommu_type1.ko shows its KUnit tests, and nothing else.
 */
#ifndef __VFIO_IOMMU_TYPE1_H__
#define __VFIO_IOMMU_TYPE1_H__

#include "vfio.h"

#if IS_ENABLED(CONFIG_KUNIT)
/* The backend's hooks, exported in EXPORTED_FOR_KUNIT_TESTING only. */
extern const struct vfio_iommu_driver_ops vfio_iommu_type1_ops;
#endif

#endif /* __VFIO_IOMMU_TYPE1_H__ */
