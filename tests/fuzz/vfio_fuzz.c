// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio_fuzz: a seeded, bounded random walk over the VFIO file API, for a
 * differential run of two module sets (harness/fuzz.py compares them).
 *
 *   vfio_fuzz --seed S --calls N [--unsafe]
 *
 * Binds the machine's known devices (edu, pci-testdev, e1000e) to
 * vfio-pci, makes N calls on container, group, device, eventfd and
 * /dev/null descriptors (ioctls with varied argsz, flags, indexes and
 * counts; read/write/pread/pwrite; mmap/munmap; close; fds of the wrong
 * kind; any order), prints one line per call and gives the devices back.
 *
 *   INDEX DESCRIPTION -> RET ERRNO [OUT]     a call was made
 *   INDEX DESCRIPTION -> skip                 unsafe for the device (both sets)
 *   INDEX DESCRIPTION -> unsafe               crashes upstream: sent with --unsafe
 *   INDEX DESCRIPTION -> gap                  a known gap of ours, withheld
 *                                             from both sets (a --withhold-*
 *                                             flag; none today)
 *
 * The sequence of calls depends only on the seed, never on a result, so
 * both sets receive the same calls. Descriptors live in a table of slots
 * with fixed roles; a call names a slot (usually of the right role,
 * sometimes of another, sometimes -1 or a closed number). RET is "fd" for
 * a new descriptor; OUT hashes what an info ioctl wrote back, or names
 * the signal a touch of a mapping raised.
 *
 * Safety: no write reaches edu's DMA registers (BAR0 >= 0x80) or any
 * e1000e register; an ioeventfd's eventfd is never signalled; transfers
 * and mappings stay within 1 MiB; e1000e gets 250 ms after any MSI-X
 * enable before anything that could disable it (QEMU 7.2 aborts).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>

#include "pci_test.h"

#define NIC_VENDOR	0x8086
#define NIC_DEVICE	0x10d3	/* QEMU's e1000e (82574L) */
#define CLOSED_FD	999	/* a number never open here */
#define DMA_BUF_SIZE	(1UL << 20)
#define BITMAP_RESERVE	(64UL << 30)	/* PROT_NONE beyond the bitmap */
#define BITMAP_SIZE	(64UL << 10)
#define ARG_SIZE	(64UL << 10)
#define MSIX_QUIET_NS	250000000L
#define MAX_MAPS	4

enum kind { K_NONE, K_EDU, K_TESTDEV, K_NIC };

static const struct {
	uint16_t vendor, device;
	enum kind kind;
} known[] = {
	{ EDU_VENDOR, EDU_DEVICE, K_EDU },
	{ TESTDEV_VENDOR, TESTDEV_DEVICE, K_TESTDEV },
	{ NIC_VENDOR, NIC_DEVICE, K_NIC },
};

struct dev {
	char bdf[32];
	char driver[64];	/* the driver it had before */
	int group;
	enum kind kind;
};

static struct dev devs[8];
static int ndevs;
static int groups[8];
static int ngroups;

enum role { R_CONT, R_GROUP, R_DEV, R_IRQFD, R_IOEFD, R_NULL, R_ANY };

#define NSLOTS 11
static const enum role slot_role[NSLOTS] = {
	R_CONT, R_CONT, R_GROUP, R_GROUP, R_DEV, R_DEV, R_DEV,
	R_IRQFD, R_IRQFD, R_IOEFD, R_NULL,
};
static int slot_fd[NSLOTS];
/* Devices: index in devs[]; groups: index in groups[]; else -1. */
static int slot_meta[NSLOTS];

static struct {
	void *addr;
	size_t len;
} maps[MAX_MAPS];

static uint8_t *dma_buf;	/* DMA_BUF_SIZE, then a PROT_NONE page */
static uint8_t *bitmap;		/* BITMAP_SIZE inside a PROT_NONE reserve */
static uint8_t *arg;		/* ARG_SIZE of ioctl argument */
static char *longname;		/* 8 KiB of 'a', no NUL */
static bool unsafe;
static struct timespec msix_on;	/* last MSI-X enable on an e1000e */

/* --- the PRNG (splitmix64): the only source of the sequence ------------ */
static uint64_t rng;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static bool chance(unsigned int pct)
{
	return below(100) < pct;
}

#define PICK(a) ((a)[below(sizeof(a) / sizeof((a)[0]))])

/* --- output -------------------------------------------------------------- */
static unsigned int call;
static char desc[160];
static size_t dlen;

