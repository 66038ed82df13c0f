// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO_DEVICE_IOEVENTFD with edu: signaling the eventfd writes the given
 * data into edu's liveness register, which reads back inverted; the
 * argument checks, EEXIST/ENODEV, and the limit per device.
 */
// harness: machine=q35-intel timeout=120 feature=pci
#include <stddef.h>
#include <sys/eventfd.h>
#include <time.h>

#include <linux/pci_regs.h>

#include "edu.h"
#include "kselftest_harness.h"

#define IOEVENTFD_MAX	1000	/* upstream's limit per device */

FIXTURE(ioev) {
	struct edu edu;
	int efd;
};

FIXTURE_SETUP(ioev)
{
	self->efd = -1;
	ASSERT_EQ(0, edu_open(&self->edu)) TH_LOG("edu via vfio: %m");
	ASSERT_EQ(0, edu_command_set(&self->edu, PCI_COMMAND_MEMORY));
	self->efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(ioev)
{
	if (self->efd >= 0)
		close(self->efd);
	vfio_user_close(&self->edu.u);
}

static int ioeventfd(FIXTURE_DATA(ioev) *self, uint32_t flags,
		     uint64_t offset, uint64_t data, int fd)
{
	struct vfio_device_ioeventfd req = {
		.argsz = sizeof(req),
		.flags = flags,
		.offset = offset,
		.data = data,
		.fd = fd,
	};

	return ioctl_errno(self->edu.u.device, VFIO_DEVICE_IOEVENTFD, &req);
}

static int signal_efd(int efd)
{
	uint64_t one = 1;

	return write(efd, &one, 8) == 8 ? 0 : -errno;
}

/* Wait up to 2 s for edu's liveness register to read @want. */
static bool liveness_reads(struct edu *edu, uint32_t want)
{
	struct timespec delay = { .tv_nsec = 1000 * 1000 };
	int i;

	for (i = 0; i < 2000; i++) {
		if (edu_read32(edu, EDU_LIVENESS) == want)
			return true;
		nanosleep(&delay, NULL);
	}
	return false;
}

TEST_F(ioev, write_on_signal)
{
	uint64_t liveness = self->edu.bar0 + EDU_LIVENESS;

	ASSERT_EQ(0, edu_write32(&self->edu, EDU_LIVENESS, 0));
	ASSERT_EQ(0, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32, liveness,
			       0x11223344, self->efd));
	ASSERT_EQ(0, signal_efd(self->efd));
	EXPECT_TRUE(liveness_reads(&self->edu, ~0x11223344u));

	/* Again, after the register changed. */
	ASSERT_EQ(0, edu_write32(&self->edu, EDU_LIVENESS, 0));
	ASSERT_EQ(0, signal_efd(self->efd));
	EXPECT_TRUE(liveness_reads(&self->edu, ~0x11223344u));

	/* Removed: signals write nothing any more. */
	ASSERT_EQ(0, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32, liveness,
			       0x11223344, -1));
	ASSERT_EQ(0, edu_write32(&self->edu, EDU_LIVENESS, 0));
	ASSERT_EQ(0, signal_efd(self->efd));
	usleep(100 * 1000);
	EXPECT_EQ(~0u, edu_read32(&self->edu, EDU_LIVENESS));
}

TEST_F(ioev, exists_and_missing)
{
	uint64_t liveness = self->edu.bar0 + EDU_LIVENESS;

	ASSERT_EQ(0, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32, liveness, 1,
			       self->efd));
	EXPECT_EQ(EEXIST, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32, liveness,
				    1, self->efd));
	/* Other data or width: another ioeventfd. */
	EXPECT_EQ(0, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32, liveness, 2,
			       self->efd));
	EXPECT_EQ(0, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_16, liveness, 1,
			       self->efd));
	EXPECT_EQ(0, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32, liveness, 1,
			       -1));
	EXPECT_EQ(ENODEV, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32, liveness,
				    1, -1));
	EXPECT_EQ(ENODEV, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32, liveness,
				    3, -1));
	/* The others are left for close to free. */
}

