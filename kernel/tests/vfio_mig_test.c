// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suites for two pure helpers both module sets' vfio.ko export to
 * drivers: vfio_mig_get_next_state() and vfio_combine_iova_ranges().
 *
 * Differential: this file is built twice, against our <linux/vfio.h>
 * and against the kernel's own (harness/external.py), and each build is
 * loaded on top of its own set, so the same expectations are checked on
 * our vfio.ko and on upstream's. Where the sets answer differently on
 * purpose, the case says so beside the expectation (VFIO_CLEAN_ROOM_API
 * is defined by our header only).
 */
#include <kunit/test.h>
#include <linux/interval_tree.h>
#include <linux/module.h>
#include <linux/vfio.h>

/* --- vfio_mig_get_next_state() ----------------------------------------- */

/*
 * The expected next state for every (current, requested) pair, one row
 * per current state in enum order (ERROR, STOP, RUNNING, STOP_COPY,
 * RESUMING, RUNNING_P2P, PRE_COPY, PRE_COPY_P2P), one column per
 * requested state in the same order. Letters name states as the legend
 * below; '-' is -EINVAL; '.' a current state the device cannot be in
 * (not asked: both sets WARN on it, a driver bug).
 */
static const char mig_letters[VFIO_DEVICE_STATE_NR] = {
	[VFIO_DEVICE_STATE_ERROR] = 'E',
	[VFIO_DEVICE_STATE_STOP] = 'S',
	[VFIO_DEVICE_STATE_RUNNING] = 'R',
	[VFIO_DEVICE_STATE_STOP_COPY] = 'C',
	[VFIO_DEVICE_STATE_RESUMING] = 'M',
	[VFIO_DEVICE_STATE_RUNNING_P2P] = 'P',
	[VFIO_DEVICE_STATE_PRE_COPY] = 'p',
	[VFIO_DEVICE_STATE_PRE_COPY_P2P] = 'q',
};

struct mig_matrix {
	u32 flags;
	const char *rows[VFIO_DEVICE_STATE_NR];
};

static const struct mig_matrix mig_stop_copy = {
	.flags = VFIO_MIGRATION_STOP_COPY,
	.rows = {
		"........",
		"-SRCM---",
		"-SRSS---",
		"-SSCS---",
		"-SSSM---",
		"........",
		"........",
		"........",
	},
};

static const struct mig_matrix mig_p2p = {
	.flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P,
	.rows = {
		"........",
		"-SPCMP--",
		"-PRPPP--",
		"-SSCSS--",
		"-SSSMS--",
		"-SRSSP--",
		"........",
		"........",
	},
};

static const struct mig_matrix mig_pre_copy = {
	.flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY,
	.rows = {
		"........",
		"-SRCM-R-",
		"-SRSS-p-",
		"-SSCS---",
		"-SSSM-S-",
		"........",
		"-RRCR-p-",
		"........",
	},
};

static const struct mig_matrix mig_p2p_pre_copy = {
	.flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
		 VFIO_MIGRATION_PRE_COPY,
	.rows = {
		"........",
		"-SPCMPPP",
		"-PRPPPpP",
		"-SSCSS--",
		"-SSSMSSS",
		"-SRSSPRq",
		"-RRqRRpq",
		"-PPCPPpq",
	},
};

/* Is from -> to an arc a driver with @flags implements (uAPI header)? */
static bool mig_arc_required(u32 flags, u32 from, u32 to)
{
	bool p2p = flags & VFIO_MIGRATION_P2P;
	bool pre = flags & VFIO_MIGRATION_PRE_COPY;
#define IS(a, b) (from == VFIO_DEVICE_STATE_##a && to == VFIO_DEVICE_STATE_##b)

	if (IS(RESUMING, STOP) || IS(STOP, RESUMING) ||
	    IS(STOP, STOP_COPY) || IS(STOP_COPY, STOP))
		return true;
	if (p2p && (IS(RUNNING, RUNNING_P2P) || IS(RUNNING_P2P, RUNNING) ||
		    IS(RUNNING_P2P, STOP) || IS(STOP, RUNNING_P2P)))
		return true;
	if (!p2p && (IS(RUNNING, STOP) || IS(STOP, RUNNING)))
		return true;
	if (pre && (IS(RUNNING, PRE_COPY) || IS(PRE_COPY, RUNNING)))
		return true;
	if (pre && !p2p && IS(PRE_COPY, STOP_COPY))
		return true;
	if (pre && p2p &&
	    (IS(PRE_COPY, PRE_COPY_P2P) || IS(PRE_COPY_P2P, PRE_COPY) ||
	     IS(PRE_COPY_P2P, RUNNING_P2P) || IS(PRE_COPY_P2P, STOP_COPY) ||
	     IS(RUNNING_P2P, PRE_COPY_P2P)))
		return true;
	return false;
#undef IS
}

