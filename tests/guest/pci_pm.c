// SPDX-License-Identifier: GPL-2.0-only
// harness: machine=q35-pcie timeout=180 feature=pci cpus=2
/*
 * Runtime power management of vfio-pci on QEMU's e1000e (which has a PM
 * capability, so the PCI core can put it in D3hot): a bound function no
 * user has open is runtime-suspended (D3hot) unless vfio-pci's
 * disable_idle_d3 is set; opening wakes it, the last close lets it go.
 * An open function goes to low power on the user's request
 * (VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY[_WITH_WAKEUP]): its BAR mappings
 * fault with SIGBUS, a region access (config space or a BAR) wakes it for
 * the access only, or for good (signalling the eventfd) when the user
 * asked to hear of wakeups; LOW_POWER_EXIT and the close end it.
 *
 * The state is read from sysfs (power_state, power/runtime_status),
 * which does not wake the function; reading its config space through
 * sysfs would.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>

#include "e1000e.h"
#include "irqs.h"
#include "kselftest_harness.h"
#include "pci_test.h"

#define IDLE_D3_PARAM "/sys/module/vfio_pci/parameters/disable_idle_d3"

/* sysfs attribute @attr of the function, trimmed, in @buf. */
static const char *pci_attr(const char *bdf, const char *attr,
			    char buf[32])
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	buf[0] = 0;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return buf;
	n = read(fd, buf, 31);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

