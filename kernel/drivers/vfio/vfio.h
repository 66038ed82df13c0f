/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations shared by the files of vfio.ko and nothing else.
 */
#ifndef __VFIO_VFIO_H__
#define __VFIO_VFIO_H__

#include <linux/vfio.h>

#ifndef VFIO_CLEAN_ROOM_API
#error "the kernel's own linux/vfio.h was included instead of ours"
#endif

int vfio_container_init(void);
void vfio_container_cleanup(void);

#endif /* __VFIO_VFIO_H__ */