static void D(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void D(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (dlen < sizeof(desc))
		dlen += vsnprintf(desc + dlen, sizeof(desc) - dlen, fmt, ap);
	va_end(ap);
	if (dlen >= sizeof(desc))
		dlen = sizeof(desc) - 1;
}

static void start(const char *op)
{
	dlen = 0;
	desc[0] = 0;
	D("%s", op);
}

static void result(long ret, int err, const char *out)
{
	printf("%u %s -> %ld %d%s%s\n", call, desc, ret, ret < 0 ? err : 0,
	       out ? " " : "", out ? out : "");
}

static void result_fd(long ret, int err)
{
	if (ret >= 0)
		printf("%u %s -> fd 0\n", call, desc);
	else
		result(ret, err, NULL);
}

static void skipped(const char *why)
{
	printf("%u %s -> %s\n", call, desc, why);
}

static uint32_t fnv(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

static char outbuf[32];

/* Hash the argument up to min(argsz passed, argsz returned). */
static const char *out_arg(uint32_t argsz)
{
	uint32_t back;
	size_t n;

	memcpy(&back, arg, sizeof(back));
	n = argsz < back ? argsz : back;
	if (n > 4096)
		n = 4096;
	snprintf(outbuf, sizeof(outbuf), "h=%08x", fnv(arg, n));
	return outbuf;
}

/* --- e1000e MSI-X quiet time ------------------------------------------- */
static void msix_guard(void)
{
	struct timespec now;
	long ns;

	if (!msix_on.tv_sec && !msix_on.tv_nsec)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (now.tv_sec - msix_on.tv_sec) * 1000000000L +
	     (now.tv_nsec - msix_on.tv_nsec);
	if (ns < MSIX_QUIET_NS) {
		struct timespec d = { 0, MSIX_QUIET_NS - ns };

		nanosleep(&d, NULL);
	}
	msix_on.tv_sec = msix_on.tv_nsec = 0;
}

/* --- slots ------------------------------------------------------------- */
/*
 * A slot for a call wanting @want: usually one of that role, else any
 * slot whose role is not in @avoid, else -1 (pass -1) or -2 (a closed
 * number).
 */
static int choose(enum role want, unsigned int avoid)
{
	unsigned int r = below(100);
	int s, first = -1, n = 0;

	if (r < 82 && want != R_ANY) {
		for (s = 0; s < NSLOTS; s++) {
			if (slot_role[s] == want) {
				if (first < 0)
					first = s;
				n++;
			}
		}
		return first + (chance(60) ? 0 : (int)below(n));
	}
	if (r < 95) {
		do
			s = below(NSLOTS);
		while (avoid & (1u << slot_role[s]));
		return s;
	}
	return r < 97 ? -1 : -2;
}

static int fd_of(int s)
{
	return s == -1 ? -1 : s == -2 ? CLOSED_FD : slot_fd[s];
}

static void D_slot(int s)
{
	if (s == -1)
		D(" fd=-1");
	else if (s == -2)
		D(" fd=closed");
	else
		D(" s%d", s);
}

static enum kind slot_kind(int s)
{
	if (s < 0 || slot_role[s] != R_DEV || slot_meta[s] < 0)
		return K_NONE;
	return devs[slot_meta[s]].kind;
}

static void slot_close(int s)
{
	if (slot_fd[s] >= 0)
		close(slot_fd[s]);
	slot_fd[s] = -1;
}

#define EVENTFDS ((1u << R_IRQFD) | (1u << R_IOEFD))

/* --- argument values ---------------------------------------------------- */
static uint32_t pick_argsz(uint32_t exact)
{
	if (chance(55))
		return exact;
	switch (below(10)) {
	case 0:
		return 0;
	case 1:
		return exact > 4 ? exact - 4 : 1;
	case 2:
		return 4;
	case 3:
		return exact + 8;
	case 4:
		return 4096;
	case 5:
		return below(2) ? 0xffffffff : 0x80000000;
	default:
		return exact;
	}
}

static uint32_t pick_index(void)
{
	static const uint32_t edge[] = { 9, 10, 31, 0x7fffffff, 0xffffffff };

	return chance(80) ? below(10) : PICK(edge);
}

static uint32_t pick_flags(uint32_t valid)
{
	if (chance(75))
		return valid ? (uint32_t)rnd() & valid : 0;
	return (uint32_t)rnd() & (chance(50) ? 0xff : 0xffffffff);
}

static const uint64_t small_off[] = {
	0, 0, 1, 2, 3, 4, 8, 0x10, 0x3c, 0x40, 0x7c, 0xfc, 0xff, 0xffc,
	0x1000, 0xfff,
};

static uint64_t pick_region_offset(void)
{
	static const uint64_t far[] = { 0xffffffffffULL, 0x8000000000ULL };
	/* Mostly BAR0 and config space, where the devices answer. */
	static const uint64_t usual[] = { 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7,
					  7, 7, 8, 9 };
	uint64_t index = chance(85) ? PICK(usual) :
			 PICK(((uint64_t[]){ 31, 0xffff }));
	uint64_t pos = chance(90) ? PICK(small_off) : PICK(far);

	return (index << 40) + pos;
}

/* --- ops: open, close -------------------------------------------------- */
static void op_open_container(void)
{
	int s = choose(R_CONT, ~(1u << R_CONT)), fd;
	int flags = chance(85) ? O_RDWR : PICK(((int[]){ O_RDONLY, O_WRONLY }));

	if (s < 0)
		s = 0;
	start("open_container");
	D(" s%d fl=%d", s, flags);
	msix_guard();
	slot_close(s);
	fd = open(VFIO_CONTAINER_PATH, flags);
	slot_fd[s] = fd;
	result_fd(fd, errno);
}

static void op_open_group(void)
{
	int s = 2 + below(2), g = chance(90) && ngroups ? (int)below(ngroups) : -1;
	int flags = chance(85) ? O_RDWR : PICK(((int[]){ O_RDONLY, O_WRONLY }));
	char path[64];
	int fd;

	start("open_group");
	D(" s%d g%d fl=%d", s, g, flags);
	msix_guard();
	slot_close(s);
	snprintf(path, sizeof(path), "/dev/vfio/%d", g < 0 ? 4095 : groups[g]);
	fd = open(path, flags);
	slot_fd[s] = fd;
	slot_meta[s] = g;
	result_fd(fd, errno);
}

static void op_eventfd(void)
{
	int s = 7 + below(3), fd;

	start("eventfd");
	D(" s%d", s);
	slot_close(s);
	fd = eventfd(0, EFD_NONBLOCK);
	slot_fd[s] = fd;
	result_fd(fd, errno);
}

static void op_close(void)
{
	int s = below(NSLOTS - 1);	/* /dev/null stays */
	int ret;

	start("close");
	D(" s%d", s);
	msix_guard();
	ret = close(slot_fd[s]);
	result(ret, errno, NULL);
	slot_fd[s] = -1;
}

/* --- ops: container ----------------------------------------------------- */
static void op_container_simple(void)
{
	int s = choose(R_CONT, 0), ret;
	unsigned long a;

	switch (below(4)) {
	case 0:
		start("API_VERSION");
		D_slot(s);
		ret = ioctl(fd_of(s), VFIO_GET_API_VERSION);
		break;
	case 1:
		a = chance(90) ? below(13) : rnd();
		start("CHECK_EXT");
		D_slot(s);
		D(" a=%lu", a);
		ret = ioctl(fd_of(s), VFIO_CHECK_EXTENSION, a);
		break;
	default:
		a = chance(95) ? below(11) : rnd();
		start("SET_IOMMU");
		D_slot(s);
		D(" t=%lu", a);
		ret = ioctl(fd_of(s), VFIO_SET_IOMMU, a);
		break;
	}
	result(ret, errno, NULL);
}

static void op_iommu_info(void)
{
	int s = choose(R_CONT, 0), ret;
	uint32_t argsz = pick_argsz(sizeof(struct vfio_iommu_type1_info));

	start("IOMMU_INFO");
	D_slot(s);
	D(" a=%u", argsz);
	memset(arg, 0, 512);
	memcpy(arg, &argsz, 4);
	ret = ioctl(fd_of(s), VFIO_IOMMU_GET_INFO, arg);
	result(ret, errno, out_arg(argsz));
}

static uint64_t pick_iova(void)
{
	static const uint64_t edge[] = {
		0, 0x1000, 0x100000, 0xfee00000, 0xfffff000,
		(1ULL << 32), (1ULL << 39) - 0x1000, (1ULL << 39),
		(1ULL << 48) - 0x1000, (1ULL << 63), ~0xfffULL, ~0ULL,
		0x1001, ~0x1fffULL,
	};

	return chance(60) ? (uint64_t)below(64) << 14 : PICK(edge);
}

static uint64_t pick_size(void)
{
	static const uint64_t edge[] = {
		0, 1, 0x1000, 0x2000, 0x10000, DMA_BUF_SIZE, 0x1001,
		DMA_BUF_SIZE + 0x1000, ~0ULL, (1ULL << 63), ~0xfffULL,
	};

	return chance(60) ? 0x1000ULL << below(5) : PICK(edge);
}

static uint64_t pick_vaddr(void)
{
	static const uint64_t bogus[] = { 0, 0x1000, ~0xfffULL, 1ULL << 47 };

	if (chance(85))
		return (uint64_t)(uintptr_t)dma_buf + ((uint64_t)below(256) << 12);
	if (chance(50))
		return (uint64_t)(uintptr_t)dma_buf + 1;
	return PICK(bogus);
}

static void op_map(void)
{
	struct vfio_iommu_type1_dma_map m = { 0 };
	int s = choose(R_CONT, 0), ret;
	uint64_t off;

	m.argsz = pick_argsz(sizeof(m));
	if (chance(70))
		m.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	else
		m.flags = pick_flags(VFIO_DMA_MAP_FLAG_READ |
				     VFIO_DMA_MAP_FLAG_WRITE |
				     VFIO_DMA_MAP_FLAG_VADDR);
	m.vaddr = pick_vaddr();
	m.iova = pick_iova();
	m.size = pick_size();
	/* Keep the pinned range inside the buffer and its guard page. */
	off = m.vaddr - (uint64_t)(uintptr_t)dma_buf;
	if (off < DMA_BUF_SIZE && m.size > DMA_BUF_SIZE + 0x1000 - off &&
	    m.size <= DMA_BUF_SIZE + 0x1000)
		m.size = DMA_BUF_SIZE - (off & ~0xfffULL);
	start("MAP");
	D_slot(s);
	D(" a=%u f=%x v=%s%lx i=%llx z=%llx", m.argsz, m.flags,
	  off < DMA_BUF_SIZE + 0x1000 ? "b+" : "",
	  off < DMA_BUF_SIZE + 0x1000 ? (unsigned long)off :
	  (unsigned long)m.vaddr, (unsigned long long)m.iova,
	  (unsigned long long)m.size);
	memset(arg, 0, 64);
	memcpy(arg, &m, sizeof(m));
	ret = ioctl(fd_of(s), VFIO_IOMMU_MAP_DMA, arg);
	result(ret, errno, NULL);
}

static void fill_bitmap(struct vfio_bitmap *b)
{
	static const uint64_t sizes[] = { 0, 8, 64, 4096, 1ULL << 40 };

	b->pgsize = chance(85) ? 4096 : PICK(((uint64_t[]){ 0, 1, 8192, 1 << 21 }));
	b->size = chance(70) ? 4096 : PICK(sizes);
	b->data = chance(90) ? (void *)bitmap : NULL;
	memset(bitmap, 0, 4096);
}

static const char *out_bitmap(uint32_t argsz)
{
	uint32_t h = fnv(bitmap, 4096);

	out_arg(argsz);
	snprintf(outbuf + strlen(outbuf), sizeof(outbuf) - strlen(outbuf),
		 ",%08x", h);
	return outbuf;
}

static void op_unmap(void)
{
	struct vfio_iommu_type1_dma_unmap u = { 0 };
	struct vfio_bitmap b = { 0 };
	int s = choose(R_CONT, 0), ret, err;

	u.flags = pick_flags(VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
			     VFIO_DMA_UNMAP_FLAG_ALL |
			     VFIO_DMA_UNMAP_FLAG_VADDR);
	u.argsz = pick_argsz(sizeof(u) + ((u.flags & 1) ? sizeof(b) : 0));
	u.iova = chance(15) ? 0 : pick_iova();
	u.size = chance(15) ? 0 : pick_size();
	fill_bitmap(&b);
	start("UNMAP");
	D_slot(s);
	D(" a=%u f=%x i=%llx z=%llx", u.argsz, u.flags,
	  (unsigned long long)u.iova, (unsigned long long)u.size);
	if (u.flags & 1)
		D(" bp=%llx bz=%llx", (unsigned long long)b.pgsize,
		  (unsigned long long)b.size);
	memset(arg, 0, 128);
	memcpy(arg, &u, sizeof(u));
	memcpy(arg + sizeof(u), &b, sizeof(b));
	ret = ioctl(fd_of(s), VFIO_IOMMU_UNMAP_DMA, arg);
	err = errno;
	/* Addresses differ from run to run: not part of the result. */
	memset(arg + sizeof(u) + offsetof(struct vfio_bitmap, data), 0, 8);
	result(ret, err, out_bitmap(u.argsz));
}

static void op_dirty(void)
{
	struct vfio_iommu_type1_dirty_bitmap d = { 0 };
	struct vfio_iommu_type1_dirty_bitmap_get g = { 0 };
	int s = choose(R_CONT, 0), ret, err;
	static const uint32_t one[] = {
		VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
		VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP,
		VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
		VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
	};

	d.flags = chance(80) ? PICK(one) : pick_flags(7);
	d.argsz = pick_argsz(sizeof(d) + (d.flags & 4 ? sizeof(g) : 0));
	g.iova = chance(50) ? 0 : pick_iova();
	g.size = chance(30) ? 0x1000000 : pick_size();
	fill_bitmap(&g.bitmap);
	start("DIRTY");
	D_slot(s);
	D(" a=%u f=%x", d.argsz, d.flags);
	if (d.flags & 4)
		D(" i=%llx z=%llx bp=%llx bz=%llx", (unsigned long long)g.iova,
		  (unsigned long long)g.size,
		  (unsigned long long)g.bitmap.pgsize,
		  (unsigned long long)g.bitmap.size);
	memset(arg, 0, 128);
	memcpy(arg, &d, sizeof(d));
	memcpy(arg + sizeof(d), &g, sizeof(g));
	ret = ioctl(fd_of(s), VFIO_IOMMU_DIRTY_PAGES, arg);
	err = errno;
	memset(arg + sizeof(d) + offsetof(struct vfio_iommu_type1_dirty_bitmap_get,
					  bitmap.data), 0, 8);
	result(ret, err, out_bitmap(d.argsz));
}

/* --- ops: group --------------------------------------------------------- */
static void op_group_status(void)
{
	int s = choose(R_GROUP, 0), ret;
	uint32_t argsz = pick_argsz(sizeof(struct vfio_group_status));

	start("GROUP_STATUS");
	D_slot(s);
	D(" a=%u", argsz);
	memset(arg, 0, 64);
	memcpy(arg, &argsz, 4);
	ret = ioctl(fd_of(s), VFIO_GROUP_GET_STATUS, arg);
	result(ret, errno, out_arg(argsz));
}

static void op_set_container(void)
{
	int s = choose(R_GROUP, 0), c = choose(R_CONT, 0), fd, ret;

	start("SET_CONTAINER");
	D_slot(s);
	D_slot(c);
	fd = fd_of(c);
	ret = ioctl(fd_of(s), VFIO_GROUP_SET_CONTAINER,
		    chance(95) ? (void *)&fd : NULL);
	result(ret, errno, NULL);
}

static void op_unset_container(void)
{
	int s = choose(R_GROUP, 0), ret;

	start("UNSET_CONTAINER");
	D_slot(s);
	msix_guard();
	ret = ioctl(fd_of(s), VFIO_GROUP_UNSET_CONTAINER);
	result(ret, errno, NULL);
}

/* The device a group slot's group holds, or -1. */
static int device_of_group(int s)
{
	int i;

	if (s < 0 || slot_role[s] != R_GROUP || slot_meta[s] < 0)
		return -1;
	for (i = 0; i < ndevs; i++)
		if (devs[i].group == groups[slot_meta[s]])
			return i;
	return -1;
}

static void op_get_device(void)
{
	int s = choose(R_GROUP, 0), d = 4 + below(3), dev, fd;
	unsigned int how = below(100);
	const char *name;
	char buf[64];

	dev = device_of_group(s);
	if (how >= 70 && ndevs) {
		dev = below(ndevs);	/* maybe another group's */
	}
	if (how < 85 && dev >= 0) {
		name = devs[dev].bdf;
	} else if (how < 90) {
		/* Upstream matches "BDF" followed by spaces (vf_token syntax). */
		snprintf(buf, sizeof(buf), "%s ", dev >= 0 ? devs[dev].bdf : "");
		name = buf;
	} else {
		name = PICK(((const char *[]){ "", "0000:00:00.0", "vfio",
					       NULL, longname }));
		dev = -1;
	}
	start("GET_DEVICE_FD");
	D_slot(s);
	D(" s%d n=%s", d, name == longname ? "long" : !name ? "null" :
	  dev >= 0 ? "dev" : name);
	if (dev >= 0)
		D("%d%s", dev, name == buf ? "+sp" : "");
	msix_guard();
	slot_close(d);
	fd = ioctl(fd_of(s), VFIO_GROUP_GET_DEVICE_FD, name);
	slot_fd[d] = fd;
	slot_meta[d] = dev;
	result_fd(fd, errno);
}

/* --- ops: device --------------------------------------------------------- */
static void op_device_info(void)
{
	int s = choose(R_DEV, 0), ret;
	uint32_t argsz = pick_argsz(sizeof(struct vfio_device_info));

	start("DEVICE_INFO");
	D_slot(s);
	D(" a=%u", argsz);
	memset(arg, 0, 4096);
	memcpy(arg, &argsz, 4);
	ret = ioctl(fd_of(s), VFIO_DEVICE_GET_INFO, arg);
	result(ret, errno, out_arg(argsz));
}

static void op_region_info(void)
{
	struct vfio_region_info r = { 0 };
	int s = choose(R_DEV, 0), ret;

	r.argsz = pick_argsz(sizeof(r));
	r.flags = chance(90) ? 0 : (uint32_t)rnd();
	r.index = pick_index();
	start("REGION_INFO");
	D_slot(s);
	D(" a=%u f=%x i=%u", r.argsz, r.flags, r.index);
	memset(arg, 0, 4096);
	memcpy(arg, &r, sizeof(r));
	ret = ioctl(fd_of(s), VFIO_DEVICE_GET_REGION_INFO, arg);
	result(ret, errno, out_arg(r.argsz));
}

static void op_irq_info(void)
{
	struct vfio_irq_info r = { 0 };
	int s = choose(R_DEV, 0), ret;

	r.argsz = pick_argsz(sizeof(r));
	r.index = pick_index();
	start("IRQ_INFO");
	D_slot(s);
	D(" a=%u i=%u", r.argsz, r.index);
	memset(arg, 0, 4096);
	memcpy(arg, &r, sizeof(r));
	ret = ioctl(fd_of(s), VFIO_DEVICE_GET_IRQ_INFO, arg);
	result(ret, errno, out_arg(r.argsz));
}

static void op_set_irqs(void)
{
	static const uint32_t data[] = {
		VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_BOOL,
		VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_EVENTFD,
	};
	static const uint32_t action[] = {
		VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_UNMASK,
		VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_TRIGGER,
	};
	struct vfio_irq_set h = { 0 };
	int s = choose(R_DEV, 0), ret, fds[4];
	size_t elem, i;
	uint8_t bools[4];
	bool plausible = chance(50);

	h.flags = chance(90) ? PICK(data) | PICK(action) : (uint32_t)rnd() & 0xff;
	h.index = chance(90) ? below(6) : pick_index();
	h.start = chance(80) ? 0 : PICK(((uint32_t[]){ 1, 2, 5, 0xffffffff }));
	h.count = chance(85) ? below(4) : PICK(((uint32_t[]){ 5, 2048, 0xffffffff }));
	if (plausible) {	/* what a user would send: often accepted */
		h.flags = chance(60) ? VFIO_IRQ_SET_DATA_EVENTFD |
				       VFIO_IRQ_SET_ACTION_TRIGGER :
			  PICK(data) | PICK(action);
		h.index = below(3);
		h.start = 0;
		h.count = below(3);
	}
	elem = h.flags & VFIO_IRQ_SET_DATA_EVENTFD ? 4 :
	       h.flags & VFIO_IRQ_SET_DATA_BOOL ? 1 : 0;
	h.argsz = sizeof(h) + elem * (h.count < 4 ? h.count : 4);
	if (!plausible)
		h.argsz = pick_argsz(h.argsz);
	for (i = 0; i < 4; i++) {
		int e = choose(R_IRQFD, (1u << R_IOEFD));

		fds[i] = chance(5) ? -2 : fd_of(e);
		if (plausible && chance(80))
			fds[i] = slot_fd[7 + (i & 1)];	/* the irq eventfds */
		bools[i] = below(3);
	}
	start("SET_IRQS");
	D_slot(s);
	D(" a=%u f=%x i=%u s=%u c=%u", h.argsz, h.flags, h.index, h.start,
	  h.count);
	memset(arg, 0, 64);
	memcpy(arg, &h, sizeof(h));
	if (elem == 4)
		memcpy(arg + sizeof(h), fds, sizeof(fds));
	else if (elem == 1)
		memcpy(arg + sizeof(h), bools, sizeof(bools));
	msix_guard();
	ret = ioctl(fd_of(s), VFIO_DEVICE_SET_IRQS, arg);
	if (ret == 0 && slot_kind(s) == K_NIC)
		clock_gettime(CLOCK_MONOTONIC, &msix_on);
	result(ret, errno, NULL);
}

static void op_reset(void)
{
	int s = choose(R_DEV, 0), ret;

	start("RESET");
	D_slot(s);
	msix_guard();
	ret = ioctl(fd_of(s), VFIO_DEVICE_RESET);
	result(ret, errno, NULL);
}

static void op_hot_reset_info(void)
{
	int s = choose(R_DEV, 0), ret;
	uint32_t argsz = pick_argsz(sizeof(struct vfio_pci_hot_reset_info) +
				    sizeof(struct vfio_pci_dependent_device));

	start("HOT_RESET_INFO");
	D_slot(s);
	D(" a=%u", argsz);
	memset(arg, 0, 4096);
	memcpy(arg, &argsz, 4);
	ret = ioctl(fd_of(s), VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, arg);
	result(ret, errno, out_arg(argsz));
}

static void op_hot_reset(void)
{
	struct vfio_pci_hot_reset h = { 0 };
	int s = choose(R_DEV, 0), ret, fds[3], i;

	h.flags = chance(90) ? 0 : (uint32_t)rnd();
	h.count = chance(90) ? below(4) : PICK(((uint32_t[]){ 100, 0xffffffff }));
	h.argsz = pick_argsz(sizeof(h) + 4 * (h.count < 3 ? h.count : 3));
	for (i = 0; i < 3; i++)
		fds[i] = fd_of(choose(R_GROUP, EVENTFDS));
	start("HOT_RESET");
	D_slot(s);
	D(" a=%u f=%x c=%u", h.argsz, h.flags, h.count);
	memset(arg, 0, 64);
	memcpy(arg, &h, sizeof(h));
	memcpy(arg + sizeof(h), fds, sizeof(fds));
	msix_guard();
	ret = ioctl(fd_of(s), VFIO_DEVICE_PCI_HOT_RESET, arg);
	result(ret, errno, NULL);
}

static void op_ioeventfd(void)
{
	struct vfio_device_ioeventfd e = { 0 };
	int s = choose(R_DEV, 0), ret;
	static const uint64_t huge[] = { 1ULL << 63, ~0ULL, 0xffffff0000000000ULL };

	e.flags = chance(85) ? 1u << below(4) : pick_flags(0xf);
	e.argsz = pick_argsz(sizeof(e));
	e.offset = chance(95) ? pick_region_offset() : PICK(huge);
	e.data = rnd();
	/* Only eventfds nothing ever signals (see the header). */
	e.fd = fd_of(choose(R_IOEFD, (1u << R_IRQFD)));
	if (chance(5))
		e.fd = PICK(((int[]){ -2, 1 << 30 }));
	start("IOEVENTFD");
	D_slot(s);
	D(" a=%u f=%x o=%llx fd=%s", e.argsz, e.flags,
	  (unsigned long long)e.offset, e.fd == -1 ? "-1" : e.fd < -1 ? "-2" :
	  e.fd == 1 << 30 ? "big" : "s");
	if ((int64_t)e.offset < 0 && !unsafe) {
		/* Upstream 6.12 oopses on a negative offset (signed index). */
		skipped("unsafe");
		return;
	}
	memset(arg, 0, 64);
	memcpy(arg, &e, sizeof(e));
	ret = ioctl(fd_of(s), VFIO_DEVICE_IOEVENTFD, arg);
	result(ret, errno, NULL);
}

static void op_feature(void)
{
	struct vfio_device_feature f = { 0 };
	int s = choose(R_DEV, 0), ret;
	static const uint32_t dir[] = {
		VFIO_DEVICE_FEATURE_PROBE, VFIO_DEVICE_FEATURE_GET,
		VFIO_DEVICE_FEATURE_SET,
		VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET,
		VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET, 0,
	};
	uint32_t feature = chance(90) ? below(13) : (uint32_t)rnd() & 0xffff;

	f.flags = chance(90) ? PICK(dir) | feature : (uint32_t)rnd();
	f.argsz = pick_argsz(sizeof(f) + 8 * below(4));
	start("FEATURE");
	D_slot(s);
	D(" a=%u f=%x", f.argsz, f.flags);
	memset(arg, 0, 4096);
	memcpy(arg, &f, sizeof(f));
	msix_guard();
	ret = ioctl(fd_of(s), VFIO_DEVICE_FEATURE, arg);
	result(ret, errno, out_arg(f.argsz));
}

/*
 * An ioctl number the API does not have on most descriptors, or a known
 * one with a zeroed or NULL argument. (Random bytes as a known structure
 * could reach upstream's IOEVENTFD crash.)
 */
static void op_random_ioctl(void)
{
	int s = choose(R_ANY, 0), ret;
	unsigned long nr;
	bool null = chance(50);

	if (chance(50))
		nr = _IO(VFIO_TYPE, VFIO_BASE + 18 + below(30));
	else if (chance(30))
		nr = _IOC(below(4), below(256), below(256), below(64));
	else
		nr = _IO(VFIO_TYPE, VFIO_BASE + below(18));
	start("IOCTL");
	D_slot(s);
	D(" nr=%lx%s", nr, null ? " null" : "");
	memset(arg, 0, 4096);
	msix_guard();
	ret = ioctl(fd_of(s), nr, null ? NULL : arg);
	if (ret > 2 && ret != fd_of(s)) {
		/* A descriptor we did not ask for: give it back. */
		close(ret);
		result_fd(ret, 0);
		return;
	}
	result(ret, errno, NULL);
}

/* --- ops: read, write, mmap --------------------------------------------- */
static const uint64_t config_writable[] = {
	0x04, 0x0c, 0x0d, 0x10, 0x14, 0x18, 0x24, 0x30, 0x3c,
	0x1000, 0xfff,
};

/* May this many bytes go to this offset of the descriptor in slot @s? */
static bool write_is_safe(int s, uint64_t off, size_t len)
{
	uint64_t index = off >> 40, pos = off & ((1ULL << 40) - 1);
	enum kind k = slot_kind(s);
	size_t i;

	/* Device fds only ever live in device slots. */
	if (s < 0 || slot_role[s] != R_DEV)
		return true;
	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		for (i = 0; i < sizeof(config_writable) / 8; i++)
			if (pos == config_writable[i])
				return true;
		return false;
	}
	if (index > VFIO_PCI_BAR5_REGION_INDEX)
		return true;
	if (k == K_EDU)
		return index == 0 && pos + len <= 0x80;
	if (k == K_TESTDEV)
		return pos + len <= 0x1000;
	return false;	/* e1000e or unknown: nothing that could start it */
}

static void op_rdwr(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 4, 4, 4, 8, 16, 64, 4097 };
	int how = below(5), s = choose(R_DEV, EVENTFDS), ret;
	uint64_t off = pick_region_offset();
	size_t len = PICK(sizes);
	static const char *const name[] = {
		"read", "pread", "pwrite", "pwrite", "lseek",
	};

	start(name[how]);
	D_slot(s);
	D(" o=%llx n=%zu", (unsigned long long)off, len);
	if (how >= 2 && how < 4) {
		if (!write_is_safe(s, off, len)) {
			skipped("skip");
			return;
		}
		memcpy(arg, &(uint64_t){ rnd() }, 8);
		if (off >> 40 == VFIO_PCI_CONFIG_REGION_INDEX && chance(50))
			memset(arg, 0xff, 8);	/* BAR sizing */
	}
	switch (how) {
	case 0:		/* read() at the descriptor's position */
		ret = read(fd_of(s), arg, len);
		break;
	case 1:
		ret = pread(fd_of(s), arg, len, off);
		break;
	case 4:
		ret = lseek(fd_of(s), off, SEEK_SET) < 0 ? -1 : 0;
		break;
	default:
		ret = pwrite(fd_of(s), arg, len, off);
		break;
	}
	result(ret, errno, NULL);
}