/* Wait up to 10 s for the function's power_state to read @state. */
static bool power_state_becomes(const char *bdf, const char *state)
{
	struct timespec tick = { .tv_nsec = 20 * 1000 * 1000 };
	char buf[32];
	int i;

	for (i = 0; i < 500; i++) {
		if (!strcmp(pci_attr(bdf, "power_state", buf), state))
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

static int feature(int device, uint32_t flags, void *data, size_t size)
{
	struct vfio_device_feature *f;
	int ret;

	f = calloc(1, sizeof(*f) + size);
	if (!f)
		return ENOMEM;
	f->argsz = sizeof(*f) + size;
	f->flags = flags;
	if (size)
		memcpy(f->data, data, size);
	ret = ioctl_errno(device, VFIO_DEVICE_FEATURE, f);
	free(f);
	return ret;
}

static int low_power_entry(int device)
{
	return feature(device, VFIO_DEVICE_FEATURE_SET |
		       VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, NULL, 0);
}

static int low_power_exit(int device)
{
	return feature(device, VFIO_DEVICE_FEATURE_SET |
		       VFIO_DEVICE_FEATURE_LOW_POWER_EXIT, NULL, 0);
}

static int low_power_wakeup(int device, int efd)
{
	struct vfio_device_low_power_entry_with_wakeup entry = {
		.wakeup_eventfd = efd,
	};

	return feature(device, VFIO_DEVICE_FEATURE_SET |
		       VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
		       &entry, sizeof(entry));
}

static uint16_t config_vendor(int device)
{
	uint16_t vendor = 0;
	long long config = vfio_region_offset(device,
					      VFIO_PCI_CONFIG_REGION_INDEX);

	if (config < 0 || pread(device, &vendor, 2, config) != 2)
		return 0;
	return vendor;
}

static sigjmp_buf bus_error;

static void on_sigbus(int sig)
{
	siglongjmp(bus_error, 1);
}

/* Read a mapped register; false when the access raised SIGBUS. */
static bool mmio_readable(volatile uint32_t *reg)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	/* Set between sigsetjmp() and a siglongjmp(): volatile, or lost. */
	volatile bool ok = false;

	sigaction(SIGBUS, &sa, &old);
	if (!sigsetjmp(bus_error, 1)) {
		(void)*reg;
		ok = true;
	}
	sigaction(SIGBUS, &old, NULL);
	return ok;
}

FIXTURE(pm) {
	struct vfio_user u;
	bool type1;
};

FIXTURE_SETUP(pm)
{
	self->type1 = false;
	vfio_user_init(&self->u);
	ASSERT_EQ(0, pci_find(NIC_VENDOR, NIC_DEVICE, 0, self->u.bdf));
}

FIXTURE_TEARDOWN(pm)
{
	pci_user_close(&self->u, &self->type1);
	sysfs_write(IDLE_D3_PARAM, "0");
}

/* Idle and bound: D3hot; open: D0; closed again: D3hot. */
TEST_F(pm, idle_d3)
{
	char buf[32];

	ASSERT_EQ(0, pci_bind(self->u.bdf, "vfio-pci"));
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D3hot"))
		TH_LOG("bound and idle: %s", pci_attr(self->u.bdf, "power_state", buf));
	EXPECT_STREQ("suspended",
		     pci_attr(self->u.bdf, "power/runtime_status", buf));

	ASSERT_EQ(0, pci_user_open(&self->u, &self->type1, NIC_VENDOR,
				   NIC_DEVICE));
	EXPECT_STREQ("D0", pci_attr(self->u.bdf, "power_state", buf));
	EXPECT_STREQ("active",
		     pci_attr(self->u.bdf, "power/runtime_status", buf));
	EXPECT_EQ(NIC_VENDOR, config_vendor(self->u.device));

	close(self->u.device);
	self->u.device = -1;
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D3hot"));
}

/*
 * disable_idle_d3, read when vfio-pci loads (writing it later changes
 * nothing until the next load): the idle function stays in D0.
 */
TEST_F(pm, disable_idle_d3)
{
	struct timespec settle = { .tv_sec = 1 };
	char buf[32];

	ASSERT_EQ(0, sysfs_write(IDLE_D3_PARAM, "1"));
	ASSERT_EQ(0, pci_bind(self->u.bdf, "vfio-pci"));
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D3hot"));
	ASSERT_EQ(0, pci_bind(self->u.bdf, ""));

	ASSERT_EQ(0, reload_vfio_pci("disable_idle_d3=1"));
	ASSERT_EQ(0, pci_bind(self->u.bdf, "vfio-pci"));
	nanosleep(&settle, NULL);
	EXPECT_STREQ("D0", pci_attr(self->u.bdf, "power_state", buf));
	EXPECT_STREQ("active",
		     pci_attr(self->u.bdf, "power/runtime_status", buf));
	ASSERT_EQ(0, pci_bind(self->u.bdf, ""));
	EXPECT_EQ(0, reload_vfio_pci(""));
}

/* The features take SET (and PROBE) only, and no data but the wakeup's. */
TEST_F(pm, feature_probe_and_errors)
{
	int null = open("/dev/null", O_RDWR), fd, device;
	char buf[32];
	uint32_t f;

	ASSERT_EQ(0, pci_user_open(&self->u, &self->type1, NIC_VENDOR,
				   NIC_DEVICE));
	device = self->u.device;
	for (f = VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY;
	     f <= VFIO_DEVICE_FEATURE_LOW_POWER_EXIT; f++) {
		EXPECT_EQ(0, feature(device, VFIO_DEVICE_FEATURE_PROBE |
				     VFIO_DEVICE_FEATURE_SET | f, NULL, 0))
			TH_LOG("feature %u", f);
		EXPECT_EQ(EINVAL, feature(device, VFIO_DEVICE_FEATURE_PROBE |
					  VFIO_DEVICE_FEATURE_GET | f, NULL, 0));
		EXPECT_EQ(EINVAL, feature(device, VFIO_DEVICE_FEATURE_GET | f,
					  NULL, 0));
	}
	/* WITH_WAKEUP: its data, and an eventfd in it. */
	EXPECT_EQ(EINVAL, feature(device, VFIO_DEVICE_FEATURE_SET |
				  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
				  NULL, 0));
	EXPECT_EQ(EINVAL, low_power_wakeup(device, -1));
	EXPECT_EQ(EINVAL, low_power_wakeup(device, null));
	fd = dup(null);
	close(fd);
	EXPECT_EQ(EBADF, low_power_wakeup(device, fd));
	/* Leaving a low-power state the device is not in is fine. */
	EXPECT_EQ(0, low_power_exit(device));
	EXPECT_STREQ("D0", pci_attr(self->u.bdf, "power_state", buf));
	close(null);
}

/*
 * LOW_POWER_ENTRY: D3hot, BAR mappings gone (SIGBUS), a second entry
 * refused; a config read wakes it for the read only; EXIT ends it.
 */
TEST_F(pm, entry_and_exit)
{
	struct vfio_region_info bar0 = { .argsz = sizeof(bar0),
					 .index = VFIO_PCI_BAR0_REGION_INDEX };
	volatile uint32_t *regs;
	int device;

	ASSERT_EQ(0, pci_user_open(&self->u, &self->type1, NIC_VENDOR,
				   NIC_DEVICE));
	device = self->u.device;
	ASSERT_EQ(0, ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &bar0));
	regs = mmap(NULL, bar0.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    device, bar0.offset);
	ASSERT_NE(MAP_FAILED, regs);
	/* Memory decode on, so that the mapping can fault in. */
	ASSERT_EQ(0, vfio_command_set(device, PCI_COMMAND_MEMORY));
	EXPECT_TRUE(mmio_readable(regs + E1000_ICR / 4));

	ASSERT_EQ(0, low_power_entry(device));
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D3hot"));
	EXPECT_EQ(EINVAL, low_power_entry(device));
	EXPECT_FALSE(mmio_readable(regs + E1000_ICR / 4));

	/* Woken for the access, then suspended again. */
	EXPECT_EQ(NIC_VENDOR, config_vendor(device));
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D3hot"));

	EXPECT_EQ(0, low_power_exit(device));
	/* Once out, an access wakes it for good. */
	EXPECT_EQ(NIC_VENDOR, config_vendor(device));
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D0"));
	EXPECT_TRUE(mmio_readable(regs + E1000_ICR / 4));
	munmap((void *)regs, bar0.size);
}

