// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the type1 backend's emulated-IOMMU hooks: pin_pages,
 * unpin_pages, dma_rw and the dma_unmap notification. No mediated-device
 * driver exists in the guest to reach them from user space, so the tests
 * drive the backend's ops directly: a container with one emulated group,
 * user memory from kunit_vm_mmap() in the test thread's own mm, and a
 * fake device whose dma_unmap unpins what it pinned.
 */
#include <kunit/test.h>
#include <linux/iommu.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>

#include "vfio.h"
#include "vfio_iommu_type1.h"

#define T1_IOVA		0x100000UL
#define T1_PAGES	4

static const struct vfio_iommu_driver_ops *ops = &vfio_iommu_type1_ops;

/**
 * struct t1_ctx - one test's container and its fake device
 * @vdev: the device registered with the backend
 * @iommu: the backend's state
 * @group: an iommu_group standing for an mdev's group
 * @user: kunit_vm_mmap() area: ioctl arguments, then the mapped pages
 * @pinned: pages @vdev holds, from T1_IOVA, for its dma_unmap to drop
 * @notified: dma_unmap calls seen
 * @last_iova: the last dma_unmap's range
 * @last_len: ditto
 */
struct t1_ctx {
	struct vfio_device vdev;
	void *iommu;
	struct iommu_group *group;
	unsigned long user;
	int pinned;
	int notified;
	u64 last_iova;
	u64 last_len;
};

/* The unmap notification: drop every pin inside the range. */
static void t1_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
	struct t1_ctx *ctx = container_of(vdev, struct t1_ctx, vdev);

	ctx->notified++;
	ctx->last_iova = iova;
	ctx->last_len = length;
	if (ctx->pinned && iova <= T1_IOVA && T1_IOVA < iova + length) {
		ops->unpin_pages(ctx->iommu, T1_IOVA, ctx->pinned);
		ctx->pinned = 0;
	}
}

static const struct vfio_device_ops t1_dev_ops = {
	.name = "type1-kunit",
	.dma_unmap = t1_dma_unmap,
};

static unsigned long t1_data(struct t1_ctx *ctx)
{
	return ctx->user + PAGE_SIZE;
}

static int t1_map(struct t1_ctx *ctx, u64 iova, unsigned long vaddr,
		  u64 size, u32 flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = vaddr,
		.iova = iova,
		.size = size,
	};

	if (copy_to_user((void __user *)ctx->user, &map, sizeof(map)))
		return -EFAULT;
	return ops->ioctl(ctx->iommu, VFIO_IOMMU_MAP_DMA, ctx->user);
}

static int t1_unmap(struct t1_ctx *ctx, u64 iova, u64 size, u64 *unmapped)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};
	int ret;

	if (copy_to_user((void __user *)ctx->user, &unmap, sizeof(unmap)))
		return -EFAULT;
	ret = ops->ioctl(ctx->iommu, VFIO_IOMMU_UNMAP_DMA, ctx->user);
	if (copy_from_user(&unmap, (void __user *)ctx->user, sizeof(unmap)))
		return -EFAULT;
	*unmapped = unmap.size;
	return ret;
}

static long t1_locked_vm(void)
{
	return READ_ONCE(current->mm->locked_vm);
}

/* A v2 (or v1) container with one emulated group and user memory. */
static struct t1_ctx *t1_setup(struct kunit *test, unsigned long type,
			       bool with_device)
{
	struct t1_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->user = kunit_vm_mmap(test, NULL, 0, (T1_PAGES + 1) * PAGE_SIZE,
				  PROT_READ | PROT_WRITE,
				  MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, ctx->user, 0, "no user memory");
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(ctx->user));
	ctx->group = iommu_group_alloc();
	KUNIT_ASSERT_FALSE(test, IS_ERR(ctx->group));
	ctx->iommu = ops->open(type);
	KUNIT_ASSERT_FALSE(test, IS_ERR(ctx->iommu));
	KUNIT_ASSERT_EQ(test, ops->attach_group(ctx->iommu, ctx->group,
						VFIO_EMULATED_IOMMU), 0);
	ctx->vdev.ops = &t1_dev_ops;
	if (with_device)
		ops->register_device(ctx->iommu, &ctx->vdev);
	return ctx;
}

