// SPDX-License-Identifier: GPL-2.0-only
/*
 * pci_bench N [IRQS]: costs of the vfio-pci paths a device driver in user
 * space uses most, on edu's BAR0 and pci-testdev's I/O BAR, N iterations
 * each (IRQS round trips for the interrupt, default N):
 *
 *   irq_roundtrip  raise an interrupt through edu's raise register (a
 *                  pwrite), poll the MSI eventfd, ack: the median of IRQS
 *                  round trips
 *   mmap_read32    32-bit read of the liveness register through an
 *                  mmap() of BAR0
 *   mmap_write32   the same write through the mapping
 *   preadW, pwriteW
 *                  W-bit accesses (W = 8, 16, 32, 64) through pread() and
 *                  pwrite(): the liveness register for 8 to 32 bits (edu
 *                  ignores the narrower ones), DMA source for 64 bits
 *   pio_readW, pio_writeW
 *                  the same on pci-testdev's I/O port BAR, at its data
 *                  field: reads return 0 and writes are dropped while no
 *                  test runs (QEMU's docs/specs/pci-testdev.rst); x86 has
 *                  no 64-bit port access: how a 64-bit pread() is carried
 *                  out there is the kernel's business
 *
 * Prints one line per measurement: "RESULT name value_ns" (a mean per
 * access has two decimals: an mmap access costs a few ns under -icount).
 */
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include <linux/pci_regs.h>

#include "edu.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int msi_enable(struct edu *edu, int efd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_MSI_IRQ_INDEX;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &efd, sizeof(int32_t));
	return ioctl(edu->u.device, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}

/*
 * One interrupt, heard on @efd and acked; time in ns or -1. QEMU's edu
 * sends the MSI while it emulates the write to its raise register, so
 * the round trip is all guest work; a factorial's interrupt comes from a
 * QEMU thread whenever the host runs it, which under -icount made the
 * median jump between two values from one run to the next.
 */
static double irq_roundtrip(struct edu *edu, int efd)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t count;
	double start = now_ns();

	if (edu_write32(edu, EDU_IRQ_RAISE, 1))
		return -1;
	if (poll(&p, 1, 2000) != 1 || read(efd, &count, 8) != 8)
		return -1;
	if (edu_write32(edu, EDU_IRQ_ACK, edu_read32(edu, EDU_IRQ_STATUS)))
		return -1;
	return now_ns() - start;
}

static int bench_irq(struct edu *edu, int n)
{
	double *t = calloc(n, sizeof(*t));
	int efd = eventfd(0, EFD_NONBLOCK), i;

	if (!t || efd < 0 || edu_command_set(edu, PCI_COMMAND_MASTER) ||
	    msi_enable(edu, efd)) {
		perror("msi setup");
		return -1;
	}
	for (i = 0; i < n; i++) {
		t[i] = irq_roundtrip(edu, efd);
		if (t[i] < 0) {
			fprintf(stderr, "interrupt %d lost\n", i);
			return -1;
		}
	}
	qsort(t, n, sizeof(*t), cmp_double);
	printf("RESULT irq_roundtrip %.0f\n", t[n / 2]);
	free(t);
	close(efd);
	return 0;
}

/* Mean ns of @n @width-byte pread()s or pwrite()s of @fd at @off. */
static double time_rw(int fd, long long off, int width, bool iswrite, int n)
{
	uint64_t v = 0;
	double start;
	int i;

	start = now_ns();
	for (i = 0; i < n; i++) {
		ssize_t ret = iswrite ? pwrite(fd, &v, width, off) :
					pread(fd, &v, width, off);

		if (ret != width) {
			fprintf(stderr, "%s of %d bytes at %#llx: %zd (%s)\n",
				iswrite ? "pwrite" : "pread", width, off, ret,
				strerror(errno));
			return -1;
		}
	}
	return (now_ns() - start) / n;
}

/* RESULT lines of @prefix{read,write}{8,16,32,64}; 0 or -1. */
static int bench_widths(const char *rd, const char *wr, int fd,
			long long off, long long off64, int n)
{
	static const int widths[] = { 1, 2, 4, 8 };
	unsigned int i;
	int w;

	for (w = 0; w < 2; w++) {
		for (i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
			int width = widths[i];
			double t = time_rw(fd, width == 8 ? off64 : off,
					   width, w, n);

			if (t < 0)
				return -1;
			printf("RESULT %s%d %.2f\n", w ? wr : rd, width * 8, t);
		}
	}
	return 0;
}

