// SPDX-License-Identifier: GPL-2.0-only
/*
 * Migration v2: the VFIO_DEVICE_FEATURE_MIGRATION, _MIG_DEVICE_STATE and
 * _MIG_DATA_SIZE features, and the planner drivers use to break a state
 * change the user asked for into the arcs they implement.
 *
 * The protocol (<uapi/linux/vfio.h>) defines a small graph of states and
 * arcs. A driver implements only the arcs between the states it supports
 * (STOP, RUNNING, STOP_COPY and RESUMING always; RUNNING_P2P with
 * VFIO_MIGRATION_P2P; PRE_COPY with VFIO_MIGRATION_PRE_COPY; PRE_COPY_P2P
 * with both). Any other request is a combination transition: the shortest
 * path through the driver's arcs that neither passes through the "saving
 * group" (PRE_COPY, PRE_COPY_P2P, STOP_COPY: the states sharing one data
 * session) nor leaves it and comes back. The planner answers one step of
 * that path at a time; the driver performs it and asks again.
 */
#include <linux/file.h>
#include <linux/uaccess.h>

#include "vfio.h"

/* Every state, as a bit: sets of states fit in a u8. */
#define MIG_BIT(state)	BIT(VFIO_DEVICE_STATE_##state)

/* The saving group: one data transfer session spans these states. */
#define MIG_SAVING	(MIG_BIT(PRE_COPY) | MIG_BIT(PRE_COPY_P2P) | \
			 MIG_BIT(STOP_COPY))

/*
 * The arcs of the protocol when the driver supports everything. With a
 * feature missing, the arcs are derived from these (vfio_mig_fold()).
 */
static const u8 vfio_mig_arcs[][2] = {
#define ARC(from, to) { VFIO_DEVICE_STATE_##from, VFIO_DEVICE_STATE_##to }
	ARC(STOP, RESUMING),
	ARC(RESUMING, STOP),
	ARC(STOP, STOP_COPY),
	ARC(STOP_COPY, STOP),
	ARC(STOP, RUNNING_P2P),
	ARC(RUNNING_P2P, STOP),
	ARC(RUNNING_P2P, RUNNING),
	ARC(RUNNING, RUNNING_P2P),
	ARC(RUNNING, PRE_COPY),
	ARC(PRE_COPY, RUNNING),
	ARC(RUNNING_P2P, PRE_COPY_P2P),
	ARC(PRE_COPY_P2P, RUNNING_P2P),
	ARC(PRE_COPY, PRE_COPY_P2P),
	ARC(PRE_COPY_P2P, PRE_COPY),
	ARC(PRE_COPY_P2P, STOP_COPY),
#undef ARC
};

/* The VFIO_MIGRATION_* flags a driver needs to support @state. */
static u32 vfio_mig_state_needs(enum vfio_device_mig_state state)
{
	switch (state) {
	case VFIO_DEVICE_STATE_RUNNING_P2P:
		return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P;
	case VFIO_DEVICE_STATE_PRE_COPY:
		return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY;
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
		       VFIO_MIGRATION_PRE_COPY;
	default:
		return VFIO_MIGRATION_STOP_COPY;
	}
}

/* A state the user may ask for, or the driver be in, given @flags. */
static bool vfio_mig_state_valid(u32 flags, u32 state)
{
	if (state == VFIO_DEVICE_STATE_ERROR || state >= VFIO_DEVICE_STATE_NR)
		return false;
	return (vfio_mig_state_needs(state) & flags) ==
	       vfio_mig_state_needs(state);
}

/*
 * Without P2P support, the protocol treats a P2P state as its fully
 * running twin: RUNNING_P2P folds into RUNNING, PRE_COPY_P2P into
 * PRE_COPY, and the arcs through them become the arcs that remain (for
 * example RUNNING -> RUNNING_P2P -> STOP becomes RUNNING -> STOP).
 */
static u32 vfio_mig_fold(u32 flags, u32 state)
{
	if (flags & VFIO_MIGRATION_P2P)
		return state;
	if (state == VFIO_DEVICE_STATE_RUNNING_P2P)
		return VFIO_DEVICE_STATE_RUNNING;
	if (state == VFIO_DEVICE_STATE_PRE_COPY_P2P)
		return VFIO_DEVICE_STATE_PRE_COPY;
	return state;
}

/* The states reachable from @from in one arc the driver implements. */
static u8 vfio_mig_successors(u32 flags, u32 from)
{
	u8 next = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(vfio_mig_arcs); i++) {
		u32 a = vfio_mig_fold(flags, vfio_mig_arcs[i][0]);
		u32 b = vfio_mig_fold(flags, vfio_mig_arcs[i][1]);

		if (a == from && a != b && vfio_mig_state_valid(flags, b))
			next |= BIT(b);
	}
	return next;
}

/**
 * vfio_mig_get_next_state - the next arc towards a requested state
 * @device: the device, whose migration_flags say which states exist
 * @cur_fsm: the state the device is in
 * @new_fsm: the state the user asked for
 * @next_fsm: the state the driver should move to next
 *
 * A driver's migration_set_state() calls this in a loop, performing each
 * arc it returns, until the device is in @new_fsm. Only arcs the driver
 * must implement for its migration_flags are returned.
 *
 * Return: 0 with *@next_fsm set (equal to @cur_fsm when already there),
 * or -EINVAL when @new_fsm is not a state of this device or cannot be
 * reached from @cur_fsm (STOP_COPY to either PRE_COPY state, and anything
 * from ERROR); *@next_fsm is then ERROR when the path was searched.
 */