static void t1_teardown(struct t1_ctx *ctx, bool with_device)
{
	if (ctx->pinned)
		ops->unpin_pages(ctx->iommu, T1_IOVA, ctx->pinned);
	if (with_device)
		ops->unregister_device(ctx->iommu, &ctx->vdev);
	ops->detach_group(ctx->iommu, ctx->group);
	ops->release(ctx->iommu);
	iommu_group_put(ctx->group);
}

/* Without an IOMMU domain, a mapping pins nothing until a device pins. */
static void pin_charges_once(struct kunit *test)
{
	struct t1_ctx *ctx = t1_setup(test, VFIO_TYPE1v2_IOMMU, true);
	struct page *pages[2], *again[2];
	long base = t1_locked_vm();

	KUNIT_ASSERT_EQ(test, t1_map(ctx, T1_IOVA, t1_data(ctx),
				     T1_PAGES * PAGE_SIZE,
				     VFIO_DMA_MAP_FLAG_READ |
				     VFIO_DMA_MAP_FLAG_WRITE), 0);
	KUNIT_EXPECT_EQ(test, t1_locked_vm(), base);

	KUNIT_ASSERT_EQ(test, ops->pin_pages(ctx->iommu, ctx->group, T1_IOVA,
					     2, IOMMU_READ | IOMMU_WRITE,
					     pages), 2);
	ctx->pinned = 2;
	KUNIT_EXPECT_NOT_NULL(test, pages[0]);
	KUNIT_EXPECT_NOT_NULL(test, pages[1]);
	KUNIT_EXPECT_EQ(test, t1_locked_vm(), base + 2);

	/* Pinning again counts, but charges nothing more. */
	KUNIT_ASSERT_EQ(test, ops->pin_pages(ctx->iommu, ctx->group, T1_IOVA,
					     2, IOMMU_READ, again), 2);
	KUNIT_EXPECT_PTR_EQ(test, again[0], pages[0]);
	KUNIT_EXPECT_EQ(test, t1_locked_vm(), base + 2);
	ops->unpin_pages(ctx->iommu, T1_IOVA, 2);
	KUNIT_EXPECT_EQ(test, t1_locked_vm(), base + 2);
	ops->unpin_pages(ctx->iommu, T1_IOVA, 2);
	ctx->pinned = 0;
	KUNIT_EXPECT_EQ(test, t1_locked_vm(), base);
	t1_teardown(ctx, true);
}

static void pin_errors(struct kunit *test)
{
	struct t1_ctx *ctx = t1_setup(test, VFIO_TYPE1v2_IOMMU, false);
	struct page *pages[2];

	KUNIT_ASSERT_EQ(test, t1_map(ctx, T1_IOVA, t1_data(ctx),
				     T1_PAGES * PAGE_SIZE,
				     VFIO_DMA_MAP_FLAG_READ), 0);
	/* No device would hear about unmaps. */
	KUNIT_EXPECT_EQ(test, ops->pin_pages(ctx->iommu, ctx->group, T1_IOVA,
					     1, IOMMU_READ, pages), -EINVAL);
	ops->register_device(ctx->iommu, &ctx->vdev);
	KUNIT_EXPECT_EQ(test, ops->pin_pages(ctx->iommu, ctx->group, T1_IOVA,
					     1, IOMMU_READ, NULL), -EINVAL);
	/* Not mapped. */
	KUNIT_EXPECT_EQ(test, ops->pin_pages(ctx->iommu, ctx->group,
					     T1_IOVA + T1_PAGES * PAGE_SIZE,
					     1, IOMMU_READ, pages), -EINVAL);
	/* More rights than the mapping gives. */
	KUNIT_EXPECT_EQ(test, ops->pin_pages(ctx->iommu, ctx->group, T1_IOVA,
					     1, IOMMU_WRITE, pages), -EPERM);
	/* Running off the end unwinds what was pinned. */
	KUNIT_EXPECT_EQ(test, ops->pin_pages(ctx->iommu, ctx->group,
					     T1_IOVA + (T1_PAGES - 1) *
					     PAGE_SIZE, 2, IOMMU_READ, pages),
			-EINVAL);
	KUNIT_EXPECT_NULL(test, pages[0]);
	t1_teardown(ctx, true);
}

