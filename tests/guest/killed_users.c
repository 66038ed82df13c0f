// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VFIO user killed (SIGKILL) while it holds something: DMA mappings of
 * 4K pages, transparent and hugetlbfs huge pages, a MAP_DMA half done, a
 * BAR mapping being faulted while decode and reset take it away, INTx,
 * MSI and MSI-X eventfds with interrupts arriving, an INTx unmask
 * eventfd, an ioeventfd being signalled, an edu DMA still running, hot
 * resets in a loop. After it is reaped: the module references and the
 * pinned pages (and free huge pages) are back where they were, no host
 * IRQ or vector is left, and the next user gets a device that works.
 *
 * The test process itself holds nothing while the child lives (except
 * where it shares the container on purpose), so its own VmLck stays 0.
 */
// harness: machine=q35-pcie timeout=300 feature=reset cpus=2
#include <pthread.h>
#include <setjmp.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>

#include <linux/pci_regs.h>

#include "edu.h"
#include "irqs.h"
#include "lifetime.h"
#include "kselftest_harness.h"
#include "e1000e.h"

#define PAGE		4096UL
#define HPAGE		(2UL << 20)
#define MIB		(1UL << 20)
#define EDU_ID_VALUE	0x010000edU
#define DMA_IOVA	(1ULL << 30)
#define NEXT_IOVA	0x100000ULL

#define E1000_EITR(n)	(0x00e8 + 4 * (n))

#define MEM_MASTER	(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)

static void msleep(int ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

/* --- what a child sets up ------------------------------------------- */

enum backing { B_4K, B_THP, B_HUGETLB };

/* @size bytes of anonymous memory of that kind, touched, or NULL. */
static void *alloc_backing(enum backing b, size_t size, bool touch)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	char *raw, *p;

	if (b == B_HUGETLB) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 flags | MAP_HUGETLB, -1, 0);
	} else {
		raw = mmap(NULL, size + HPAGE, PROT_READ | PROT_WRITE, flags,
			   -1, 0);
		if (raw == MAP_FAILED)
			return NULL;
		p = (char *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
		madvise(p, size, b == B_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	}
	if (p == MAP_FAILED)
		return NULL;
	if (touch)
		memset(p, 0x5a, size);
	return p;
}

struct dma_arg {
	enum backing backing;
	size_t size;
	struct edu *shared;	/* map into this user's container */
};

/* Map @size bytes at DMA_IOVA and have edu read through the mapping. */
static int child_hold_dma(void *arg, int wr)
{
	struct dma_arg *a = arg;
	struct edu own, *edu = a->shared ? a->shared : &own;
	void *p;
	int ret;

	if (!a->shared) {
		ret = edu_open(edu);
		if (ret)
			return report(wr, ret), 1;
	}
	p = alloc_backing(a->backing, a->size, true);
	if (!p)
		return report(wr, -ENOMEM), 1;
	ret = vfio_map(edu->u.container, p, DMA_IOVA, a->size);
	if (!ret)
		ret = edu_command_set(edu, MEM_MASTER);
	if (!ret)
		ret = edu_dma(edu, DMA_IOVA + a->size - PAGE, EDU_BUFFER, 256, 0);
	report(wr, ret ? ret : locked_vm_kib());
	for (;;)
		pause();
}

/* Say so, then map a large range that was never touched: slow. */
static int child_mid_map(void *arg, int wr)
{
	struct dma_arg *a = arg;
	struct edu edu;
	void *p;
	int ret;

	ret = edu_open(&edu);
	if (ret)
		return report(wr, ret), 1;
	p = alloc_backing(a->backing, a->size, false);
	if (!p)
		return report(wr, -ENOMEM), 1;
	report(wr, 1);
	ret = vfio_map(edu.u.container, p, DMA_IOVA, a->size);
	report(wr, ret ? ret : 2);
	for (;;)
		pause();
}

static __thread sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, 1);
}

