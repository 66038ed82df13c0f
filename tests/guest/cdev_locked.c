// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=iommufd timeout=180
/*
 * Locked memory on the iommufd path. 6.12's iommufd pins pages when they
 * are mapped into an IOAS that has a device attached, and charges them,
 * unless the mapping task has CAP_IPC_LOCK (then nothing is charged), to
 * the user's locked_vm (struct user_struct: IOPT_PAGES_ACCOUNT_USER, the
 * default) or, with IOMMU_OPTION_RLIMIT_MODE 1, to the mm's locked_vm as
 * type1 does (VmLck). Either is bounded by RLIMIT_MEMLOCK. The user's
 * count is seen nowhere but in that bound, so each case drops to an
 * unprivileged uid with a small limit: a map past it fails with ENOMEM,
 * and once the device and the iommufd are closed, however it ends, a map
 * of the whole limit must succeed again in the same process (the uid's
 * user_struct lives on with it). Pins last while a device is attached to
 * the IOAS: a device file that stayed attached, or kept its iommufd
 * context, would make that map fail.
 */
#include <grp.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "edu.h"
#include "iommufd_test.h"
#include "kselftest_harness.h"

#define PAGE		4096
#define LIMIT_PAGES	16
#define LIMIT		(LIMIT_PAGES * PAGE)
#define IOVA		0x100000
#define IOVA_MORE	0x800000
#define NOBODY		65534

FIXTURE(locked) {
	char bdf[32];
	char path[64];
	int group_id;
	int iommufd[2];
	int device[2];
	uint8_t *buf;
};

FIXTURE_SETUP(locked)
{
	int i;

	for (i = 0; i < 2; i++)
		self->iommufd[i] = self->device[i] = -1;
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->bdf));
	ASSERT_EQ(0, pci_bind(self->bdf, "vfio-pci"));
	self->group_id = pci_iommu_group(self->bdf);
	ASSERT_LE(0, self->group_id);
	ASSERT_EQ(0, cdev_path(self->bdf, self->path));
	/* Opened while privileged: nobody could open them. */
	for (i = 0; i < 2; i++) {
		self->iommufd[i] = open(IOMMUFD_PATH, O_RDWR);
		ASSERT_LE(0, self->iommufd[i]);
		self->device[i] = open(self->path, O_RDWR);
		ASSERT_LE(0, self->device[i]);
	}
	self->buf = mmap(NULL, 2 * LIMIT, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(locked)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (self->device[i] >= 0)
			close(self->device[i]);
		if (self->iommufd[i] >= 0)
			close(self->iommufd[i]);
	}
}

/* Bind a cdev file to an iommufd and attach it to a new IOAS. */
static int bind_attach(int device, int iommufd, uint32_t *ioas)
{
	uint32_t pt;
	int ret = bind_iommufd(device, iommufd, NULL);

	if (!ret)
		ret = ioas_alloc(iommufd, ioas);
	if (ret)
		return ret;
	pt = *ioas;
	return attach_pt(device, &pt);
}