/* WITH_WAKEUP: the first access wakes it, signals, and ends it. */
TEST_F(pm, entry_with_wakeup)
{
	int efd = eventfd(0, EFD_NONBLOCK);
	int device;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pci_user_open(&self->u, &self->type1, NIC_VENDOR,
				   NIC_DEVICE));
	device = self->u.device;
	ASSERT_EQ(0, low_power_wakeup(device, efd));
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D3hot"));
	EXPECT_EQ(0, wait_eventfd(efd, 100));
	EXPECT_EQ(NIC_VENDOR, config_vendor(device));
	EXPECT_EQ(1, wait_eventfd(efd, 2000));
	/* Out of low power: it stays awake, and may enter again. */
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D0"));
	EXPECT_EQ(0, low_power_entry(device));
	EXPECT_EQ(0, low_power_exit(device));
	close(efd);
}

/*
 * Any device ioctl wakes the function for its duration (the VFIO core
 * takes a runtime PM reference around it): with a wakeup eventfd, that
 * signals it and ends the low-power state.
 */
TEST_F(pm, ioctl_wakes)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int efd = eventfd(0, EFD_NONBLOCK);
	int device;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pci_user_open(&self->u, &self->type1, NIC_VENDOR,
				   NIC_DEVICE));
	device = self->u.device;
	ASSERT_EQ(0, low_power_entry(device));
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D3hot"));
	ASSERT_EQ(0, ioctl(device, VFIO_DEVICE_GET_INFO, &info));
	/* Without a wakeup eventfd: back to sleep after the ioctl. */
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D3hot"));
	ASSERT_EQ(0, low_power_exit(device));

	ASSERT_EQ(0, low_power_wakeup(device, efd));
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D3hot"));
	ASSERT_EQ(0, ioctl(device, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(1, wait_eventfd(efd, 2000));
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D0"));
	close(efd);
}

/*
 * A BAR read() or write() in low power wakes the function for the access
 * (it reads and writes, where an access to a function left in D3hot
 * would fail with EIO); with a wakeup eventfd it signals it and ends the
 * low-power state.
 */
TEST_F(pm, bar_access_wakes)
{
	int efd = eventfd(0, EFD_NONBLOCK);
	long long bar0;
	uint32_t itr;
	int device;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pci_user_open(&self->u, &self->type1, NIC_VENDOR,
				   NIC_DEVICE));
	device = self->u.device;
	bar0 = vfio_region_offset(device, VFIO_PCI_BAR0_REGION_INDEX);
	ASSERT_LE(0, bar0);
	ASSERT_EQ(0, vfio_command_set(device, PCI_COMMAND_MEMORY));
	ASSERT_EQ(4, pread(device, &itr, 4, bar0 + E1000_ITR));

	ASSERT_EQ(0, low_power_entry(device));
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D3hot"));
	EXPECT_EQ(4, pread(device, &itr, 4, bar0 + E1000_ITR));
	EXPECT_EQ(4, pwrite(device, &itr, 4, bar0 + E1000_ITR));
	/* Woken for the access only. */
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D3hot"));
	ASSERT_EQ(0, low_power_exit(device));

	ASSERT_EQ(0, low_power_wakeup(device, efd));
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D3hot"));
	EXPECT_EQ(0, wait_eventfd(efd, 100));
	EXPECT_EQ(4, pread(device, &itr, 4, bar0 + E1000_ITR));
	EXPECT_EQ(1, wait_eventfd(efd, 2000));
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D0"));
	close(efd);
}

