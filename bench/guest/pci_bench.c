// SPDX-License-Identifier: GPL-2.0-only
/*
 * pci_bench N [IRQS]: costs of the vfio-pci paths a device driver in user
 * space uses most, on edu's BAR0, N iterations each (IRQS round trips for
 * the interrupt, default N):
 *
 *   irq_roundtrip  raise an interrupt through edu's raise register (a
 *                  pwrite), poll the MSI eventfd, ack: the median of IRQS
 *                  round trips
 *   pread32        32-bit read of the liveness register through pread()
 *   mmap_read32    the same read through an mmap() of BAR0
 *   pwrite32       32-bit write of the liveness register through pwrite()
 *   mmap_write32   the same write through the mapping
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

static void bench_rw(struct edu *edu, volatile uint32_t *regs, int n)
{
	uint32_t v = 0;
	double start;
	int i;

	start = now_ns();
	for (i = 0; i < n; i++)
		v += edu_read32(edu, EDU_LIVENESS);
	printf("RESULT pread32 %.2f\n", (now_ns() - start) / n);

	start = now_ns();
	for (i = 0; i < n; i++)
		v += regs[EDU_LIVENESS / 4];
	printf("RESULT mmap_read32 %.2f\n", (now_ns() - start) / n);

	start = now_ns();
	for (i = 0; i < n; i++)
		edu_write32(edu, EDU_LIVENESS, i);
	printf("RESULT pwrite32 %.2f\n", (now_ns() - start) / n);

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
	bench_rw(&edu, regs, n);
	if (bench_irq(&edu, irqs))
		return 1;
	munmap((void *)regs, bar0.size);
	vfio_user_close(&edu.u);
	return 0;
}
