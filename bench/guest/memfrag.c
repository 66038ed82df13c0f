// SPDX-License-Identifier: GPL-2.0-only
/*
 * memfrag MIB: fragment the guest's free memory, for benchmarks that
 * depend on how physically contiguous pinned pages are (type1 maps each
 * contiguous run with one iommu_map()).
 *
 * Touches MIB MiB of anonymous 4K pages, gives every other page back
 * (MADV_DONTNEED) and keeps the rest, then detaches and sleeps until
 * killed: the freed pages cannot merge with their held neighbours, so
 * the next MIB / 2 MiB anybody allocates is made of isolated pages.
 * Prints "FRAGMENTED MIB pid" once the memory is in place.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t size, off;
	pid_t pid;
	char *p;

	if (argc != 2) {
		fprintf(stderr, "usage: memfrag MIB\n");
		return 2;
	}
	size = strtoul(argv[1], NULL, 0) << 20;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || madvise(p, size, MADV_NOHUGEPAGE)) {
		perror("memfrag");
		return 1;
	}
	memset(p, 0x5a, size);
	for (off = page; off < size; off += 2 * page)
		if (madvise(p + off, page, MADV_DONTNEED)) {
			perror("madvise");
			return 1;
		}

	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid) {
		/* The child shares the held pages; the parent's copy goes. */
		printf("FRAGMENTED %zu %d\n", size >> 20, pid);
		return 0;
	}
	setsid();
	close(0);
	close(1);
	close(2);
	for (;;)
		pause();
}