struct bar_reader {
	int device;
	long long reg;
	atomic_bool stop;
	atomic_int reads, failures, last_errno;
};

static void *bar_reader(void *arg)
{
	struct bar_reader *r = arg;
	uint32_t v;

	while (!atomic_load(&r->stop)) {
		if (pread(r->device, &v, 4, r->reg) != 4) {
			atomic_fetch_add(&r->failures, 1);
			atomic_store(&r->last_errno, errno);
		}
		atomic_fetch_add(&r->reads, 1);
	}
	return NULL;
}

/*
 * BAR reads racing the user's entries into and exits from low power:
 * each finds the function awake, or wakes it, and none fails.
 */
TEST_F(pm, bar_access_vs_entry)
{
	struct timespec pause = { .tv_nsec = 2 * 1000 * 1000 };
	struct bar_reader r = { 0 };
	pthread_t t;
	int i;

	ASSERT_EQ(0, pci_user_open(&self->u, &self->type1, NIC_VENDOR,
				   NIC_DEVICE));
	r.device = self->u.device;
	r.reg = vfio_region_offset(r.device, VFIO_PCI_BAR0_REGION_INDEX);
	ASSERT_LE(0, r.reg);
	r.reg += E1000_ITR;
	ASSERT_EQ(0, vfio_command_set(r.device, PCI_COMMAND_MEMORY));
	ASSERT_EQ(0, pthread_create(&t, NULL, bar_reader, &r));
	for (i = 0; i < 20; i++) {
		EXPECT_EQ(0, low_power_entry(r.device));
		nanosleep(&pause, NULL);
		EXPECT_EQ(0, low_power_exit(r.device));
		nanosleep(&pause, NULL);
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	EXPECT_LT(0, atomic_load(&r.reads));
	EXPECT_EQ(0, atomic_load(&r.failures))
		TH_LOG("%d of %d reads failed, the last with %s",
		       atomic_load(&r.failures), atomic_load(&r.reads),
		       strerror(atomic_load(&r.last_errno)));
}

/* Closing in low power ends it; the next open finds the function awake. */
TEST_F(pm, close_in_low_power)
{
	char buf[32];
	int group_id;

	ASSERT_EQ(0, pci_user_open(&self->u, &self->type1, NIC_VENDOR,
				   NIC_DEVICE));
	ASSERT_EQ(0, low_power_entry(self->u.device));
	EXPECT_TRUE(power_state_becomes(self->u.bdf, "D3hot"));
	group_id = self->u.group_id;
	close(self->u.device);
	self->u.device = ioctl(self->u.group, VFIO_GROUP_GET_DEVICE_FD,
			       self->u.bdf);
	ASSERT_LE(0, self->u.device) TH_LOG("group %d: %m", group_id);
	EXPECT_STREQ("D0", pci_attr(self->u.bdf, "power_state", buf));
	EXPECT_EQ(NIC_VENDOR, config_vendor(self->u.device));
	EXPECT_EQ(0, low_power_exit(self->u.device));
}

TEST_HARNESS_MAIN
