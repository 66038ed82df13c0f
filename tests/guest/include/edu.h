/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * QEMU's edu device through a VFIO device fd: registers of BAR0 (facts
 * from QEMU's docs/specs/edu.txt) and DMA helpers.
 */
#ifndef EDU_H
#define EDU_H

#include <time.h>

#include "irqs.h"
#include "vfio_test.h"

#define EDU_ID			0x00	/* reads 0x010000ed */
#define EDU_LIVENESS		0x04	/* reads back the inverse */
#define EDU_FACTORIAL		0x08
#define EDU_STATUS		0x20
#define  EDU_STATUS_COMPUTING	0x01
#define  EDU_STATUS_IRQFACT	0x80	/* interrupt when factorial is done */
#define EDU_IRQ_STATUS		0x24
#define EDU_IRQ_RAISE		0x60
#define EDU_IRQ_ACK		0x64
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_COUNT		0x90
#define EDU_DMA_CMD		0x98
#define  EDU_DMA_START		0x01
#define  EDU_DMA_TO_RAM		0x02	/* else RAM to edu */
#define  EDU_DMA_IRQ		0x04
#define EDU_BUFFER		0x40000	/* edu's 4 KiB DMA buffer */
/* QEMU 7.2 aborts on a transfer of the whole buffer (off by one). */
#define EDU_DMA_MAX		4095

struct edu {
	struct vfio_user u;
	long long bar0;
	long long config;
};

/* Find BAR0 and config space in an open device fd: 0 or -errno. */
static inline int edu_locate(struct edu *edu)
{
	edu->bar0 = vfio_region_offset(edu->u.device,
				       VFIO_PCI_BAR0_REGION_INDEX);
	edu->config = vfio_region_offset(edu->u.device,
					 VFIO_PCI_CONFIG_REGION_INDEX);
	return edu->bar0 < 0 ? (int)edu->bar0 :
	       edu->config < 0 ? (int)edu->config : 0;
}

static inline int edu_open(struct edu *edu)
{
	int ret = vfio_user_open(&edu->u, EDU_VENDOR, EDU_DEVICE, 0,
				 VFIO_TYPE1v2_IOMMU);

	return ret ? ret : edu_locate(edu);
}

static inline uint32_t edu_read32(struct edu *edu, unsigned int reg)
{
	uint32_t v = ~0u;

	if (pread(edu->u.device, &v, 4, edu->bar0 + reg) != 4)
		return ~0u;
	return v;
}

static inline int edu_write32(struct edu *edu, unsigned int reg, uint32_t v)
{
	return pwrite(edu->u.device, &v, 4, edu->bar0 + reg) == 4 ? 0 : -errno;
}

static inline int edu_write64(struct edu *edu, unsigned int reg, uint64_t v)
{
	return pwrite(edu->u.device, &v, 8, edu->bar0 + reg) == 8 ? 0 : -errno;
}

/* Set bits in the PCI command register through the config region. */
static inline int edu_command_set(struct edu *edu, uint16_t bits)
{
	return vfio_command_set(edu->u.device, bits);
}

/* Start a factorial that raises an interrupt when done. */
static inline bool edu_factorial_irq(struct edu *edu, uint32_t n)
{
	edu_write32(edu, EDU_STATUS, EDU_STATUS_IRQFACT);
	return !edu_write32(edu, EDU_FACTORIAL, n);
}

/* Acknowledge whatever edu has raised. */
static inline void edu_ack(struct edu *edu)
{
	edu_write32(edu, EDU_IRQ_ACK, edu_read32(edu, EDU_IRQ_STATUS));
}

/*
 * INTx with @efd as its trigger: a factorial's interrupt reaches the
 * eventfd, the line then stays masked (a second one does not arrive)
 * until the user unmasks it. Returns 0, or the step that went wrong:
 * 1 no interrupt, 2 wrong result, 3 an interrupt while masked, 4 UNMASK
 * failed, 5 no interrupt after UNMASK, 6 wrong second result.
 */
static inline int edu_intx_automask(struct edu *edu, int efd)
{
	if (!edu_factorial_irq(edu, 5) || wait_eventfd(efd, 2000) < 1)
		return 1;
	if (edu_read32(edu, EDU_FACTORIAL) != 120)
		return 2;
	edu_ack(edu);
	if (!edu_factorial_irq(edu, 4) || wait_eventfd(efd, 300) != 0)
		return 3;
	if (vfio_set_irqs(edu->u.device, VFIO_PCI_INTX_IRQ_INDEX,
			  VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
			  0, 1, NULL))
		return 4;
	if (wait_eventfd(efd, 2000) < 1)
		return 5;
	if (edu_read32(edu, EDU_FACTORIAL) != 24)
		return 6;
	edu_ack(edu);
	return 0;
}

/* Run one DMA and wait for the engine to finish (up to 5 s). */
static inline int edu_dma(struct edu *edu, uint64_t src, uint64_t dst,
			  uint32_t count, uint32_t cmd)
{
	struct timespec delay = { .tv_nsec = 1000 * 1000 };
	int i;

	if (edu_write64(edu, EDU_DMA_SRC, src) ||
	    edu_write64(edu, EDU_DMA_DST, dst) ||
	    edu_write64(edu, EDU_DMA_COUNT, count) ||
	    edu_write32(edu, EDU_DMA_CMD, cmd | EDU_DMA_START))
		return -EIO;
	for (i = 0; i < 5000; i++) {
		if (!(edu_read32(edu, EDU_DMA_CMD) & EDU_DMA_START))
			return 0;
		nanosleep(&delay, NULL);
	}
	return -ETIMEDOUT;
}

static inline int vfio_map(int container, void *vaddr, uint64_t iova,
			   uint64_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr, .iova = iova, .size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

static inline int vfio_unmap(int container, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = size,
	};

	return ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
}

#endif /* EDU_H */