static sigjmp_buf touch_env;

static void on_fault(int sig)
{
	siglongjmp(touch_env, sig);
}

static void op_mmap(void)
{
	static const size_t lens[] = { 0x1000, 0x1000, 0x2000, 0, DMA_BUF_SIZE };
	int s = choose(R_DEV, 0), m = below(MAX_MAPS), sig;
	uint64_t index = chance(50) ? 0 : chance(90) ? below(10) : 0xffff;
	uint64_t off = (index << 40) +
		       (chance(80) ? 0 : PICK(((uint64_t[]){ 0x1000, 0x800 })));
	size_t len = PICK(lens);
	int prot = chance(70) ? PROT_READ | PROT_WRITE : PROT_READ;
	int flags = chance(95) ? MAP_SHARED : MAP_PRIVATE;
	volatile uint32_t sink;
	void *p;

	start("mmap");
	D_slot(s);
	D(" m%d o=%llx n=%zx p=%d fl=%d", m, (unsigned long long)off, len,
	  prot, flags);
	if (maps[m].addr) {
		munmap(maps[m].addr, maps[m].len);
		maps[m].addr = NULL;
	}
	p = mmap(NULL, len, prot, flags, fd_of(s), off);
	if (p == MAP_FAILED) {
		result(-1, errno, NULL);
		return;
	}
	maps[m].addr = p;
	maps[m].len = len;
	sig = sigsetjmp(touch_env, 1);
	if (!sig)
		sink = *(volatile uint32_t *)p;	/* a read: never a write */
	(void)sink;
	snprintf(outbuf, sizeof(outbuf), "sig=%d", sig);
	result(0, 0, outbuf);
}

