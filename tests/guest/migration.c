// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=migration timeout=300
/*
 * Migration v2 through a real driver: upstream's mtty sample (6.12's
 * supports STOP_COPY, P2P and PRE_COPY). The core's features
 * (MIGRATION, MIG_DEVICE_STATE, MIG_DATA_SIZE) and their errnos, every
 * transition from every state the device can be in, the data fd's
 * VFIO_MIG_GET_PRECOPY_INFO, and a migration between two instances in
 * one guest, with the debugfs state read at every step.
 */
#include <fcntl.h>

#include "mdev_test.h"
#include "mig_test.h"
#include "kselftest_harness.h"

#define MTTY_FLAGS	(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | \
			 VFIO_MIGRATION_PRE_COPY)
/* mtty's stream header: magic, major, minor, number of ports, flags. */
#define MTTY_HEADER	24ull

/* 16550 registers mtty emulates, offsets in its BAR0. */
#define UART_RX		0
#define UART_TX		0
#define UART_IER	1
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_SCR	7
#define UART_LSR_DR	0x01

FIXTURE(mig) {
	struct mdev_user src, dst;
	uint64_t src_bar, dst_bar;
};

static void user_init(struct mdev_user *u)
{
	memset(u, 0, sizeof(*u));
	u->container = u->group = u->device = -1;
}

static uint64_t bar0(int device)
{
	struct vfio_region_info info;

	if (mdev_region_info(device, VFIO_PCI_BAR0_REGION_INDEX, &info))
		return ~0ull;
	return info.offset;
}

FIXTURE_SETUP(mig)
{
	user_init(&self->src);
	user_init(&self->dst);
	ASSERT_EQ(0, mdev_load("mtty"));
	ASSERT_EQ(0, mdev_user_open(&self->src, "mtty-1", 0x4d00));
	ASSERT_EQ(0, mdev_user_open(&self->dst, "mtty-1", 0x4d01));
	self->src_bar = bar0(self->src.device);
	self->dst_bar = bar0(self->dst.device);
	ASSERT_NE(~0ull, self->src_bar);
	ASSERT_NE(~0ull, self->dst_bar);
}

FIXTURE_TEARDOWN(mig)
{
	EXPECT_EQ(0, mdev_user_close(&self->src));
	EXPECT_EQ(0, mdev_user_close(&self->dst));
	EXPECT_EQ(0, mdev_unload("mtty"));
}

static int uart_get(int device, uint64_t bar, unsigned int reg)
{
	uint8_t v;

	return pread(device, &v, 1, bar + reg) == 1 ? v : -errno;
}

static int uart_put(int device, uint64_t bar, unsigned int reg, uint8_t v)
{
	return pwrite(device, &v, 1, bar + reg) == 1 ? 0 : -errno;
}

/* The state debugfs shows for @u's device, or "" when unreadable. */
static const char *debugfs_state(struct mdev_user *u)
{
	static char buf[32];

	if (mig_debugfs_state(u->uuid, buf, sizeof(buf)))
		buf[0] = 0;
	return buf;
}

static bool saving(int state)
{
	return state == VFIO_DEVICE_STATE_PRE_COPY ||
	       state == VFIO_DEVICE_STATE_PRE_COPY_P2P ||
	       state == VFIO_DEVICE_STATE_STOP_COPY;
}

TEST_F(mig, migration_feature)
{
	struct vfio_device_feature_migration mig = {};
	int dev = self->src.device;
	uint32_t f = VFIO_DEVICE_FEATURE_MIGRATION;

	ASSERT_EQ(0, feature(dev, VFIO_DEVICE_FEATURE_GET | f, &mig,
			     sizeof(mig)));
	EXPECT_EQ((uint64_t)MTTY_FLAGS, mig.flags);
	EXPECT_EQ(0, feature(dev, VFIO_DEVICE_FEATURE_PROBE |
			     VFIO_DEVICE_FEATURE_GET | f, &mig, sizeof(mig)));
	EXPECT_EQ(EINVAL, feature(dev, VFIO_DEVICE_FEATURE_PROBE |
				  VFIO_DEVICE_FEATURE_SET | f, &mig,
				  sizeof(mig)));
	EXPECT_EQ(EINVAL, feature(dev, VFIO_DEVICE_FEATURE_SET | f, &mig,
				  sizeof(mig)));
	EXPECT_EQ(EINVAL, feature(dev, f, &mig, sizeof(mig)));
	/* Too small for the answer. */
	EXPECT_EQ(EINVAL, feature_argsz(dev, VFIO_DEVICE_FEATURE_GET | f,
					&mig, sizeof(mig),
					sizeof(struct vfio_device_feature) + 4));
	/* GET and SET together, not probing: refused before the feature. */
	EXPECT_EQ(EINVAL, feature(dev, VFIO_DEVICE_FEATURE_GET |
				  VFIO_DEVICE_FEATURE_SET | f, &mig,
				  sizeof(mig)));
}

