/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VFIO_DEVICE_SET_IRQS and eventfd helpers shared by the guest tests.
 */
#ifndef IRQS_H
#define IRQS_H

#include <poll.h>

#include "vfio_test.h"

/*
 * SET_IRQS with up to 8 elements of data: eventfds (int32_t) for
 * DATA_EVENTFD, bytes for DATA_BOOL, nothing for DATA_NONE. Returns 0 or
 * the errno.
 */
static inline int vfio_set_irqs(int device, uint32_t index, uint32_t flags,
				uint32_t start, uint32_t count,
				const void *data)
{
	char buf[sizeof(struct vfio_irq_set) + 8 * sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	size_t size = 0;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD)
		size = count * sizeof(int32_t);
	else if (flags & VFIO_IRQ_SET_DATA_BOOL)
		size = count;
	if (size > 8 * sizeof(int32_t))
		return E2BIG;
	set->argsz = sizeof(*set) + size;
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	if (size)
		memcpy(set->data, data, size);
	return ioctl(device, VFIO_DEVICE_SET_IRQS, set) ? errno : 0;
}

/* TRIGGER eventfds for vectors [@start, @start + @count) of @index. */
static inline int vfio_irq_trigger(int device, uint32_t index, uint32_t start,
				   uint32_t count, const int32_t *fds)
{
	return vfio_set_irqs(device, index, VFIO_IRQ_SET_DATA_EVENTFD |
			     VFIO_IRQ_SET_ACTION_TRIGGER, start, count, fds);
}

/* Disable @index: TRIGGER with count 0 and no data. */
static inline int vfio_irqs_off(int device, uint32_t index)
{
	return vfio_set_irqs(device, index, VFIO_IRQ_SET_DATA_NONE |
			     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
}

/* Lines of /proc/interrupts naming @bdf and holding @handler. */
static inline int irq_lines(const char *bdf, const char *handler)
{
	char line[1024], tag[64];
	int n = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	snprintf(tag, sizeof(tag), "(%s)", bdf);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, handler) && strstr(line, tag))
			n++;
	fclose(f);
	return n;
}

/* Lines of /proc/interrupts naming a vfio handler of @bdf. */
static inline int vfio_handlers(const char *bdf)
{
	return irq_lines(bdf, "vfio-");
}

/* Wait up to @ms for an eventfd; return how many signals it counted. */
static inline uint64_t wait_eventfd(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t count = 0;

	if (poll(&p, 1, ms) == 1 && read(efd, &count, 8) != 8)
		count = 0;
	return count;
}

#endif /* IRQS_H */
