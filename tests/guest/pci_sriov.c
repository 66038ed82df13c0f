// SPDX-License-Identifier: GPL-2.0-only
// harness: machine=q35-sriov timeout=240 feature=pci
/*
 * SR-IOV through vfio-pci and the VF token, on QEMU's NVMe controller
 * (which offers two VFs): vfio-pci's module parameters, sriov_numvfs
 * refused unless enable_sriov, VFs created bound to vfio-pci, the PF
 * user's token (VFIO_DEVICE_FEATURE_PCI_VF_TOKEN) required to open a VF
 * ("<bdf> vf_token=<uuid>") and, while a VF is open, to open the PF.
 */
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "pci_test.h"

#define NVME_VENDOR	0x1b36
#define NVME_DEVICE	0x0010
#define PARAMS		"/sys/module/vfio_pci/parameters/"

static const char TOKEN[] = "4ad0e4e2-5c9b-4a8e-9d6c-0e8f2c4b1a77";
static const char OTHER[] = "00000000-0000-0000-0000-000000000001";

/* The UUID string in binary, as VFIO_DEVICE_FEATURE_PCI_VF_TOKEN takes. */
static void uuid_bytes(const char *s, uint8_t out[16])
{
	int i = 0;

	for (; *s && i < 16; s++) {
		if (*s == '-')
			continue;
		sscanf(s, "%2hhx", &out[i++]);
		s++;
	}
}

static int set_token(int device, const char *uuid, uint32_t flags,
		     size_t size)
{
	struct {
		struct vfio_device_feature f;
		uint8_t uuid[16];
	} req = {
		.f.argsz = sizeof(req.f) + size,
		.f.flags = flags | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
	};

	uuid_bytes(uuid, req.uuid);
	return ioctl_errno(device, VFIO_DEVICE_FEATURE, &req);
}

/* GET_DEVICE_FD with "<bdf>[ vf_token=<uuid>]": the fd, or -errno. */
static int open_with_token(int group, const char *bdf, const char *uuid)
{
	char name[128];
	int fd;

	if (uuid)
		snprintf(name, sizeof(name), "%s vf_token=%s", bdf, uuid);
	else
		snprintf(name, sizeof(name), "%s", bdf);
	fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name);
	return fd < 0 ? -errno : fd;
}

static int numvfs(const char *pf, int n)
{
	char path[PATH_MAX], value[8];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_numvfs",
		 pf);
	snprintf(value, sizeof(value), "%d", n);
	return sysfs_write(path, value);
}

/* The BDF of the PF's n-th VF. */
static int vf_bdf(const char *pf, int n, char bdf[32])
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t len;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/virtfn%d", pf,
		 n);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0)
		return -errno;
	link[len] = 0;
	snprintf(bdf, 32, "%s", basename(link));
	return 0;
}

/* vfio-pci's parameters: names and permissions as upstream's. */
TEST(module_parameters)
{
	static const struct { const char *name; unsigned int mode; } want[] = {
		{ "nointxmask", 0644 }, { "disable_idle_d3", 0644 },
		{ "enable_sriov", 0644 }, { "disable_vga", 0444 },
		{ "disable_denylist", 0444 },
	};
	char path[PATH_MAX];
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(path, sizeof(path), PARAMS "%s", want[i].name);
		ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s: %m", want[i].name);
		EXPECT_EQ(want[i].mode, st.st_mode & 0777)
			TH_LOG("%s", want[i].name);
	}
	/* ids= is load-time only: not in sysfs. */
	EXPECT_NE(0, access(PARAMS "ids", F_OK));
}

FIXTURE(sriov) {
	struct vfio_user u;
	bool type1;
	int vf_group;
	char vf[32];
};

FIXTURE_SETUP(sriov)
{
	self->vf_group = -1;
	self->vf[0] = 0;
	ASSERT_EQ(0, pci_user_open(&self->u, &self->type1, NVME_VENDOR,
				   NVME_DEVICE)) TH_LOG("PF: %m");
}

FIXTURE_TEARDOWN(sriov)
{
	if (self->vf_group >= 0)
		close(self->vf_group);
	numvfs(self->u.bdf, 0);
	sysfs_write(PARAMS "enable_sriov", "0");
	pci_user_close(&self->u, &self->type1);
}

/* One VF, bound to vfio-pci, its group ready in the PF's container. */
static void enable_one_vf(struct __test_metadata *_metadata,
			  FIXTURE_DATA(sriov) *self)
{
	char drv[64];
	int vf_group_id;

	ASSERT_EQ(0, sysfs_write(PARAMS "enable_sriov", "1"));
	ASSERT_EQ(0, numvfs(self->u.bdf, 1));
	ASSERT_EQ(0, vf_bdf(self->u.bdf, 0, self->vf));
	pci_driver(self->vf, drv);
	EXPECT_STREQ("vfio-pci", drv);
	vf_group_id = pci_iommu_group(self->vf);
	ASSERT_LE(0, vf_group_id);
	if (vf_group_id == self->u.group_id)
		return;
	self->vf_group = vfio_group_open(vf_group_id);
	ASSERT_LE(0, self->vf_group);
	ASSERT_EQ(0, ioctl(self->vf_group, VFIO_GROUP_SET_CONTAINER,
			   &self->u.container));
}