/* v1 containers predate emulated devices. */
static void pin_needs_v2(struct kunit *test)
{
	struct t1_ctx *ctx = t1_setup(test, VFIO_TYPE1_IOMMU, true);
	struct page *pages[1];

	KUNIT_ASSERT_EQ(test, t1_map(ctx, T1_IOVA, t1_data(ctx), PAGE_SIZE,
				     VFIO_DMA_MAP_FLAG_READ), 0);
	KUNIT_EXPECT_EQ(test, ops->pin_pages(ctx->iommu, ctx->group, T1_IOVA,
					     1, IOMMU_READ, pages), -EACCES);
	t1_teardown(ctx, true);
}

/* An unmap asks the device to unpin first, then succeeds. */
static void unmap_notifies_device(struct kunit *test)
{
	struct t1_ctx *ctx = t1_setup(test, VFIO_TYPE1v2_IOMMU, true);
	long base = t1_locked_vm();
	struct page *pages[3];
	u64 unmapped = 0;

	KUNIT_ASSERT_EQ(test, t1_map(ctx, T1_IOVA, t1_data(ctx),
				     T1_PAGES * PAGE_SIZE,
				     VFIO_DMA_MAP_FLAG_READ |
				     VFIO_DMA_MAP_FLAG_WRITE), 0);
	KUNIT_ASSERT_EQ(test, ops->pin_pages(ctx->iommu, ctx->group, T1_IOVA,
					     3, IOMMU_WRITE, pages), 3);
	ctx->pinned = 3;
	KUNIT_EXPECT_EQ(test, t1_locked_vm(), base + 3);
	KUNIT_EXPECT_EQ(test, t1_unmap(ctx, T1_IOVA, T1_PAGES * PAGE_SIZE,
				       &unmapped), 0);
	KUNIT_EXPECT_EQ(test, unmapped, T1_PAGES * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, ctx->notified, 1);
	KUNIT_EXPECT_EQ(test, ctx->last_iova, T1_IOVA);
	KUNIT_EXPECT_EQ(test, ctx->last_len, T1_PAGES * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, ctx->pinned, 0);
	KUNIT_EXPECT_EQ(test, t1_locked_vm(), base);
	t1_teardown(ctx, true);
}

/* dma_rw copies through the user's mappings, across their boundary. */
static void dma_rw_roundtrip(struct kunit *test)
{
	struct t1_ctx *ctx = t1_setup(test, VFIO_TYPE1v2_IOMMU, true);
	char out[32] = "written by the emulated device", in[32] = {};
	u64 iova = T1_IOVA + PAGE_SIZE - 8;

	/* Two adjacent mappings of adjacent user pages. */
	KUNIT_ASSERT_EQ(test, t1_map(ctx, T1_IOVA, t1_data(ctx), PAGE_SIZE,
				     VFIO_DMA_MAP_FLAG_READ |
				     VFIO_DMA_MAP_FLAG_WRITE), 0);
	KUNIT_ASSERT_EQ(test, t1_map(ctx, T1_IOVA + PAGE_SIZE,
				     t1_data(ctx) + PAGE_SIZE, PAGE_SIZE,
				     VFIO_DMA_MAP_FLAG_READ |
				     VFIO_DMA_MAP_FLAG_WRITE), 0);
	KUNIT_EXPECT_EQ(test, ops->dma_rw(ctx->iommu, iova, out, sizeof(out),
					  true), 0);
	KUNIT_EXPECT_EQ(test, copy_from_user(in, (void __user *)
					     (t1_data(ctx) + PAGE_SIZE - 8),
					     sizeof(in)), 0);
	KUNIT_EXPECT_MEMEQ(test, in, out, sizeof(out));
	memset(in, 0, sizeof(in));
	KUNIT_EXPECT_EQ(test, ops->dma_rw(ctx->iommu, iova, in, sizeof(in),
					  false), 0);
	KUNIT_EXPECT_MEMEQ(test, in, out, sizeof(out));

	/* Unmapped, and read-only. */
	KUNIT_EXPECT_EQ(test, ops->dma_rw(ctx->iommu, T1_IOVA + 8 * PAGE_SIZE,
					  in, 8, false), -EINVAL);
	KUNIT_ASSERT_EQ(test, t1_map(ctx, T1_IOVA + 2 * PAGE_SIZE,
				     t1_data(ctx) + 2 * PAGE_SIZE, PAGE_SIZE,
				     VFIO_DMA_MAP_FLAG_READ), 0);
	KUNIT_EXPECT_EQ(test, ops->dma_rw(ctx->iommu, T1_IOVA + 2 * PAGE_SIZE,
					  out, 8, true), -EPERM);
	t1_teardown(ctx, true);
}

