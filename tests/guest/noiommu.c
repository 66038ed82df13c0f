// SPDX-License-Identifier: GPL-2.0-only
// harness: machine=q35-noiommu timeout=180 feature=noiommu
/*
 * No-IOMMU mode on a machine without a vIOMMU: vfio's
 * enable_unsafe_noiommu_mode parameter, the noiommu-N group a device
 * without an IOMMU group gets while it is set, the VFIO_NOIOMMU_IOMMU
 * backend (which translates nothing, so mapping ioctls are unknown to
 * it), CAP_SYS_RAWIO, the taint and the warnings, and the device fd
 * working as usual: config space, BAR access, mmap, interrupts.
 */
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "edu.h"
#include "iommufd_test.h"
#include "irqs.h"
#include "kselftest_harness.h"

#define NOIOMMU_PARAM "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
#define TAINT_USER_BIT	6	/* 'U' in /proc/sys/kernel/tainted */

static int noiommu_mode(bool on)
{
	return sysfs_write(NOIOMMU_PARAM, on ? "1" : "0");
}

static bool noiommu_mode_on(void)
{
	char c = 0;
	int fd = open(NOIOMMU_PARAM, O_RDONLY);

	if (fd < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y';
}

/* Does the kernel log hold @needle? */
static bool dmesg_has(const char *needle)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	bool found;
	char *buf;

	if (len <= 0)
		return false;
	buf = calloc(1, len + 1);
	if (!buf)
		return false;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	found = len > 0 && strstr(buf, needle);
	free(buf);
	return found;
}

/* Clear CAP_SYS_RAWIO from this process's effective set. */
static int drop_rawio(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[CAP_TO_INDEX(CAP_SYS_RAWIO)].effective &=
		~CAP_TO_MASK(CAP_SYS_RAWIO);
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* The errno of open(@path) in a child without CAP_SYS_RAWIO, or 0. */
static int open_errno_without_rawio(const char *path)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int fd;

		if (drop_rawio())
			_exit(255);
		fd = open(path, O_RDWR);
		_exit(fd < 0 ? errno : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Without the mode, a device with no IOMMU group stays with no driver. */
TEST(mode_off_refuses_devices)
{
	char bdf[32], drv[64];
	struct stat st;

	ASSERT_EQ(0, stat(NOIOMMU_PARAM, &st)) TH_LOG("no parameter: %m");
	EXPECT_EQ(0644, st.st_mode & 0777);
	ASSERT_FALSE(noiommu_mode_on());
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, bdf));
	EXPECT_EQ(-ENOENT, pci_iommu_group(bdf));
	EXPECT_EQ(-ENODEV, pci_bind(bdf, "vfio-pci"));
	pci_driver(bdf, drv);
	EXPECT_STREQ("", drv);
	EXPECT_EQ(0, pci_bind(bdf, ""));
}

FIXTURE(noiommu) {
	struct edu edu;
	char group_path[64];
};

FIXTURE_SETUP(noiommu)
{
	struct vfio_user *u = &self->edu.u;

	vfio_user_init(u);
	ASSERT_EQ(0, noiommu_mode(true));
	ASSERT_TRUE(noiommu_mode_on());
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, u->bdf));
	ASSERT_EQ(0, pci_bind(u->bdf, "vfio-pci")) TH_LOG("bind: %m");
	u->group_id = pci_iommu_group(u->bdf);
	ASSERT_LE(0, u->group_id);
	snprintf(self->group_path, sizeof(self->group_path),
		 "/dev/vfio/noiommu-%d", u->group_id);
}

FIXTURE_TEARDOWN(noiommu)
{
	vfio_user_close(&self->edu.u);
	pci_bind(self->edu.u.bdf, "");
	noiommu_mode(false);
}

/* Container, group and device, as a no-IOMMU user opens them. */
static int noiommu_open(struct edu *edu, const char *group_path)
{
	struct vfio_user *u = &edu->u;

	u->container = open(VFIO_CONTAINER_PATH, O_RDWR);
	if (u->container < 0)
		return -errno;
	u->group = open(group_path, O_RDWR);
	if (u->group < 0)
		return -errno;
	if (ioctl(u->group, VFIO_GROUP_SET_CONTAINER, &u->container))
		return -errno;
	if (ioctl(u->container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU))
		return -errno;
	u->device = ioctl(u->group, VFIO_GROUP_GET_DEVICE_FD, u->bdf);
	if (u->device < 0)
		return -errno;
	edu->bar0 = vfio_region_offset(u->device, VFIO_PCI_BAR0_REGION_INDEX);
	edu->config = vfio_region_offset(u->device,
					 VFIO_PCI_CONFIG_REGION_INDEX);
	return 0;
}