TEST_F(mig, device_state_errnos)
{
	struct vfio_device_feature_mig_state mig = {};
	uint32_t f = VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	int state;
	int dev = self->src.device, fd;

	ASSERT_EQ(0, mig_get(dev, &state));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, state);
	mig.data_fd = 7;
	ASSERT_EQ(0, feature(dev, VFIO_DEVICE_FEATURE_GET | f, &mig,
			     sizeof(mig)));
	EXPECT_EQ(-1, mig.data_fd);

	EXPECT_EQ(0, feature(dev, VFIO_DEVICE_FEATURE_PROBE |
			     VFIO_DEVICE_FEATURE_GET |
			     VFIO_DEVICE_FEATURE_SET | f, &mig, sizeof(mig)));
	EXPECT_EQ(EINVAL, feature(dev, f, &mig, sizeof(mig)));
	EXPECT_EQ(EINVAL, feature_argsz(dev, VFIO_DEVICE_FEATURE_GET | f,
					&mig, sizeof(mig),
					sizeof(struct vfio_device_feature) + 4));
	EXPECT_EQ(EINVAL, feature_argsz(dev, VFIO_DEVICE_FEATURE_SET | f,
					&mig, sizeof(mig),
					sizeof(struct vfio_device_feature) + 4));

	/* ERROR, and states past the enum, cannot be asked for. */
	EXPECT_EQ(EINVAL, mig_set(dev, VFIO_DEVICE_STATE_ERROR, &fd));
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EINVAL, mig_set(dev, VFIO_DEVICE_STATE_NR, &fd));
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EINVAL, mig_set(dev, 0xffffffff, &fd));
	EXPECT_EQ(-1, fd);
	ASSERT_EQ(0, mig_get(dev, &state));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, state);

	/* STOP_COPY cannot go back to a PRE_COPY state. */
	ASSERT_EQ(0, mig_set(dev, VFIO_DEVICE_STATE_STOP_COPY, &fd));
	ASSERT_GE(fd, 0);
	/* The data fd is close-on-exec. */
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	EXPECT_EQ(EINVAL, mig_move(dev, VFIO_DEVICE_STATE_PRE_COPY));
	EXPECT_EQ(EINVAL, mig_move(dev, VFIO_DEVICE_STATE_PRE_COPY_P2P));
	ASSERT_EQ(0, mig_get(dev, &state));
	EXPECT_EQ(VFIO_DEVICE_STATE_STOP_COPY, state);
	EXPECT_EQ(0, mig_move(dev, VFIO_DEVICE_STATE_RUNNING));
}

TEST_F(mig, data_size)
{
	struct vfio_device_feature_mig_data_size size = {};
	uint32_t f = VFIO_DEVICE_FEATURE_MIG_DATA_SIZE;
	int dev = self->src.device;

	ASSERT_EQ(0, feature(dev, VFIO_DEVICE_FEATURE_GET | f, &size,
			     sizeof(size)));
	/* The header and one port's registers and FIFO. */
	EXPECT_GT(size.stop_copy_length, MTTY_HEADER);
	EXPECT_LT(size.stop_copy_length, 256ull);
	EXPECT_EQ(0, feature(dev, VFIO_DEVICE_FEATURE_PROBE |
			     VFIO_DEVICE_FEATURE_GET | f, &size, sizeof(size)));
	EXPECT_EQ(EINVAL, feature(dev, VFIO_DEVICE_FEATURE_SET | f, &size,
				  sizeof(size)));
	EXPECT_EQ(EINVAL, feature(dev, VFIO_DEVICE_FEATURE_PROBE |
				  VFIO_DEVICE_FEATURE_SET | f, &size,
				  sizeof(size)));
	EXPECT_EQ(EINVAL, feature_argsz(dev, VFIO_DEVICE_FEATURE_GET | f,
					&size, sizeof(size),
					sizeof(struct vfio_device_feature) + 4));
}

