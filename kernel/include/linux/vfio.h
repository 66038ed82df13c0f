/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VFIO: the in-kernel API for drivers that expose devices to user space.
 *
 * Clean-room implementation. The user-visible ABI (structures and ioctl
 * numbers) comes from <uapi/linux/vfio.h> of the kernel being built
 * against and is never redefined here.
 */
#ifndef _LINUX_VFIO_H
#define _LINUX_VFIO_H

#include <uapi/linux/vfio.h>

/*
 * Set when this header, not the kernel's own <linux/vfio.h>, is the one
 * being compiled: the build checks it to prove the include order.
 */
#define VFIO_CLEAN_ROOM_API 1

#endif /* _LINUX_VFIO_H */
