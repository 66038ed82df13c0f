// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA logging: the VFIO_DEVICE_FEATURE_DMA_LOGGING_START, _STOP and
 * _REPORT features, for drivers whose device tracks the pages it writes
 * (struct vfio_log_ops), and the range-combining helper such drivers use
 * when their tracker holds fewer ranges than the user asked for.
 *
 * The core validates what the user passed and turns the ranges into an
 * interval tree; everything else, including serializing the three calls
 * against each other, is the driver's. A report walks the user's bitmap
 * with the kernel's iova_bitmap iterator (the IOMMUFD namespace), which
 * pins a window of the bitmap at a time and hands each window's IOVA span
 * to the driver, who sets bits with iova_bitmap_set().
 */
#include <linux/interval_tree.h>
#include <linux/iova_bitmap.h>
#include <linux/log2.h>
#include <linux/overflow.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vfio.h"

MODULE_IMPORT_NS(IOMMUFD);

/* The most ranges a START takes: their array fits in one page. */
#define VFIO_LOG_MAX_RANGES \
	(PAGE_SIZE / sizeof(struct vfio_device_feature_dma_logging_range))

/*
 * Make @left cover @right as well and drop @right from @root. @left is
 * re-inserted, as its end is the interval tree's key for the subtree
 * maxima.
 */
static void vfio_merge_iova_nodes(struct rb_root_cached *root,
				  struct interval_tree_node *left,
				  struct interval_tree_node *right)
{
	unsigned long last = max(left->last, right->last);

	interval_tree_remove(right, root);
	interval_tree_remove(left, root);
	left->last = last;
	interval_tree_insert(left, root);
}

/* How far @right starts past the end of @left; 0 when they overlap. */
static unsigned long vfio_iova_gap(struct interval_tree_node *left,
				   struct interval_tree_node *right)
{
	return right->start > left->last ? right->start - left->last : 0;
}

/**
 * vfio_combine_iova_ranges - shrink a set of IOVA ranges to fit a tracker
 * @root: an interval tree of @cur_nodes ranges
 * @cur_nodes: how many ranges @root holds
 * @req_nodes: how many it may hold afterwards, at least 1
 *
 * Merges the two neighbours closest to each other (the lowest such pair
 * on a tie) until @req_nodes remain, so the fewest unrequested IOVAs are
 * tracked; with @req_nodes 1, the single range spans them all. A merged
 * range is the first of the two, widened; the second is removed from
 * @root, and its memory stays the caller's.
 */
void vfio_combine_iova_ranges(struct rb_root_cached *root, u32 cur_nodes,
			      u32 req_nodes)
{
	struct interval_tree_node *node, *prev, *left, *right, *next;
	unsigned long best;

	if (req_nodes == 1) {
		left = interval_tree_iter_first(root, 0, ULONG_MAX);
		if (WARN_ON_ONCE(!left))
			return;
		for (node = interval_tree_iter_next(left, 0, ULONG_MAX); node;
		     node = next) {
			next = interval_tree_iter_next(node, 0, ULONG_MAX);
			vfio_merge_iova_nodes(root, left, node);
		}
		return;
	}

	for (; cur_nodes > req_nodes; cur_nodes--) {
		left = NULL;
		right = NULL;
		best = ULONG_MAX;
		prev = NULL;
		for (node = interval_tree_iter_first(root, 0, ULONG_MAX); node;
		     node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
			if (prev && (!left || vfio_iova_gap(prev, node) < best)) {
				best = vfio_iova_gap(prev, node);
				left = prev;
				right = node;
			}
			prev = node;
		}
		/* Fewer ranges than the caller said: nothing left to merge. */
		if (WARN_ON_ONCE(!left))
			return;
		vfio_merge_iova_nodes(root, left, right);
	}
}
EXPORT_SYMBOL_GPL(vfio_combine_iova_ranges);

/*
 * Read the user's ranges into @nodes and @root, refusing a range that is
 * not page aligned, that wraps or ends past what an unsigned long holds,
 * or that overlaps another.
 */
static int vfio_log_read_ranges(struct vfio_device_feature_dma_logging_control *control,
				struct interval_tree_node *nodes,
				struct rb_root_cached *root)
{
	struct vfio_device_feature_dma_logging_range __user *uranges;
	struct vfio_device_feature_dma_logging_range range;
	u64 end;
	u32 i;

