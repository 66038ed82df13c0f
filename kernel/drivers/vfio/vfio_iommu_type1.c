// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO type1 IOMMU backend.
 *
 * A container's user maps ranges of its own memory at chosen I/O virtual
 * addresses. Each mapping is pinned once and mapped into every IOMMU
 * domain of the container; the pinned pages are charged to the mapping
 * process's locked_vm. Groups behind an emulated IOMMU (mediated devices)
 * get no domain: their drivers pin single pages on demand instead.
 *
 * Clean-room implementation of the ABI in <uapi/linux/vfio.h> and
 * Documentation/driver-api/vfio.rst.
 */
#include <kunit/visibility.h>
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/iommu.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/rbtree.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vfio.h"
#include "vfio_iommu_type1.h"

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Accept groups whose MSIs the IOMMU does not isolate (unsafe)");

static bool disable_hugepages;
module_param(disable_hugepages, bool, 0644);
MODULE_PARM_DESC(disable_hugepages,
		 "Map one page per IOMMU entry, never a large page");

static unsigned int dma_entry_limit __read_mostly = U16_MAX;
module_param(dma_entry_limit, uint, 0644);
MODULE_PARM_DESC(dma_entry_limit,
		 "Maximum number of DMA mappings per container (65535)");

/* Largest dirty bitmap the user may ask for: INT_MAX pages, in bytes. */
#define TYPE1_DIRTY_BITMAP_BYTES_MAX	(ALIGN((u64)INT_MAX, 64) / 8)

/* Unmap notifications a mapping may need before its pins are gone. */
#define TYPE1_NOTIFY_RETRIES		10
/* Unmap in pieces of this, aligned in IOVA space: no IOMMU page is larger. */
#define TYPE1_UNMAP_CHUNK		SZ_1G

/**
 * struct type1_group - an iommu_group attached to a container
 * @iommu_group: the group
 * @next: in type1_domain.groups, or type1_iommu.emulated
 * @pinned_scope: the group's devices dirty only pages they pin through
 *                vfio_pin_pages(); false for DMA-capable groups until
 *                one of their drivers pins
 */
struct type1_group {
	struct iommu_group *iommu_group;
	struct list_head next;
	bool pinned_scope;
};

/**
 * struct type1_domain - an IOMMU paging domain shared by some groups
 * @domain: the domain; holds every mapping of the container
 * @next: in type1_iommu.domains
 * @groups: type1_group entries attached to @domain
 * @coherent: @domain enforces cache coherency (blocks no-snoop)
 */
struct type1_domain {
	struct iommu_domain *domain;
	struct list_head next;
	struct list_head groups;
	bool coherent;
};

/**
 * struct type1_range - a valid IOVA range, inclusive
 * @start: first address
 * @end: last address
 * @next: in type1_iommu.ranges, sorted, disjoint
 */
struct type1_range {
	dma_addr_t start;
	dma_addr_t end;
	struct list_head next;
};

/**
 * struct type1_pin - a page pinned for an emulated-IOMMU device
 * @node: in type1_dma.pins, keyed by @iova
 * @iova: page-aligned IOVA
 * @page: the pinned page
 * @refs: vfio_pin_pages() calls not yet undone
 */
struct type1_pin {
	struct rb_node node;
	dma_addr_t iova;
	struct page *page;
	unsigned int refs;
};

/**
 * struct type1_extent - a physically contiguous piece of a mapping
 * @phys: physical address of its first byte
 * @len: length in bytes; the piece starts in IOVA space where the
 *       previous extent of the mapping ended
 */
struct type1_extent {
	phys_addr_t phys;
	size_t len;
};

/**
 * struct type1_dma - one VFIO_IOMMU_MAP_DMA mapping
 * @node: in type1_iommu.dmas, keyed by @iova; mappings never overlap
 * @iova: first IOVA
 * @size: length in bytes
 * @vaddr: user address of the first byte, in @mm
 * @prot: IOMMU_READ and/or IOMMU_WRITE
 * @mapped: the pages are pinned and mapped in every domain
 * @vaddr_invalid: VFIO_DMA_UNMAP_FLAG_VADDR was applied; no pinning
 *                 until a VFIO_DMA_MAP_FLAG_VADDR supplies a new @vaddr
 * @lock_cap: the mapping task had CAP_IPC_LOCK: locked_vm is charged but
 *            RLIMIT_MEMLOCK not enforced
 * @task: group leader of the mapping task, whose rlimit applies
 * @mm: the address space @vaddr lives in (mmgrab'ed)
 * @locked: pages charged to @mm's locked_vm for this mapping
 * @pins: type1_pin entries, for emulated-IOMMU devices
 * @bitmap: while dirty tracking, a bit per smallest IOMMU page: pinned
 *          or written since the last report
 * @ext: where the pages pinned and mapped for the domains are, in IOVA
 *       order from @iova: unmapping unpins by these instead of asking an
 *       IOMMU page table page by page
 * @nr_ext: entries of @ext in use
 * @max_ext: entries allocated
 *
 * All fields are protected by type1_iommu.lock.
 */
struct type1_dma {
	struct rb_node node;
	dma_addr_t iova;
	size_t size;
	unsigned long vaddr;
	int prot;
	bool mapped;
	bool vaddr_invalid;
	bool lock_cap;
	struct task_struct *task;
	struct mm_struct *mm;
	long locked;
	struct rb_root pins;
	unsigned long *bitmap;
	struct type1_extent *ext;
	unsigned long nr_ext;
	unsigned long max_ext;
};

/**
 * struct type1_device - an emulated-IOMMU device to tell about unmaps
 * @next: in type1_iommu.devices
 * @vdev: the device; its ops->dma_unmap is called
 */
struct type1_device {
	struct list_head next;
	struct vfio_device *vdev;
};

/**
 * struct type1_iommu - the backend state of one container
 * @lock: protects every field below except @devices
 * @domains: type1_domain entries
 * @emulated: type1_group entries of emulated-IOMMU groups
 * @ranges: type1_range entries the user may map in; empty while only
 *          emulated groups (or none) are attached, meaning "anything"
 * @dmas: type1_dma entries by IOVA
 * @dma_avail: mappings that may still be created
 * @vaddr_invalid_count: mappings with vaddr_invalid set
 * @pgsize_bitmap: page sizes every domain supports, never below PAGE_SIZE
 * @v2: VFIO_TYPE1v2_IOMMU semantics (unmap must not split a mapping)
 * @nesting: VFIO_TYPE1_NESTING_IOMMU: domains are set up for nesting
 * @dirty_tracking: VFIO_IOMMU_DIRTY_PAGES_FLAG_START is in effect
 * @unscoped_groups: groups whose pinned_scope is false; while any is
 *                   attached every mapped page counts as dirty
 * @ndevices: entries in @devices, for checks under @lock alone
 * @devices_lock: protects @devices; held while calling dma_unmap, which
 *                answers with vfio_unpin_pages(), so it may be taken
 *                before @lock, never after
 * @devices: type1_device entries
 */
struct type1_iommu {
	struct mutex lock;		/* the container's mapping state */
	struct list_head domains;
	struct list_head emulated;
	struct list_head ranges;
	struct rb_root dmas;
	unsigned int dma_avail;
	unsigned int vaddr_invalid_count;
	u64 pgsize_bitmap;
	bool v2;
	bool nesting;
	bool dirty_tracking;
	unsigned int unscoped_groups;
	unsigned int ndevices;

	struct mutex devices_lock;	/* @devices; before @lock */
	struct list_head devices;
};

/* --- the mapping tree ------------------------------------------------ */

static inline dma_addr_t dma_last(const struct type1_dma *dma)
{
	return dma->iova + dma->size - 1;
}

/* Any mapping overlapping [start, last]. */
static struct type1_dma *type1_find_dma(struct type1_iommu *iommu,
					dma_addr_t start, dma_addr_t last)
{
	struct rb_node *n = iommu->dmas.rb_node;

	while (n) {
		struct type1_dma *dma = rb_entry(n, struct type1_dma, node);

		if (last < dma->iova)
			n = n->rb_left;
		else if (start > dma_last(dma))
			n = n->rb_right;
		else
			return dma;
	}
	return NULL;
}

