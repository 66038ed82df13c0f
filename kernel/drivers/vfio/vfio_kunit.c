// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the pure helpers vfio.ko exports to drivers: capability
 * chains and SET_IRQS header validation. Loaded on demand by the test
 * suite, never as part of the module set.
 */
#include <kunit/test.h>
#include <linux/module.h>

#include "vfio.h"

struct test_cap {
	struct vfio_info_cap_header header;
	u32 value;
};

static void cap_add_first(struct kunit *test)
{
	struct vfio_info_cap caps = {};
	struct vfio_info_cap_header *hdr;

	hdr = vfio_info_cap_add(&caps, sizeof(struct test_cap), 7, 2);
	KUNIT_ASSERT_FALSE(test, IS_ERR(hdr));
	KUNIT_EXPECT_PTR_EQ(test, hdr, caps.buf);
	KUNIT_EXPECT_EQ(test, hdr->id, 7);
	KUNIT_EXPECT_EQ(test, hdr->version, 2);
	KUNIT_EXPECT_EQ(test, hdr->next, 0);
	/* 12 bytes padded to 16: the next capability starts aligned. */
	KUNIT_EXPECT_EQ(test, caps.size, 16);
	kfree(caps.buf);
}

static void cap_chain_links_and_shifts(struct kunit *test)
{
	struct vfio_info_cap caps = {};
	struct vfio_info_cap_header *a, *b, *c;

	KUNIT_ASSERT_FALSE(test, IS_ERR(vfio_info_cap_add(&caps, 12, 1, 1)));
	KUNIT_ASSERT_FALSE(test, IS_ERR(vfio_info_cap_add(&caps, 24, 2, 1)));
	KUNIT_ASSERT_FALSE(test, IS_ERR(vfio_info_cap_add(&caps, 8, 3, 1)));
	KUNIT_ASSERT_EQ(test, caps.size, 16 + 24 + 8);

	a = caps.buf;
	KUNIT_EXPECT_EQ(test, a->next, 16);
	b = (void *)caps.buf + a->next;
	KUNIT_EXPECT_EQ(test, b->id, 2);
	KUNIT_EXPECT_EQ(test, b->next, 40);
	c = (void *)caps.buf + b->next;
	KUNIT_EXPECT_EQ(test, c->id, 3);
	KUNIT_EXPECT_EQ(test, c->next, 0);

	/* After the INFO struct's 32 bytes, offsets count from its start. */
	vfio_info_cap_shift(&caps, 32);
	KUNIT_EXPECT_EQ(test, a->next, 48);
	KUNIT_EXPECT_EQ(test, b->next, 72);
	KUNIT_EXPECT_EQ(test, c->next, 0);
	kfree(caps.buf);
}

static void cap_add_capability_copies_the_body(struct kunit *test)
{
	struct test_cap cap = { .header = { .id = 9, .version = 3 },
				.value = 0xdecafbad };
	struct vfio_info_cap caps = {};
	struct test_cap *copy;

	KUNIT_ASSERT_EQ(test, vfio_info_add_capability(&caps, &cap.header,
						       sizeof(cap)), 0);
	copy = (struct test_cap *)caps.buf;
	KUNIT_EXPECT_EQ(test, copy->header.id, 9);
	KUNIT_EXPECT_EQ(test, copy->header.version, 3);
	KUNIT_EXPECT_EQ(test, copy->value, 0xdecafbad);
	kfree(caps.buf);
}

static struct kunit_case vfio_info_cap_cases[] = {
	KUNIT_CASE(cap_add_first),
	KUNIT_CASE(cap_chain_links_and_shifts),
	KUNIT_CASE(cap_add_capability_copies_the_body),
	{}
};

static struct kunit_suite vfio_info_cap_suite = {
	.name = "vfio_info_cap",
	.test_cases = vfio_info_cap_cases,
};

#define MINSZ offsetofend(struct vfio_irq_set, count)

static struct vfio_irq_set irq_hdr(u32 argsz, u32 flags, u32 index,
				   u32 start, u32 count)
{
	return (struct vfio_irq_set){ .argsz = argsz, .flags = flags,
				      .index = index, .start = start,
				      .count = count };
}

