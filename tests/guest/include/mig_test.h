/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for VFIO_DEVICE_FEATURE requests (migration v2 and DMA logging)
 * and the migration debugfs. Functions return 0 or a positive errno, as
 * ioctl_errno() does, unless said otherwise.
 */
#ifndef MIG_TEST_H
#define MIG_TEST_H

#include "vfio_test.h"

#define VFIO_DEBUGFS	"/sys/kernel/debug/vfio"

/*
 * VFIO_DEVICE_FEATURE with @flags (feature number | GET/SET/PROBE) and
 * @size bytes of @data after the header, copied back afterwards. @argsz
 * overrides the header's argsz when non-zero.
 */
static inline int feature_argsz(int device, uint32_t flags, void *data,
				size_t size, uint32_t argsz)
{
	struct {
		struct vfio_device_feature hdr;
		uint8_t data[256];
	} __attribute__((aligned(8))) buf;
	int ret;

	if (size > sizeof(buf.data))
		return E2BIG;
	memset(&buf, 0, sizeof(buf));
	buf.hdr.argsz = argsz ? argsz : sizeof(buf.hdr) + size;
	buf.hdr.flags = flags;
	if (size)
		memcpy(buf.data, data, size);
	ret = ioctl_errno(device, VFIO_DEVICE_FEATURE, &buf);
	if (size)
		memcpy(data, buf.data, size);
	return ret;
}

static inline int feature(int device, uint32_t flags, void *data,
			  size_t size)
{
	return feature_argsz(device, flags, data, size, 0);
}

/* MIG_DEVICE_STATE GET: the device's state in *@state. */
static inline int mig_get(int device, int *state)
{
	struct vfio_device_feature_mig_state mig = { .data_fd = -2 };
	int ret = feature(device, VFIO_DEVICE_FEATURE_GET |
			  VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			  &mig, sizeof(mig));

	*state = ret ? -1 : (int)mig.device_state;
	return ret;
}

/*
 * MIG_DEVICE_STATE SET to @state; *@data_fd gets the data fd the answer
 * carries (-1 when none), whether or not the request failed.
 */
static inline int mig_set(int device, int state, int *data_fd)
{
	struct vfio_device_feature_mig_state mig = {
		.device_state = state, .data_fd = -2,
	};
	int ret = feature(device, VFIO_DEVICE_FEATURE_SET |
			  VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			  &mig, sizeof(mig));

	*data_fd = mig.data_fd;
	return ret;
}

/* MIG_DEVICE_STATE SET when no data fd is wanted: one is closed. */
static inline int mig_move(int device, int state)
{
	int fd, ret = mig_set(device, state, &fd);

	if (fd >= 0)
		close(fd);
	return ret;
}

/* VFIO_MIG_GET_PRECOPY_INFO on a data fd. */
static inline int mig_get_precopy_info(int data_fd,
				       struct vfio_precopy_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return ioctl_errno(data_fd, VFIO_MIG_GET_PRECOPY_INFO, info);
}

/*
 * The migration state debugfs shows for device @name (its parent's
 * name) in @buf, newline stripped; 0 or a positive errno.
 */
static inline int mig_debugfs_state(const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/migration/state", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* Names of the states, as 6.12's debugfs prints them. */
static inline const char *mig_state_name(int state)
{
	static const char * const names[] = {
		[VFIO_DEVICE_STATE_ERROR] = "ERROR",
		[VFIO_DEVICE_STATE_STOP] = "STOP",
		[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
		[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
		[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
		[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
		[VFIO_DEVICE_STATE_PRE_COPY] = "PRE_COPY",
		[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "PRE_COPY_P2P",
	};

	return state >= 0 && state < VFIO_DEVICE_STATE_NR ? names[state] :
	       "Invalid";
}

#endif /* MIG_TEST_H */