/*
 * Every (from, to): reset the device (back to RUNNING), move it to
 * `from`, ask for `to` (including ERROR and a number past the enum), and
 * check the errno, the state it ends in, and whether a data fd came back
 * against the protocol as mtty implements it:
 * - ERROR and unknown states are refused, the device stays;
 * - STOP_COPY cannot reach either PRE_COPY state;
 * - leaving RESUMING passes RESUMING -> STOP, where mtty loads the
 *   stream it was given, here none: it refuses and stays in RESUMING;
 * - else the device ends in `to`, with a new data fd when the last arc
 *   starts a session (into RESUMING, or into the saving group from
 *   outside it); moves inside the saving group keep the session.
 */
TEST_F(mig, every_transition)
{
	int dev = self->src.device;
	int from, to, state, fd, ret;

	for (from = VFIO_DEVICE_STATE_STOP; from < VFIO_DEVICE_STATE_NR;
	     from++) {
		for (to = 0; to <= VFIO_DEVICE_STATE_NR; to++) {
			int want_ret = 0, want_state = to;
			bool want_fd;

			if (to == VFIO_DEVICE_STATE_ERROR ||
			    to == VFIO_DEVICE_STATE_NR ||
			    (from == VFIO_DEVICE_STATE_STOP_COPY &&
			     (to == VFIO_DEVICE_STATE_PRE_COPY ||
			      to == VFIO_DEVICE_STATE_PRE_COPY_P2P)) ||
			    (from == VFIO_DEVICE_STATE_RESUMING && to != from)) {
				want_ret = EINVAL;
				want_state = from;
			}
			want_fd = !want_ret && from != to &&
				  (to == VFIO_DEVICE_STATE_RESUMING ||
				   (saving(to) && !saving(from)));

			ASSERT_EQ(0, ioctl_errno(dev, VFIO_DEVICE_RESET, NULL));
			ASSERT_EQ(0, mig_move(dev, from))
				TH_LOG("reaching %s", mig_state_name(from));
			ret = mig_set(dev, to, &fd);
			EXPECT_EQ(want_ret, ret)
				TH_LOG("%s -> %s", mig_state_name(from),
				       mig_state_name(to));
			EXPECT_EQ(want_fd, fd >= 0)
				TH_LOG("%s -> %s: data fd %d",
				       mig_state_name(from),
				       mig_state_name(to), fd);
			if (fd >= 0)
				close(fd);
			ASSERT_EQ(0, mig_get(dev, &state));
			EXPECT_EQ(want_state, state)
				TH_LOG("%s -> %s: in %s", mig_state_name(from),
				       mig_state_name(to),
				       mig_state_name(state));
			EXPECT_STREQ(mig_state_name(state),
				     debugfs_state(&self->src));
		}
	}
	ASSERT_EQ(0, ioctl_errno(dev, VFIO_DEVICE_RESET, NULL));
}

/* The P2P arcs one at a time, each shown by debugfs. */
TEST_F(mig, p2p_arcs)
{
	static const struct {
		int state;
		bool fd;
	} walk[] = {
		{ VFIO_DEVICE_STATE_RUNNING_P2P, false },
		{ VFIO_DEVICE_STATE_STOP, false },
		{ VFIO_DEVICE_STATE_RUNNING_P2P, false },
		{ VFIO_DEVICE_STATE_PRE_COPY_P2P, true },
		{ VFIO_DEVICE_STATE_PRE_COPY, false },
		{ VFIO_DEVICE_STATE_PRE_COPY_P2P, false },
		{ VFIO_DEVICE_STATE_RUNNING_P2P, false },
		{ VFIO_DEVICE_STATE_RUNNING, false },
	};
	int dev = self->src.device, fd, state;
	size_t i;

	EXPECT_STREQ("RUNNING", debugfs_state(&self->src));
	for (i = 0; i < sizeof(walk) / sizeof(walk[0]); i++) {
		ASSERT_EQ(0, mig_set(dev, walk[i].state, &fd))
			TH_LOG("to %s", mig_state_name(walk[i].state));
		EXPECT_EQ(walk[i].fd, fd >= 0)
			TH_LOG("to %s", mig_state_name(walk[i].state));
		if (fd >= 0)
			close(fd);
		ASSERT_EQ(0, mig_get(dev, &state));
		EXPECT_EQ(walk[i].state, state);
		EXPECT_STREQ(mig_state_name(walk[i].state),
			     debugfs_state(&self->src));
	}
}

