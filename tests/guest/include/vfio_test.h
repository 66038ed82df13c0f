/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the guest test programs.
 */
#ifndef VFIO_TEST_H
#define VFIO_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#define VFIO_CONTAINER_PATH "/dev/vfio/vfio"

/* ioctl() as an errno: 0 on success, else the errno it set. */
static inline int ioctl_errno(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg) < 0 ? errno : 0;
}

#endif /* VFIO_TEST_H */