int vfio_mig_get_next_state(struct vfio_device *device,
			    enum vfio_device_mig_state cur_fsm,
			    enum vfio_device_mig_state new_fsm,
			    enum vfio_device_mig_state *next_fsm)
{
	u32 flags = device->migration_flags;
	u8 first[VFIO_DEVICE_STATE_NR];
	u8 queue[VFIO_DEVICE_STATE_NR];
	unsigned int head = 0, tail = 0;
	u8 seen, interior;

	/* Only a reset leaves ERROR: no transition starts there. */
	if (cur_fsm == VFIO_DEVICE_STATE_ERROR)
		return -EINVAL;
	/* A driver in a state it does not support is a driver bug. */
	if (WARN_ON(!vfio_mig_state_valid(flags, cur_fsm)))
		return -EINVAL;
	if (!vfio_mig_state_valid(flags, new_fsm))
		return -EINVAL;

	if (cur_fsm == new_fsm) {
		*next_fsm = new_fsm;
		return 0;
	}

	/*
	 * The interior of a path stays out of the saving group, so that a
	 * combination neither ends a data session on the way nor starts
	 * one it would abandon; but between two saving states it stays
	 * inside the group, so that the session is kept (which is why
	 * STOP_COPY can reach no PRE_COPY state).
	 */
	if ((BIT(cur_fsm) & MIG_SAVING) && (BIT(new_fsm) & MIG_SAVING))
		interior = MIG_SAVING;
	else
		interior = GENMASK(VFIO_DEVICE_STATE_NR - 1, 0) & ~MIG_SAVING;

	/* Breadth first: the first path found to @new_fsm is a shortest. */
	seen = BIT(cur_fsm);
	queue[tail++] = cur_fsm;
	while (head < tail) {
		u32 from = queue[head++];
		u8 succ = vfio_mig_successors(flags, from) & ~seen;
		unsigned long bits = succ;
		u32 to;

		for_each_set_bit(to, &bits, VFIO_DEVICE_STATE_NR) {
			seen |= BIT(to);
			first[to] = from == cur_fsm ? to : first[from];
			if (to == new_fsm) {
				*next_fsm = first[to];
				return 0;
			}
			if (BIT(to) & interior)
				queue[tail++] = to;
		}
	}

	*next_fsm = VFIO_DEVICE_STATE_ERROR;
	return -EINVAL;
}
EXPORT_SYMBOL_GPL(vfio_mig_get_next_state);

/* VFIO_DEVICE_FEATURE_MIGRATION: GET the flags the driver supports. */
int vfio_ioctl_device_feature_migration(struct vfio_device *device,
					u32 flags, void __user *arg,
					size_t argsz)
{
	struct vfio_device_feature_migration mig = {
		.flags = device->migration_flags,
	};
	int ret;

	if (!device->mig_ops)
		return -ENOTTY;
	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET,
				 sizeof(mig));
	if (ret != 1)
		return ret;
	if (copy_to_user(arg, &mig, sizeof(mig)))
		return -EFAULT;
	return 0;
}

/*
 * Give the user the data file of a SET as a new fd in @mig: the fd is
 * installed only once the answer reached the user, so a fault leaves no
 * descriptor behind. Consumes the reference on @filp either way.
 */
static int vfio_mig_install_data_fd(struct file *filp,
				    struct vfio_device_feature_mig_state *mig,
				    void __user *arg)
{
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		fput(filp);
		return fd;
	}
	mig->data_fd = fd;
	if (copy_to_user(arg, mig, sizeof(*mig))) {
		put_unused_fd(fd);
		fput(filp);
		return -EFAULT;
	}
	fd_install(fd, filp);
	return 0;
}

/*
 * VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE: GET reads the device's state;
 * SET asks the driver to move there and returns the data file the last
 * arc produced, if any. A SET that produces no file, or fails, still
 * writes the request back with data_fd -1 before returning the errno.
 */
int vfio_ioctl_device_feature_mig_device_state(struct vfio_device *device,
					       u32 flags, void __user *arg,
					       size_t argsz)
{
	struct vfio_device_feature_mig_state mig;
	enum vfio_device_mig_state state;
	struct file *filp;
	int ret;

	if (!device->mig_ops)
		return -ENOTTY;
	ret = vfio_check_feature(flags, argsz,
				 VFIO_DEVICE_FEATURE_GET |
				 VFIO_DEVICE_FEATURE_SET, sizeof(mig));
	if (ret != 1)
		return ret;
	if (copy_from_user(&mig, arg, sizeof(mig)))
		return -EFAULT;

	if (flags & VFIO_DEVICE_FEATURE_GET) {
		ret = device->mig_ops->migration_get_state(device, &state);
		if (ret)
			return ret;
		mig.device_state = state;
		mig.data_fd = -1;
		if (copy_to_user(arg, &mig, sizeof(mig)))
			return -EFAULT;
		return 0;
	}

	filp = device->mig_ops->migration_set_state(device, mig.device_state);
	if (!IS_ERR_OR_NULL(filp))
		return vfio_mig_install_data_fd(filp, &mig, arg);

	mig.data_fd = -1;
	if (copy_to_user(arg, &mig, sizeof(mig)))
		return -EFAULT;
	return PTR_ERR_OR_ZERO(filp);
}

/* VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: GET the driver's STOP_COPY estimate. */
int vfio_ioctl_device_feature_migration_data_size(struct vfio_device *device,
						  u32 flags, void __user *arg,
						  size_t argsz)
{
	struct vfio_device_feature_mig_data_size size = {};
	unsigned long length;
	int ret;

	if (!device->mig_ops)
		return -ENOTTY;
	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET,
				 sizeof(size));
	if (ret != 1)
		return ret;
	ret = device->mig_ops->migration_get_data_size(device, &length);
	if (ret)
		return ret;
	size.stop_copy_length = length;
	if (copy_to_user(arg, &size, sizeof(size)))
		return -EFAULT;
	return 0;
}
