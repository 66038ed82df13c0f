// SPDX-License-Identifier: GPL-2.0-only
/*
 * dma_bench [--iommufd] MODE MIB RUNS: time VFIO_IOMMU_MAP_DMA and
 * UNMAP_DMA of one buffer, RUNS times, through the type1 IOMMU with edu's
 * group attached; with --iommufd, IOMMU_IOAS_MAP and IOMMU_IOAS_UNMAP of
 * it in an IOAS that edu is attached to through its device cdev.
 *
 * MODE is 4k (anonymous memory in small pages), 4k-scattered (the same,
 * touched from the last page to the first), thp (2 MiB aligned,
 * MADV_HUGEPAGE) or hugetlb (MAP_HUGETLB; reserve pages first). Memory
 * is touched before the first map, so pinning, not faulting, is timed.
 * The page allocator hands out ascending frames to successive faults, so
 * 4k after compaction is mostly physically contiguous (type1 maps it in
 * long runs), while 4k-scattered has no two neighbouring pages in
 * neighbouring frames (every page is a run of its own): the two ends of
 * what a 4K buffer can look like to type1.
 * Prints one line per run: "RESULT mode mib map_us unmap_us".
 *
 * dma_bench --serve MODE MIB CTL REPLY: allocate and touch the buffer
 * once, print "EXTENTS n" (its physically contiguous runs, from
 * /proc/self/pagemap; -1 if unreadable), then serve commands read one
 * per open of the fifo CTL: "type1 RUNS" or "iommufd RUNS" open edu,
 * time RUNS map/unmap pairs of that same buffer, close edu again (so
 * that the module set can be swapped between commands) and write the
 * RESULT lines and "DONE" to the fifo REPLY; "quit" ends. Every command
 * pins the same physical pages, so how type1 can batch them is the same
 * for both module sets and every round.
 */
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

#include "iommufd_test.h"

#define SZ_2M	(2UL << 20)

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

#define DRAIN_SIZE	(64UL << 20)

/*
 * Fault every page of @buf in (last to first for 4k-scattered), on one
 * CPU, after emptying that CPU's list of free pages: pages freed earlier
 * wait there in no particular order and would be handed out first, so
 * how contiguous a 4k buffer is would depend on what ran before (one
 * 64 MiB buffer had 401 extents in one boot and 3641 in another). A
 * throwaway DRAIN_SIZE, more than the list holds, is taken first; the
 * buffer's pages then come from the buddy allocator, in frame order.
 */
static void touch(const char *mode, char *buf, size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	cpu_set_t old, one;
	char *drain;
	size_t off;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	if (sched_getaffinity(0, sizeof(old), &old) ||
	    sched_setaffinity(0, sizeof(one), &one))
		perror("sched_setaffinity (the buffer may be less regular)");
	drain = mmap(NULL, DRAIN_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (drain != MAP_FAILED) {
		madvise(drain, DRAIN_SIZE, MADV_NOHUGEPAGE);
		memset(drain, 1, DRAIN_SIZE);
	}
	if (strcmp(mode, "4k-scattered")) {
		memset(buf, 0x5a, size);
	} else {
		for (off = size; off; off -= page)
			memset(buf + off - page, 0x5a, page);
	}
	if (drain != MAP_FAILED)
		munmap(drain, DRAIN_SIZE);
	sched_setaffinity(0, sizeof(old), &old);
}

static void *buffer(const char *mode, size_t size)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	char *p;

	if (!strcmp(mode, "hugetlb")) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 flags | MAP_HUGETLB, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	/* Over-allocate so the buffer can start on a 2 MiB boundary. */
	p = mmap(NULL, size + SZ_2M, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	p = (char *)(((unsigned long)p + SZ_2M - 1) & ~(SZ_2M - 1));
	if (madvise(p, size, strcmp(mode, "thp") ? MADV_NOHUGEPAGE :
					       MADV_HUGEPAGE))
		return NULL;
	return p;
}

struct target {
	struct vfio_user u;
	int iommufd;
	uint32_t ioas;
};

static int target_open(struct target *t, bool iommufd)
{
	int ret;

	if (iommufd)
		return cdev_user_open(&t->u, &t->iommufd, &t->ioas, EDU_VENDOR,
				      EDU_DEVICE, 0);
	t->iommufd = -1;
	ret = vfio_user_open(&t->u, EDU_VENDOR, EDU_DEVICE, 0,
			     VFIO_TYPE1v2_IOMMU);
	return -ret;
}

/* Map @size bytes at @buf to @iova; 0 or the errno. */
static int map(struct target *t, char *buf, uint64_t iova, size_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (unsigned long)buf, .iova = iova, .size = size,
	};

	if (t->iommufd >= 0)
		return ioas_map(t->iommufd, t->ioas, buf, iova, size);
	return ioctl_errno(t->u.container, VFIO_IOMMU_MAP_DMA, &m);
}