	uranges = u64_to_user_ptr(control->ranges);
	for (i = 0; i < control->num_ranges; i++) {
		if (copy_from_user(&range, &uranges[i], sizeof(range)))
			return -EFAULT;
		if (!IS_ALIGNED(range.iova, control->page_size) ||
		    !IS_ALIGNED(range.length, control->page_size))
			return -EINVAL;
		if (check_add_overflow(range.iova, range.length, &end) ||
		    end > ULONG_MAX)
			return -EOVERFLOW;
		nodes[i].start = range.iova;
		nodes[i].last = range.iova + range.length - 1;
		if (interval_tree_iter_first(root, nodes[i].start,
					     nodes[i].last))
			return -EINVAL;
		interval_tree_insert(&nodes[i], root);
	}
	return 0;
}

/* VFIO_DEVICE_FEATURE_DMA_LOGGING_START: SET, with the ranges to track. */
int vfio_ioctl_device_feature_logging_start(struct vfio_device *device,
					    u32 flags, void __user *arg,
					    size_t argsz)
{
	struct vfio_device_feature_dma_logging_control control;
	struct rb_root_cached root = RB_ROOT_CACHED;
	struct interval_tree_node *nodes;
	int ret;

	if (!device->log_ops)
		return -ENOTTY;
	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET,
				 sizeof(control));
	if (ret != 1)
		return ret;
	if (copy_from_user(&control, arg, sizeof(control)))
		return -EFAULT;
	if (!control.num_ranges)
		return -EINVAL;
	if (control.num_ranges > VFIO_LOG_MAX_RANGES)
		return -E2BIG;

	nodes = kmalloc_array(control.num_ranges, sizeof(*nodes), GFP_KERNEL);
	if (!nodes)
		return -ENOMEM;
	ret = vfio_log_read_ranges(&control, nodes, &root);
	if (ret)
		goto free_nodes;

	/* The driver may answer with the page size it really tracks. */
	ret = device->log_ops->log_start(device, &root, control.num_ranges,
					 &control.page_size);
	if (ret)
		goto free_nodes;
	if (copy_to_user(arg, &control, sizeof(control))) {
		device->log_ops->log_stop(device);
		ret = -EFAULT;
	}
free_nodes:
	kfree(nodes);
	return ret;
}

/* VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP: SET, no data. */
int vfio_ioctl_device_feature_logging_stop(struct vfio_device *device,
					   u32 flags, void __user *arg,
					   size_t argsz)
{
	int ret;

	if (!device->log_ops)
		return -ENOTTY;
	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);
	if (ret != 1)
		return ret;
	return device->log_ops->log_stop(device);
}

/* The iova_bitmap iterator's callback: one window of the report. */
static int vfio_log_report_window(struct iova_bitmap *dirty,
				  unsigned long iova, size_t length,
				  void *opaque)
{
	struct vfio_device *device = opaque;

	return device->log_ops->log_read_and_clear(device, iova, length,
						   dirty);
}

/*
 * VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT: GET the pages written in
 * [iova, iova + length) since the last report, one bit per page_size,
 * into the user's bitmap, and clear them in the tracker.
 */
int vfio_ioctl_device_feature_logging_report(struct vfio_device *device,
					     u32 flags, void __user *arg,
					     size_t argsz)
{
	struct vfio_device_feature_dma_logging_report report;
	struct iova_bitmap *dirty;
	u64 end;
	int ret;

	if (!device->log_ops)
		return -ENOTTY;
	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET,
				 sizeof(report));
	if (ret != 1)
		return ret;
	if (copy_from_user(&report, arg, sizeof(report)))
		return -EFAULT;
	if (report.page_size < SZ_4K || !is_power_of_2(report.page_size))
		return -EINVAL;
	if (check_add_overflow(report.iova, report.length, &end) ||
	    end > ULONG_MAX)
		return -EOVERFLOW;

	dirty = iova_bitmap_alloc(report.iova, report.length,
				  report.page_size,
				  u64_to_user_ptr(report.bitmap));
	if (IS_ERR(dirty))
		return PTR_ERR(dirty);
	ret = iova_bitmap_for_each(dirty, device, vfio_log_report_window);
	iova_bitmap_free(dirty);
	return ret;
}