/* Memory decode off and on, and now and then a device reset. */
static void *toggle_decode(void *arg)
{
	struct edu *edu = arg;
	uint16_t on = MEM_MASTER, off = 0;
	unsigned int i;

	for (i = 0;; i++) {
		if (pwrite(edu->u.device, &off, 2, edu->config + PCI_COMMAND) < 0 ||
		    pwrite(edu->u.device, &on, 2, edu->config + PCI_COMMAND) < 0)
			break;
		if (i % 8 == 7) {
			ioctl(edu->u.device, VFIO_DEVICE_RESET, NULL);
			pwrite(edu->u.device, &on, 2,
			       edu->config + PCI_COMMAND);
		}
	}
	return NULL;
}

/* Read BAR0 through a mapping that a second thread keeps revoking. */
static int child_bar_faults(void *arg, int wr)
{
	struct sigaction sa = { .sa_handler = on_sigbus };
	volatile uint32_t *regs;
	volatile unsigned long reads = 0, faults = 0;
	struct edu edu;
	pthread_t t;
	int ret;

	ret = edu_open(&edu);
	if (!ret)
		ret = edu_command_set(&edu, MEM_MASTER);
	if (ret)
		return report(wr, ret), 1;
	regs = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_SHARED,
		    edu.u.device, edu.bar0);
	if (regs == MAP_FAILED)
		return report(wr, -errno), 1;
	sigaction(SIGBUS, &sa, NULL);
	if (pthread_create(&t, NULL, toggle_decode, &edu))
		return report(wr, -EAGAIN), 1;
	for (;;) {
		if (sigsetjmp(bus_jmp, 1))
			faults++;
		else if (regs[EDU_ID / 4] == EDU_ID_VALUE)
			reads++;
		if (reads + faults == 200)
			report(wr, reads);
	}
}

static int efd_signal(int efd)
{
	uint64_t one = 1;

	return write(efd, &one, 8) == 8 ? 0 : -errno;
}

static void *signal_forever(void *arg)
{
	int efd = *(int *)arg;

	for (;;) {
		efd_signal(efd);
		msleep(1);
	}
	return NULL;
}

static void *raise_forever(void *arg)
{
	struct edu *edu = arg;

	for (;;) {
		edu_write32(edu, EDU_IRQ_RAISE, 1);
		msleep(1);
	}
	return NULL;
}

/*
 * INTx with a trigger and an unmask eventfd: an interrupt is left
 * pending and not acknowledged, and a thread keeps unmasking, so the
 * line fires again and again until the kill.
 */
static int child_intx(void *arg, int wr)
{
	int32_t trig = eventfd(0, EFD_NONBLOCK), unmask = eventfd(0, 0);
	struct edu edu;
	pthread_t t;
	int ret;

	ret = edu_open(&edu);
	if (!ret)
		ret = -vfio_irq_trigger(edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
					0, 1, &trig);
	if (!ret)
		ret = -vfio_set_irqs(edu.u.device, VFIO_PCI_INTX_IRQ_INDEX,
				     VFIO_IRQ_SET_DATA_EVENTFD |
				     VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, &unmask);
	if (ret)
		return report(wr, ret), 1;
	edu_write32(&edu, EDU_STATUS, EDU_STATUS_IRQFACT);
	edu_write32(&edu, EDU_FACTORIAL, 5);
	if (!wait_eventfd(trig, 5000))
		return report(wr, -ETIMEDOUT), 1;
	if (pthread_create(&t, NULL, signal_forever, &unmask))
		return report(wr, -EAGAIN), 1;
	msleep(20);
	report(wr, wait_eventfd(trig, 2000));
	for (;;)
		pause();
}

/* MSI on edu, with a thread raising interrupts that are never acked. */
static int child_msi(void *arg, int wr)
{
	int32_t trig = eventfd(0, EFD_NONBLOCK);
	struct edu edu;
	pthread_t t;
	int ret;

	ret = edu_open(&edu);
	if (!ret)
		ret = edu_command_set(&edu, MEM_MASTER);
	if (!ret)
		ret = -vfio_irq_trigger(edu.u.device, VFIO_PCI_MSI_IRQ_INDEX, 0,
					1, &trig);
	if (ret)
		return report(wr, ret), 1;
	if (pthread_create(&t, NULL, raise_forever, &edu))
		return report(wr, -EAGAIN), 1;
	report(wr, wait_eventfd(trig, 5000));
	for (;;)
		pause();
}

static int nic_w32(int device, uint32_t off, uint32_t v)
{
	return pwrite(device, &v, 4, off) == 4 ? 0 : -errno;
}