TEST_F(mig, precopy_info)
{
	struct vfio_precopy_info info;
	int dev = self->src.device, save, fd;
	uint8_t buf[16];

	ASSERT_EQ(0, mig_set(dev, VFIO_DEVICE_STATE_PRE_COPY, &save));
	ASSERT_GE(save, 0);
	ASSERT_EQ(0, mig_get_precopy_info(save, &info));
	EXPECT_EQ(MTTY_HEADER, info.initial_bytes);
	EXPECT_EQ(0ull, info.dirty_bytes);
	ASSERT_EQ((ssize_t)sizeof(buf), read(save, buf, sizeof(buf)));
	ASSERT_EQ(0, mig_get_precopy_info(save, &info));
	EXPECT_EQ(MTTY_HEADER - sizeof(buf), info.initial_bytes);

	/* argsz short of the structure. */
	memset(&info, 0, sizeof(info));
	info.argsz = 8;
	EXPECT_EQ(EINVAL, ioctl_errno(save, VFIO_MIG_GET_PRECOPY_INFO,
				      &info));
	/* Not an ioctl of the data fd. */
	EXPECT_EQ(ENOTTY, ioctl_errno(save, VFIO_GET_API_VERSION, NULL));

	/* PRE_COPY_P2P is a PRE_COPY state too. */
	ASSERT_EQ(0, mig_set(dev, VFIO_DEVICE_STATE_PRE_COPY_P2P, &fd));
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(0, mig_get_precopy_info(save, &info));

	/* Outside PRE_COPY: STOP_COPY, and after the session ended. */
	ASSERT_EQ(0, mig_set(dev, VFIO_DEVICE_STATE_STOP_COPY, &fd));
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EINVAL, mig_get_precopy_info(save, &info));
	ASSERT_EQ(0, mig_move(dev, VFIO_DEVICE_STATE_RUNNING));
	EXPECT_EQ(EINVAL, mig_get_precopy_info(save, &info));
	close(save);
}

/*
 * Source RUNNING with bytes in its FIFO -> PRE_COPY (the header is
 * readable) -> STOP_COPY (the rest), destination RUNNING -> RESUMING,
 * written -> RUNNING: the destination's registers and FIFO are the
 * source's.
 */