static void irqs_header_checks(struct kunit *test)
{
	u32 none = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	struct vfio_irq_set hdr;
	size_t size = 99;

	hdr = irq_hdr(MINSZ - 1, none, 0, 0, 1);
	KUNIT_EXPECT_EQ(test, vfio_set_irqs_validate_and_prepare(&hdr, 1, 5,
								 &size),
			-EINVAL);
	hdr = irq_hdr(MINSZ, none, 5, 0, 1);	/* index past max type */
	KUNIT_EXPECT_EQ(test, vfio_set_irqs_validate_and_prepare(&hdr, 1, 5,
								 &size),
			-EINVAL);
	hdr = irq_hdr(MINSZ, none | BIT(10), 0, 0, 1);	/* unknown flag */
	KUNIT_EXPECT_EQ(test, vfio_set_irqs_validate_and_prepare(&hdr, 1, 5,
								 &size),
			-EINVAL);
	hdr = irq_hdr(MINSZ, none, 0, 0, 1);
	KUNIT_EXPECT_EQ(test, vfio_set_irqs_validate_and_prepare(&hdr, 1, 5,
								 &size), 0);
	KUNIT_EXPECT_EQ(test, size, 0);
}

static void irqs_range_checks(struct kunit *test)
{
	u32 none = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	struct vfio_irq_set hdr;
	size_t size;

	hdr = irq_hdr(MINSZ, none, 0, 4, 1);	/* start past the end */
	KUNIT_EXPECT_EQ(test, vfio_set_irqs_validate_and_prepare(&hdr, 4, 5,
								 &size),
			-EINVAL);
	hdr = irq_hdr(MINSZ, none, 0, 2, 3);	/* runs past the end */
	KUNIT_EXPECT_EQ(test, vfio_set_irqs_validate_and_prepare(&hdr, 4, 5,
								 &size),
			-EINVAL);
	hdr = irq_hdr(MINSZ, none, 0, 1, U32_MAX - 1);	/* wraps */
	KUNIT_EXPECT_EQ(test, vfio_set_irqs_validate_and_prepare(&hdr, 4, 5,
								 &size),
			-EINVAL);
	hdr = irq_hdr(MINSZ, none, 0, 2, 2);
	KUNIT_EXPECT_EQ(test, vfio_set_irqs_validate_and_prepare(&hdr, 4, 5,
								 &size), 0);
}

static void irqs_data_size(struct kunit *test)
{
	u32 bools = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK;
	u32 fds = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	struct vfio_irq_set hdr;
	size_t size;

	hdr = irq_hdr(MINSZ + 3, bools, 0, 0, 3);
	KUNIT_EXPECT_EQ(test, vfio_set_irqs_validate_and_prepare(&hdr, 3, 5,
								 &size), 0);
	KUNIT_EXPECT_EQ(test, size, 3);

	hdr = irq_hdr(MINSZ + 8, fds, 0, 0, 2);
	KUNIT_EXPECT_EQ(test, vfio_set_irqs_validate_and_prepare(&hdr, 3, 5,
								 &size), 0);
	KUNIT_EXPECT_EQ(test, size, 8);

	hdr = irq_hdr(MINSZ + 7, fds, 0, 0, 2);	/* argsz short of the data */
	KUNIT_EXPECT_EQ(test, vfio_set_irqs_validate_and_prepare(&hdr, 3, 5,
								 &size),
			-EINVAL);

	hdr = irq_hdr(MINSZ + 8, fds, 0, 0, 2);	/* data but nowhere to say */
	KUNIT_EXPECT_EQ(test, vfio_set_irqs_validate_and_prepare(&hdr, 3, 5,
								 NULL),
			-EINVAL);

	/* Both data types at once is no data type at all. */
	hdr = irq_hdr(MINSZ + 8, bools | fds, 0, 0, 1);
	KUNIT_EXPECT_EQ(test, vfio_set_irqs_validate_and_prepare(&hdr, 3, 5,
								 &size),
			-EINVAL);
}

static struct kunit_case vfio_set_irqs_cases[] = {
	KUNIT_CASE(irqs_header_checks),
	KUNIT_CASE(irqs_range_checks),
	KUNIT_CASE(irqs_data_size),
	{}
};

static struct kunit_suite vfio_set_irqs_suite = {
	.name = "vfio_set_irqs",
	.test_cases = vfio_set_irqs_cases,
};

kunit_test_suites(&vfio_info_cap_suite, &vfio_set_irqs_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for the VFIO core helpers (clean-room)");