static void op_munmap(void)
{
	int m = below(MAX_MAPS), ret = 0;

	start("munmap");
	D(" m%d", m);
	if (maps[m].addr)
		ret = munmap(maps[m].addr, maps[m].len);
	maps[m].addr = NULL;
	result(ret, errno, NULL);
}

/*
 * The usual order, as separate calls (each its own line): container,
 * group, SET_CONTAINER, SET_IOMMU, GET_DEVICE_FD. Random order alone
 * rarely gets a device open; from here the other ops find one.
 */
static void op_chain(void)
{
	/* Mostly the slots choose() prefers, so other ops find them. */
	int c = chance(70) ? 0 : 1, gs = chance(70) ? 2 : 3;
	int d = chance(60) ? 4 : 4 + below(3);
	int g = ngroups ? (int)below(ngroups) : -1, fd, ret, dev, i;
	unsigned long type = chance(80) ? VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU;
	char path[64];

	/*
	 * A group opens once: first let go of what holds this one (its
	 * group and device fds, and mappings, which hold a device).
	 */
	msix_guard();
	for (i = 0; i < MAX_MAPS; i++) {
		if (maps[i].addr)
			munmap(maps[i].addr, maps[i].len);
		maps[i].addr = NULL;
	}
	for (i = 0; i < NSLOTS && g >= 0; i++)
		if ((slot_role[i] == R_GROUP && slot_meta[i] == g) ||
		    (slot_role[i] == R_DEV && slot_meta[i] >= 0 &&
		     devs[slot_meta[i]].group == groups[g]))
			slot_close(i);

	start("chain_container");
	D(" s%d", c);
	slot_close(c);
	fd = open(VFIO_CONTAINER_PATH, O_RDWR);
	slot_fd[c] = fd;
	result_fd(fd, errno);

	call++;
	start("chain_group");
	D(" s%d g%d", gs, g);
	slot_close(gs);
	snprintf(path, sizeof(path), "/dev/vfio/%d", g < 0 ? 4095 : groups[g]);
	fd = open(path, O_RDWR);
	slot_fd[gs] = fd;
	slot_meta[gs] = g;
	result_fd(fd, errno);

	call++;
	start("chain_set_container");
	D(" s%d s%d", gs, c);
	ret = ioctl(slot_fd[gs], VFIO_GROUP_SET_CONTAINER, &slot_fd[c]);
	result(ret, errno, NULL);

	call++;
	start("chain_set_iommu");
	D(" s%d t=%lu", c, type);
	ret = ioctl(slot_fd[c], VFIO_SET_IOMMU, type);
	result(ret, errno, NULL);

	call++;
	dev = device_of_group(gs);
	start("chain_get_device");
	D(" s%d s%d d%d", gs, d, dev);
	slot_close(d);
	fd = ioctl(slot_fd[gs], VFIO_GROUP_GET_DEVICE_FD,
		   dev >= 0 ? devs[dev].bdf : "");
	slot_fd[d] = fd;
	slot_meta[d] = dev;
	result_fd(fd, errno);
}