TEST_F(noiommu, group_node_and_taint)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[96];
	unsigned long tainted;
	int group;

	/* Only the noiommu- name: /dev/vfio/N is not this group. */
	snprintf(path, sizeof(path), "/dev/vfio/%d", self->edu.u.group_id);
	EXPECT_NE(0, access(path, F_OK));
	group = open(self->group_path, O_RDWR);
	ASSERT_LE(0, group) TH_LOG("%s: %m", self->group_path);
	ASSERT_EQ(0, ioctl(group, VFIO_GROUP_GET_STATUS, &status));
	EXPECT_EQ(VFIO_GROUP_FLAGS_VIABLE, status.flags);
	close(group);

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/name",
		 self->edu.u.group_id);
	group = open(path, O_RDONLY);
	ASSERT_LE(0, group);
	memset(path, 0, sizeof(path));
	ASSERT_LT(0, read(group, path, sizeof(path) - 1));
	close(group);
	EXPECT_STREQ("vfio-noiommu\n", path);

	tainted = sysfs_read_ulong("/proc/sys/kernel/tainted");
	EXPECT_TRUE(tainted & (1UL << TAINT_USER_BIT));
	EXPECT_TRUE(dmesg_has("Adding kernel taint for vfio-noiommu group on device"));
}

TEST_F(noiommu, rawio_required)
{
	EXPECT_EQ(EPERM, open_errno_without_rawio(self->group_path));
}

TEST_F(noiommu, backend_choice)
{
	struct vfio_user *u = &self->edu.u;
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };

	u->container = open(VFIO_CONTAINER_PATH, O_RDWR);
	ASSERT_LE(0, u->container);
	/* An empty container: any backend may answer. */
	EXPECT_EQ(1, ioctl(u->container, VFIO_CHECK_EXTENSION,
			   VFIO_NOIOMMU_IOMMU));
	EXPECT_EQ(1, ioctl(u->container, VFIO_CHECK_EXTENSION,
			   VFIO_TYPE1v2_IOMMU));
	u->group = open(self->group_path, O_RDWR);
	ASSERT_LE(0, u->group);
	ASSERT_EQ(0, ioctl(u->group, VFIO_GROUP_SET_CONTAINER, &u->container));
	/* With a no-IOMMU group in it, only the no-IOMMU backend. */
	EXPECT_EQ(1, ioctl(u->container, VFIO_CHECK_EXTENSION,
			   VFIO_NOIOMMU_IOMMU));
	EXPECT_EQ(0, ioctl(u->container, VFIO_CHECK_EXTENSION,
			   VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(ENODEV, ioctl_errno(u->container, VFIO_SET_IOMMU,
				      (void *)VFIO_TYPE1v2_IOMMU));
	/* No backend yet: the device cannot be opened. */
	EXPECT_EQ(EINVAL, ioctl_errno(u->group, VFIO_GROUP_GET_DEVICE_FD,
				      u->bdf));
	ASSERT_EQ(0, ioctl(u->container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU));
	EXPECT_EQ(EINVAL, ioctl_errno(u->container, VFIO_SET_IOMMU,
				      (void *)VFIO_NOIOMMU_IOMMU));
	/* Nothing translates, so there is nothing to map or describe. */
	EXPECT_EQ(ENOTTY, ioctl_errno(u->container, VFIO_IOMMU_GET_INFO,
				      &info));
	EXPECT_EQ(0, ioctl(u->container, VFIO_CHECK_EXTENSION,
			   VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(1, ioctl(u->container, VFIO_CHECK_EXTENSION,
			   VFIO_NOIOMMU_IOMMU));
}

TEST_F(noiommu, mapping_refused)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.size = 4096, .iova = 0x100000,
	};
	void *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, noiommu_open(&self->edu, self->group_path));
	map.vaddr = (uintptr_t)buf;
	EXPECT_EQ(ENOTTY, ioctl_errno(self->edu.u.container, VFIO_IOMMU_MAP_DMA,
				      &map));
	munmap(buf, 4096);
}

TEST_F(noiommu, device_works)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint16_t vendor = 0;
	volatile uint32_t *bar;
	struct vfio_region_info bar0 = { .argsz = sizeof(bar0),
					 .index = VFIO_PCI_BAR0_REGION_INDEX };

	ASSERT_EQ(0, noiommu_open(&self->edu, self->group_path));
	EXPECT_TRUE(dmesg_has("vfio-noiommu device opened by user"));
	ASSERT_EQ(0, ioctl(self->edu.u.device, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT_EQ(2, pread(self->edu.u.device, &vendor, 2, self->edu.config));
	EXPECT_EQ(EDU_VENDOR, vendor);
	EXPECT_EQ(0x010000ed, edu_read32(&self->edu, EDU_ID));
	ASSERT_EQ(0, edu_write32(&self->edu, EDU_LIVENESS, 0x12345678));
	EXPECT_EQ(~0x12345678u, edu_read32(&self->edu, EDU_LIVENESS));

	ASSERT_EQ(0, ioctl(self->edu.u.device, VFIO_DEVICE_GET_REGION_INFO,
			   &bar0));
	ASSERT_TRUE(bar0.flags & VFIO_REGION_INFO_FLAG_MMAP);
	bar = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->edu.u.device, bar0.offset);
	ASSERT_NE(MAP_FAILED, bar);
	EXPECT_EQ(0x010000ed, bar[EDU_ID / 4]);
	munmap((void *)bar, 4096);
}