/* Become uid/gid nobody, without capabilities, with RLIMIT_MEMLOCK @max. */
static int drop_privileges(rlim_t max)
{
	struct rlimit lim = { .rlim_cur = max, .rlim_max = max };

	if (setrlimit(RLIMIT_MEMLOCK, &lim) || setgroups(0, NULL) ||
	    setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return errno;
	return 0;
}

/*
 * The whole limit maps on a second file of the device, bound to the
 * other iommufd: nothing of the user's charge is left over.
 */
static int whole_limit_maps_again(FIXTURE_DATA(locked) *self)
{
	uint32_t ioas;
	int ret = bind_attach(self->device[1], self->iommufd[1], &ioas);

	return ret ? ret : ioas_map(self->iommufd[1], ioas, self->buf, IOVA,
				    LIMIT);
}

/* A map past the limit fails; an unmap gives the charge back. */
TEST_F(locked, user_limit_and_unmap)
{
	uint32_t ioas;

	ASSERT_EQ(0, bind_attach(self->device[0], self->iommufd[0], &ioas));
	ASSERT_EQ(0, drop_privileges(LIMIT));
	ASSERT_EQ(0, ioas_map(self->iommufd[0], ioas, self->buf, IOVA, LIMIT));
	EXPECT_EQ(ENOMEM, ioas_map(self->iommufd[0], ioas, self->buf + LIMIT,
				   IOVA_MORE, PAGE));
	ASSERT_EQ(0, ioas_unmap(self->iommufd[0], ioas, IOVA, LIMIT));
	EXPECT_EQ(0, ioas_map(self->iommufd[0], ioas, self->buf + LIMIT,
			      IOVA_MORE, PAGE));
	EXPECT_EQ(0, ioas_map(self->iommufd[0], ioas, self->buf, IOVA,
			      LIMIT - PAGE));
	EXPECT_EQ(ENOMEM, ioas_map(self->iommufd[0], ioas, self->buf,
				   IOVA + LIMIT, PAGE));
}

/* Closed while mapped, device first: the charge goes back. */
TEST_F(locked, close_device_then_iommufd)
{
	uint32_t ioas;

	ASSERT_EQ(0, bind_attach(self->device[0], self->iommufd[0], &ioas));
	ASSERT_EQ(0, drop_privileges(LIMIT));
	ASSERT_EQ(0, ioas_map(self->iommufd[0], ioas, self->buf, IOVA, LIMIT));
	close(self->device[0]);
	self->device[0] = -1;
	close(self->iommufd[0]);
	self->iommufd[0] = -1;
	EXPECT_EQ(0, whole_limit_maps_again(self));
}

/*
 * The iommufd closed first: the bound device keeps its context (and the
 * pins) alive until it is closed too.
 */
TEST_F(locked, close_iommufd_then_device)
{
	uint32_t ioas;

	ASSERT_EQ(0, bind_attach(self->device[0], self->iommufd[0], &ioas));
	ASSERT_EQ(0, drop_privileges(LIMIT));
	ASSERT_EQ(0, ioas_map(self->iommufd[0], ioas, self->buf, IOVA, LIMIT));
	close(self->iommufd[0]);
	self->iommufd[0] = -1;
	/* The device is still bound: the other file cannot bind yet. */
	EXPECT_EQ(EINVAL, bind_iommufd(self->device[1], self->iommufd[1],
				       NULL));
	close(self->device[0]);
	self->device[0] = -1;
	EXPECT_EQ(0, whole_limit_maps_again(self));
}

/*
 * Pages are pinned, and charged, only while a device is attached: the
 * last detach unpins what the IOAS maps, and the next attach pins it all
 * again, failing with ENOMEM when that is past the limit.
 */
TEST_F(locked, detach_unpins_attach_pins)
{
	uint32_t ioas, pt;

	ASSERT_EQ(0, bind_attach(self->device[0], self->iommufd[0], &ioas));
	ASSERT_EQ(0, drop_privileges(LIMIT));
	ASSERT_EQ(0, ioas_map(self->iommufd[0], ioas, self->buf, IOVA, LIMIT));
	ASSERT_EQ(0, detach_pt(self->device[0]));
	/* Nothing pinned: one more page maps. */
	ASSERT_EQ(0, ioas_map(self->iommufd[0], ioas, self->buf + LIMIT,
			      IOVA_MORE, PAGE));
	pt = ioas;
	EXPECT_EQ(ENOMEM, attach_pt(self->device[0], &pt));
	ASSERT_EQ(0, ioas_unmap(self->iommufd[0], ioas, IOVA_MORE, PAGE));
	pt = ioas;
	EXPECT_EQ(0, attach_pt(self->device[0], &pt));
	close(self->device[0]);
	self->device[0] = -1;
	close(self->iommufd[0]);
	self->iommufd[0] = -1;
	EXPECT_EQ(0, whole_limit_maps_again(self));
}

/* With IOMMU_OPTION_RLIMIT_MODE 1 the charge is the mm's: VmLck. */
TEST_F(locked, mm_mode_shows_in_vmlck)
{
	struct iommu_option opt = {
		.size = sizeof(opt), .option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_SET, .val64 = 1,
	};
	long base;
	uint32_t ioas;

	ASSERT_EQ(0, ioctl_errno(self->iommufd[0], IOMMU_OPTION, &opt));
	ASSERT_EQ(0, bind_attach(self->device[0], self->iommufd[0], &ioas));
	ASSERT_EQ(0, drop_privileges(LIMIT));
	base = locked_vm_kib();
	ASSERT_LE(0, base);
	ASSERT_EQ(0, ioas_map(self->iommufd[0], ioas, self->buf, IOVA, LIMIT));
	EXPECT_EQ(base + LIMIT / 1024, locked_vm_kib());
	EXPECT_EQ(ENOMEM, ioas_map(self->iommufd[0], ioas, self->buf + LIMIT,
				   IOVA_MORE, PAGE));
	ASSERT_EQ(0, ioas_unmap(self->iommufd[0], ioas, IOVA, LIMIT));
	EXPECT_EQ(base, locked_vm_kib());
	ASSERT_EQ(0, ioas_map(self->iommufd[0], ioas, self->buf, IOVA, LIMIT));
	close(self->device[0]);
	self->device[0] = -1;
	close(self->iommufd[0]);
	self->iommufd[0] = -1;
	EXPECT_EQ(base, locked_vm_kib());
}

/*
 * A group given the iommufd as its container: its device file is
 * attached to the compat IOAS; the user's charge goes back when the
 * group path lets go, proven through the device's cdev afterwards.
 */
TEST_F(locked, group_with_iommufd)
{
	struct iommu_vfio_ioas compat = {
		.size = sizeof(compat), .op = IOMMU_VFIO_IOAS_GET,
	};
	int group, device;

	/* The cdev files may not bind while the group is open. */
	group = vfio_group_open(self->group_id);
	ASSERT_LE(0, group);
	ASSERT_EQ(0, ioctl_errno(group, VFIO_GROUP_SET_CONTAINER,
				 &self->iommufd[0]));
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, self->bdf);
	ASSERT_LE(0, device) TH_LOG("GET_DEVICE_FD: %m");
	ASSERT_EQ(0, ioctl_errno(self->iommufd[0], IOMMU_VFIO_IOAS, &compat));
	ASSERT_EQ(0, drop_privileges(LIMIT));
	ASSERT_EQ(0, ioas_map(self->iommufd[0], compat.ioas_id, self->buf,
			      IOVA, LIMIT));
	EXPECT_EQ(ENOMEM, ioas_map(self->iommufd[0], compat.ioas_id,
				   self->buf + LIMIT, IOVA_MORE, PAGE));
	close(device);
	close(group);
	close(self->iommufd[0]);
	self->iommufd[0] = -1;
	EXPECT_EQ(0, whole_limit_maps_again(self));
}

TEST_HARNESS_MAIN
