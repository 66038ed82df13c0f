/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The mdma sample (kernel/samples/vfio-mdev/mdma.c): loading it for the
 * module set in use, creating and removing instances, and driving its
 * registers through a VFIO device fd. Functions return 0 or an errno
 * (positive) unless they say otherwise.
 */
#ifndef VFIO_TEST_MDMA_H
#define VFIO_TEST_MDMA_H

#include <sys/mman.h>

#include "mdev_test.h"
#include "modset.h"
#include "vfio_test.h"

/* The device's identity and registers (see mdma.c). */
#define MDMA_VENDOR		0x1234
#define MDMA_DEVICE		0x6d64
#define MDMA_ID			0x414d444d
#define MDMA_SRAM_BASE		0x1000

#define MDMA_REG_ID		0x00
#define MDMA_REG_SRAM_SIZE	0x04
#define MDMA_REG_SRC_LO		0x08
#define MDMA_REG_SRC_HI		0x0c
#define MDMA_REG_DST_LO		0x10
#define MDMA_REG_DST_HI		0x14
#define MDMA_REG_LEN		0x18
#define MDMA_REG_CMD		0x1c
#define MDMA_REG_PATTERN	0x20
#define MDMA_REG_SRAM_OFF	0x24
#define MDMA_REG_DOORBELL	0x28
#define MDMA_REG_STATUS		0x2c
#define MDMA_REG_ERROR		0x30
#define MDMA_REG_PINNED		0x34
#define MDMA_REG_COUNT		0x38

#define MDMA_OP_COPY		1
#define MDMA_OP_FILL		2
#define MDMA_OP_TO_SRAM		3
#define MDMA_OP_FROM_SRAM	4
#define MDMA_CMD_PIN		(1u << 8)
#define MDMA_CMD_KEEP		(1u << 9)

#define MDMA_STATUS_DONE	(1u << 0)
#define MDMA_STATUS_ERROR	(1u << 1)

#define MDMA_TYPE_4K		"mdma-1"
#define MDMA_TYPE_16K		"mdma-2"

#define VFIO_OFFSET(index)	((uint64_t)(index) << 40)

/*
 * Load mdma built for the loaded set (images/vfio-modset extra), and the
 * kernel's mdev bus first when the upstream set did not load it.
 */
static inline int mdma_load(void)
{
	if (access("/sys/bus/mdev", F_OK) && modset_is("upstream") &&
	    system("modprobe mdev"))
		return EIO;
	return -mdev_load("mdma");
}

/* Every instance must be removed and every fd closed first. */
static inline int mdma_unload(void)
{
	return -mdev_unload("mdma");
}

/* Create an instance of @type with a fresh UUID, written to @uuid. */
static inline int mdma_create(const char *type, char uuid[40])
{
	static unsigned int n;

	mdev_uuid(0x6d00 + n++, uuid);
	return -mdev_create(type, uuid);
}

static inline int mdma_remove(const char *uuid)
{
	return -mdev_remove(uuid);
}

/* /dev/vfio/devices/vfioN of an instance. */
static inline int mdma_cdev_path(const char *uuid, char path[64])
{
	return -mdev_cdev_path(uuid, path);
}

/*
 * Open an instance through its group, joining @container (whose IOMMU
 * is set to type1 v2 when @set_iommu). Returns the device fd or -errno;
 * the group fd goes to *group (or -1).
 */
static inline int mdma_open_group(const char *uuid, int container,
				  bool set_iommu, int *group)
{
	int id = mdev_iommu_group(uuid), fd;

	*group = -1;
	if (id < 0)
		return id;
	*group = vfio_group_open(id);
	if (*group < 0)
		return -errno;
	if (ioctl(*group, VFIO_GROUP_SET_CONTAINER, &container))
		return -errno;
	if (set_iommu && ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -errno;
	fd = ioctl(*group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	return fd < 0 ? -errno : fd;
}

static inline uint32_t mdma_rd(int dev, uint32_t reg)
{
	uint32_t v = 0xdeadbeef;

	if (pread(dev, &v, 4, VFIO_OFFSET(VFIO_PCI_BAR0_REGION_INDEX) + reg) != 4)
		return 0xdeadbeef;
	return v;
}

static inline int mdma_wr(int dev, uint32_t reg, uint32_t v)
{
	return pwrite(dev, &v, 4, VFIO_OFFSET(VFIO_PCI_BAR0_REGION_INDEX) +
		      reg) == 4 ? 0 : errno;
}

/* Program one transfer, ring the doorbell and return STATUS. */
static inline uint32_t mdma_run(int dev, uint32_t cmd, uint64_t src,
				uint64_t dst, uint32_t len)
{
	mdma_wr(dev, MDMA_REG_SRC_LO, (uint32_t)src);
	mdma_wr(dev, MDMA_REG_SRC_HI, (uint32_t)(src >> 32));
	mdma_wr(dev, MDMA_REG_DST_LO, (uint32_t)dst);
	mdma_wr(dev, MDMA_REG_DST_HI, (uint32_t)(dst >> 32));
	mdma_wr(dev, MDMA_REG_LEN, len);
	mdma_wr(dev, MDMA_REG_CMD, cmd);
	mdma_wr(dev, MDMA_REG_DOORBELL, 1);
	return mdma_rd(dev, MDMA_REG_STATUS);
}

static inline void mdma_fill_bytes(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

/*
 * One instance opened through its group on a type1 v2 container, with
 * @size bytes of anonymous memory mapped at @iova.
 */
struct mdma_t1 {
	char uuid[40];
	int container, group, device;
	uint8_t *buf;
	size_t size;
};

static inline void mdma_t1_init(struct mdma_t1 *t)
{
	memset(t, 0, sizeof(*t));
	t->container = t->group = t->device = -1;
}

/* Returns 0 or an errno; mdma_t1_close() undoes what was done. */
static inline int mdma_t1_open(struct mdma_t1 *t, const char *type,
			       uint64_t iova, size_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = iova, .size = size,
	};
	int ret;

	mdma_t1_init(t);
	ret = mdma_load();
	if (ret)
		return ret;
	ret = mdma_create(type, t->uuid);
	if (ret)
		return ret;
	t->container = open(VFIO_CONTAINER_PATH, O_RDWR);
	if (t->container < 0)
		return errno;
	t->device = mdma_open_group(t->uuid, t->container, true, &t->group);
	if (t->device < 0)
		return -t->device;
	t->buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->buf == MAP_FAILED) {
		t->buf = NULL;
		return errno;
	}
	t->size = size;
	memset(t->buf, 0, size);
	map.vaddr = (uintptr_t)t->buf;
	return ioctl_errno(t->container, VFIO_IOMMU_MAP_DMA, &map);
}

/* Close the fds, remove the instance; the module stays loaded. */
static inline void mdma_t1_close(struct mdma_t1 *t)
{
	if (t->device >= 0)
		close(t->device);
	if (t->group >= 0)
		close(t->group);
	if (t->container >= 0)
		close(t->container);
	if (t->uuid[0])
		mdma_remove(t->uuid);
	if (t->buf)
		munmap(t->buf, t->size);
	mdma_t1_init(t);
}

#endif /* VFIO_TEST_MDMA_H */