/* --- the walk ----------------------------------------------------------- */
static const struct {
	void (*fn)(void);
	unsigned int weight;
} ops[] = {
	{ op_chain, 3 },
	{ op_open_container, 2 }, { op_open_group, 2 }, { op_eventfd, 3 },
	{ op_close, 2 }, { op_container_simple, 5 }, { op_iommu_info, 3 },
	{ op_map, 8 }, { op_unmap, 6 }, { op_dirty, 3 },
	{ op_group_status, 3 }, { op_set_container, 4 },
	{ op_unset_container, 1 }, { op_get_device, 4 },
	{ op_device_info, 3 }, { op_region_info, 5 }, { op_irq_info, 4 },
	{ op_set_irqs, 8 }, { op_reset, 2 }, { op_hot_reset_info, 3 },
	{ op_hot_reset, 2 }, { op_ioeventfd, 4 }, { op_feature, 3 },
	{ op_random_ioctl, 3 }, { op_rdwr, 10 }, { op_mmap, 4 },
	{ op_munmap, 2 },
};

static void step(void)
{
	unsigned int total = 0, r, i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		total += ops[i].weight;
	r = below(total);
	for (i = 0; r >= ops[i].weight; i++)
		r -= ops[i].weight;
	ops[i].fn();
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Bind the known devices to vfio-pci, in BDF order. */
static int setup_devices(void)
{
	struct dirent **names;
	char path[PATH_MAX];
	int n, i, j, g;

	n = scandir("/sys/bus/pci/devices", &names, NULL, by_name);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		const char *bdf = names[i]->d_name;
		unsigned long v, d;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", bdf);
		v = sysfs_read_ulong(path);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", bdf);
		d = sysfs_read_ulong(path);
		for (j = 0; j < (int)(sizeof(known) / sizeof(known[0])); j++) {
			struct dev *x = &devs[ndevs];

			if (known[j].vendor != v || known[j].device != d ||
			    ndevs == 8)
				continue;
			snprintf(x->bdf, sizeof(x->bdf), "%.31s", bdf);
			x->kind = known[j].kind;
			pci_driver(bdf, x->driver);
			if (pci_bind(bdf, "vfio-pci")) {
				fprintf(stderr, "# cannot bind %s\n", bdf);
				continue;
			}
			x->group = pci_iommu_group(bdf);
			for (g = 0; g < ngroups && groups[g] != x->group; g++)
				;
			if (g == ngroups)
				groups[ngroups++] = x->group;
			ndevs++;
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

static void restore_devices(void)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < ndevs; i++) {
		pci_bind(devs[i].bdf, "");
		if (!devs[i].driver[0] || !strcmp(devs[i].driver, "vfio-pci"))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind",
			 devs[i].driver);
		sysfs_write(path, devs[i].bdf);
	}
}