static int vf_group(FIXTURE_DATA(sriov) *self)
{
	return self->vf_group >= 0 ? self->vf_group : self->u.group;
}

TEST_F(sriov, numvfs_needs_enable_sriov)
{
	EXPECT_EQ(-ENOENT, numvfs(self->u.bdf, 1));
	ASSERT_EQ(0, sysfs_write(PARAMS "enable_sriov", "1"));
	EXPECT_EQ(0, numvfs(self->u.bdf, 1));
	/* Already enabled: the PCI core refuses a new count but 0. */
	EXPECT_EQ(-EBUSY, numvfs(self->u.bdf, 2));
	EXPECT_EQ(0, numvfs(self->u.bdf, 0));
	EXPECT_EQ(0, numvfs(self->u.bdf, 2));
}

TEST_F(sriov, vf_driver_override)
{
	char path[PATH_MAX], value[64] = "";
	int fd;

	enable_one_vf(_metadata, self);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 self->vf);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, value, sizeof(value) - 1));
	close(fd);
	EXPECT_STREQ("vfio-pci\n", value);
}

TEST_F(sriov, token_feature)
{
	int pf = self->u.device;

	EXPECT_EQ(0, set_token(pf, TOKEN, VFIO_DEVICE_FEATURE_SET, 16));
	EXPECT_EQ(0, set_token(pf, TOKEN, VFIO_DEVICE_FEATURE_SET |
			       VFIO_DEVICE_FEATURE_PROBE, 16));
	/* No GET: it would show the previous user's token. */
	EXPECT_EQ(EINVAL, set_token(pf, TOKEN, VFIO_DEVICE_FEATURE_GET, 16));
	EXPECT_EQ(EINVAL, set_token(pf, TOKEN, VFIO_DEVICE_FEATURE_SET, 8));
}

TEST_F(sriov, vf_needs_the_token)
{
	int vf, pf2;

	enable_one_vf(_metadata, self);
	ASSERT_EQ(0, set_token(self->u.device, TOKEN,
			       VFIO_DEVICE_FEATURE_SET, 16));
	EXPECT_EQ(-EACCES, open_with_token(vf_group(self), self->vf, NULL));
	EXPECT_EQ(-EACCES, open_with_token(vf_group(self), self->vf, OTHER));
	EXPECT_EQ(-EINVAL, open_with_token(vf_group(self), self->vf,
					   "not-a-uuid-at-all-not-a-uuid-at-all"));
	vf = open_with_token(vf_group(self), self->vf, TOKEN);
	ASSERT_LE(0, vf) TH_LOG("VF with the token: %s", strerror(-vf));

	/* With a VF open, the PF opens only with the token too. */
	EXPECT_EQ(-EACCES, open_with_token(self->u.group, self->u.bdf, NULL));
	EXPECT_EQ(-EACCES, open_with_token(self->u.group, self->u.bdf, OTHER));
	pf2 = open_with_token(self->u.group, self->u.bdf, TOKEN);
	EXPECT_LE(0, pf2);
	if (pf2 >= 0)
		close(pf2);
	close(vf);

	/* No VF open: the PF opens without; a token given becomes its own. */
	pf2 = open_with_token(self->u.group, self->u.bdf, NULL);
	EXPECT_LE(0, pf2);
	if (pf2 >= 0)
		close(pf2);
	pf2 = open_with_token(self->u.group, self->u.bdf, OTHER);
	EXPECT_LE(0, pf2);
	if (pf2 >= 0)
		close(pf2);
	EXPECT_EQ(-EACCES, open_with_token(vf_group(self), self->vf, TOKEN));
	vf = open_with_token(vf_group(self), self->vf, OTHER);
	EXPECT_LE(0, vf);
	if (vf >= 0)
		close(vf);
}

/* A token for a function that is neither PF nor VF is an error. */
TEST(token_on_plain_function)
{
	struct vfio_user u;
	bool type1 = false;

	ASSERT_EQ(0, pci_user_open(&u, &type1, EDU_VENDOR, EDU_DEVICE));
	EXPECT_EQ(-EINVAL, open_with_token(u.group, u.bdf, TOKEN));
	EXPECT_EQ(ENOTTY, set_token(u.device, TOKEN, VFIO_DEVICE_FEATURE_SET,
				    16));
	pci_user_close(&u, &type1);
}

TEST_HARNESS_MAIN
