/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IOMMU fault events, for tests that prove a DMA was blocked: a mark
 * before the DMA, then a wait for the count to move past it.
 */
#ifndef VFIO_TEST_IOMMU_FAULT_H
#define VFIO_TEST_IOMMU_FAULT_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * VT-d fault events so far: the count of the DMAR fault interrupt ("dmar0"
 * in /proc/interrupts) summed over CPUs, a mark for dmar_fault_since().
 * Not the kernel log: the record of a fault ("fault addr ...") and the
 * status line before it share one ratelimit with every fault of the boot
 * (a burst of 10 lines per 5 s), so a test after a few others may find
 * neither, while every fault event raises the interrupt.
 */
static inline unsigned long dmar_fault_irqs(void)
{
	FILE *f = fopen("/proc/interrupts", "r");
	unsigned long total = 0;
	char line[512];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		if (!p || !strstr(line, "DMAR-MSI"))
			continue;
		for (p++;;) {
			char *end;
			unsigned long n = strtoul(p, &end, 10);

			if (end == p)
				break;
			total += n;
			p = end;
		}
	}
	fclose(f);
	return total;
}

/*
 * Did the IOMMU raise a fault event after @mark (from dmar_fault_irqs())?
 * The interrupt follows the faulting DMA: wait up to a second.
 */
static inline bool dmar_fault_since(unsigned long mark)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (dmar_fault_irqs() > mark)
			return true;
		usleep(20 * 1000);
	}
	return false;
}

#endif