/* The first I/O port BAR of @device: its offset in the fd, or -errno. */
static long long io_bar_offset(int device)
{
	long long config = vfio_region_offset(device,
					      VFIO_PCI_CONFIG_REGION_INDEX);
	unsigned int bar;

	if (config < 0)
		return config;
	for (bar = 0; bar < 6; bar++) {
		struct vfio_region_info ri = { .argsz = sizeof(ri),
					       .index = bar };
		uint32_t val;

		if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &ri))
			return -errno;
		if (!ri.size)
			continue;
		if (pread(device, &val, 4, config + PCI_BASE_ADDRESS_0 +
			  4 * bar) != 4)
			return -errno;
		if (val & PCI_BASE_ADDRESS_SPACE_IO)
			return ri.offset;
	}
	return -ENODEV;
}

/* pio_* cases on pci-testdev's I/O BAR: 0 or -1. */
static int bench_pio(int n)
{
	struct vfio_user u;
	long long bar;
	int ret;

	ret = vfio_user_open(&u, TESTDEV_VENDOR, TESTDEV_DEVICE, 0,
			     VFIO_TYPE1v2_IOMMU);
	if (ret) {
		fprintf(stderr, "opening pci-testdev: %s\n", strerror(-ret));
		vfio_user_close(&u);
		return -1;
	}
	bar = io_bar_offset(u.device);
	if (bar < 0 || vfio_command_set(u.device, PCI_COMMAND_IO)) {
		fprintf(stderr, "pci-testdev I/O BAR: %s\n",
			strerror(bar < 0 ? (int)-bar : errno));
		vfio_user_close(&u);
		return -1;
	}
	/* The data field (offset 8): no side effect while no test runs. */
	ret = bench_widths("pio_read", "pio_write", u.device, bar + 8, bar + 8,
			   n);
	vfio_user_close(&u);
	return ret;
}

static void bench_mmap(volatile uint32_t *regs, int n)
{
	uint32_t v;
	double start;
	int i;

	/* The first access faults the BAR page in: not an access's cost. */
	v = regs[EDU_LIVENESS / 4];
	start = now_ns();
	for (i = 0; i < n; i++)
		v += regs[EDU_LIVENESS / 4];
	printf("RESULT mmap_read32 %.2f\n", (now_ns() - start) / n);

	start = now_ns();
	for (i = 0; i < n; i++)
		regs[EDU_LIVENESS / 4] = i;
	printf("RESULT mmap_write32 %.2f\n", (now_ns() - start) / n);
	if (v == 1)	/* keep the reads */
		printf("# %u\n", v);
}

int main(int argc, char **argv)
{
	struct vfio_region_info bar0 = { .argsz = sizeof(bar0),
					 .index = VFIO_PCI_BAR0_REGION_INDEX };
	volatile uint32_t *regs;
	struct edu edu;
	int n, irqs, ret;

	n = argc == 2 || argc == 3 ? atoi(argv[1]) : 0;
	irqs = argc == 3 ? atoi(argv[2]) : n;
	if (n <= 0 || irqs <= 0) {
		fprintf(stderr, "usage: %s ITERATIONS [IRQS]\n", argv[0]);
		return 2;
	}
	ret = edu_open(&edu);
	if (ret) {
		fprintf(stderr, "opening edu through vfio: %s\n", strerror(-ret));
		return 1;
	}
	if (edu_command_set(&edu, PCI_COMMAND_MEMORY) ||
	    ioctl(edu.u.device, VFIO_DEVICE_GET_REGION_INFO, &bar0)) {
		perror("bar0");
		return 1;
	}
	regs = mmap(NULL, bar0.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    edu.u.device, bar0.offset);
	if (regs == MAP_FAILED) {
		perror("mmap bar0");
		return 1;
	}
	bench_mmap(regs, n);
	if (bench_widths("pread", "pwrite", edu.u.device,
			 edu.bar0 + EDU_LIVENESS, edu.bar0 + EDU_DMA_SRC, n))
		return 1;
	if (bench_irq(&edu, irqs))
		return 1;
	munmap((void *)regs, bar0.size);
	vfio_user_close(&edu.u);
	if (bench_pio(n))
		return 1;
	return 0;
}