static struct vfio_device *mig_fake_device(struct kunit *test, u32 flags)
{
	struct vfio_device *device;

	device = kunit_kzalloc(test, sizeof(*device), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, device);
	device->migration_flags = flags;
	return device;
}

/*
 * Every (current, requested) pair against the matrix; and for each pair
 * that succeeds, the whole walk a driver does: each step an arc it must
 * implement, the requested state reached within the longest combination
 * the protocol has (four arcs).
 */
static void mig_check_matrix(struct kunit *test, const struct mig_matrix *m)
{
	struct vfio_device *device = mig_fake_device(test, m->flags);
	enum vfio_device_mig_state next;
	u32 cur, new, at, steps;
	bool legal;
	int ret;

	for (cur = 0; cur < VFIO_DEVICE_STATE_NR; cur++) {
		for (new = 0; new < VFIO_DEVICE_STATE_NR; new++) {
			char want = m->rows[cur][new];

			if (want == '.')
				continue;
			next = VFIO_DEVICE_STATE_NR;
			ret = vfio_mig_get_next_state(device, cur, new, &next);
			if (want == '-') {
				KUNIT_EXPECT_EQ_MSG(test, ret, -EINVAL,
						    "%u -> %u", cur, new);
				continue;
			}
			KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%u -> %u", cur, new);
			if (ret)
				continue;
			KUNIT_ASSERT_LT(test, next, VFIO_DEVICE_STATE_NR);
			KUNIT_EXPECT_EQ_MSG(test, mig_letters[next], want,
					    "%u -> %u: next %u", cur, new, next);

			for (at = cur, steps = 0; at != new && steps < 5;
			     steps++) {
				ret = vfio_mig_get_next_state(device, at, new,
							      &next);
				KUNIT_ASSERT_EQ(test, ret, 0);
				legal = mig_arc_required(m->flags, at, next);
				KUNIT_EXPECT_TRUE_MSG(test, legal,
						      "%u -> %u steps %u -> %u",
						      cur, new, at, next);
				at = next;
			}
			KUNIT_EXPECT_EQ_MSG(test, at, new, "%u -> %u", cur, new);
			KUNIT_EXPECT_LE(test, steps, 4);
		}
	}
}

/* Requests outside the enum are refused, whatever the device supports. */
static void mig_check_out_of_range(struct kunit *test, u32 flags)
{
	struct vfio_device *device = mig_fake_device(test, flags);
	enum vfio_device_mig_state next;

	int ret;

	ret = vfio_mig_get_next_state(device, VFIO_DEVICE_STATE_RUNNING,
				      VFIO_DEVICE_STATE_NR, &next);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	ret = vfio_mig_get_next_state(device, VFIO_DEVICE_STATE_STOP,
				      0x7fffffff, &next);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
}

static void next_state_stop_copy(struct kunit *test)
{
	mig_check_matrix(test, &mig_stop_copy);
	mig_check_out_of_range(test, mig_stop_copy.flags);
}

static void next_state_p2p(struct kunit *test)
{
	mig_check_matrix(test, &mig_p2p);
	mig_check_out_of_range(test, mig_p2p.flags);
}

static void next_state_pre_copy(struct kunit *test)
{
	mig_check_matrix(test, &mig_pre_copy);
	mig_check_out_of_range(test, mig_pre_copy.flags);
}

static void next_state_p2p_pre_copy(struct kunit *test)
{
	mig_check_matrix(test, &mig_p2p_pre_copy);
	mig_check_out_of_range(test, mig_p2p_pre_copy.flags);
}

/*
 * A driver left in ERROR asks for a way out: the protocol has none but a
 * reset. Ours answers -EINVAL. Intended difference: 6.12 also answers
 * -EINVAL but WARNs first (it treats ERROR as a state no device
 * supports), so the case is not run on upstream.
 */
static void next_state_from_error(struct kunit *test)
{
#ifdef VFIO_CLEAN_ROOM_API
	struct vfio_device *device = mig_fake_device(test,
						     mig_p2p_pre_copy.flags);
	enum vfio_device_mig_state next;
	u32 new;
	int ret;

	for (new = 0; new < VFIO_DEVICE_STATE_NR; new++) {
		ret = vfio_mig_get_next_state(device, VFIO_DEVICE_STATE_ERROR,
					      new, &next);
		KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	}
#else
	kunit_skip(test, "6.12 WARNs on a device in ERROR");
#endif
}