TEST_F(mig, round_trip_between_two_instances)
{
	static const char msg[] = "migrate!";
	struct vfio_device_feature_mig_data_size size = {};
	int src = self->src.device, dst = self->dst.device;
	uint64_t sbar = self->src_bar, dbar = self->dst_bar;
	static const unsigned int regs[] = {
		UART_IER, UART_LCR, UART_MCR, UART_LSR, UART_SCR,
	};
	struct vfio_precopy_info info;
	uint8_t stream[512];
	size_t got, i;
	int save, load, fd, s, d;
	ssize_t n;

	for (i = 0; i < sizeof(msg) - 1; i++)
		ASSERT_EQ(0, uart_put(src, sbar, UART_TX, msg[i]));
	ASSERT_EQ(0, uart_put(src, sbar, UART_LCR, 0x1b));
	ASSERT_EQ(0, uart_put(src, sbar, UART_MCR, 0x08));
	ASSERT_EQ(0, uart_put(src, sbar, UART_SCR, 0x5a));
	/* The destination differs until it resumes. */
	ASSERT_EQ(0, uart_put(dst, dbar, UART_SCR, 0xa5));
	EXPECT_STREQ("RUNNING", debugfs_state(&self->src));
	EXPECT_STREQ("RUNNING", debugfs_state(&self->dst));

	ASSERT_EQ(0, mig_set(src, VFIO_DEVICE_STATE_PRE_COPY, &save));
	ASSERT_GE(save, 0);
	EXPECT_STREQ("PRE_COPY", debugfs_state(&self->src));
	ASSERT_EQ(0, mig_get_precopy_info(save, &info));
	EXPECT_EQ(MTTY_HEADER, info.initial_bytes);
	n = read(save, stream, sizeof(stream));
	ASSERT_EQ((ssize_t)MTTY_HEADER, n);
	got = n;
	ASSERT_EQ(0, mig_get_precopy_info(save, &info));
	EXPECT_EQ(0ull, info.initial_bytes);

	/* Within the saving group the session, and its fd, go on. */
	ASSERT_EQ(0, mig_set(src, VFIO_DEVICE_STATE_STOP_COPY, &fd));
	EXPECT_EQ(-1, fd);
	EXPECT_STREQ("STOP_COPY", debugfs_state(&self->src));
	ASSERT_EQ(0, feature(src, VFIO_DEVICE_FEATURE_GET |
			     VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &size,
			     sizeof(size)));
	while ((n = read(save, stream + got, sizeof(stream) - got)) > 0)
		got += n;
	EXPECT_EQ(0, n);
	EXPECT_EQ(size.stop_copy_length, (uint64_t)got);
	close(save);

	ASSERT_EQ(0, mig_set(dst, VFIO_DEVICE_STATE_RESUMING, &load));
	ASSERT_GE(load, 0);
	EXPECT_STREQ("RESUMING", debugfs_state(&self->dst));
	ASSERT_EQ((ssize_t)got, write(load, stream, got));
	ASSERT_EQ(0, mig_set(dst, VFIO_DEVICE_STATE_RUNNING, &fd));
	EXPECT_EQ(-1, fd);
	EXPECT_STREQ("RUNNING", debugfs_state(&self->dst));
	close(load);

	ASSERT_EQ(0, mig_move(src, VFIO_DEVICE_STATE_RUNNING));
	EXPECT_STREQ("RUNNING", debugfs_state(&self->src));

	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		s = uart_get(src, sbar, regs[i]);
		d = uart_get(dst, dbar, regs[i]);
		ASSERT_GE(s, 0);
		EXPECT_EQ(s, d) TH_LOG("register %u", regs[i]);
	}
	EXPECT_EQ(0x5a, uart_get(dst, dbar, UART_SCR));
	/* The FIFOs hold the same bytes: the message. */
	for (i = 0; i < sizeof(msg) - 1; i++) {
		ASSERT_TRUE(uart_get(dst, dbar, UART_LSR) & UART_LSR_DR);
		EXPECT_EQ(msg[i], uart_get(dst, dbar, UART_RX));
		EXPECT_EQ(msg[i], uart_get(src, sbar, UART_RX));
	}
	EXPECT_FALSE(uart_get(dst, dbar, UART_LSR) & UART_LSR_DR);
	EXPECT_FALSE(uart_get(src, sbar, UART_LSR) & UART_LSR_DR);
}

/* A stream from another device's state is refused by the driver. */
TEST_F(mig, resume_refuses_a_bad_stream)
{
	uint8_t junk[MTTY_HEADER];
	int dst = self->dst.device, load, state;

	memset(junk, 0x5a, sizeof(junk));
	ASSERT_EQ(0, mig_set(dst, VFIO_DEVICE_STATE_RESUMING, &load));
	ASSERT_GE(load, 0);
	EXPECT_EQ(-1, write(load, junk, sizeof(junk)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(EINVAL, mig_move(dst, VFIO_DEVICE_STATE_RUNNING));
	ASSERT_EQ(0, mig_get(dst, &state));
	EXPECT_EQ(VFIO_DEVICE_STATE_RESUMING, state);
	close(load);
	ASSERT_EQ(0, ioctl_errno(dst, VFIO_DEVICE_RESET, NULL));
	ASSERT_EQ(0, mig_get(dst, &state));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, state);
}

TEST_HARNESS_MAIN