/*
 * The last page of the IOVA space pins and copies like any other; a
 * request running past it fails with -EOVERFLOW instead of wrapping to
 * IOVA 0, where another mapping waits.
 */
static void top_of_iova_space(struct kunit *test)
{
	struct t1_ctx *ctx = t1_setup(test, VFIO_TYPE1v2_IOMMU, true);
	u64 top = 0 - (u64)PAGE_SIZE;
	struct page *pages[2] = {};
	char buf[16] = "at the very top";

	KUNIT_ASSERT_EQ(test, t1_map(ctx, top, t1_data(ctx), PAGE_SIZE,
				     VFIO_DMA_MAP_FLAG_READ |
				     VFIO_DMA_MAP_FLAG_WRITE), 0);
	KUNIT_ASSERT_EQ(test, t1_map(ctx, 0, t1_data(ctx) + PAGE_SIZE,
				     PAGE_SIZE, VFIO_DMA_MAP_FLAG_READ |
				     VFIO_DMA_MAP_FLAG_WRITE), 0);

	KUNIT_EXPECT_EQ(test, ops->pin_pages(ctx->iommu, ctx->group, top, 1,
					     IOMMU_READ, pages), 1);
	ops->unpin_pages(ctx->iommu, top, 1);
	KUNIT_EXPECT_EQ(test, ops->pin_pages(ctx->iommu, ctx->group, top, 2,
					     IOMMU_READ, pages), -EOVERFLOW);
	KUNIT_EXPECT_NULL(test, pages[1]);

	KUNIT_EXPECT_EQ(test, ops->dma_rw(ctx->iommu, ~0ULL - 15, buf,
					  sizeof(buf), true), 0);
	KUNIT_EXPECT_EQ(test, ops->dma_rw(ctx->iommu, ~0ULL - 7, buf,
					  sizeof(buf), true), -EOVERFLOW);
	t1_teardown(ctx, true);
}

/* With only an emulated group: no IOVA ranges, no vaddr updates. */
static void emulated_only_container(struct kunit *test)
{
	struct t1_ctx *ctx = t1_setup(test, VFIO_TYPE1v2_IOMMU, true);

	KUNIT_EXPECT_EQ(test, ops->ioctl(ctx->iommu, VFIO_CHECK_EXTENSION,
					 VFIO_UPDATE_VADDR), 0);
	KUNIT_EXPECT_EQ(test, ops->ioctl(ctx->iommu, VFIO_CHECK_EXTENSION,
					 VFIO_DMA_CC_IOMMU), 1);
	/* Any IOVA is fine without a domain to constrain it. */
	KUNIT_EXPECT_EQ(test, t1_map(ctx, 0xfee00000, t1_data(ctx), PAGE_SIZE,
				     VFIO_DMA_MAP_FLAG_READ), 0);
	t1_teardown(ctx, true);
}

