// SPDX-License-Identifier: GPL-2.0-only
/*
 * dma_bench [--iommufd] MODE MIB RUNS: time VFIO_IOMMU_MAP_DMA and
 * UNMAP_DMA of one buffer, RUNS times, through the type1 IOMMU with edu's
 * group attached; with --iommufd, IOMMU_IOAS_MAP and IOMMU_IOAS_UNMAP of
 * it in an IOAS that edu is attached to through its device cdev.
 *
 * MODE is 4k (anonymous memory in small pages), thp (2 MiB aligned,
 * MADV_HUGEPAGE) or hugetlb (MAP_HUGETLB; reserve pages first). Memory
 * is touched before the first map, so pinning, not faulting, is timed.
 * Prints one line per run: "RESULT mode mib map_us unmap_us".
 */
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

int main(int argc, char **argv)
{
	const uint64_t iova = 1ULL << 32;
	bool iommufd = argc > 1 && !strcmp(argv[1], "--iommufd");
	struct target t;
	const char *mode;
	size_t size;
	int runs, i, ret;
	char *buf;

	argv += iommufd;
	argc -= iommufd;
	if (argc != 4) {
		fprintf(stderr, "usage: dma_bench [--iommufd] 4k|thp|hugetlb "
			"MIB RUNS\n");
		return 2;
	}
	mode = argv[1];
	size = strtoul(argv[2], NULL, 0) << 20;
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
	memset(buf, 0x5a, size);

	for (i = 0; i < runs; i++) {
		double t0 = now_us(), t1, t2;

		ret = map(&t, buf, iova, size);
		if (ret) {
			fprintf(stderr, "map: %s\n", strerror(ret));
			return 1;
		}
		t1 = now_us();
		ret = unmap(&t, iova, size);
		if (ret) {
			fprintf(stderr, "unmap: %s\n", strerror(ret));
			return 1;
		}
		t2 = now_us();
		printf("RESULT %s %zu %.0f %.0f\n", mode, size >> 20, t1 - t0,
		       t2 - t1);
	}
	if (iommufd)
		cdev_user_close(&t.u, &t.iommufd);
	else
		vfio_user_close(&t.u);
	return 0;
}