TEST_F(ioev, bad_arguments)
{
	struct vfio_device_ioeventfd req = {
		/* One byte short of the fd. */
		.argsz = offsetof(struct vfio_device_ioeventfd, fd) +
			 sizeof(req.fd) - 1,
		.flags = VFIO_DEVICE_IOEVENTFD_32,
		.offset = self->edu.bar0,
		.fd = self->efd,
	};
	uint64_t bar0 = self->edu.bar0;

	EXPECT_EQ(EINVAL, ioctl_errno(self->edu.u.device,
				      VFIO_DEVICE_IOEVENTFD, &req));
	/* Widths: exactly one. */
	EXPECT_EQ(EINVAL, ioeventfd(self, 0, bar0, 0, self->efd));
	EXPECT_EQ(EINVAL, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32 |
				    VFIO_DEVICE_IOEVENTFD_16, bar0, 0,
				    self->efd));
	EXPECT_EQ(EINVAL, ioeventfd(self, 0x10, bar0, 0, self->efd));
	EXPECT_EQ(EINVAL, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32, bar0, 0,
				    -2));
	/* Only BARs, and within them. */
	EXPECT_EQ(EINVAL, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32,
				    self->edu.config + 4, 0, self->efd));
	EXPECT_EQ(EINVAL, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32,
				    bar0 + 0x100000 - 2, 0, self->efd));
	EXPECT_EQ(EINVAL, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32,
				    vfio_region_offset(self->edu.u.device,
						       VFIO_PCI_BAR1_REGION_INDEX),
				    0, self->efd));
	/* Not an eventfd. */
	EXPECT_EQ(EBADF, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32, bar0, 0,
				   1000));
}

/*
 * Offsets no region index can have: the index is the offset's top bits
 * (offset >> 40), so 2^63 and ~0 name region 0x800000 and 0xffffff.
 */
// only(ours:ioev.offset_beyond_every_region): intended difference. Upstream
// 6.12 derives the BAR index from a signed int: it oopses in
// vfio_pci_ioeventfd() on offset 2^63, and accepts ~0, then oopses when
// that eventfd fires. The uAPI says the offset is a region offset; no
// region has such an index, so ours answers EINVAL. Never sent upstream.
TEST_F(ioev, offset_beyond_every_region)
{
	static const uint64_t offsets[] = { 1ULL << 63, ~0ULL,
					    ~0ULL - 3, 0xffULL << 40 };

	for (unsigned int i = 0; i < sizeof(offsets) / sizeof(offsets[0]);
	     i++) {
		EXPECT_EQ(EINVAL, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32,
					    offsets[i], 0, self->efd))
			TH_LOG("offset 0x%llx",
			       (unsigned long long)offsets[i]);
		EXPECT_EQ(EINVAL, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_8,
					    offsets[i], 0, self->efd));
	}
	/* Nothing was armed: signalling the eventfd writes nothing. */
	EXPECT_EQ(0, signal_efd(self->efd));
}

/* With memory decode off, signaled writes do not reach the device. */
TEST_F(ioev, dropped_while_decode_off)
{
	uint64_t liveness = self->edu.bar0 + EDU_LIVENESS;
	uint16_t cmd;

	ASSERT_EQ(0, edu_write32(&self->edu, EDU_LIVENESS, 0));
	ASSERT_EQ(0, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32, liveness,
			       0x55, self->efd));
	ASSERT_EQ(2, pread(self->edu.u.device, &cmd, 2,
			   self->edu.config + PCI_COMMAND));
	cmd &= ~PCI_COMMAND_MEMORY;
	ASSERT_EQ(2, pwrite(self->edu.u.device, &cmd, 2,
			    self->edu.config + PCI_COMMAND));
	ASSERT_EQ(0, signal_efd(self->efd));
	usleep(100 * 1000);
	ASSERT_EQ(0, edu_command_set(&self->edu, PCI_COMMAND_MEMORY));
	EXPECT_EQ(~0u, edu_read32(&self->edu, EDU_LIVENESS));
}

/* At most IOEVENTFD_MAX per device; the next is refused with ENOSPC. */
TEST_F(ioev, limit)
{
	uint64_t liveness = self->edu.bar0 + EDU_LIVENESS;
	int i;

	for (i = 0; i < IOEVENTFD_MAX; i++)
		ASSERT_EQ(0, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32,
				       liveness, i, self->efd));
	EXPECT_EQ(ENOSPC, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32, liveness,
				    i, self->efd));
	/* One removed makes room for one. */
	ASSERT_EQ(0, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32, liveness, 0,
			       -1));
	EXPECT_EQ(0, ioeventfd(self, VFIO_DEVICE_IOEVENTFD_32, liveness, i,
			       self->efd));
}

TEST_HARNESS_MAIN