/* DIRTY_PAGES on the container; GET_BITMAP's bitmap lands in @bits. */
static int t1_dirty(struct t1_ctx *ctx, u32 flags, u64 iova, u64 size,
		    u64 *bits)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap d;
		struct vfio_iommu_type1_dirty_bitmap_get r;
	} __packed arg = {
		.d.argsz = sizeof(arg),
		.d.flags = flags,
		.r.iova = iova,
		.r.size = size,
		.r.bitmap.pgsize = PAGE_SIZE,
		.r.bitmap.size = sizeof(u64),
		.r.bitmap.data = (u64 __user *)(ctx->user + 512),
	};
	int ret;

	if (copy_to_user((void __user *)ctx->user, &arg, sizeof(arg)) ||
	    clear_user((void __user *)(ctx->user + 512), sizeof(u64)))
		return -EFAULT;
	ret = ops->ioctl(ctx->iommu, VFIO_IOMMU_DIRTY_PAGES, ctx->user);
	if (!ret && bits && copy_from_user(bits, arg.r.bitmap.data,
					   sizeof(u64)))
		return -EFAULT;
	return ret;
}

/*
 * Emulated devices dirty only what they pin or write: a pinned page is
 * reported until it is unpinned and reported once more; dma_rw writes
 * are reported once.
 */
static void dirty_from_pins_and_writes(struct kunit *test)
{
	struct t1_ctx *ctx = t1_setup(test, VFIO_TYPE1v2_IOMMU, true);
	u32 get = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	u64 size = T1_PAGES * PAGE_SIZE, bits = ~0ULL;
	struct page *pages[1];
	char byte = 1;

	KUNIT_ASSERT_EQ(test, t1_map(ctx, T1_IOVA, t1_data(ctx), size,
				     VFIO_DMA_MAP_FLAG_READ |
				     VFIO_DMA_MAP_FLAG_WRITE), 0);
	KUNIT_ASSERT_EQ(test, t1_dirty(ctx, VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
				       0, 0, NULL), 0);
	KUNIT_EXPECT_EQ(test, t1_dirty(ctx, get, T1_IOVA, size, &bits), 0);
	KUNIT_EXPECT_EQ(test, bits, 0ULL);

	KUNIT_ASSERT_EQ(test, ops->pin_pages(ctx->iommu, ctx->group,
					     T1_IOVA + PAGE_SIZE, 1,
					     IOMMU_WRITE, pages), 1);
	KUNIT_EXPECT_EQ(test, ops->dma_rw(ctx->iommu, T1_IOVA + 3 * PAGE_SIZE,
					  &byte, 1, true), 0);
	KUNIT_EXPECT_EQ(test, t1_dirty(ctx, get, T1_IOVA, size, &bits), 0);
	KUNIT_EXPECT_EQ(test, bits, 0xaULL);
	/* Still pinned: still dirty. The write is old news. */
	KUNIT_EXPECT_EQ(test, t1_dirty(ctx, get, T1_IOVA, size, &bits), 0);
	KUNIT_EXPECT_EQ(test, bits, 0x2ULL);
	/* Unpinned: reported once more, as it may have been written since. */
	ops->unpin_pages(ctx->iommu, T1_IOVA + PAGE_SIZE, 1);
	KUNIT_EXPECT_EQ(test, t1_dirty(ctx, get, T1_IOVA, size, &bits), 0);
	KUNIT_EXPECT_EQ(test, bits, 0x2ULL);
	KUNIT_EXPECT_EQ(test, t1_dirty(ctx, get, T1_IOVA, size, &bits), 0);
	KUNIT_EXPECT_EQ(test, bits, 0ULL);

	KUNIT_EXPECT_EQ(test, t1_dirty(ctx, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP,
				       0, 0, NULL), 0);
	KUNIT_EXPECT_EQ(test, t1_dirty(ctx, get, T1_IOVA, size, &bits),
			-EINVAL);
	t1_teardown(ctx, true);
}