static void *must_map(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

int main(int argc, char **argv)
{
	unsigned long long seed = 1;
	unsigned long calls = 100;
	struct sigaction sa = { .sa_handler = on_fault };
	int i, type1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--calls") && i + 1 < argc)
			calls = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--unsafe"))
			unsafe = true;
		else {
			fprintf(stderr, "usage: %s --seed S --calls N [--unsafe]\n",
				argv[0]);
			return 2;
		}
	}
	rng = seed;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);

	dma_buf = must_map(DMA_BUF_SIZE + 0x1000, PROT_READ | PROT_WRITE);
	mprotect(dma_buf + DMA_BUF_SIZE, 0x1000, PROT_NONE);
	memset(dma_buf, 0x5a, DMA_BUF_SIZE);	/* touched: pins are cheap */
	bitmap = must_map(BITMAP_RESERVE, PROT_NONE);
	mprotect(bitmap, BITMAP_SIZE, PROT_READ | PROT_WRITE);
	arg = must_map(ARG_SIZE, PROT_READ | PROT_WRITE);
	longname = must_map(8192, PROT_READ | PROT_WRITE);
	memset(longname, 'a', 8192);

	type1 = pci_test_get_type1();
	if (setup_devices() || !ndevs) {
		fprintf(stderr, "# no device to fuzz\n");
		restore_devices();
		pci_test_put_type1(type1);
		return 2;
	}
	for (i = 0; i < ndevs; i++)
		printf("# d%d %s group %d kind %d\n", i, devs[i].bdf,
		       devs[i].group, devs[i].kind);
	printf("# seed %llu calls %lu%s\n", seed, calls,
	       unsafe ? " unsafe" : "");
	for (i = 0; i < NSLOTS; i++) {
		slot_fd[i] = -1;
		slot_meta[i] = -1;
	}
	slot_fd[NSLOTS - 1] = open("/dev/null", O_RDWR);

	/* An op may make several calls; each advances `call`. */
	for (call = 0; call < calls; call++)
		step();

	msix_guard();
	for (i = 0; i < MAX_MAPS; i++)
		if (maps[i].addr)
			munmap(maps[i].addr, maps[i].len);
	for (i = 0; i < NSLOTS; i++)
		slot_close(i);
	restore_devices();
	pci_test_put_type1(type1);
	printf("# end %u\n", call);
	return 0;
}