/*
 * The e1000e's MSI-X, without interrupt throttling (QEMU 7.2 aborts if
 * MSI-X goes off while a throttling timer is pending): one interrupt on
 * vector 1; then, after the device is quiet, say how many were heard.
 */
static int nic_msix_delivery(struct vfio_user *u, int32_t efd[3])
{
	long long bar0 = vfio_region_offset(u->device,
					    VFIO_PCI_BAR0_REGION_INDEX);
	long long config = vfio_region_offset(u->device,
					      VFIO_PCI_CONFIG_REGION_INDEX);
	uint16_t cmd = MEM_MASTER;
	uint64_t heard;
	int i;

	if (bar0 < 0 || config < 0 ||
	    pwrite(u->device, &cmd, 2, config + PCI_COMMAND) != 2)
		return -EIO;
	nic_w32(u->device, bar0 + E1000_IMC, 0xffffffff);
	nic_w32(u->device, bar0 + E1000_ITR, 0);
	for (i = 0; i < 5; i++)
		nic_w32(u->device, bar0 + E1000_EITR(i), 0);
	if (vfio_irq_trigger(u->device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 3,
			     efd)) return -EINVAL;
	nic_w32(u->device, bar0 + E1000_ICR, 0xffffffff);
	nic_w32(u->device, bar0 + E1000_IVAR, E1000_IVAR_VALID | 1);
	nic_w32(u->device, bar0 + E1000_IMS, E1000_ICR_RXQ0);
	nic_w32(u->device, bar0 + E1000_ICS, E1000_ICR_RXQ0);
	heard = wait_eventfd(efd[1], 3000);
	nic_w32(u->device, bar0 + E1000_IMC, 0xffffffff);
	msleep(250);
	return (int)heard;
}

static int child_msix(void *arg, int wr)
{
	int32_t efd[3];
	struct vfio_user u;
	int i, ret;

	for (i = 0; i < 3; i++)
		efd[i] = eventfd(0, EFD_NONBLOCK);
	ret = vfio_user_open(&u, NIC_VENDOR, NIC_DEVICE, 0,
			     VFIO_TYPE1v2_IOMMU);
	report(wr, ret ? ret : nic_msix_delivery(&u, efd));
	for (;;)
		pause();
	return 0;
}

/* An ioeventfd on edu's liveness register, signalled in a loop. */
static int child_ioeventfd(void *arg, int wr)
{
	int efd = eventfd(0, 0);
	struct vfio_device_ioeventfd req = {
		.argsz = sizeof(req), .flags = VFIO_DEVICE_IOEVENTFD_32,
		.data = 0x1234, .fd = efd,
	};
	struct edu edu;
	pthread_t t;
	int ret;

	ret = edu_open(&edu);
	if (!ret)
		ret = edu_command_set(&edu, MEM_MASTER);
	req.offset = edu.bar0 + EDU_LIVENESS;
	if (!ret && ioctl(edu.u.device, VFIO_DEVICE_IOEVENTFD, &req))
		ret = -errno;
	if (ret)
		return report(wr, ret), 1;
	if (pthread_create(&t, NULL, signal_forever, &efd))
		return report(wr, -EAGAIN), 1;
	msleep(50);
	report(wr, edu_read32(&edu, EDU_LIVENESS));
	for (;;)
		pause();
}

/* Start a DMA from edu into mapped memory and do not wait for it. */
static int child_pending_dma(void *arg, int wr)
{
	struct edu edu;
	void *p;
	int ret;

	ret = edu_open(&edu);
	if (ret)
		return report(wr, ret), 1;
	p = alloc_backing(B_4K, 2 * PAGE, true);
	ret = p ? vfio_map(edu.u.container, p, DMA_IOVA, 2 * PAGE) : -ENOMEM;
	if (!ret)
		ret = edu_command_set(&edu, MEM_MASTER);
	if (!ret &&
	    (edu_write64(&edu, EDU_DMA_SRC, EDU_BUFFER) ||
	     edu_write64(&edu, EDU_DMA_DST, DMA_IOVA) ||
	     edu_write64(&edu, EDU_DMA_COUNT, EDU_DMA_MAX) ||
	     edu_write32(&edu, EDU_DMA_CMD, EDU_DMA_START | EDU_DMA_TO_RAM)))
		ret = -EIO;
	report(wr, ret ? ret : (long)edu_read32(&edu, EDU_DMA_CMD));
	for (;;)
		pause();
}

