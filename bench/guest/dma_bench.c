// SPDX-License-Identifier: GPL-2.0-only
/*
 * dma_bench MODE MIB RUNS: time VFIO_IOMMU_MAP_DMA and UNMAP_DMA of one
 * buffer, RUNS times, through the type1 IOMMU with edu's group attached.
 *
 * MODE is 4k (anonymous memory in small pages), thp (2 MiB aligned,
 * MADV_HUGEPAGE) or hugetlb (MAP_HUGETLB; reserve pages first). Memory
 * is touched before the first map, so pinning, not faulting, is timed.
 * Prints one line per run: "RESULT mode mib map_us unmap_us".
 */
#include <sys/mman.h>
#include <time.h>

#include "vfio_test.h"

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

int main(int argc, char **argv)
{
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_user u;
	const char *mode;
	size_t size;
	int runs, i, ret;
	char *buf;

	if (argc != 4) {
		fprintf(stderr, "usage: %s 4k|thp|hugetlb MIB RUNS\n", argv[0]);
		return 2;
	}
	mode = argv[1];
	size = strtoul(argv[2], NULL, 0) << 20;
	runs = atoi(argv[3]);

	ret = vfio_user_open(&u, EDU_VENDOR, EDU_DEVICE, 0, VFIO_TYPE1v2_IOMMU);
	if (ret) {
		fprintf(stderr, "opening edu through vfio: %s\n", strerror(-ret));
		return 1;
	}
	buf = buffer(mode, size);
	if (!buf) {
		perror("buffer");
		return 1;
	}
	memset(buf, 0x5a, size);

	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (unsigned long)buf;
	map.iova = 1UL << 32;
	map.size = size;
	unmap.iova = map.iova;
	unmap.size = size;
	for (i = 0; i < runs; i++) {
		double t0 = now_us(), t1, t2;

		if (ioctl(u.container, VFIO_IOMMU_MAP_DMA, &map)) {
			perror("VFIO_IOMMU_MAP_DMA");
			return 1;
		}
		t1 = now_us();
		if (ioctl(u.container, VFIO_IOMMU_UNMAP_DMA, &unmap)) {
			perror("VFIO_IOMMU_UNMAP_DMA");
			return 1;
		}
		t2 = now_us();
		printf("RESULT %s %zu %.0f %.0f\n", mode, size >> 20, t1 - t0,
		       t2 - t1);
	}
	vfio_user_close(&u);
	return 0;
}