/*
 * A real IOMMU group joining a container whose mappings were made with
 * only an emulated group: the mappings are pinned and replayed into the
 * new domain (edu's, on q35-intel), pages an emulated device holds are
 * not charged twice, and when the group leaves again only those stay.
 */
static void replay_into_first_domain(struct kunit *test)
{
	u64 size = T1_PAGES * PAGE_SIZE;
	struct iommu_group *edu_group;
	struct iommu_domain *domain;
	struct pci_dev *edu;
	struct page *pages[1];
	struct t1_ctx *ctx;
	long base;
	int i;

	edu = pci_get_device(0x1234, 0x11e8, NULL);
	if (!edu)
		kunit_skip(test, "no edu device");
	edu_group = iommu_group_get(&edu->dev);
	if (!edu_group) {
		pci_dev_put(edu);
		kunit_skip(test, "edu has no IOMMU group");
	}
	if (iommu_group_claim_dma_owner(edu_group, test)) {
		iommu_group_put(edu_group);
		pci_dev_put(edu);
		kunit_skip(test, "edu's group is in use");
	}

	ctx = t1_setup(test, VFIO_TYPE1v2_IOMMU, true);
	base = t1_locked_vm();
	KUNIT_ASSERT_EQ(test, t1_map(ctx, T1_IOVA, t1_data(ctx), size,
				     VFIO_DMA_MAP_FLAG_READ |
				     VFIO_DMA_MAP_FLAG_WRITE), 0);
	KUNIT_ASSERT_EQ(test, ops->pin_pages(ctx->iommu, ctx->group, T1_IOVA,
					     1, IOMMU_WRITE, pages), 1);
	ctx->pinned = 1;
	KUNIT_EXPECT_EQ(test, t1_locked_vm(), base + 1);

	KUNIT_ASSERT_EQ(test, ops->attach_group(ctx->iommu, edu_group,
						VFIO_IOMMU), 0);
	KUNIT_EXPECT_EQ(test, t1_locked_vm(), base + T1_PAGES);
	domain = iommu_get_domain_for_dev(&edu->dev);
	KUNIT_ASSERT_NOT_NULL(test, domain);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, T1_IOVA),
			page_to_phys(pages[0]));
	for (i = 1; i < T1_PAGES; i++)
		KUNIT_EXPECT_NE(test, iommu_iova_to_phys(domain, T1_IOVA +
							 i * PAGE_SIZE), 0);
	/* The domain's reserved MSI window now constrains new mappings. */
	KUNIT_EXPECT_EQ(test, t1_map(ctx, 0xfee00000, t1_data(ctx), PAGE_SIZE,
				     VFIO_DMA_MAP_FLAG_READ), -EINVAL);

	ops->detach_group(ctx->iommu, edu_group);
	KUNIT_EXPECT_EQ(test, t1_locked_vm(), base + 1);
	iommu_group_release_dma_owner(edu_group);
	iommu_group_put(edu_group);
	pci_dev_put(edu);

	ops->unpin_pages(ctx->iommu, T1_IOVA, 1);
	ctx->pinned = 0;
	KUNIT_EXPECT_EQ(test, t1_locked_vm(), base);
	t1_teardown(ctx, true);
}

static struct kunit_case type1_emulated_cases[] = {
	KUNIT_CASE(pin_charges_once),
	KUNIT_CASE(pin_errors),
	KUNIT_CASE(pin_needs_v2),
	KUNIT_CASE(unmap_notifies_device),
	KUNIT_CASE(dma_rw_roundtrip),
	KUNIT_CASE(top_of_iova_space),
	KUNIT_CASE(emulated_only_container),
	KUNIT_CASE(dirty_from_pins_and_writes),
	KUNIT_CASE(replay_into_first_domain),
	{}
};

static struct kunit_suite type1_emulated_suite = {
	.name = "vfio_iommu_type1_emulated",
	.test_cases = type1_emulated_cases,
};

kunit_test_suite(type1_emulated_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of the type1 backend's emulated-IOMMU hooks");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