/* Hot reset of edu's bus in a loop, its group proving ownership. */
static int child_hot_reset(void *arg, int wr)
{
	struct {
		struct vfio_pci_hot_reset hdr;
		int32_t fd;
	} r = { .hdr.argsz = sizeof(r), .hdr.count = 1 };
	struct edu edu;
	long done = 0;
	int ret;

	ret = edu_open(&edu);
	if (ret)
		return report(wr, ret), 1;
	r.fd = edu.u.group;
	for (;;) {
		ret = ioctl_errno(edu.u.device, VFIO_DEVICE_PCI_HOT_RESET, &r);
		if (ret)
			return report(wr, -ret), 1;
		if (++done == 2)
			report(wr, done);
	}
}

/* --- the next user --------------------------------------------------- */

/* A fresh user of edu: identity, a mapping charged, a DMA round trip. */
static void edu_next_user(struct __test_metadata *_metadata)
{
	uint8_t *buf;
	struct edu edu;
	int i, ret;

	ret = edu_open(&edu);
	ASSERT_EQ(0, ret) TH_LOG("next user: %s", strerror(-ret));
	EXPECT_EQ(EDU_ID_VALUE, edu_read32(&edu, EDU_ID));
	EXPECT_EQ(0, edu_command_set(&edu, MEM_MASTER));
	buf = alloc_backing(B_4K, 2 * PAGE, true);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < (int)PAGE; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	ASSERT_EQ(0, vfio_map(edu.u.container, buf, NEXT_IOVA, 2 * PAGE));
	EXPECT_EQ(8, locked_vm_kib());
	EXPECT_EQ(0, edu_dma(&edu, NEXT_IOVA, EDU_BUFFER, EDU_DMA_MAX, 0));
	EXPECT_EQ(0, edu_dma(&edu, EDU_BUFFER, NEXT_IOVA + PAGE, EDU_DMA_MAX,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, memcmp(buf, buf + PAGE, EDU_DMA_MAX));
	EXPECT_EQ(0, vfio_unmap(edu.u.container, NEXT_IOVA, 2 * PAGE));
	EXPECT_EQ(0, locked_vm_kib());
	vfio_user_close(&edu.u);
}

/* A fresh user hears edu's interrupt on @index (INTx or MSI). */
static void edu_next_irq(struct __test_metadata *_metadata, uint32_t index)
{
	int32_t efd = eventfd(0, EFD_NONBLOCK);
	struct edu edu;
	int ret;

	ret = edu_open(&edu);
	ASSERT_EQ(0, ret) TH_LOG("next user: %s", strerror(-ret));
	ASSERT_EQ(0, edu_command_set(&edu, MEM_MASTER));
	/* What the killed user left unacknowledged. */
	edu_write32(&edu, EDU_IRQ_ACK, edu_read32(&edu, EDU_IRQ_STATUS));
	ASSERT_EQ(0, vfio_irq_trigger(edu.u.device, index, 0, 1, &efd));
	edu_write32(&edu, EDU_STATUS, EDU_STATUS_IRQFACT);
	edu_write32(&edu, EDU_FACTORIAL, 6);
	EXPECT_LE(1u, wait_eventfd(efd, 3000));
	EXPECT_EQ(720u, edu_read32(&edu, EDU_FACTORIAL));
	edu_write32(&edu, EDU_IRQ_ACK, edu_read32(&edu, EDU_IRQ_STATUS));
	EXPECT_EQ(0, vfio_irqs_off(edu.u.device, index));
	vfio_user_close(&edu.u);
	close(efd);
}

/* --- the cases ------------------------------------------------------- */

FIXTURE(kill) {
	char edu[32];
	long refs;
	long pins;
	int rd;
	pid_t pid;
};

FIXTURE_SETUP(kill)
{
	self->pid = -1;
	self->rd = -1;
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->edu));
	ASSERT_EQ(0, pci_bind(self->edu, "vfio-pci"));
	ASSERT_EQ(0, locked_vm_kib());
	self->refs = vfio_module_refs();
	self->pins = pins_in_flight();
	ASSERT_LT(0, self->refs);
}