static int unmap(struct target *t, uint64_t iova, size_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};

	if (t->iommufd >= 0)
		return ioas_unmap(t->iommufd, t->ioas, iova, size);
	return ioctl_errno(t->u.container, VFIO_IOMMU_UNMAP_DMA, &u);
}

static const uint64_t bench_iova = 1ULL << 32;

/* RUNS timed map/unmap pairs of @buf, RESULT lines to @out; 0 or 1. */
static int timed_runs(struct target *t, FILE *out, const char *mode,
		      char *buf, size_t size, int runs)
{
	int i, ret;

	for (i = 0; i < runs; i++) {
		double t0 = now_us(), t1, t2;

		ret = map(t, buf, bench_iova, size);
		if (ret) {
			fprintf(stderr, "map: %s\n", strerror(ret));
			return 1;
		}
		t1 = now_us();
		ret = unmap(t, bench_iova, size);
		if (ret) {
			fprintf(stderr, "unmap: %s\n", strerror(ret));
			return 1;
		}
		t2 = now_us();
		fprintf(out, "RESULT %s %zu %.0f %.0f\n", mode, size >> 20,
			t1 - t0, t2 - t1);
	}
	return 0;
}

/* Physically contiguous runs of pages in @buf, or -1. */
static long extents(char *buf, size_t size)
{
	long page = sysconf(_SC_PAGESIZE), n = 0, i, pages = size / page;
	uint64_t e, last = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return -1;
	for (i = 0; i < pages; i++) {
		uint64_t pfn;

		if (pread(fd, &e, 8, ((unsigned long)buf / page + i) * 8) != 8 ||
		    !(e & (1ULL << 63))) {
			n = -1;
			break;
		}
		pfn = e & ((1ULL << 55) - 1);
		if (!i || pfn != last + 1)
			n++;
		last = pfn;
	}
	close(fd);
	return n;
}

static int serve(const char *mode, char *buf, size_t size, const char *ctl,
		 const char *reply)
{
	char line[64], what[16];
	struct target t;
	int runs, ret;
	FILE *in, *out;

	for (;;) {
		in = fopen(ctl, "r");
		if (!in || !fgets(line, sizeof(line), in)) {
			perror(ctl);
			return 1;
		}
		fclose(in);
		if (!strncmp(line, "quit", 4))
			return 0;
		if (sscanf(line, "%15s %d", what, &runs) != 2 || runs <= 0) {
			fprintf(stderr, "bad command: %s", line);
			return 1;
		}
		out = fopen(reply, "w");
		if (!out) {
			perror(reply);
			return 1;
		}
		ret = target_open(&t, !strcmp(what, "iommufd"));
		if (ret) {
			fprintf(out, "opening edu for %s: %s\n", what,
				strerror(ret));
		} else {
			ret = timed_runs(&t, out, mode, buf, size, runs);
			if (t.iommufd >= 0)
				cdev_user_close(&t.u, &t.iommufd);
			else
				vfio_user_close(&t.u);
		}
		fprintf(out, ret ? "FAILED\n" : "DONE\n");
		fclose(out);
	}
}

int main(int argc, char **argv)
{
	bool serving = argc > 1 && !strcmp(argv[1], "--serve");
	bool iommufd = argc > 1 && !strcmp(argv[1], "--iommufd");
	struct target t;
	const char *mode;
	size_t size;
	int runs, ret;
	char *buf;

	argv += iommufd || serving;
	argc -= iommufd || serving;
	if (argc != 4 + serving) {
		fprintf(stderr, "usage: dma_bench [--iommufd] MODE MIB RUNS\n"
			"       dma_bench --serve MODE MIB CTL REPLY\n"
			"MODE: 4k, 4k-scattered, thp or hugetlb\n");
		return 2;
	}
	mode = argv[1];
	size = strtoul(argv[2], NULL, 0) << 20;
	if (serving) {
		buf = buffer(mode, size);
		if (!buf) {
			perror("buffer");
			return 1;
		}
		touch(mode, buf, size);
		printf("EXTENTS %ld\n", extents(buf, size));
		fflush(stdout);
		return serve(mode, buf, size, argv[3], argv[4]);
	}
	runs = atoi(argv[3]);

	ret = target_open(&t, iommufd);
	if (ret) {
		fprintf(stderr, "opening edu through %s: %s\n",
			iommufd ? "its cdev" : "its group", strerror(ret));
		return 1;
	}
	buf = buffer(mode, size);
	if (!buf) {
		perror("buffer");
		return 1;
	}
	touch(mode, buf, size);

	ret = timed_runs(&t, stdout, mode, buf, size, runs);
	if (iommufd)
		cdev_user_close(&t.u, &t.iommufd);
	else
		vfio_user_close(&t.u);
	return ret;
}