static struct kunit_case next_state_cases[] = {
	KUNIT_CASE(next_state_stop_copy),
	KUNIT_CASE(next_state_p2p),
	KUNIT_CASE(next_state_pre_copy),
	KUNIT_CASE(next_state_p2p_pre_copy),
	KUNIT_CASE(next_state_from_error),
	{}
};

static struct kunit_suite next_state_suite = {
	.name = "vfio_mig_next_state",
	.test_cases = next_state_cases,
};

/* --- vfio_combine_iova_ranges() ---------------------------------------- */

struct iova_range {
	unsigned long start, last;
};

/* Build a tree of @n ranges in nodes the test owns. */
static struct rb_root_cached *ranges_tree(struct kunit *test,
					  const struct iova_range *r, u32 n)
{
	struct rb_root_cached *root;
	struct interval_tree_node *nodes;
	u32 i;

	root = kunit_kzalloc(test, sizeof(*root), GFP_KERNEL);
	nodes = kunit_kcalloc(test, n, sizeof(*nodes), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, root);
	KUNIT_ASSERT_NOT_NULL(test, nodes);
	*root = RB_ROOT_CACHED;
	for (i = 0; i < n; i++) {
		nodes[i].start = r[i].start;
		nodes[i].last = r[i].last;
		interval_tree_insert(&nodes[i], root);
	}
	return root;
}

/* The tree holds exactly @want, in order. */
static void ranges_expect(struct kunit *test, struct rb_root_cached *root,
			  const struct iova_range *want, u32 n)
{
	struct interval_tree_node *node;
	u32 i = 0;

	for (node = interval_tree_iter_first(root, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX), i++) {
		KUNIT_ASSERT_LT(test, i, n);
		KUNIT_EXPECT_EQ_MSG(test, node->start, want[i].start,
				    "range %u", i);
		KUNIT_EXPECT_EQ_MSG(test, node->last, want[i].last,
				    "range %u", i);
	}
	KUNIT_EXPECT_EQ(test, i, n);
}

static void combine_one_range(struct kunit *test)
{
	static const struct iova_range r[] = { { 0x10000, 0x1ffff } };
	struct rb_root_cached *root = ranges_tree(test, r, 1);

	vfio_combine_iova_ranges(root, 1, 1);
	ranges_expect(test, root, r, 1);
}

static void combine_to_one(struct kunit *test)
{
	static const struct iova_range r[] = {
		{ 0x1000, 0x1fff }, { 0x8000, 0x8fff }, { 0x40000, 0x7ffff },
	};
	static const struct iova_range want[] = { { 0x1000, 0x7ffff } };
	struct rb_root_cached *root = ranges_tree(test, r, 3);

	vfio_combine_iova_ranges(root, 3, 1);
	ranges_expect(test, root, want, 1);
}

/* Fewer ranges than given: the closest neighbours are merged first. */
static void combine_fewer_requested(struct kunit *test)
{
	static const struct iova_range r[] = {
		{ 0x00000, 0x00fff },	/* gap 0x4001 to the next */
		{ 0x05000, 0x05fff },	/* gap 0x1001 */
		{ 0x07000, 0x07fff },	/* gap 0x8001 */
		{ 0x10000, 0x10fff },	/* gap 0x2001 */
		{ 0x13000, 0x13fff },
	};
	static const struct iova_range three[] = {
		{ 0x00000, 0x00fff }, { 0x05000, 0x07fff },
		{ 0x10000, 0x13fff },
	};
	static const struct iova_range two[] = {
		{ 0x00000, 0x07fff }, { 0x10000, 0x13fff },
	};
	struct rb_root_cached *root = ranges_tree(test, r, 5);

	vfio_combine_iova_ranges(root, 5, 3);
	ranges_expect(test, root, three, 3);
	vfio_combine_iova_ranges(root, 3, 2);
	ranges_expect(test, root, two, 2);
}

/* As many requested as given: nothing changes. */
static void combine_enough(struct kunit *test)
{
	static const struct iova_range r[] = {
		{ 0x1000, 0x1fff }, { 0x3000, 0x3fff },
	};
	struct rb_root_cached *root = ranges_tree(test, r, 2);

	vfio_combine_iova_ranges(root, 2, 2);
	ranges_expect(test, root, r, 2);
	vfio_combine_iova_ranges(root, 2, 5);
	ranges_expect(test, root, r, 2);
}