FIXTURE_TEARDOWN(kill)
{
	if (self->pid > 0)
		kill_and_reap(self->pid);
	if (self->rd >= 0)
		close(self->rd);
}

/* Start @fn in a child; returns its report. */
static long start(FIXTURE_DATA(kill) *self, int (*fn)(void *, int),
		  void *arg)
{
	self->pid = spawn_user(fn, arg, &self->rd);
	return self->pid < 0 ? LONG_MIN : wait_report(self->rd, 30000);
}

/* Kill the child; everything it held must be given back. */
static void killed(struct __test_metadata *_metadata,
		   FIXTURE_DATA(kill) *self)
{
	ASSERT_TRUE(kill_and_reap(self->pid));
	self->pid = -1;
	EXPECT_EQ(self->refs, vfio_module_refs());
	EXPECT_EQ(self->pins, pins_in_flight());
	EXPECT_EQ(0, locked_vm_kib());
	EXPECT_EQ(0, vfio_handlers(self->edu));
	EXPECT_EQ(0, msi_irqs(self->edu));
}

/* Killed mid-MAP_DMA of 256 MiB never touched: the pins taken unwound. */
TEST_F_TIMEOUT(kill, mid_map, 120)
{
	struct dma_arg a = { .backing = B_THP, .size = 256 * MIB };

	ASSERT_EQ(1, start(self, child_mid_map, &a));
	msleep(150);
	killed(_metadata, self);
	/* Whether the MAP finished before the kill, for the record. */
	TH_LOG("map %s before the kill",
	       wait_report(self->rd, 0) == 2 ? "had finished" : "was cut");
	edu_next_user(_metadata);
}

/* A BAR mapping faulted in a loop while decode and resets revoke it. */
TEST_F_TIMEOUT(kill, bar_mmap_faulting, 120)
{
	volatile uint32_t *regs;
	struct edu edu;

	ASSERT_LT(0, start(self, child_bar_faults, NULL));
	msleep(300);
	killed(_metadata, self);
	ASSERT_EQ(0, edu_open(&edu));
	ASSERT_EQ(0, edu_command_set(&edu, MEM_MASTER));
	regs = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, edu.u.device, edu.bar0);
	ASSERT_NE(MAP_FAILED, regs);
	EXPECT_EQ(EDU_ID_VALUE, regs[EDU_ID / 4]);
	munmap((void *)regs, PAGE);
	vfio_user_close(&edu.u);
	edu_next_user(_metadata);
}

TEST_F_TIMEOUT(kill, intx_and_unmask_eventfds, 120)
{
	ASSERT_LE(1, start(self, child_intx, NULL));
	EXPECT_EQ(1, vfio_handlers(self->edu));
	msleep(200);
	killed(_metadata, self);
	edu_next_irq(_metadata, VFIO_PCI_INTX_IRQ_INDEX);
}

TEST_F_TIMEOUT(kill, msi_eventfd, 120)
{
	ASSERT_LE(1, start(self, child_msi, NULL));
	EXPECT_EQ(1, msi_irqs(self->edu));
	EXPECT_EQ(1, vfio_handlers(self->edu));
	msleep(200);
	killed(_metadata, self);
	edu_next_irq(_metadata, VFIO_PCI_MSI_IRQ_INDEX);
}

TEST_F_TIMEOUT(kill, msix_eventfds, 120)
{
	struct vfio_user u;
	int32_t efd[3];
	char nic[32];
	int i;

	ASSERT_EQ(0, pci_find(NIC_VENDOR, NIC_DEVICE, 0, nic));
	ASSERT_EQ(0, pci_bind(nic, "vfio-pci"));
	self->refs = vfio_module_refs();
	ASSERT_LE(1, start(self, child_msix, NULL));
	EXPECT_EQ(3, msi_irqs(nic));
	EXPECT_EQ(3, vfio_handlers(nic));
	killed(_metadata, self);
	EXPECT_EQ(0, msi_irqs(nic));
	EXPECT_EQ(0, vfio_handlers(nic));

	for (i = 0; i < 3; i++)
		efd[i] = eventfd(0, EFD_NONBLOCK);
	ASSERT_EQ(0, vfio_user_open(&u, NIC_VENDOR, NIC_DEVICE, 0,
				    VFIO_TYPE1v2_IOMMU));
	EXPECT_LE(1, nic_msix_delivery(&u, efd));
	EXPECT_EQ(0, vfio_irqs_off(u.device, VFIO_PCI_MSIX_IRQ_INDEX));
	vfio_user_close(&u);
	for (i = 0; i < 3; i++)
		close(efd[i]);
	EXPECT_EQ(self->refs, vfio_module_refs());
	EXPECT_EQ(0, pci_bind(nic, ""));
}