TEST_F(noiommu, interrupts)
{
	int efd = eventfd(0, EFD_NONBLOCK);
	int index;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, noiommu_open(&self->edu, self->group_path));
	ASSERT_EQ(0, edu_command_set(&self->edu, 0x6 /* memory, bus master */));
	for (index = VFIO_PCI_INTX_IRQ_INDEX; index <= VFIO_PCI_MSI_IRQ_INDEX;
	     index++) {
		ASSERT_EQ(0, vfio_set_irqs(self->edu.u.device, index,
					   VFIO_IRQ_SET_DATA_EVENTFD |
					   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
					   &efd));
		edu_write32(&self->edu, EDU_STATUS, 0x80 /* irq on fact */);
		ASSERT_EQ(0, edu_write32(&self->edu, EDU_FACTORIAL, 5));
		EXPECT_LE(1, wait_eventfd(efd, 2000)) TH_LOG("index %d", index);
		EXPECT_EQ(120, edu_read32(&self->edu, EDU_FACTORIAL));
		edu_write32(&self->edu, EDU_IRQ_ACK,
			    edu_read32(&self->edu, EDU_IRQ_STATUS));
		EXPECT_EQ(0, vfio_set_irqs(self->edu.u.device, index,
					   VFIO_IRQ_SET_DATA_NONE |
					   VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0,
					   NULL));
	}
	close(efd);
}

/* A group given an iommufd: no compatibility IOAS, no translation. */
TEST_F(noiommu, iommufd_as_container)
{
	struct vfio_user *u = &self->edu.u;
	int iommufd = open(IOMMUFD_PATH, O_RDWR);

	ASSERT_LE(0, iommufd);
	u->group = open(self->group_path, O_RDWR);
	ASSERT_LE(0, u->group);
	ASSERT_EQ(0, ioctl(u->group, VFIO_GROUP_SET_CONTAINER, &iommufd));
	u->device = ioctl(u->group, VFIO_GROUP_GET_DEVICE_FD, u->bdf);
	ASSERT_LE(0, u->device) TH_LOG("GET_DEVICE_FD: %m");
	self->edu.bar0 = vfio_region_offset(u->device,
					    VFIO_PCI_BAR0_REGION_INDEX);
	EXPECT_EQ(0x010000ed, edu_read32(&self->edu, EDU_ID));
	close(iommufd);
}

/* Make a new IOAS the iommufd's compatibility IOAS: 0 or an errno. */
static int compat_ioas_set(int iommufd)
{
	struct iommu_vfio_ioas compat = { .size = sizeof(compat),
					  .op = IOMMU_VFIO_IOAS_SET };
	int ret = ioas_alloc(iommufd, &compat.ioas_id);

	return ret ? ret : ioctl_errno(iommufd, IOMMU_VFIO_IOAS, &compat);
}

/* An iommufd with a compatibility IOAS promises translation: refused. */
TEST_F(noiommu, iommufd_with_ioas_refused)
{
	struct vfio_user *u = &self->edu.u;
	int iommufd = open(IOMMUFD_PATH, O_RDWR);

	ASSERT_LE(0, iommufd);
	ASSERT_EQ(0, compat_ioas_set(iommufd));
	u->group = open(self->group_path, O_RDWR);
	ASSERT_LE(0, u->group);
	EXPECT_EQ(EINVAL, ioctl_errno(u->group, VFIO_GROUP_SET_CONTAINER,
				      &iommufd));
	close(iommufd);
}

/* A compatibility IOAS created after SET_CONTAINER: the open is refused. */
TEST_F(noiommu, iommufd_ioas_after_set_container)
{
	struct vfio_user *u = &self->edu.u;
	int iommufd = open(IOMMUFD_PATH, O_RDWR);

	ASSERT_LE(0, iommufd);
	u->group = open(self->group_path, O_RDWR);
	ASSERT_LE(0, u->group);
	ASSERT_EQ(0, ioctl(u->group, VFIO_GROUP_SET_CONTAINER, &iommufd));
	ASSERT_EQ(0, compat_ioas_set(iommufd));
	EXPECT_EQ(EPERM, ioctl_errno(u->group, VFIO_GROUP_GET_DEVICE_FD,
				     u->bdf));
	close(iommufd);
}

/*
 * A no-IOMMU device has no cdev in 6.12: its vfio-dev/vfioN entry exists
 * but has no device number, and /dev/vfio/devices/vfioN does not exist.
 * (Binding a no-IOMMU cdev with iommufd = -1 was proposed upstream but is
 * not in 6.12.)
 */
TEST_F(noiommu, no_cdev)
{
	char path[PATH_MAX], cdev[64];

	ASSERT_EQ(0, cdev_path(self->edu.u.bdf, cdev));
	EXPECT_NE(0, access(cdev, F_OK));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev/%s/dev",
		 self->edu.u.bdf, cdev + strlen("/dev/vfio/devices/"));
	EXPECT_NE(0, access(path, F_OK));
}

TEST_HARNESS_MAIN