/* The lowest mapping that ends at or after @start. */
static struct rb_node *type1_first_from(struct type1_iommu *iommu,
					dma_addr_t start)
{
	struct rb_node *n = iommu->dmas.rb_node, *found = NULL;

	while (n) {
		struct type1_dma *dma = rb_entry(n, struct type1_dma, node);

		if (dma_last(dma) >= start) {
			found = n;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return found;
}

static void type1_link_dma(struct type1_iommu *iommu, struct type1_dma *new)
{
	struct rb_node **link = &iommu->dmas.rb_node, *parent = NULL;

	while (*link) {
		struct type1_dma *dma;

		parent = *link;
		dma = rb_entry(parent, struct type1_dma, node);
		if (new->iova < dma->iova)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&new->node, parent, link);
	rb_insert_color(&new->node, &iommu->dmas);
}

static struct type1_pin *type1_find_pin(struct type1_dma *dma,
					dma_addr_t iova)
{
	struct rb_node *n = dma->pins.rb_node;

	while (n) {
		struct type1_pin *pin = rb_entry(n, struct type1_pin, node);

		if (iova < pin->iova)
			n = n->rb_left;
		else if (iova > pin->iova)
			n = n->rb_right;
		else
			return pin;
	}
	return NULL;
}

static void type1_link_pin(struct type1_dma *dma, struct type1_pin *new)
{
	struct rb_node **link = &dma->pins.rb_node, *parent = NULL;

	while (*link) {
		struct type1_pin *pin;

		parent = *link;
		pin = rb_entry(parent, struct type1_pin, node);
		if (new->iova < pin->iova)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&new->node, parent, link);
	rb_insert_color(&new->node, &dma->pins);
}

/* --- dirty page tracking ----------------------------------------------- */

static unsigned int type1_pgshift(struct type1_iommu *iommu)
{
	return __ffs64(iommu->pgsize_bitmap);
}

/* Note that [@iova, @iova + @len) of @dma may have been written. */
static void type1_mark_dirty(struct type1_iommu *iommu, struct type1_dma *dma,
			     dma_addr_t iova, size_t len)
{
	unsigned int shift = type1_pgshift(iommu);
	unsigned long first, last;

	if (!iommu->dirty_tracking || !len)
		return;
	first = (iova - dma->iova) >> shift;
	last = (iova - dma->iova + len - 1) >> shift;
	bitmap_set(dma->bitmap, first, last - first + 1);
}

/* Start a new record: pages emulated devices still hold count as dirty. */
static void type1_reset_dirty(struct type1_iommu *iommu, struct type1_dma *dma)
{
	struct rb_node *p;

	bitmap_zero(dma->bitmap, dma->size >> type1_pgshift(iommu));
	for (p = rb_first(&dma->pins); p; p = rb_next(p))
		type1_mark_dirty(iommu, dma,
				 rb_entry(p, struct type1_pin, node)->iova,
				 PAGE_SIZE);
}

static int type1_dirty_alloc(struct type1_iommu *iommu, struct type1_dma *dma)
{
	u64 nbits = dma->size >> type1_pgshift(iommu);

	/* bitmap_set() takes an int count of bits. */
	if (nbits > INT_MAX)
		return -EINVAL;
	dma->bitmap = kvcalloc(BITS_TO_LONGS(nbits), sizeof(unsigned long),
			       GFP_KERNEL_ACCOUNT);
	if (!dma->bitmap)
		return -ENOMEM;
	type1_reset_dirty(iommu, dma);
	return 0;
}

static void type1_dirty_free(struct type1_dma *dma)
{
	kvfree(dma->bitmap);
	dma->bitmap = NULL;
}

static int type1_dirty_start(struct type1_iommu *iommu)
{
	struct rb_node *n;
	int ret;

	if (iommu->dirty_tracking)
		return 0;
	iommu->dirty_tracking = true;
	for (n = rb_first(&iommu->dmas); n; n = rb_next(n)) {
		ret = type1_dirty_alloc(iommu, rb_entry(n, struct type1_dma,
							node));
		if (ret)
			goto free_bitmaps;
	}
	return 0;

free_bitmaps:
	while ((n = rb_prev(n)))
		type1_dirty_free(rb_entry(n, struct type1_dma, node));
	iommu->dirty_tracking = false;
	return ret;
}

static void type1_dirty_stop(struct type1_iommu *iommu)
{
	struct rb_node *n;

	for (n = rb_first(&iommu->dmas); n; n = rb_next(n))
		type1_dirty_free(rb_entry(n, struct type1_dma, node));
	iommu->dirty_tracking = false;
}

/* A device that could write anywhere left: all it could reach is dirty. */
static void type1_dirty_all(struct type1_iommu *iommu)
{
	struct rb_node *n;

	if (!iommu->dirty_tracking)
		return;
	for (n = rb_first(&iommu->dmas); n; n = rb_next(n)) {
		struct type1_dma *dma = rb_entry(n, struct type1_dma, node);

		type1_mark_dirty(iommu, dma, dma->iova, dma->size);
	}
}

static int type1_or_user(u64 __user *word, u64 bits)
{
	u64 old;

	if (get_user(old, word) || put_user(old | bits, word))
		return -EFAULT;
	return 0;
}

/*
 * OR @dma's dirty pages into the user's bitmap, whose bit 0 is the page
 * at @base, and start its record afresh. While a group that can DMA
 * without pinning is attached, every mapped page is reported.
 */
static int type1_report_dirty(struct type1_iommu *iommu, struct type1_dma *dma,
			      u64 __user *ubitmap, dma_addr_t base)
{
	unsigned int shift = type1_pgshift(iommu);
	unsigned long nbits = dma->size >> shift;
	unsigned long off = (dma->iova - base) >> shift;
	bool all = iommu->unscoped_groups && dma->mapped;
	unsigned long bit, word = ULONG_MAX;
	u64 val = 0;

	bit = all ? 0 : find_first_bit(dma->bitmap, nbits);
	while (bit < nbits) {
		unsigned long ubit = off + bit;

		if (ubit / 64 != word) {
			if (word != ULONG_MAX &&
			    type1_or_user(ubitmap + word, val))
				return -EFAULT;
			word = ubit / 64;
			val = 0;
		}
		if (all && !(ubit % 64) && bit + 64 <= nbits) {
			val = ~0ULL;
			bit += 64;
			continue;
		}
		val |= 1ULL << (ubit % 64);
		bit = all ? bit + 1 : find_next_bit(dma->bitmap, nbits, bit + 1);
	}
	if (word != ULONG_MAX && type1_or_user(ubitmap + word, val))
		return -EFAULT;
	type1_reset_dirty(iommu, dma);
	return 0;
}

/* A user bitmap of @size bytes must hold @npages bits, within bounds. */
static int type1_check_bitmap_size(u64 npages, u64 size)
{
	if (!npages || !size || size > TYPE1_DIRTY_BITMAP_BYTES_MAX ||
	    size < DIV_ROUND_UP(npages, 64) * 8)
		return -EINVAL;
	return 0;
}

/* --- locked_vm accounting -------------------------------------------- */

/*
 * Charge (@npage > 0) or uncharge @npage pages to the mapping's mm. The
 * limit is the mapping task's RLIMIT_MEMLOCK unless it had CAP_IPC_LOCK.
 * An mm whose process has exited needs no uncharging.
 */
static int type1_charge(struct type1_dma *dma, long npage)
{
	struct mm_struct *mm = dma->mm;
	int ret;

	if (!npage)
		return 0;
	if (!mmget_not_zero(mm))
		return npage > 0 ? -ESRCH : 0;
	ret = mmap_write_lock_killable(mm);
	if (!ret) {
		ret = __account_locked_vm(mm, abs(npage), npage > 0,
					  dma->task, dma->lock_cap);
		mmap_write_unlock(mm);
	}
	mmput(mm);
	if (!ret)
		dma->locked += npage;
	return ret;
}

/* Not ordinary memory: MMIO without a struct page, or a reserved page. */
static bool type1_pfn_reserved(unsigned long pfn)
{
	return !pfn_valid(pfn) || PageReserved(pfn_to_page(pfn));
}

/*
 * Reserved pages (the zero page, MMIO) are not the user's memory and are
 * never charged; neither are pages an emulated device pinned already.
 */
static bool type1_page_chargeable(struct type1_dma *dma, struct page *page,
				  dma_addr_t iova)
{
	if (PageReserved(page))
		return false;
	return RB_EMPTY_ROOT(&dma->pins) || !type1_find_pin(dma, iova);
}

/* --- pinning and IOMMU mapping --------------------------------------- */

/* Room for one more extent in @dma: doubles, so appending is amortized. */
static int type1_ext_reserve(struct type1_dma *dma)
{
	struct type1_extent *ext;
	unsigned long max;

	if (dma->nr_ext < dma->max_ext)
		return 0;
	max = max(2 * dma->max_ext, 4UL);
	ext = kvrealloc(dma->ext, array_size(max, sizeof(*ext)),
			GFP_KERNEL_ACCOUNT);
	if (!ext)
		return -ENOMEM;
	dma->ext = ext;
	dma->max_ext = max;
	return 0;
}

/*
 * Record that the next @len bytes of @dma (in IOVA order) are at @phys,
 * after type1_ext_reserve(). Physically adjacent pieces merge.
 */
static void type1_ext_add(struct type1_dma *dma, phys_addr_t phys,
			  size_t len)
{
	struct type1_extent *last;

	if (dma->nr_ext) {
		last = &dma->ext[dma->nr_ext - 1];
		if (last->phys + last->len == phys) {
			last->len += len;
			return;
		}
	}
	dma->ext[dma->nr_ext].phys = phys;
	dma->ext[dma->nr_ext].len = len;
	dma->nr_ext++;
}

/* Give back the room doubling left unused, once @dma is all pinned. */
static void type1_ext_trim(struct type1_dma *dma)
{
	struct type1_extent *ext;

	if (!dma->nr_ext || dma->max_ext - dma->nr_ext <= dma->nr_ext / 4)
		return;
	ext = kvrealloc(dma->ext, array_size(dma->nr_ext, sizeof(*ext)),
			GFP_KERNEL_ACCOUNT);
	if (!ext)
		return;
	dma->ext = ext;
	dma->max_ext = dma->nr_ext;
}

static void type1_ext_free(struct type1_dma *dma)
{
	kvfree(dma->ext);
	dma->ext = NULL;
	dma->nr_ext = 0;
	dma->max_ext = 0;
}

static int type1_map_run(struct type1_iommu *iommu, struct type1_domain *only,
			 dma_addr_t iova, phys_addr_t phys, size_t len,
			 int prot)
{
	struct type1_domain *d;
	int ret;

	if (only)
		return iommu_map(only->domain, iova, phys, len,
				 prot | IOMMU_CACHE, GFP_KERNEL_ACCOUNT);

	list_for_each_entry(d, &iommu->domains, next) {
		ret = iommu_map(d->domain, iova, phys, len, prot | IOMMU_CACHE,
				GFP_KERNEL_ACCOUNT);
		if (ret)
			goto unmap_mapped_domains;
	}
	return 0;

unmap_mapped_domains:
	list_for_each_entry_continue_reverse(d, &iommu->domains, next)
		iommu_unmap(d->domain, iova, len);
	return ret;
}

/*
 * The pfn behind @vaddr in a VM_PFNMAP mapping (another device's BAR, for
 * peer-to-peer DMA): no struct page to pin, so only MMIO is accepted.
 * Called with @mm's mmap lock held for read; faulting the pfn in may drop
 * and retake it, hence the fresh lookup each round.
 */
static int type1_pfnmap_pfn(struct mm_struct *mm, unsigned long vaddr,
			    bool write, unsigned long *pfn)
{
	struct follow_pfnmap_args args = { .address = vaddr };
	struct vm_area_struct *vma;
	bool unlocked;
	int ret;

again:
	vma = vma_lookup(mm, vaddr);
	if (!vma || !(vma->vm_flags & VM_PFNMAP))
		return -EFAULT;
	args.vma = vma;
	ret = follow_pfnmap_start(&args);
	if (ret) {
		unlocked = false;
		ret = fixup_user_fault(mm, vaddr, FAULT_FLAG_REMOTE |
				       (write ? FAULT_FLAG_WRITE : 0),
				       &unlocked);
		if (unlocked)
			goto again;
		if (ret)
			return ret;
		ret = follow_pfnmap_start(&args);
		if (ret)
			return ret;
	}
	if (write && !args.writable)
		ret = -EFAULT;
	else
		*pfn = args.pfn;
	follow_pfnmap_end(&args);
	if (!ret && !type1_pfn_reserved(*pfn))
		ret = -EFAULT;
	return ret;
}

/*
 * Pin up to @want pages at @vaddr of @mm under its mmap lock. Returns how
 * many were pinned; 0 when the first page is in a VM_PFNMAP mapping
 * instead, with its pfn in *@pfn; or an errno.
 */
static long type1_pin_remote(struct mm_struct *mm, unsigned long vaddr,
			     long want, unsigned int gup, struct page **pages,
			     unsigned long *pfn)
{
	long got;
	int ret;

	mmap_read_lock(mm);
	got = pin_user_pages_remote(mm, vaddr, want, gup, pages, NULL);
	if (got <= 0) {
		ret = type1_pfnmap_pfn(mm, vaddr, gup & FOLL_WRITE, pfn);
		if (ret)
			got = got < 0 ? got : ret;
		else
			got = 0;
	}
	mmap_read_unlock(mm);
	return got;
}

/* Unpin @npage pages of a batch, marking them dirty if writable. */
static void type1_unpin_batch(struct type1_dma *dma, struct page **pages,
			      long npage)
{
	unpin_user_pages_dirty_lock(pages, npage, dma->prot & IOMMU_WRITE);
}

/*
 * Pin all of @dma and map it into @only, or into every domain when @only
 * is NULL. Pages come from the mapping's mm in batches of a page of
 * pointers; each physically contiguous run (a folio, a hugepage) is
 * mapped with one iommu_map() so the IOMMU can use large pages, and
 * recorded in @dma's extents. On failure the extents say what is pinned
 * and mapped: type1_unmap_unpin() undoes it.
 */
static int type1_pin_map(struct type1_iommu *iommu, struct type1_dma *dma,
			 struct type1_domain *only)
{
	const long batch = PAGE_SIZE / sizeof(struct page *);
	unsigned int gup = FOLL_LONGTERM;
	struct mm_struct *mm = dma->mm;
	bool fast = mm == current->mm;
	struct page **pages;
	size_t done = 0;
	int ret = 0;

	if (dma->prot & IOMMU_WRITE)
		gup |= FOLL_WRITE;

	pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	if (!mmget_not_zero(mm)) {
		ret = -ENODEV;
		goto free_batch;
	}

	while (done < dma->size) {
		unsigned long vaddr = dma->vaddr + done;
		dma_addr_t iova = dma->iova + done;
		long want = min_t(long, (dma->size - done) >> PAGE_SHIFT, batch);
		long got, i, j, charge = 0;
		unsigned long pfn;

		cond_resched();
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}

		/*
		 * In the mapping's own task, GUP-fast pins resident pages
		 * without the mmap lock or a page table walk per page. What
		 * it cannot pin without a fault (FOLL_NOFAULT: a page not
		 * present, userfaultfd, MMIO, a page it refuses) goes the
		 * remote way, so which pages are accepted and how a fault is
		 * taken do not depend on the task.
		 */
		got = fast ? pin_user_pages_fast(vaddr, want,
						 gup | FOLL_NOFAULT, pages) : 0;
		if (got <= 0)
			got = type1_pin_remote(mm, vaddr, want, gup, pages,
					       &pfn);
		if (got < 0) {
			ret = got;
			break;
		}
		if (!got) {
			/* No page to pin: MMIO, mapped as is, uncharged. */
			ret = type1_ext_reserve(dma);
			if (!ret)
				ret = type1_map_run(iommu, only, iova,
						    PFN_PHYS(pfn), PAGE_SIZE,
						    dma->prot);
			if (ret)
				break;
			type1_ext_add(dma, PFN_PHYS(pfn), PAGE_SIZE);
			done += PAGE_SIZE;
			continue;
		}

		for (i = 0; i < got; i++)
			if (type1_page_chargeable(dma, pages[i],
						  iova + (i << PAGE_SHIFT)))
				charge++;
		ret = type1_charge(dma, charge);
		if (ret) {
			type1_unpin_batch(dma, pages, got);
			break;
		}

		for (i = 0; i < got; i = j) {
			pfn = page_to_pfn(pages[i]);
			for (j = i + 1; j < got && !disable_hugepages; j++)
				if (page_to_pfn(pages[j]) != pfn + (j - i))
					break;
			ret = type1_ext_reserve(dma);
			if (!ret)
				ret = type1_map_run(iommu, only,
						    iova + (i << PAGE_SHIFT),
						    PFN_PHYS(pfn),
						    (j - i) << PAGE_SHIFT,
						    dma->prot);
			if (ret)
				break;
			type1_ext_add(dma, PFN_PHYS(pfn), (j - i) << PAGE_SHIFT);
		}
		if (ret) {
			/* Pages [i, got) were pinned and charged, not mapped. */
			for (j = i, charge = 0; j < got; j++)
				if (type1_page_chargeable(dma, pages[j],
							  iova + (j << PAGE_SHIFT)))
					charge++;
			type1_charge(dma, -charge);
			type1_unpin_batch(dma, pages + i, got - i);
			break;
		}
		done += got << PAGE_SHIFT;
	}
	if (!ret)
		type1_ext_trim(dma);

	mmput(mm);
free_batch:
	free_page((unsigned long)pages);
	return ret;
}

/* Pages of the @npage at @iova that an emulated device pinned too. */
static long type1_pinned_in(struct type1_dma *dma, dma_addr_t iova,
			    unsigned long npage)
{
	unsigned long i;
	long n = 0;

	if (RB_EMPTY_ROOT(&dma->pins))
		return 0;
	for (i = 0; i < npage; i++)
		if (type1_find_pin(dma, iova + (i << PAGE_SHIFT)))
			n++;
	return n;
}

/*
 * Unpin a physically contiguous run that was mapped at @iova and return
 * how many of its pages were charged. MMIO and reserved pages were never
 * pinned (GUP takes no reference on the zero page); a large folio is
 * ordinary memory throughout, so it is stepped over whole.
 */
static long type1_release_run(struct type1_dma *dma, dma_addr_t iova,
			      phys_addr_t phys, size_t len)
{
	unsigned long pfn = PHYS_PFN(phys), n = len >> PAGE_SHIFT, i, j;
	long uncharge = 0;

	for (i = 0; i < n; i = j) {
		if (type1_pfn_reserved(pfn + i)) {
			j = i + 1;
			continue;
		}
		j = i;
		do {
			struct page *page = pfn_to_page(pfn + j);
			struct folio *folio = page_folio(page);

			j += min_t(unsigned long, n - j,
				   folio_nr_pages(folio) -
				   folio_page_idx(folio, page));
		} while (j < n && !type1_pfn_reserved(pfn + j));

		uncharge += (j - i) - type1_pinned_in(dma, iova +
						       (i << PAGE_SHIFT), j - i);
		unpin_user_page_range_dirty_lock(pfn_to_page(pfn + i), j - i,
						 dma->prot & IOMMU_WRITE);
	}
	return uncharge;
}

/*
 * Clear @len bytes at @iova from @domain with one IOTLB flush at the end,
 * in pieces that end on TYPE1_UNMAP_CHUNK boundaries of the IOVA space
 * (no IOMMU page is larger, so none is split), rescheduling between
 * pieces: a large fragmented mapping is a long page table walk.
 */
static void type1_unmap_domain(struct iommu_domain *domain, dma_addr_t iova,
			       size_t len)
{
	struct iommu_iotlb_gather gather;
	size_t off = 0;

	iommu_iotlb_gather_init(&gather);
	/* Offsets, not end addresses: iova + len may wrap to 0 at the top. */
	while (off < len) {
		dma_addr_t at = iova + off;
		size_t piece = min_t(u64, len - off, TYPE1_UNMAP_CHUNK -
				     (at & (TYPE1_UNMAP_CHUNK - 1)));

		WARN_ON_ONCE(iommu_unmap_fast(domain, at, piece, &gather) <
			     piece);
		off += piece;
		cond_resched();
	}
	iommu_iotlb_sync(domain, &gather);
}

/*
 * Remove what @dma has pinned and mapped from every domain, then unpin
 * it. One iommu_unmap() per domain clears the whole range and flushes
 * the IOTLB once, before any page is unpinned (a device may use a page
 * until then); the extents say which pages to unpin, so no IOMMU page
 * table is walked page by page.
 */
static void type1_unmap_unpin(struct type1_iommu *iommu, struct type1_dma *dma)
{
	struct type1_domain *d;
	size_t len = 0, off = 0;
	long uncharge = 0;
	unsigned long i;

	for (i = 0; i < dma->nr_ext; i++)
		len += dma->ext[i].len;

	if (len)
		list_for_each_entry(d, &iommu->domains, next)
			type1_unmap_domain(d->domain, dma->iova, len);

	for (i = 0; i < dma->nr_ext; i++) {
		struct type1_extent *e = &dma->ext[i];

		uncharge += type1_release_run(dma, dma->iova + off, e->phys,
					      e->len);
		off += e->len;
		cond_resched();
	}
	type1_ext_free(dma);
	type1_charge(dma, -uncharge);
}

/* Drop every emulated-device pin left on @dma. */
static void type1_drop_pins(struct type1_iommu *iommu, struct type1_dma *dma)
{
	bool charged = list_empty(&iommu->domains);
	struct rb_node *n;

	while ((n = rb_first(&dma->pins))) {
		struct type1_pin *pin = rb_entry(n, struct type1_pin, node);

		rb_erase(n, &dma->pins);
		unpin_user_pages_dirty_lock(&pin->page, 1,
					    dma->prot & IOMMU_WRITE);
		if (charged && !PageReserved(pin->page))
			type1_charge(dma, -1);
		kfree(pin);
	}
}

/*
 * The one way a mapping leaves the tree: everything derived from it
 * (pins, locked_vm, dirty bitmap, the stale-vaddr count, the entry
 * limit) is given back here.
 */
static void type1_remove_dma(struct type1_iommu *iommu, struct type1_dma *dma)
{
	WARN_ON(!RB_EMPTY_ROOT(&dma->pins));
	type1_drop_pins(iommu, dma);
	type1_dirty_free(dma);
	if (dma->mapped)
		type1_unmap_unpin(iommu, dma);
	type1_ext_free(dma);
	if (dma->vaddr_invalid)
		iommu->vaddr_invalid_count--;
	rb_erase(&dma->node, &iommu->dmas);
	put_task_struct(dma->task);
	mmdrop(dma->mm);
	kfree(dma);
	iommu->dma_avail++;
}

/* --- emulated-device notification ------------------------------------ */

/*
 * Ask every registered device to let go of [@iova, @iova + @size).
 * Called with @iommu->lock held; drops it while the devices run, since
 * they answer with vfio_unpin_pages(), which takes it.
 */
static void type1_notify_unmap(struct type1_iommu *iommu, dma_addr_t iova,
			       size_t size)
	__must_hold(&iommu->lock)
{
	struct type1_device *dev;

	mutex_unlock(&iommu->lock);
	mutex_lock(&iommu->devices_lock);
	list_for_each_entry(dev, &iommu->devices, next)
		dev->vdev->ops->dma_unmap(dev->vdev, iova, size);
	mutex_unlock(&iommu->devices_lock);
	mutex_lock(&iommu->lock);
}

/* --- IOVA ranges ------------------------------------------------------ */

static int type1_range_add(struct list_head *before, dma_addr_t start,
			   dma_addr_t end)
{
	struct type1_range *r = kmalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return -ENOMEM;
	r->start = start;
	r->end = end;
	list_add_tail(&r->next, before);
	return 0;
}

static void type1_ranges_free(struct list_head *ranges)
{
	struct type1_range *r, *tmp;

	list_for_each_entry_safe(r, tmp, ranges, next) {
		list_del(&r->next);
		kfree(r);
	}
}

static int type1_ranges_copy(struct list_head *dst, struct list_head *src)
{
	struct type1_range *r;

	list_for_each_entry(r, src, next) {
		if (type1_range_add(dst, r->start, r->end)) {
			type1_ranges_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Clip @ranges to the aperture [@start, @end]; empty means everything. */
static int type1_ranges_clip(struct list_head *ranges, dma_addr_t start,
			     dma_addr_t end)
{
	struct type1_range *r, *tmp;

	if (list_empty(ranges))
		return type1_range_add(ranges, start, end);

	list_for_each_entry_safe(r, tmp, ranges, next) {
		if (r->end < start || r->start > end) {
			list_del(&r->next);
			kfree(r);
			continue;
		}
		r->start = max(r->start, start);
		r->end = min(r->end, end);
	}
	return 0;
}

/* Cut the reserved regions out of @ranges; -EINVAL if nothing is left. */
static int type1_ranges_exclude(struct list_head *ranges,
				struct list_head *resv)
{
	struct iommu_resv_region *region;
	struct type1_range *r, *tmp;
	int ret;

	list_for_each_entry(region, resv, list) {
		dma_addr_t start = region->start;
		dma_addr_t end = region->start + region->length - 1;

		/* The device may keep using these across the attach. */
		if (region->type == IOMMU_RESV_DIRECT_RELAXABLE)
			continue;

		list_for_each_entry_safe(r, tmp, ranges, next) {
			if (end < r->start || start > r->end)
				continue;
			if (start > r->start) {
				ret = type1_range_add(&r->next, r->start,
						      start - 1);
				if (ret)
					return ret;
			}
			if (end < r->end) {
				ret = type1_range_add(&r->next, end + 1,
						      r->end);
				if (ret)
					return ret;
			}
			list_del(&r->next);
			kfree(r);
		}
	}
	return list_empty(ranges) ? -EINVAL : 0;
}

/* Is [@start, @last] inside one valid range? */
static bool type1_iova_valid(struct type1_iommu *iommu, dma_addr_t start,
			     dma_addr_t last)
{
	struct type1_range *r;

	if (list_empty(&iommu->ranges))
		return true;
	list_for_each_entry(r, &iommu->ranges, next)
		if (start >= r->start && last <= r->end)
			return true;
	return false;
}

/* Would the aperture [@start, @end] leave an existing mapping outside? */
static bool type1_aperture_conflict(struct type1_iommu *iommu,
				    dma_addr_t start, dma_addr_t end)
{
	struct rb_node *first = rb_first(&iommu->dmas);
	struct rb_node *last = rb_last(&iommu->dmas);

	if (!first)
		return false;
	return rb_entry(first, struct type1_dma, node)->iova < start ||
	       dma_last(rb_entry(last, struct type1_dma, node)) > end;
}

static bool type1_resv_conflict(struct type1_iommu *iommu,
				struct list_head *resv)
{
	struct iommu_resv_region *region;

	list_for_each_entry(region, resv, list) {
		if (region->type == IOMMU_RESV_DIRECT_RELAXABLE)
			continue;
		if (type1_find_dma(iommu, region->start,
				   region->start + region->length - 1))
			return true;
	}
	return false;
}

static void type1_resv_free(struct list_head *resv)
{
	struct iommu_resv_region *region, *tmp;

	list_for_each_entry_safe(region, tmp, resv, list) {
		list_del(&region->list);
		kfree(region);
	}
}

/*
 * Recompute the valid ranges from the remaining domains' apertures and
 * groups' reserved regions, after a group left.
 */
static void type1_ranges_rebuild(struct type1_iommu *iommu)
{
	dma_addr_t start = 0, end = ~(dma_addr_t)0;
	struct type1_domain *d;
	struct type1_group *g;
	LIST_HEAD(resv);
	LIST_HEAD(ranges);

	if (list_empty(&iommu->domains)) {
		/* As upstream: once shaped, the space reopens whole. */
		if (!list_empty(&iommu->ranges)) {
			type1_ranges_free(&iommu->ranges);
			type1_range_add(&iommu->ranges, 0, ~(dma_addr_t)0);
		}
		return;
	}
	list_for_each_entry(d, &iommu->domains, next) {
		start = max(start, d->domain->geometry.aperture_start);
		end = min(end, d->domain->geometry.aperture_end);
		list_for_each_entry(g, &d->groups, next)
			if (iommu_get_group_resv_regions(g->iommu_group, &resv))
				goto keep_old_ranges;
	}
	if (type1_range_add(&ranges, start, end) ||
	    type1_ranges_exclude(&ranges, &resv)) {
		type1_ranges_free(&ranges);
		goto keep_old_ranges;
	}
	type1_ranges_free(&iommu->ranges);
	list_splice(&ranges, &iommu->ranges);
keep_old_ranges:
	type1_resv_free(&resv);
}

static void type1_update_pgsizes(struct type1_iommu *iommu)
{
	struct type1_domain *d;
	u64 bitmap = ULONG_MAX;

	list_for_each_entry(d, &iommu->domains, next)
		bitmap &= d->domain->pgsize_bitmap;
	/* Pinning works in CPU pages: hide smaller IOMMU pages. */
	if (bitmap & ~PAGE_MASK)
		bitmap = (bitmap & PAGE_MASK) | PAGE_SIZE;
	iommu->pgsize_bitmap = bitmap;
}

/* --- groups ------------------------------------------------------------ */

static struct type1_group *type1_find_group(struct type1_iommu *iommu,
					    struct iommu_group *iommu_group,
					    struct type1_domain **domain)
{
	struct type1_domain *d;
	struct type1_group *g;

	list_for_each_entry(d, &iommu->domains, next) {
		list_for_each_entry(g, &d->groups, next) {
			if (g->iommu_group == iommu_group) {
				if (domain)
					*domain = d;
				return g;
			}
		}
	}
	list_for_each_entry(g, &iommu->emulated, next) {
		if (g->iommu_group == iommu_group) {
			if (domain)
				*domain = NULL;
			return g;
		}
	}
	return NULL;
}

static int type1_first_dev(struct device *dev, void *data)
{
	*(struct device **)data = dev;
	return 1;
}

/*
 * Put every existing mapping into the new domain @domain. The pages come
 * from the mappings' extents when another domain holds them pinned, else
 * they are pinned now.
 */
static int type1_replay(struct type1_iommu *iommu, struct type1_domain *domain)
{
	bool pinned = !list_is_singular(&iommu->domains);
	struct rb_node *n;
	int ret = 0;

	for (n = rb_first(&iommu->dmas); n; n = rb_next(n)) {
		struct type1_dma *dma = rb_entry(n, struct type1_dma, node);
		unsigned long i;
		size_t off = 0;

		if (!pinned) {
			ret = type1_pin_map(iommu, dma, domain);
			if (ret) {
				/* @domain is the only one: unpin through it. */
				type1_unmap_unpin(iommu, dma);
				goto unwind;
			}
			continue;
		}

		/* By offset: iova + size wraps for a mapping at the top. */
		for (i = 0; i < dma->nr_ext; i++) {
			struct type1_extent *e = &dma->ext[i];

			ret = iommu_map(domain->domain, dma->iova + off, e->phys,
					e->len, dma->prot | IOMMU_CACHE,
					GFP_KERNEL_ACCOUNT);
			if (ret) {
				if (off)
					iommu_unmap(domain->domain, dma->iova,
						    off);
				goto unwind;
			}
			off += e->len;
			cond_resched();
		}
	}

	for (n = rb_first(&iommu->dmas); n; n = rb_next(n))
		rb_entry(n, struct type1_dma, node)->mapped = true;
	return 0;

unwind:
	/* @n failed and is clean; undo the mappings before it. */
	for (n = rb_prev(n); n; n = rb_prev(n)) {
		struct type1_dma *dma = rb_entry(n, struct type1_dma, node);

		if (pinned)
			iommu_unmap(domain->domain, dma->iova, dma->size);
		else
			type1_unmap_unpin(iommu, dma);
	}
	return ret;
}

static int type1_attach_emulated(struct type1_iommu *iommu,
				 struct iommu_group *iommu_group)
{
	struct type1_group *group = kzalloc(sizeof(*group), GFP_KERNEL);

	if (!group)
		return -ENOMEM;
	group->iommu_group = iommu_group;
	group->pinned_scope = true;
	list_add(&group->next, &iommu->emulated);
	return 0;
}

/*
 * Move the freshly attached @group from its own @domain to an existing
 * compatible one, if any accepts it. Returns true when it moved.
 */
static bool type1_share_domain(struct type1_iommu *iommu,
			       struct type1_domain *domain,
			       struct type1_group *group)
{
	struct type1_domain *d;

	list_for_each_entry(d, &iommu->domains, next) {
		if (d->domain->ops != domain->domain->ops ||
		    d->coherent != domain->coherent)
			continue;
		iommu_detach_group(domain->domain, group->iommu_group);
		if (!iommu_attach_group(d->domain, group->iommu_group)) {
			list_add(&group->next, &d->groups);
			return true;
		}
		/* Back to its own domain; that attach worked before. */
		if (WARN_ON(iommu_attach_group(domain->domain,
					       group->iommu_group)))
			return false;
	}
	return false;
}

/**
 * struct type1_attach - a group's attachment while it is being made
 * @domain: a new domain holding the group, until committed or shared
 * @ranges: the container's usable IOVA ranges with the group in
 * @resv: the group's reserved regions
 * @sw_msi: the group needs a software-managed MSI window, at @msi_base
 * @msi_base: the IOVA of that window
 *
 * Lives on the stack of type1_attach_group(), under iommu->lock.
 */
struct type1_attach {
	struct type1_domain *domain;
	struct list_head ranges;
	struct list_head resv;
	bool sw_msi;
	phys_addr_t msi_base;
};

/* Step 1: a new IOMMU domain with the group attached to it. */
static int type1_attach_domain(struct type1_iommu *iommu,
			       struct type1_attach *a,
			       struct iommu_group *iommu_group)
{
	struct type1_domain *domain;
	struct device *dev = NULL;
	int ret;

	domain = kzalloc(sizeof(*domain), GFP_KERNEL);
	if (!domain)
		return -ENOMEM;
	INIT_LIST_HEAD(&domain->groups);

	ret = -ENODEV;
	iommu_group_for_each_dev(iommu_group, &dev, type1_first_dev);
	if (!dev)
		goto free_domain;
	domain->domain = iommu_paging_domain_alloc(dev);
	if (IS_ERR(domain->domain)) {
		ret = PTR_ERR(domain->domain);
		goto free_domain;
	}
	if (iommu->nesting) {
		ret = iommu_enable_nesting(domain->domain);
		if (ret)
			goto free_iommu_domain;
	}
	ret = iommu_attach_group(domain->domain, iommu_group);
	if (ret)
		goto free_iommu_domain;

	/* Block no-snoop whenever the IOMMU can: KVM can then skip wbinvd. */
	if (domain->domain->ops->enforce_cache_coherency)
		domain->coherent =
			domain->domain->ops->enforce_cache_coherency(domain->domain);
	a->domain = domain;
	return 0;

free_iommu_domain:
	iommu_domain_free(domain->domain);
free_domain:
	kfree(domain);
	return ret;
}

/* Undo type1_attach_domain(). */
static void type1_attach_domain_undo(struct type1_attach *a,
				     struct iommu_group *iommu_group)
{
	iommu_detach_group(a->domain->domain, iommu_group);
	iommu_domain_free(a->domain->domain);
	kfree(a->domain);
	a->domain = NULL;
}

/* Undo type1_attach_check(). */
static void type1_attach_check_undo(struct type1_attach *a)
{
	type1_ranges_free(&a->ranges);
	type1_resv_free(&a->resv);
}

/*
 * Step 2: the new domain's aperture and the group's reserved regions must
 * spare every mapping, and the group's MSIs must be isolated (unless the
 * administrator allowed otherwise). Works out the ranges left.
 */
static int type1_attach_check(struct type1_iommu *iommu,
			      struct type1_attach *a,
			      struct iommu_group *iommu_group)
{
	struct iommu_domain_geometry *geo = &a->domain->domain->geometry;
	struct iommu_resv_region *region;
	int ret;

	if (type1_aperture_conflict(iommu, geo->aperture_start,
				    geo->aperture_end))
		return -EINVAL;
	ret = iommu_get_group_resv_regions(iommu_group, &a->resv);
	if (ret)
		goto undo;
	ret = -EINVAL;
	if (type1_resv_conflict(iommu, &a->resv))
		goto undo;
	ret = type1_ranges_copy(&a->ranges, &iommu->ranges);
	if (!ret)
		ret = type1_ranges_clip(&a->ranges, geo->aperture_start,
					geo->aperture_end);
	if (!ret)
		ret = type1_ranges_exclude(&a->ranges, &a->resv);
	if (ret)
		goto undo;

	list_for_each_entry(region, &a->resv, list) {
		if (region->type == IOMMU_RESV_SW_MSI) {
			a->sw_msi = true;
			a->msi_base = region->start;
		}
	}
	if (!allow_unsafe_interrupts &&
	    !iommu_group_has_isolated_msi(iommu_group)) {
		pr_warn("vfio_iommu_type1: group without interrupt remapping refused; allow_unsafe_interrupts=1 overrides\n");
		ret = -EPERM;
		goto undo;
	}
	return 0;

undo:
	type1_attach_check_undo(a);
	return ret;
}

/*
 * Step 3: put the group in the container. A domain with the same IOMMU
 * ops and coherency takes it, and the new domain goes; otherwise the new
 * domain joins the container with every mapping replayed into it.
 */
static int type1_attach_commit(struct type1_iommu *iommu,
			       struct type1_attach *a,
			       struct type1_group *group)
{
	struct type1_domain *domain = a->domain;
	int ret;

	if (type1_share_domain(iommu, domain, group)) {
		/* type1_share_domain() moved the group off it. */
		iommu_domain_free(domain->domain);
		kfree(domain);
		a->domain = NULL;
		return 0;
	}

	if (a->sw_msi) {
		ret = iommu_get_msi_cookie(domain->domain, a->msi_base);
		if (ret && ret != -ENODEV)
			return ret;
	}
	list_add(&group->next, &domain->groups);
	list_add_tail(&domain->next, &iommu->domains);
	ret = type1_replay(iommu, domain);
	if (ret) {
		list_del(&domain->next);
		list_del(&group->next);
		return ret;
	}
	type1_update_pgsizes(iommu);
	return 0;
}

static int type1_attach_group(void *iommu_data, struct iommu_group *iommu_group,
			      enum vfio_group_type type)
{
	struct type1_iommu *iommu = iommu_data;
	struct type1_attach a = {};
	struct type1_group *group;
	int ret;

	INIT_LIST_HEAD(&a.ranges);
	INIT_LIST_HEAD(&a.resv);
	mutex_lock(&iommu->lock);

	/* Attaching may pin, which needs valid vaddrs. */
	ret = -EBUSY;
	if (iommu->vaddr_invalid_count)
		goto out_unlock;
	ret = -EINVAL;
	if (type1_find_group(iommu, iommu_group, NULL))
		goto out_unlock;

	if (type == VFIO_EMULATED_IOMMU) {
		ret = type1_attach_emulated(iommu, iommu_group);
		goto out_unlock;
	}

	ret = -ENOMEM;
	group = kzalloc(sizeof(*group), GFP_KERNEL);
	if (!group)
		goto out_unlock;
	group->iommu_group = iommu_group;

	ret = type1_attach_domain(iommu, &a, iommu_group);
	if (ret)
		goto free_group;
	ret = type1_attach_check(iommu, &a, iommu_group);
	if (ret)
		goto undo_domain;
	ret = type1_attach_commit(iommu, &a, group);
	if (ret)
		goto undo_check;

	/* Its devices DMA where they like: no dirty scope until they pin. */
	iommu->unscoped_groups++;
	type1_ranges_free(&iommu->ranges);
	list_splice(&a.ranges, &iommu->ranges);
	type1_resv_free(&a.resv);
	mutex_unlock(&iommu->lock);
	return 0;

undo_check:
	type1_attach_check_undo(&a);
undo_domain:
	type1_attach_domain_undo(&a, iommu_group);
free_group:
	kfree(group);
out_unlock:
	mutex_unlock(&iommu->lock);
	return ret;
}

/*
 * The last IOMMU domain is going but emulated devices stay: the pages
 * remain pinned only where a device pinned them. Those keep the charge
 * they have (each pinned page is charged exactly once).
 */
static void type1_unmap_all_domains(struct type1_iommu *iommu)
{
	struct rb_node *n;

	for (n = rb_first(&iommu->dmas); n; n = rb_next(n)) {
		struct type1_dma *dma = rb_entry(n, struct type1_dma, node);

		if (dma->mapped)
			type1_unmap_unpin(iommu, dma);
		dma->mapped = false;
	}
}

static void type1_remove_all(struct type1_iommu *iommu)
{
	struct rb_node *n;

	while ((n = rb_first(&iommu->dmas)))
		type1_remove_dma(iommu, rb_entry(n, struct type1_dma, node));
}

static void type1_detach_group(void *iommu_data,
			       struct iommu_group *iommu_group)
{
	struct type1_iommu *iommu = iommu_data;
	struct type1_domain *domain;
	struct type1_group *group;

	mutex_lock(&iommu->lock);
	group = type1_find_group(iommu, iommu_group, &domain);
	if (WARN_ON(!group))
		goto out_unlock;
	if (!group->pinned_scope) {
		/* Whatever it could reach may be dirty. */
		type1_dirty_all(iommu);
		iommu->unscoped_groups--;
	}
	list_del(&group->next);
	kfree(group);

	if (!domain) {
		/* No group left to give the user access: mappings go. */
		if (list_empty(&iommu->emulated) &&
		    list_empty(&iommu->domains))
			type1_remove_all(iommu);
		goto out_unlock;
	}

	iommu_detach_group(domain->domain, iommu_group);
	if (list_empty(&domain->groups)) {
		if (list_is_singular(&iommu->domains)) {
			if (list_empty(&iommu->emulated))
				type1_remove_all(iommu);
			else
				type1_unmap_all_domains(iommu);
		}
		list_del(&domain->next);
		iommu_domain_free(domain->domain);
		kfree(domain);
		type1_update_pgsizes(iommu);
	}
	type1_ranges_rebuild(iommu);
out_unlock:
	mutex_unlock(&iommu->lock);
}

/* --- open/release ------------------------------------------------------- */

static void *type1_open(unsigned long arg)
{
	struct type1_iommu *iommu;

	if (arg != VFIO_TYPE1_IOMMU && arg != VFIO_TYPE1v2_IOMMU &&
	    arg != VFIO_TYPE1_NESTING_IOMMU)
		return ERR_PTR(-EINVAL);

	iommu = kzalloc(sizeof(*iommu), GFP_KERNEL_ACCOUNT);
	if (!iommu)
		return ERR_PTR(-ENOMEM);
	iommu->v2 = arg != VFIO_TYPE1_IOMMU;
	iommu->nesting = arg == VFIO_TYPE1_NESTING_IOMMU;
	mutex_init(&iommu->lock);
	INIT_LIST_HEAD(&iommu->domains);
	INIT_LIST_HEAD(&iommu->emulated);
	INIT_LIST_HEAD(&iommu->ranges);
	iommu->dmas = RB_ROOT;
	iommu->dma_avail = dma_entry_limit;
	iommu->pgsize_bitmap = PAGE_MASK;
	mutex_init(&iommu->devices_lock);
	INIT_LIST_HEAD(&iommu->devices);
	return iommu;
}

static void type1_release(void *iommu_data)
{
	struct type1_iommu *iommu = iommu_data;
	struct type1_domain *d, *dtmp;
	struct type1_group *g, *gtmp;

	/* The core detached every group; this is only a safety net. */
	mutex_lock(&iommu->lock);
	type1_remove_all(iommu);
	list_for_each_entry_safe(g, gtmp, &iommu->emulated, next) {
		list_del(&g->next);
		kfree(g);
	}
	list_for_each_entry_safe(d, dtmp, &iommu->domains, next) {
		list_for_each_entry_safe(g, gtmp, &d->groups, next) {
			iommu_detach_group(d->domain, g->iommu_group);
			list_del(&g->next);
			kfree(g);
		}
		list_del(&d->next);
		iommu_domain_free(d->domain);
		kfree(d);
	}
	type1_ranges_free(&iommu->ranges);
	mutex_unlock(&iommu->lock);
	WARN_ON(!list_empty(&iommu->devices));
	mutex_destroy(&iommu->devices_lock);
	mutex_destroy(&iommu->lock);
	kfree(iommu);
}

/* --- VFIO_CHECK_EXTENSION ----------------------------------------------- */

static long type1_check_extension(struct type1_iommu *iommu,
				  unsigned long ext)
{
	struct type1_domain *d;
	long ret;

	switch (ext) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_TYPE1_NESTING_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_UPDATE_VADDR:
		/* Emulated devices could not pin while vaddrs are stale. */
		if (!iommu)
			return 0;
		mutex_lock(&iommu->lock);
		ret = list_empty(&iommu->emulated);
		mutex_unlock(&iommu->lock);
		return ret;
	case VFIO_DMA_CC_IOMMU:
		if (!iommu)
			return 0;
		ret = 1;
		mutex_lock(&iommu->lock);
		list_for_each_entry(d, &iommu->domains, next)
			if (!d->coherent)
				ret = 0;
		mutex_unlock(&iommu->lock);
		return ret;
	default:
		return 0;
	}
}

/* --- VFIO_IOMMU_GET_INFO ----------------------------------------------- */

static int type1_build_caps(struct type1_iommu *iommu,
			    struct vfio_info_cap *caps)
{
	struct vfio_iommu_type1_info_cap_iova_range *iovas;
	struct vfio_iommu_type1_info_cap_migration *mig;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_info_cap_header *hdr;
	struct type1_range *r;
	u32 nr = 0, i = 0;

	hdr = vfio_info_cap_add(caps, sizeof(*mig),
				VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, 1);
	if (IS_ERR(hdr))
		return PTR_ERR(hdr);
	mig = container_of(hdr, typeof(*mig), header);
	mig->flags = 0;
	mig->pgsize_bitmap = (u64)1 << __ffs64(iommu->pgsize_bitmap);
	mig->max_dirty_bitmap_size = TYPE1_DIRTY_BITMAP_BYTES_MAX;

	hdr = vfio_info_cap_add(caps, sizeof(*avail),
				VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 1);
	if (IS_ERR(hdr))
		return PTR_ERR(hdr);
	avail = container_of(hdr, typeof(*avail), header);
	avail->avail = iommu->dma_avail;

	list_for_each_entry(r, &iommu->ranges, next)
		nr++;
	/* No IOMMU domain yet (or only emulated groups): no range cap. */
	if (!nr)
		return 0;
	hdr = vfio_info_cap_add(caps, struct_size(iovas, iova_ranges, nr),
				VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1);
	if (IS_ERR(hdr))
		return PTR_ERR(hdr);
	iovas = container_of(hdr, typeof(*iovas), header);
	iovas->nr_iovas = nr;
	list_for_each_entry(r, &iommu->ranges, next) {
		iovas->iova_ranges[i].start = r->start;
		iovas->iova_ranges[i].end = r->end;
		i++;
	}
	return 0;
}

static long type1_get_info(struct type1_iommu *iommu, void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	struct vfio_info_cap caps = {};
	/* Zeroed: the padding is copied out too. */
	struct vfio_iommu_type1_info info = {};
	long ret;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	/* Older users' smaller struct: write back only what they have. */
	minsz = min_t(size_t, info.argsz, sizeof(info));

	mutex_lock(&iommu->lock);
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = iommu->pgsize_bitmap;
	ret = type1_build_caps(iommu, &caps);
	mutex_unlock(&iommu->lock);
	if (ret)
		goto free_caps;

	info.cap_offset = 0;
	if (caps.size) {
		info.flags |= VFIO_IOMMU_INFO_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			/* Too small: say how much is needed, no chain. */
			info.argsz = sizeof(info) + caps.size;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			ret = -EFAULT;
			if (copy_to_user(arg + sizeof(info), caps.buf,
					 caps.size))
				goto free_caps;
			info.cap_offset = sizeof(info);
		}
	}
	ret = copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
free_caps:
	kfree(caps.buf);
	return ret;
}

/* --- VFIO_IOMMU_MAP_DMA ------------------------------------------------ */

static size_t type1_min_pgsize(struct type1_iommu *iommu)
{
	return (size_t)1 << __ffs64(iommu->pgsize_bitmap);
}

/*
 * A new vaddr may belong to another process: move the charge to it,
 * under the new task's limit.
 */
static int type1_change_owner(struct type1_dma *dma)
{
	struct task_struct *task = current->group_leader;
	struct mm_struct *mm = current->mm;
	bool lock_cap = capable(CAP_IPC_LOCK);
	long npage = dma->locked;
	int ret;

	if (!mm)
		return -ESRCH;
	if (dma->task == task && dma->mm == mm)
		return 0;

	ret = mmap_write_lock_killable(mm);
	if (ret)
		return ret;
	ret = __account_locked_vm(mm, npage, true, task, lock_cap);
	mmap_write_unlock(mm);
	if (ret)
		return ret;
	type1_charge(dma, -npage);

	put_task_struct(dma->task);
	mmdrop(dma->mm);
	get_task_struct(task);
	mmgrab(mm);
	dma->task = task;
	dma->mm = mm;
	dma->lock_cap = lock_cap;
	dma->locked = npage;
	return 0;
}

static int type1_update_vaddr(struct type1_iommu *iommu,
			      struct vfio_iommu_type1_dma_map *map)
{
	struct type1_dma *dma;
	int ret;

	dma = type1_find_dma(iommu, map->iova, map->iova + map->size - 1);
	if (!dma)
		return -ENOENT;
	if (!dma->vaddr_invalid || dma->iova != map->iova ||
	    dma->size != map->size)
		return -EINVAL;
	ret = type1_change_owner(dma);
	if (ret)
		return ret;
	dma->vaddr = map->vaddr;
	dma->vaddr_invalid = false;
	iommu->vaddr_invalid_count--;
	return 0;
}

static long type1_map_dma(struct type1_iommu *iommu, void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	u32 known = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE |
		    VFIO_DMA_MAP_FLAG_VADDR;
	struct vfio_iommu_type1_dma_map map;
	unsigned long vaddr_last;
	dma_addr_t iova_last;
	struct type1_dma *dma;
	bool set_vaddr;
	size_t pgsize;
	int prot = 0;
	int ret;

	if (copy_from_user(&map, arg, minsz))
		return -EFAULT;
	if (map.argsz < minsz || map.flags & ~known)
		return -EINVAL;
	if (map.size != (size_t)map.size ||
	    map.vaddr != (unsigned long)map.vaddr ||
	    map.iova != (dma_addr_t)map.iova || !map.size)
		return -EINVAL;
	/*
	 * Ranges are [first, last]: one may end at the top of the space,
	 * none may wrap past it (-EOVERFLOW, as upstream since 6.18).
	 */
	if (check_add_overflow(map.iova, map.size - 1, &iova_last) ||
	    check_add_overflow(map.vaddr, map.size - 1, &vaddr_last))
		return -EOVERFLOW;

	/* Device's view: READ means the device reads memory. */
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;
	set_vaddr = map.flags & VFIO_DMA_MAP_FLAG_VADDR;
	/* A vaddr update carries no permissions; a mapping needs some. */
	if (!!prot == set_vaddr)
		return -EINVAL;

	mutex_lock(&iommu->lock);
	pgsize = type1_min_pgsize(iommu);
	ret = -EINVAL;
	if ((map.size | map.iova | map.vaddr) & (pgsize - 1))
		goto out_unlock;

	if (set_vaddr) {
		ret = type1_update_vaddr(iommu, &map);
		goto out_unlock;
	}

	ret = -EEXIST;
	if (type1_find_dma(iommu, map.iova, iova_last))
		goto out_unlock;
	ret = -ENOSPC;
	if (!iommu->dma_avail)
		goto out_unlock;
	ret = -EINVAL;
	if (!type1_iova_valid(iommu, map.iova, iova_last))
		goto out_unlock;

	ret = -ENOMEM;
	dma = kzalloc(sizeof(*dma), GFP_KERNEL_ACCOUNT);
	if (!dma)
		goto out_unlock;
	dma->iova = map.iova;
	dma->size = map.size;
	dma->vaddr = map.vaddr;
	dma->prot = prot;
	dma->pins = RB_ROOT;
	/*
	 * Charges follow the process that mapped, also when pages are
	 * pinned later for a domain or an emulated device.
	 */
	dma->task = current->group_leader;
	get_task_struct(dma->task);
	dma->mm = current->mm;
	mmgrab(dma->mm);
	dma->lock_cap = capable(CAP_IPC_LOCK);
	type1_link_dma(iommu, dma);
	iommu->dma_avail--;

	ret = 0;
	/* Without a domain, pages are pinned on demand by emulated devices. */
	if (!list_empty(&iommu->domains)) {
		ret = type1_pin_map(iommu, dma, NULL);
		if (ret) {
			type1_unmap_unpin(iommu, dma);
			type1_remove_dma(iommu, dma);
			goto out_unlock;
		}
		dma->mapped = true;
	}
	if (iommu->dirty_tracking) {
		ret = type1_dirty_alloc(iommu, dma);
		if (ret)
			type1_remove_dma(iommu, dma);
	}
out_unlock:
	mutex_unlock(&iommu->lock);
	return ret;
}

/* --- VFIO_IOMMU_UNMAP_DMA ---------------------------------------------- */

/*
 * VFIO_DMA_UNMAP_FLAG_VADDR: mark every mapping in the range stale, or
 * none if one already is.
 */
static int type1_invalidate_vaddr(struct type1_iommu *iommu, dma_addr_t iova,
				  dma_addr_t last, u64 *size)
{
	struct rb_node *n, *first = type1_first_from(iommu, iova);
	struct type1_dma *dma;

	for (n = first; n; n = rb_next(n)) {
		dma = rb_entry(n, struct type1_dma, node);
		if (dma->iova > last)
			break;
		if (!iommu->v2 && iova > dma->iova)
			break;
		if (dma->vaddr_invalid)
			goto undo;
	}
	for (n = first; n; n = rb_next(n)) {
		dma = rb_entry(n, struct type1_dma, node);
		if (dma->iova > last || (!iommu->v2 && iova > dma->iova))
			break;
		dma->vaddr_invalid = true;
		iommu->vaddr_invalid_count++;
		*size += dma->size;
	}
	return 0;
undo:
	*size = 0;
	return -EINVAL;
}

static int type1_do_unmap(struct type1_iommu *iommu,
			  struct vfio_iommu_type1_dma_unmap *unmap,
			  struct vfio_bitmap *bitmap)
{
	bool all = unmap->flags & VFIO_DMA_UNMAP_FLAG_ALL;
	struct type1_dma *dma, *notified = NULL;
	dma_addr_t iova = unmap->iova, last;
	int retries = 0, ret = -EINVAL;
	u64 size = unmap->size;
	struct rb_node *n;
	size_t pgsize;

	mutex_lock(&iommu->lock);
	unmap->size = 0;

	if ((unmap->flags & VFIO_DMA_UNMAP_FLAG_VADDR) &&
	    !list_empty(&iommu->emulated)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	pgsize = type1_min_pgsize(iommu);
	if (iova & (pgsize - 1))
		goto out_unlock;
	if (all) {
		if (iova || size)
			goto out_unlock;
		last = ~(dma_addr_t)0;
	} else {
		if (!size || size & (pgsize - 1) || size > SIZE_MAX)
			goto out_unlock;
		/* Up to the top of the space, not past it (as 6.18). */
		if (check_add_overflow(iova, size - 1, &last)) {
			ret = -EOVERFLOW;
			goto out_unlock;
		}
	}
	/* Dirty bits come only in the smallest page size, while tracking. */
	if ((unmap->flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) &&
	    (!iommu->dirty_tracking || bitmap->pgsize != pgsize))
		goto out_unlock;

	/*
	 * v2 removes only whole mappings: refuse a range whose ends fall
	 * inside one. v1 quietly skips a mapping that starts before iova
	 * and removes whole mappings that start inside the range.
	 */
	if (iommu->v2 && !all) {
		dma = type1_find_dma(iommu, iova, iova);
		if (dma && dma->iova != iova)
			goto out_unlock;
		dma = type1_find_dma(iommu, last, last);
		if (dma && dma_last(dma) != last)
			goto out_unlock;
	}

	ret = 0;
	if (unmap->flags & VFIO_DMA_UNMAP_FLAG_VADDR) {
		ret = type1_invalidate_vaddr(iommu, iova, last, &unmap->size);
		goto out_unlock;
	}

again:
	n = type1_first_from(iommu, iova);
	while (n) {
		dma = rb_entry(n, struct type1_dma, node);
		if (dma->iova > last)
			break;
		if (!iommu->v2 && iova > dma->iova)
			break;

		if (!RB_EMPTY_ROOT(&dma->pins)) {
			/* Devices must unpin first; the tree may change. */
			if (dma == notified) {
				if (WARN_ON(++retries > TYPE1_NOTIFY_RETRIES)) {
					type1_drop_pins(iommu, dma);
					continue;
				}
			} else {
				notified = dma;
				retries = 0;
			}
			type1_notify_unmap(iommu, dma->iova, dma->size);
			goto again;
		}

		if (unmap->flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
			ret = type1_report_dirty(iommu, dma, bitmap->data,
						 iova);
			if (ret)
				break;
		}
		unmap->size += dma->size;
		n = rb_next(n);
		type1_remove_dma(iommu, dma);
	}
out_unlock:
	mutex_unlock(&iommu->lock);
	return ret;
}

static long type1_unmap_dma(struct type1_iommu *iommu, void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	u32 known = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
		    VFIO_DMA_UNMAP_FLAG_VADDR | VFIO_DMA_UNMAP_FLAG_ALL;
	struct vfio_iommu_type1_dma_unmap unmap;
	struct vfio_bitmap bitmap = {};
	int ret;

	if (copy_from_user(&unmap, arg, minsz))
		return -EFAULT;
	if (unmap.argsz < minsz || unmap.flags & ~known)
		return -EINVAL;
	if ((unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) &&
	    (unmap.flags & (VFIO_DMA_UNMAP_FLAG_ALL |
			    VFIO_DMA_UNMAP_FLAG_VADDR)))
		return -EINVAL;

	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
		if (unmap.argsz < minsz + sizeof(bitmap))
			return -EINVAL;
		if (copy_from_user(&bitmap, arg + minsz, sizeof(bitmap)))
			return -EFAULT;
		if (!access_ok(bitmap.data, bitmap.size) || !bitmap.pgsize)
			return -EINVAL;
		ret = type1_check_bitmap_size(unmap.size >>
					      __ffs64(bitmap.pgsize),
					      bitmap.size);
		if (ret)
			return ret;
	}

	ret = type1_do_unmap(iommu, &unmap, &bitmap);
	if (ret)
		return ret;
	return copy_to_user(arg, &unmap, minsz) ? -EFAULT : 0;
}

/* --- VFIO_IOMMU_DIRTY_PAGES --------------------------------------------- */

static int type1_get_dirty(struct type1_iommu *iommu,
			   struct vfio_iommu_type1_dirty_bitmap_get *range)
{
	size_t pgsize = type1_min_pgsize(iommu);
	dma_addr_t last = range->iova + range->size - 1;
	struct type1_dma *dma;
	struct rb_node *n;
	int ret;

	if (range->bitmap.pgsize != pgsize || range->iova & (pgsize - 1) ||
	    !range->size || range->size & (pgsize - 1) ||
	    !iommu->dirty_tracking)
		return -EINVAL;
	/* Whole mappings only, as for a v2 unmap. */
	dma = type1_find_dma(iommu, range->iova, range->iova);
	if (dma && dma->iova != range->iova)
		return -EINVAL;
	dma = type1_find_dma(iommu, last, last);
	if (dma && dma_last(dma) != last)
		return -EINVAL;

	for (n = type1_first_from(iommu, range->iova); n; n = rb_next(n)) {
		dma = rb_entry(n, struct type1_dma, node);
		if (dma->iova > last)
			break;
		ret = type1_report_dirty(iommu, dma, range->bitmap.data,
					 range->iova);
		if (ret)
			return ret;
	}
	return 0;
}

static long type1_dirty_pages(struct type1_iommu *iommu, void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_dirty_bitmap, flags);
	u32 known = VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
		    VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
		    VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	struct vfio_iommu_type1_dirty_bitmap_get range;
	struct vfio_iommu_type1_dirty_bitmap dirty;
	long ret;

	/* Migration came with v2. */
	if (!iommu->v2)
		return -EACCES;
	if (copy_from_user(&dirty, arg, minsz))
		return -EFAULT;
	if (dirty.argsz < minsz || dirty.flags & ~known)
		return -EINVAL;
	/* Exactly one operation. */
	if (hweight32(dirty.flags) != 1)
		return -EINVAL;

	if (dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_START) {
		mutex_lock(&iommu->lock);
		ret = type1_dirty_start(iommu);
		mutex_unlock(&iommu->lock);
		return ret;
	}
	if (dirty.flags & VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) {
		mutex_lock(&iommu->lock);
		type1_dirty_stop(iommu);
		mutex_unlock(&iommu->lock);
		return 0;
	}

	if (dirty.argsz - minsz < sizeof(range))
		return -EINVAL;
	if (copy_from_user(&range, arg + minsz, sizeof(range)))
		return -EFAULT;
	if (!range.size)
		return -EINVAL;
	/* A range may end at the top of the space, not wrap (as 6.18). */
	if (range.iova + (range.size - 1) < range.iova)
		return -EOVERFLOW;
	if (!access_ok(range.bitmap.data, range.bitmap.size) ||
	    !range.bitmap.pgsize)
		return -EINVAL;
	ret = type1_check_bitmap_size(range.size >>
				      __ffs64(range.bitmap.pgsize),
				      range.bitmap.size);
	if (ret)
		return ret;

	mutex_lock(&iommu->lock);
	ret = type1_get_dirty(iommu, &range);
	mutex_unlock(&iommu->lock);
	return ret;
}

static long type1_ioctl(void *iommu_data, unsigned int cmd, unsigned long arg)
{
	struct type1_iommu *iommu = iommu_data;
	void __user *uarg = (void __user *)arg;

	if (cmd == VFIO_CHECK_EXTENSION)
		return type1_check_extension(iommu, arg);
	if (!iommu)
		return -EINVAL;

	switch (cmd) {
	case VFIO_IOMMU_GET_INFO:
		return type1_get_info(iommu, uarg);
	case VFIO_IOMMU_MAP_DMA:
		return type1_map_dma(iommu, uarg);
	case VFIO_IOMMU_UNMAP_DMA:
		return type1_unmap_dma(iommu, uarg);
	case VFIO_IOMMU_DIRTY_PAGES:
		return type1_dirty_pages(iommu, uarg);
	default:
		return -ENOTTY;
	}
}

/* --- emulated-IOMMU devices -------------------------------------------- */

static void type1_register_device(void *iommu_data, struct vfio_device *vdev)
{
	struct type1_iommu *iommu = iommu_data;
	struct type1_device *dev;

	if (!vdev->ops->dma_unmap)
		return;
	/* The hook cannot fail, and a device that pins must hear unmaps. */
	dev = kzalloc(sizeof(*dev), GFP_KERNEL | __GFP_NOFAIL);
	dev->vdev = vdev;
	mutex_lock(&iommu->devices_lock);
	list_add(&dev->next, &iommu->devices);
	mutex_unlock(&iommu->devices_lock);
	mutex_lock(&iommu->lock);
	iommu->ndevices++;
	mutex_unlock(&iommu->lock);
}

static void type1_unregister_device(void *iommu_data, struct vfio_device *vdev)
{
	struct type1_iommu *iommu = iommu_data;
	struct type1_device *dev, *tmp;
	bool found = false;

	mutex_lock(&iommu->devices_lock);
	list_for_each_entry_safe(dev, tmp, &iommu->devices, next) {
		if (dev->vdev == vdev) {
			list_del(&dev->next);
			kfree(dev);
			found = true;
			break;
		}
	}
	mutex_unlock(&iommu->devices_lock);
	if (found) {
		mutex_lock(&iommu->lock);
		iommu->ndevices--;
		mutex_unlock(&iommu->lock);
	}
}

/* Take one more pin on the page at @iova of @dma. */
static int type1_pin_one(struct type1_iommu *iommu, struct type1_dma *dma,
			 dma_addr_t iova, struct page **page)
{
	unsigned int gup = FOLL_LONGTERM;
	struct type1_pin *pin;
	long got;
	int ret;

	/* One GUP pin per page; further callers only count. */
	pin = type1_find_pin(dma, iova);
	if (pin) {
		*page = pin->page;
		pin->refs++;
		return 0;
	}

	pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
	if (!pin)
		return -ENOMEM;
	if (dma->prot & IOMMU_WRITE)
		gup |= FOLL_WRITE;
	ret = -ENODEV;
	if (!mmget_not_zero(dma->mm))
		goto free_pin;
	ret = mmap_read_lock_killable(dma->mm);
	if (ret)
		goto put_mm;
	got = pin_user_pages_remote(dma->mm, dma->vaddr + (iova - dma->iova),
				    1, gup, page, NULL);
	mmap_read_unlock(dma->mm);
	ret = got == 1 ? 0 : got < 0 ? got : -EFAULT;
	if (ret)
		goto put_mm;

	/* With a domain the page is charged already, through the mapping. */
	if (list_empty(&iommu->domains) && !PageReserved(*page)) {
		ret = type1_charge(dma, 1);
		if (ret)
			goto unpin_page;
	}
	mmput(dma->mm);
	pin->iova = iova;
	pin->page = *page;
	pin->refs = 1;
	type1_link_pin(dma, pin);
	return 0;

unpin_page:
	unpin_user_page(*page);
put_mm:
	mmput(dma->mm);
free_pin:
	kfree(pin);
	return ret;
}

/* Drop one pin on the page at @iova of @dma. */
static void type1_unpin_one(struct type1_iommu *iommu, struct type1_dma *dma,
			    dma_addr_t iova)
{
	struct type1_pin *pin = type1_find_pin(dma, iova);

	if (WARN_ON(!pin))
		return;
	if (--pin->refs)
		return;
	unpin_user_pages_dirty_lock(&pin->page, 1, dma->prot & IOMMU_WRITE);
	rb_erase(&pin->node, &dma->pins);
	if (list_empty(&iommu->domains) && !PageReserved(pin->page))
		type1_charge(dma, -1);
	kfree(pin);
}

static int type1_pin_pages(void *iommu_data, struct iommu_group *iommu_group,
			   dma_addr_t user_iova, int npage, int prot,
			   struct page **pages)
{
	struct type1_iommu *iommu = iommu_data;
	struct type1_group *group;
	struct type1_dma *dma;
	int i, ret;

	if (!iommu || !pages || npage < 0)
		return -EINVAL;
	/* v1 users predate emulated devices. */
	if (!iommu->v2)
		return -EACCES;
	if (!npage)
		return 0;
	/* The last page's address must not wrap (as 6.18). */
	if (user_iova + ((dma_addr_t)(npage - 1) << PAGE_SHIFT) < user_iova)
		return -EOVERFLOW;

	mutex_lock(&iommu->lock);
	ret = -EBUSY;
	if (WARN_ONCE(iommu->vaddr_invalid_count,
		      "vfio_pin_pages while vaddrs are being updated\n"))
		goto out_unlock;
	/* A device that pins must be able to hear about unmaps. */
	ret = -EINVAL;
	if (!iommu->ndevices)
		goto out_unlock;

	for (i = 0; i < npage; i++) {
		dma_addr_t iova = user_iova + ((dma_addr_t)i << PAGE_SHIFT);

		ret = -EINVAL;
		dma = type1_find_dma(iommu, iova, iova + PAGE_SIZE - 1);
		if (!dma)
			goto unpin_pinned;
		ret = -EPERM;
		if ((dma->prot & prot) != prot)
			goto unpin_pinned;
		ret = type1_pin_one(iommu, dma, iova, &pages[i]);
		if (ret)
			goto unpin_pinned;
		type1_mark_dirty(iommu, dma, iova, PAGE_SIZE);
	}
	ret = npage;
	/* The group's devices now report what they dirty by pinning. */
	group = type1_find_group(iommu, iommu_group, NULL);
	if (group && !group->pinned_scope) {
		group->pinned_scope = true;
		iommu->unscoped_groups--;
	}
	goto out_unlock;

unpin_pinned:
	pages[i] = NULL;
	while (i--) {
		dma_addr_t iova = user_iova + ((dma_addr_t)i << PAGE_SHIFT);

		type1_unpin_one(iommu, type1_find_dma(iommu, iova, iova), iova);
		pages[i] = NULL;
	}
out_unlock:
	mutex_unlock(&iommu->lock);
	return ret;
}

static void type1_unpin_pages(void *iommu_data, dma_addr_t user_iova,
			      int npage)
{
	struct type1_iommu *iommu = iommu_data;
	int i;

	if (WARN_ON(!iommu->v2) || WARN_ON(npage < 0) || !npage)
		return;
	if (WARN_ON(user_iova + ((dma_addr_t)(npage - 1) << PAGE_SHIFT) <
		    user_iova))
		return;
	mutex_lock(&iommu->lock);
	for (i = 0; i < npage; i++) {
		dma_addr_t iova = user_iova + ((dma_addr_t)i << PAGE_SHIFT);
		struct type1_dma *dma = type1_find_dma(iommu, iova, iova);

		if (WARN_ON(!dma))
			break;
		type1_unpin_one(iommu, dma, iova);
	}
	mutex_unlock(&iommu->lock);
}

/* Copy within one mapping; returns bytes copied or -errno. */
static long type1_rw_chunk(struct type1_iommu *iommu, dma_addr_t iova,
			   void *data, size_t count, bool write)
{
	bool kthread = !current->mm;
	struct type1_dma *dma;
	unsigned long vaddr;
	size_t offset;
	long ret;

	dma = type1_find_dma(iommu, iova, iova);
	if (!dma)
		return -EINVAL;
	if ((write && !(dma->prot & IOMMU_WRITE)) ||
	    !(dma->prot & IOMMU_READ))
		return -EPERM;
	if (!mmget_not_zero(dma->mm))
		return -EPERM;
	ret = -EFAULT;
	if (kthread)
		kthread_use_mm(dma->mm);
	else if (current->mm != dma->mm)
		goto put_mm;

	offset = iova - dma->iova;
	count = min(count, dma->size - offset);
	vaddr = dma->vaddr + offset;
	if (write)
		ret = copy_to_user((void __user *)vaddr, data, count);
	else
		ret = copy_from_user(data, (void __user *)vaddr, count);
	ret = ret ? -EFAULT : count;
	if (write && ret > 0)
		type1_mark_dirty(iommu, dma, iova, count);
	if (kthread)
		kthread_unuse_mm(dma->mm);
put_mm:
	mmput(dma->mm);
	return ret;
}

static int type1_dma_rw(void *iommu_data, dma_addr_t user_iova, void *data,
			size_t count, bool write)
{
	struct type1_iommu *iommu = iommu_data;
	long done;
	int ret = 0;

	/* Never past the top of the space into IOVA 0. */
	if (count && user_iova + (count - 1) < user_iova)
		return -EOVERFLOW;
	mutex_lock(&iommu->lock);
	if (WARN_ONCE(iommu->vaddr_invalid_count,
		      "vfio_dma_rw while vaddrs are being updated\n")) {
		ret = -EBUSY;
		goto out_unlock;
	}
	while (count) {
		done = type1_rw_chunk(iommu, user_iova, data, count, write);
		if (done < 0) {
			ret = done;
			break;
		}
		count -= done;
		data += done;
		user_iova += done;
	}
out_unlock:
	mutex_unlock(&iommu->lock);
	return ret;
}

/* Visible to vfio_iommu_type1_kunit, which drives the hooks directly. */
VISIBLE_IF_KUNIT const struct vfio_iommu_driver_ops vfio_iommu_type1_ops = {
	.name			= "vfio-iommu-type1",
	.owner			= THIS_MODULE,
	.open			= type1_open,
	.release		= type1_release,
	.ioctl			= type1_ioctl,
	.attach_group		= type1_attach_group,
	.detach_group		= type1_detach_group,
	.pin_pages		= type1_pin_pages,
	.unpin_pages		= type1_unpin_pages,
	.register_device	= type1_register_device,
	.unregister_device	= type1_unregister_device,
	.dma_rw			= type1_dma_rw,
};
EXPORT_SYMBOL_IF_KUNIT(vfio_iommu_type1_ops);

static int __init type1_init(void)
{
	return vfio_register_iommu_driver(&vfio_iommu_type1_ops);
}

static void __exit type1_exit(void)
{
	vfio_unregister_iommu_driver(&vfio_iommu_type1_ops);
}

module_init(type1_init);
module_exit(type1_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO type1 IOMMU backend (clean-room)");