TEST_F_TIMEOUT(kill, ioeventfd, 120)
{
	struct vfio_device_ioeventfd req = {
		.argsz = sizeof(req), .flags = VFIO_DEVICE_IOEVENTFD_32,
		.data = 0x1234,
	};
	int efd = eventfd(0, 0);
	struct edu edu;
	int i;

	/* The child's signals reached the register: it reads inverted. */
	ASSERT_EQ(~0x1234L & 0xffffffffL, start(self, child_ioeventfd, NULL));
	msleep(100);
	killed(_metadata, self);

	/* The same offset and data are free again, and work. */
	ASSERT_EQ(0, edu_open(&edu));
	ASSERT_EQ(0, edu_command_set(&edu, MEM_MASTER));
	ASSERT_EQ(0, edu_write32(&edu, EDU_LIVENESS, 0));
	req.offset = edu.bar0 + EDU_LIVENESS;
	req.fd = efd;
	EXPECT_EQ(0, ioctl_errno(edu.u.device, VFIO_DEVICE_IOEVENTFD, &req));
	EXPECT_EQ(0, efd_signal(efd));
	for (i = 0; i < 2000; i++) {
		if (edu_read32(&edu, EDU_LIVENESS) == ~0x1234u)
			break;
		msleep(1);
	}
	EXPECT_EQ(~0x1234u, edu_read32(&edu, EDU_LIVENESS));
	req.fd = -1;
	EXPECT_EQ(0, ioctl_errno(edu.u.device, VFIO_DEVICE_IOEVENTFD, &req));
	vfio_user_close(&edu.u);
	close(efd);
}

/* Killed while edu's DMA engine is still to write into its memory. */
TEST_F_TIMEOUT(kill, pending_dma, 120)
{
	/* QEMU's edu runs a DMA 100 ms after it is started. */
	ASSERT_LE(0, start(self, child_pending_dma, NULL));
	killed(_metadata, self);
	msleep(300);
	edu_next_user(_metadata);
}

TEST_F_TIMEOUT(kill, hot_reset_loop, 120)
{
	ASSERT_EQ(2, start(self, child_hot_reset, NULL));
	msleep(200);
	killed(_metadata, self);
	edu_next_user(_metadata);
}

/* --- mapped DMA of each kind of memory ------------------------------- */

FIXTURE(dma) {
	char edu[32];
	long refs;
	long pins;
	long hfree;
	long nr_hugepages;
	int rd;
	pid_t pid;
};

FIXTURE_VARIANT(dma) {
	enum backing backing;
};

FIXTURE_VARIANT_ADD(dma, pages_4k) { .backing = B_4K };
FIXTURE_VARIANT_ADD(dma, thp) { .backing = B_THP };
FIXTURE_VARIANT_ADD(dma, hugetlbfs) { .backing = B_HUGETLB };

#define DMA_SIZE	(8 * MIB)
#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"

FIXTURE_SETUP(dma)
{
	char want[32];

	self->pid = -1;
	self->rd = -1;
	self->nr_hugepages = -1;
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->edu));
	ASSERT_EQ(0, pci_bind(self->edu, "vfio-pci"));
	if (variant->backing == B_HUGETLB) {
		self->nr_hugepages = sysfs_read_ulong(NR_HUGEPAGES);
		snprintf(want, sizeof(want), "%ld",
			 self->nr_hugepages + (long)(DMA_SIZE / HPAGE));
		ASSERT_EQ(0, sysfs_write(NR_HUGEPAGES, want));
		ASSERT_LE((long)(DMA_SIZE / HPAGE), hugepages_free());
	}
	self->refs = vfio_module_refs();
	self->pins = pins_in_flight();
	self->hfree = hugepages_free();
}