/* Adjacent ranges (a gap of one IOVA) are the closest of all. */
static void combine_adjacent(struct kunit *test)
{
	static const struct iova_range r[] = {
		{ 0x0000, 0x0fff }, { 0x3000, 0x3fff }, { 0x4000, 0x4fff },
	};
	static const struct iova_range want[] = {
		{ 0x0000, 0x0fff }, { 0x3000, 0x4fff },
	};
	struct rb_root_cached *root = ranges_tree(test, r, 3);

	vfio_combine_iova_ranges(root, 3, 2);
	ranges_expect(test, root, want, 2);
}

/* Equal gaps: the lowest pair is merged. */
static void combine_tie(struct kunit *test)
{
	static const struct iova_range r[] = {
		{ 0x0000, 0x0fff }, { 0x2000, 0x2fff }, { 0x4000, 0x4fff },
	};
	static const struct iova_range want[] = {
		{ 0x0000, 0x2fff }, { 0x4000, 0x4fff },
	};
	struct rb_root_cached *root = ranges_tree(test, r, 3);

	vfio_combine_iova_ranges(root, 3, 2);
	ranges_expect(test, root, want, 2);
}

/*
 * Overlapping ranges (the core refuses them from users, a driver may
 * build its own): a chain of partial overlaps merges from the low end.
 */
static void combine_overlapping(struct kunit *test)
{
	static const struct iova_range r[] = {
		{ 0x0000, 0x1fff }, { 0x1000, 0x2fff }, { 0x2000, 0x3fff },
	};
	static const struct iova_range two[] = {
		{ 0x0000, 0x2fff }, { 0x2000, 0x3fff },
	};
	static const struct iova_range one[] = { { 0x0000, 0x3fff } };
	struct rb_root_cached *root = ranges_tree(test, r, 3);

	vfio_combine_iova_ranges(root, 3, 2);
	ranges_expect(test, root, two, 2);
	vfio_combine_iova_ranges(root, 2, 1);
	ranges_expect(test, root, one, 1);
}

/*
 * A range containing the next one. Intended difference: ours keeps the
 * wider end; 6.12 takes the end of the last range and so shrinks the
 * result to [0, 0x1fff], losing [0x2000, 0xffff] from tracking.
 */
static void combine_containing(struct kunit *test)
{
	static const struct iova_range r[] = {
		{ 0x0000, 0xffff }, { 0x1000, 0x1fff },
	};
#ifdef VFIO_CLEAN_ROOM_API
	static const struct iova_range want[] = { { 0x0000, 0xffff } };
#else
	static const struct iova_range want[] = { { 0x0000, 0x1fff } };
#endif
	struct rb_root_cached *root = ranges_tree(test, r, 2);

	vfio_combine_iova_ranges(root, 2, 1);
	ranges_expect(test, root, want, 1);
}

/*
 * The combined tree answers narrow queries too (its subtree maxima were
 * kept up to date). Intended difference: 6.12 widens a node in place
 * without re-augmenting the tree, so a lookup past the node's old end
 * finds nothing (checked on upstream as such).
 */
static void combine_tree_stays_valid(struct kunit *test)
{
	static const struct iova_range r[] = {
		{ 0x1000, 0x1fff }, { 0x8000, 0x8fff }, { 0x20000, 0x20fff },
	};
	struct rb_root_cached *root = ranges_tree(test, r, 3);
	struct interval_tree_node *node;

	vfio_combine_iova_ranges(root, 3, 1);
#ifdef VFIO_CLEAN_ROOM_API
	node = interval_tree_iter_first(root, 0x10000, 0x10000);
	KUNIT_ASSERT_NOT_NULL(test, node);
	KUNIT_EXPECT_EQ(test, node->start, 0x1000);
	KUNIT_EXPECT_EQ(test, node->last, 0x20fff);
#else
	/* What 6.12 answers: nothing, though [0x1000, 0x20fff] is there. */
	node = interval_tree_iter_first(root, 0x10000, 0x10000);
	KUNIT_EXPECT_NULL(test, node);
#endif
}

static struct kunit_case combine_cases[] = {
	KUNIT_CASE(combine_one_range),
	KUNIT_CASE(combine_to_one),
	KUNIT_CASE(combine_fewer_requested),
	KUNIT_CASE(combine_enough),
	KUNIT_CASE(combine_adjacent),
	KUNIT_CASE(combine_tie),
	KUNIT_CASE(combine_overlapping),
	KUNIT_CASE(combine_containing),
	KUNIT_CASE(combine_tree_stays_valid),
	{}
};

static struct kunit_suite combine_suite = {
	.name = "vfio_combine_iova_ranges",
	.test_cases = combine_cases,
};

kunit_test_suites(&next_state_suite, &combine_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit: VFIO migration planner and IOVA range combining");