FIXTURE_TEARDOWN(dma)
{
	char old[32];

	if (self->pid > 0)
		kill_and_reap(self->pid);
	if (self->rd >= 0)
		close(self->rd);
	if (self->nr_hugepages >= 0) {
		snprintf(old, sizeof(old), "%ld", self->nr_hugepages);
		sysfs_write(NR_HUGEPAGES, old);
	}
}

/* Killed while its own container holds 8 MiB mapped. */
TEST_F_TIMEOUT(dma, killed_holding_mappings, 120)
{
	struct dma_arg a = { .backing = variant->backing, .size = DMA_SIZE };

	self->pid = spawn_user(child_hold_dma, &a, &self->rd);
	ASSERT_LT(0, self->pid);
	ASSERT_EQ((long)(DMA_SIZE >> 10), wait_report(self->rd, 30000));
	EXPECT_EQ(self->pins + (long)(DMA_SIZE / PAGE), pins_in_flight());
	EXPECT_EQ(0, locked_vm_kib());
	ASSERT_TRUE(kill_and_reap(self->pid));
	self->pid = -1;
	EXPECT_EQ(self->refs, vfio_module_refs());
	EXPECT_EQ(self->pins, pins_in_flight());
	EXPECT_EQ(self->hfree, hugepages_free());
	EXPECT_EQ(0, locked_vm_kib());
	edu_next_user(_metadata);
}

/*
 * The child maps into a container this process holds too, and is
 * killed: the mapping outlives its mm, still reaches the pages, and
 * this process unmaps it (charging nothing to its own locked_vm).
 */
TEST_F_TIMEOUT(dma, killed_mapper_of_a_shared_container, 120)
{
	struct dma_arg a = { .backing = variant->backing, .size = DMA_SIZE };
	uint8_t *seen;
	struct edu edu;
	int ret;

	ret = edu_open(&edu);
	ASSERT_EQ(0, ret) TH_LOG("edu: %s", strerror(-ret));
	a.shared = &edu;
	self->pid = spawn_user(child_hold_dma, &a, &self->rd);
	ASSERT_LT(0, self->pid);
	ASSERT_EQ((long)(DMA_SIZE >> 10), wait_report(self->rd, 30000));
	ASSERT_TRUE(kill_and_reap(self->pid));
	self->pid = -1;

	/*
	 * Still pinned and mapped: edu copies the dead child's 0x5a into a
	 * page of this process (charged to it while mapped).
	 */
	EXPECT_EQ(self->pins + (long)(DMA_SIZE / PAGE), pins_in_flight());
	seen = alloc_backing(B_4K, PAGE, true);
	ASSERT_NE(NULL, seen);
	memset(seen, 0, PAGE);
	ASSERT_EQ(0, vfio_map(edu.u.container, seen, NEXT_IOVA, PAGE));
	EXPECT_EQ(4, locked_vm_kib());
	EXPECT_EQ(0, edu_command_set(&edu, MEM_MASTER));
	EXPECT_EQ(0, edu_dma(&edu, DMA_IOVA + DMA_SIZE / 2, EDU_BUFFER, 64,
			     0));
	EXPECT_EQ(0, edu_dma(&edu, EDU_BUFFER, NEXT_IOVA, 64, EDU_DMA_TO_RAM));
	EXPECT_EQ(0x5a, seen[0]);
	EXPECT_EQ(0x5a, seen[63]);
	EXPECT_EQ(0, seen[64]);
	EXPECT_EQ(0, vfio_unmap(edu.u.container, NEXT_IOVA, PAGE));

	EXPECT_EQ(0, vfio_unmap(edu.u.container, DMA_IOVA, DMA_SIZE));
	EXPECT_EQ(self->pins, pins_in_flight());
	EXPECT_EQ(self->hfree, hugepages_free());
	EXPECT_EQ(0, locked_vm_kib());
	vfio_user_close(&edu.u);
	EXPECT_EQ(self->refs, vfio_module_refs());
	edu_next_user(_metadata);
}

TEST_HARNESS_MAIN
