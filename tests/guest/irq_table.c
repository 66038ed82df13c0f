// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO_DEVICE_SET_IRQS over every combination a user can send: each
 * index (INTx, MSI, MSI-X, ERR, REQ) from a few starting states, times
 * each action field (the three bits, in all eight values), each data
 * field (none, bool 0/1, eventfd -2, -1, new, closed, not an eventfd,
 * and invalid data types), and count 0, 1, 2.
 *
 * The answer expected of each is computed by model_set_irqs(), the
 * rule as upstream 6.12 behaves (probed on the upstream set):
 *
 *  1. The core checks the header: EINVAL for an unknown flag, a data
 *     field that is not exactly one type, or start/count outside the
 *     index's interrupts (an index with none, like ERR on a conventional
 *     PCI function, takes nothing).
 *  2. vfio-pci takes the action field as a value, not as bits: ENOTTY
 *     unless it is exactly one action the index offers (INTx: MASK,
 *     UNMASK, TRIGGER; the others: TRIGGER).
 *  3. Then each index's handler (see the model's comments).
 *
 * After each request the state left behind is observed, not assumed:
 * which eventfds the request itself signalled, the host IRQs requested
 * and vectors allocated, which eventfd hears the device's real interrupt
 * (edu for INTx and MSI, the e1000e for MSI-X), whether INTx has an
 * unmask eventfd, and which eventfd ERR and REQ hold.
 */
// harness: machine=q35-pcie timeout=300 feature=irqs
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <time.h>

#include "edu.h"
#include "irqs.h"
#include "pci_test.h"
#include "kselftest_harness.h"
#include "e1000e.h"

#define E1000_EITR(n)	(0x00e8 + 4 * (n))

#define INTX	VFIO_PCI_INTX_IRQ_INDEX
#define MSI	VFIO_PCI_MSI_IRQ_INDEX
#define MSIX	VFIO_PCI_MSIX_IRQ_INDEX
#define ERR	VFIO_PCI_ERR_IRQ_INDEX
#define REQ	VFIO_PCI_REQ_IRQ_INDEX
#define NONE_ON	(-1)		/* no INTx/MSI/MSI-X in use */

/* Eventfds, by id: A is the starting state's, B and C a request's. */
enum { EV_NONE, EV_A, EV_B, EV_C, EV_U, EV_P, EV_N };
static const char ev_name[EV_N] = { '-', 'A', 'B', 'C', 'U', 'P' };

/* What a request carries in its data. */
enum data {
	D_NONE, D_BOOL0, D_BOOL1,
	D_FD_M2, D_FD_M1, D_FD_NEW, D_FD_CLOSED, D_FD_NOTEVT,
	D_N
};
static const char *const data_name[D_N] = {
	"none", "bool0", "bool1", "fd-2", "fd-1", "fd-new", "fd-closed",
	"fd-notevt",
};

/* Starting states, one per variant. */
enum start {
	S_OFF,			/* nothing on */
	S_ON,			/* the index on, vector 0 -> A */
	S_MASKED,		/* INTx on with A, masked by the user */
	S_UNMASKFD,		/* INTx on with A and an unmask eventfd U */
	S_OTHER,		/* INTx on (for MSI/MSI-X), or MSI (for INTx) */
};

struct model {
	int type;		/* INTX, MSI, MSIX or NONE_ON */
	int trig[3];		/* eventfd id per vector (INTx: [0]) */
	unsigned int alloc;	/* MSI/MSI-X vectors allocated, a bitmask */
	unsigned int vecs;	/* MSI/MSI-X vectors with a host IRQ handler */
	bool masked;		/* INTx */
	bool unmaskfd;		/* INTx */
	int err, req;
	unsigned int sig;	/* eventfds the request signalled, a bitmask */
};

struct ctx {
	struct vfio_user u;
	bool type1;
	bool nic;
	long long bar0, config;
	int efd[EV_N];
	int closed, notevt;
	bool pcie;
	cpu_set_t cpus;		/* the CPUs we may run on */
	unsigned int late;	/* wanted interrupts not heard at the barrier */
};

static int fd_of(struct ctx *c, int data, int i)
{
	switch (data) {
	case D_FD_M2:	return -2;
	case D_FD_M1:	return -1;
	case D_FD_NEW:	return c->efd[EV_B + i];
	case D_FD_CLOSED: return c->closed;
	case D_FD_NOTEVT: return c->notevt;
	}
	return -1;
}

/* --- the rule --------------------------------------------------------- */

/* The eventfd a data element names, or the errno of looking it up. */
static int model_fdget(int data, int i, int *id)
{
	if (data == D_FD_CLOSED)
		return EBADF;
	if (data == D_FD_NOTEVT)
		return EINVAL;
	*id = data == D_FD_NEW ? EV_B + i : EV_NONE;
	return 0;
}

static void model_signal(struct model *m, int id)
{
	if (id)
		m->sig |= 1u << id;
}

static void model_intx_off(struct model *m)
{
	m->type = NONE_ON;
	m->trig[0] = EV_NONE;
	m->masked = m->unmaskfd = false;
}

static int model_intx(struct model *m, uint32_t act, int data,
		      uint32_t start, uint32_t count)
{
	bool intx = m->type == INTX;
	int id = EV_NONE, ret;

	if (act == VFIO_IRQ_SET_ACTION_TRIGGER) {
		/* Count 0, no data: INTx off. */
		if (intx && !count && data == D_NONE) {
			model_intx_off(m);
			return 0;
		}
		if (!(intx || m->type == NONE_ON) || start || count != 1)
			return EINVAL;
		if (data >= D_FD_M2) {
			/* Any negative fd: on (or kept on) with none. */
			ret = model_fdget(data, 0, &id);
			if (ret)
				return ret;
			if (!intx) {
				m->type = INTX;
				m->masked = false;
			}
			m->trig[0] = id;
			return 0;
		}
		/* Loopback: signalled even while masked. */
		if (!intx)
			return EINVAL;
		if (data != D_BOOL0)
			model_signal(m, m->trig[0]);
		return 0;
	}

	/* MASK and UNMASK: INTx on, exactly vector 0. */
	if (!intx || start || count != 1)
		return EINVAL;
	if (act == VFIO_IRQ_SET_ACTION_MASK) {
		if (data >= D_FD_M2)
			return ENOTTY;		/* no mask eventfd */
		if (data != D_BOOL0)
			m->masked = true;
		return 0;
	}
	if (data >= D_FD_M2) {
		/* An unmask eventfd for fd >= 0, none for any negative. */
		if (data == D_FD_M2 || data == D_FD_M1) {
			m->unmaskfd = false;
			return 0;
		}
		ret = model_fdget(data, 0, &id);
		if (ret)
			return ret;
		if (m->unmaskfd)
			return EBUSY;
		m->unmaskfd = true;
		return 0;
	}
	/* The line is never pending here: unmasking just unmasks. */
	if (data != D_BOOL0)
		m->masked = false;
	return 0;
}

static void model_msi_off(struct model *m)
{
	m->type = NONE_ON;
	memset(m->trig, 0, sizeof(m->trig));
	m->alloc = 0;
}

/* One vector: detach what it had, then attach @data's eventfd. */
static int model_msi_vector(struct model *m, unsigned int v, int data,
			    int i, bool msix)
{
	int id, ret;

	m->trig[v] = EV_NONE;
	if (data == D_FD_M2 || data == D_FD_M1)
		return 0;
	if (!(m->alloc & (1u << v))) {
		/* Dynamic MSI-X allocates it, for good; MSI cannot. */
		if (!msix)
			return EINVAL;
		m->alloc |= 1u << v;
	}
	ret = model_fdget(data, i, &id);
	if (ret)
		return ret;
	m->trig[v] = id;
	return 0;
}

static int model_msi(struct model *m, int index, int data, uint32_t start,
		     uint32_t count)
{
	bool on = m->type == index, msix = index == MSIX;
	unsigned int i, j;
	int ret = 0;

	if (on && !count && data == D_NONE) {
		model_msi_off(m);
		return 0;
	}
	if (!(on || m->type == NONE_ON))
		return EINVAL;
	if (data >= D_FD_M2) {
		if (!on) {
			/* pci_alloc_irq_vectors(1, start + count) */
			if (!(start + count))
				return ERANGE;
			m->type = index;
			m->alloc = (1u << (start + count)) - 1;
		}
		for (i = 0; i < count; i++) {
			ret = model_msi_vector(m, start + i, data, i, msix);
			if (ret)
				break;
		}
		if (ret) {
			/* Every vector of the request, up to the failed. */
			for (j = 0; j <= i; j++)
				m->trig[start + j] = EV_NONE;
			if (!on)
				model_msi_off(m);
		}
		return ret;
	}
	if (!on)
		return EINVAL;
	for (i = start; i < start + count; i++)
		if (data != D_BOOL0)
			model_signal(m, m->trig[i]);
	return 0;
}

static int model_single(struct model *m, int *cur, int data, uint32_t count)
{
	int id, ret;

	if (data == D_NONE) {
		if (!*cur)
			return EINVAL;
		if (count)
			model_signal(m, *cur);
		else
			*cur = EV_NONE;
		return 0;
	}
	if (!count)
		return EINVAL;
	if (data == D_BOOL0 || data == D_BOOL1) {
		if (data == D_BOOL1)
			model_signal(m, *cur);
		return 0;
	}
	if (data == D_FD_M2)
		return EINVAL;		/* only -1 means none here */
	if (data == D_FD_M1) {
		*cur = EV_NONE;
		return 0;
	}
	ret = model_fdget(data, 0, &id);
	if (ret)
		return ret;
	*cur = id;
	return 0;
}

/*
 * The errno upstream answers @flags/@start/@count with, and the state it
 * leaves in @m. @data is D_* for a valid data type (ignored otherwise).
 */
static int model_set_irqs(struct model *m, int index, unsigned int nirqs,
			  bool pcie, uint32_t flags, int data, uint32_t start,
			  uint32_t count)
{
	uint32_t type = flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	uint32_t act = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	bool one_action;

	/* 1. the core's header check */
	if (flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
		      VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return EINVAL;
	if (start >= nirqs || start + count > nirqs)
		return EINVAL;
	if (type != VFIO_IRQ_SET_DATA_NONE && type != VFIO_IRQ_SET_DATA_BOOL &&
	    type != VFIO_IRQ_SET_DATA_EVENTFD)
		return EINVAL;

	/* 2. vfio-pci: one action the index offers */
	one_action = act == VFIO_IRQ_SET_ACTION_MASK ||
		     act == VFIO_IRQ_SET_ACTION_UNMASK ||
		     act == VFIO_IRQ_SET_ACTION_TRIGGER;
	if (!one_action ||
	    (index != INTX && act != VFIO_IRQ_SET_ACTION_TRIGGER) ||
	    (index == ERR && !pcie))
		return ENOTTY;

	/* 3. the index */
	switch (index) {
	case INTX:
		return model_intx(m, act, data, start, count);
	case MSI:
	case MSIX:
		return model_msi(m, index, data, start, count);
	case ERR:
		return model_single(m, &m->err, data, count);
	default:
		return model_single(m, &m->req, data, count);
	}
}

/* --- the device --------------------------------------------------------- */

static int raw_set_irqs(struct ctx *c, int index, uint32_t flags, int data,
			uint32_t start, uint32_t count)
{
	char buf[sizeof(struct vfio_irq_set) + 4 * sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	uint32_t i;

	memset(buf, 0, sizeof(buf));
	set->argsz = sizeof(*set) + count * sizeof(int32_t);
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	for (i = 0; i < count && i < 4; i++) {
		if (data == D_BOOL1)
			set->data[i] = 1;
		else if (data >= D_FD_M2)
			((int32_t *)set->data)[i] = fd_of(c, data, i);
	}
	return ioctl(c->u.device, VFIO_DEVICE_SET_IRQS, set) ? errno : 0;
}

static int set_fd(struct ctx *c, int index, uint32_t act, uint32_t vec,
		  int id)
{
	int32_t fd = id ? c->efd[id] : -1;

	return vfio_set_irqs(c->u.device, index, VFIO_IRQ_SET_DATA_EVENTFD |
			     act, vec, 1, &fd);
}

static int set_none(struct ctx *c, int index, uint32_t act, uint32_t count)
{
	return vfio_set_irqs(c->u.device, index, VFIO_IRQ_SET_DATA_NONE | act,
			     0, count, NULL);
}

/* Which eventfds have been signalled since last asked, a bitmask. */
static unsigned int drain(struct ctx *c)
{
	unsigned int fired = 0;
	uint64_t n;
	int i;

	for (i = 1; i < EV_N; i++)
		if (read(c->efd[i], &n, 8) == 8 && n)
			fired |= 1u << i;
	return fired;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/*
 * Which eventfds are signalled within @ms: returns as soon as all of
 * @want are, else when @ms are up.
 */
static unsigned int wait_fired(struct ctx *c, unsigned int want, int ms)
{
	long long end = now_ms() + ms, left;
	struct pollfd p[EV_N - 1];
	unsigned int fired = drain(c);
	int i;

	while (!want || (fired & want) != want) {
		left = end - now_ms();
		if (left <= 0)
			break;
		for (i = 1; i < EV_N; i++)
			p[i - 1] = (struct pollfd){ .fd = c->efd[i],
						    .events = POLLIN };
		if (poll(p, EV_N - 1, left) > 0)
			fired |= drain(c);
	}
	return fired;
}

/*
 * Run once on each CPU we may run on, then anywhere again. An interrupt
 * the device raised in a register write we made (edu's raise register,
 * the e1000e's ICS while its throttling timer is idle) is pending at its
 * target CPU's local APIC before the pwrite() returns: QEMU delivers it
 * during the write, IOMMU remapping included. Each CPU enables interrupts in the
 * scheduler before it runs us, and vfio's handlers (INTx, MSI, MSI-X,
 * both module sets) signal the eventfd in hard IRQ context: once we have
 * run everywhere, every such interrupt has been handled, and its eventfd
 * signalled. False if the affinity could not be changed.
 */
static bool visit_cpus(struct ctx *c)
{
	cpu_set_t one;
	bool ok = true;
	int cpu;

	for (cpu = 0; cpu < CPU_SETSIZE && ok; cpu++) {
		if (!CPU_ISSET(cpu, &c->cpus))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		ok = !sched_setaffinity(0, sizeof(one), &one);
	}
	return !sched_setaffinity(0, sizeof(c->cpus), &c->cpus) && ok;
}

/*
 * Without visit_cpus(), how long a vector expected to stay silent is
 * watched. The interrupt was raised during our pwrite(); what must have
 * happened by then is that the other vCPU's thread got the host CPU and
 * took it: the host's scheduling latency with 2 cores (CFS: 6 ms times
 * 1 + log2(CPUs) = 12 ms) plus a guest tick (4 ms at HZ=250, which
 * rounds poll()'s timeout up). A later interrupt would only go unseen
 * (this check passing when it should not), never fail a correct module.
 */
#define QUIET_MS	20

/*
 * After a deadline this long a wanted interrupt counts as not heard:
 * far beyond any delivery, only reached by a failing case.
 */
#define DEADLINE_MS	2000

/*
 * Wait for the interrupt just raised: which eventfds heard it. After
 * visit_cpus() all of them have; a wanted one still missing (which
 * would mean the reasoning there is wrong: counted in @late) is waited
 * for up to the deadline.
 */
static unsigned int settle(struct ctx *c, unsigned int want)
{
	unsigned int fired;

	if (!visit_cpus(c))
		return wait_fired(c, want, want ? DEADLINE_MS : QUIET_MS);
	fired = drain(c);
	if ((fired & want) != want) {
		c->late++;
		fired |= wait_fired(c, want & ~fired, DEADLINE_MS);
	}
	return fired;
}

static int bar0_w32(struct ctx *c, uint32_t off, uint32_t v)
{
	return pwrite(c->u.device, &v, 4, c->bar0 + off) == 4 ? 0 : errno;
}

static uint32_t bar0_r32(struct ctx *c, uint32_t off)
{
	uint32_t v = ~0u;

	if (pread(c->u.device, &v, 4, c->bar0 + off) != 4)
		return ~0u;
	return v;
}

/*
 * QEMU 7.2's e1000e throttles each MSI-X vector whatever EITR says (it
 * takes anything below 500 as 500: 128 us): a message arms a timer,
 * which aborts QEMU if it fires after MSI-X is disabled, and it fires
 * in QEMU's main loop, which a loaded host may run late. A cause raised
 * while the timer runs is held and sent when it fires; one raised after
 * it fired is sent at once and arms it again. So raise causes until one
 * is held, and wait for it: then no timer runs, and MSI-X may go.
 * @heard: the eventfds that heard the vector's message.
 */
static void nic_unthrottle(struct ctx *c, unsigned int heard)
{
	unsigned int one = heard & -heard;
	int i;

	for (i = 0; one && i < 100; i++) {
		bar0_w32(c, E1000_ICR, 0xffffffff);
		bar0_w32(c, E1000_ICS, E1000_ICR_RXQ0);
		if (!visit_cpus(c))
			break;
		if (drain(c) & one)
			continue;	/* sent at once: the timer runs again */
		if (wait_fired(c, one, DEADLINE_MS) & one)
			return;		/* the held one: the timer is done */
		break;
	}
	/* Not to be seen: wait as long as the teardown does. */
	usleep(200 * 1000);
}

/*
 * The device raises one interrupt (on MSI-X @vector), synchronously in
 * the register write: which eventfds heard it, then what is signalled
 * once it is acknowledged.
 */
static unsigned int fire(struct ctx *c, unsigned int vector,
			 unsigned int want)
{
	unsigned int fired;

	if (c->nic) {
		bar0_w32(c, E1000_ICR, 0xffffffff);
		bar0_w32(c, E1000_IVAR, E1000_IVAR_VALID | vector);
		bar0_w32(c, E1000_IMS, E1000_ICR_RXQ0);
		bar0_w32(c, E1000_ICS, E1000_ICR_RXQ0);
	} else {
		bar0_w32(c, EDU_IRQ_RAISE, 1);	/* the factorial's bit */
	}
	fired = settle(c, want);
	if (c->nic) {
		nic_unthrottle(c, fired);
		bar0_w32(c, E1000_IMC, 0xffffffff);
		bar0_w32(c, E1000_ICR, 0xffffffff);
	} else {
		bar0_w32(c, EDU_IRQ_ACK, bar0_r32(c, EDU_IRQ_STATUS));
	}
	return fired | drain(c);
}

/* Host IRQs requested for the function: type and vectors. */
static void requested(struct ctx *c, int *type, unsigned int *vecs)
{
	char line[1024], tag[64], *p;
	FILE *f = fopen("/proc/interrupts", "r");

	*type = NONE_ON;
	*vecs = 0;
	if (!f)
		return;
	snprintf(tag, sizeof(tag), "(%s)", c->u.bdf);
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, tag))
			continue;
		if (strstr(line, "vfio-intx")) {
			*type = INTX;
		} else if ((p = strstr(line, "vfio-msix["))) {
			*type = MSIX;
			*vecs |= 1u << atoi(p + 10);
		} else if ((p = strstr(line, "vfio-msi["))) {
			*type = MSI;
			*vecs |= 1u << atoi(p + 9);
		}
	}
	fclose(f);
}

static unsigned int allocated(struct ctx *c)
{
	return msi_irqs(c->u.bdf);
}

/* The eventfd ERR or REQ holds, by loopback. */
static int single_holder(struct ctx *c, int index)
{
	unsigned int fired;
	int i;

	if (set_none(c, index, VFIO_IRQ_SET_ACTION_TRIGGER, 1))
		return EV_NONE;
	fired = drain(c);
	for (i = 1; i < EV_N; i++)
		if (fired == 1u << i)
			return i;
	return -1;
}

#define NFIRE 3	/* vectors fired: MSI-X 0..2, else vector 0 */

static void describe(char *buf, size_t len, int ret, const struct model *m,
		     const unsigned int *fired)
{
	snprintf(buf, len, "%s; type %d alloc %u vecs %#x masked %d unmaskfd %d "
		 "err %c req %c signalled %#x heard %#x/%#x/%#x",
		 strerror(ret), m->type, m->alloc, m->vecs, m->masked,
		 m->unmaskfd,
		 ev_name[m->err], ev_name[m->req], m->sig, fired[0], fired[1],
		 fired[2]);
}

/* The type whose interrupt the variant's device raises, if in use. */
static bool fires(int index, int type)
{
	return type != NONE_ON && (index == MSIX) == (type == MSIX);
}

/* What observe() should see for the model @m. */
static void expect_of(const struct model *m, struct model *e,
		      unsigned int *fired, int index)
{
	unsigned int v;

	memset(e, 0, sizeof(*e));
	e->sig = m->sig;
	e->type = m->type;
	e->err = m->err;
	e->req = m->req;
	memset(fired, 0, NFIRE * sizeof(*fired));
	if (m->type == MSI || m->type == MSIX) {
		e->alloc = __builtin_popcount(m->alloc);
		for (v = 0; v < NFIRE; v++)
			if (m->trig[v])
				e->vecs |= 1u << v;
	}
	if (m->type == INTX)
		e->unmaskfd = m->unmaskfd;
	/* A type with no vector requested shows in /proc as none. */
	if ((m->type == MSI || m->type == MSIX) &&
	    !m->trig[0] && !m->trig[1] && !m->trig[2])
		e->type = NONE_ON;
	if (!fires(index, m->type) || (m->type == INTX && m->masked))
		return;
	for (v = 0; v < (m->type == MSIX ? NFIRE : 1); v++)
		fired[v] = m->trig[v] ? 1u << m->trig[v] : 0;
}

/*
 * Observe the device's state as a model would show it (@fired: what
 * the real interrupt of each vector reached; @want: what the model
 * expects there, only to know how long to wait). Disturbs the state.
 */
static void observe(struct ctx *c, int index, struct model *o,
		    unsigned int *fired, const unsigned int *want)
{
	unsigned int vecs, v;
	int type;

	memset(o, 0, sizeof(*o));
	o->sig = drain(c);
	requested(c, &type, &vecs);
	o->type = type;
	o->vecs = vecs;
	o->alloc = allocated(c);
	memset(fired, 0, NFIRE * sizeof(*fired));
	/*
	 * Only vectors with a handler: the e1000e keeps a message sent to
	 * a masked vector pending, and delivers it later to whoever
	 * attaches there (as on both module sets).
	 */
	if (fires(index, type))
		for (v = 0; v < (type == MSIX ? NFIRE : 1); v++)
			if (type != MSIX || vecs & (1u << v))
				fired[v] = fire(c, v, want[v]);
	if (type == INTX) {
		/* EBUSY: there is one already (the probe's goes at reset). */
		o->unmaskfd = set_fd(c, INTX, VFIO_IRQ_SET_ACTION_UNMASK, 0,
				     EV_P) == EBUSY;
	}
	o->err = c->pcie ? single_holder(c, ERR) : EV_NONE;
	o->req = single_holder(c, REQ);
}

/* Back to nothing on; the device quiet. */
static void reset_all(struct ctx *c)
{
	set_none(c, INTX, VFIO_IRQ_SET_ACTION_TRIGGER, 0);
	set_none(c, MSI, VFIO_IRQ_SET_ACTION_TRIGGER, 0);
	set_none(c, MSIX, VFIO_IRQ_SET_ACTION_TRIGGER, 0);
	if (c->pcie)
		set_fd(c, ERR, VFIO_IRQ_SET_ACTION_TRIGGER, 0, EV_NONE);
	set_fd(c, REQ, VFIO_IRQ_SET_ACTION_TRIGGER, 0, EV_NONE);
	drain(c);
}

/* Put the device and the model in a starting state. */
static int enter(struct ctx *c, int index, int start, struct model *m)
{
	uint32_t trig = VFIO_IRQ_SET_ACTION_TRIGGER;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	m->type = NONE_ON;
	if (start == S_OFF)
		return 0;
	if (start == S_OTHER) {
		int other = index == INTX ? MSI : INTX;

		m->type = other;
		m->trig[0] = EV_A;
		if (other == MSI)
			m->alloc = 1;
		return set_fd(c, other, trig, 0, EV_A);
	}
	switch (index) {
	case INTX:
	case MSI:
	case MSIX:
		ret = set_fd(c, index, trig, 0, EV_A);
		m->type = index;
		m->trig[0] = EV_A;
		m->alloc = index == INTX ? 0 : 1;
		if (!ret && start == S_MASKED) {
			ret = set_none(c, INTX, VFIO_IRQ_SET_ACTION_MASK, 1);
			m->masked = true;
		}
		if (!ret && start == S_UNMASKFD) {
			ret = set_fd(c, INTX, VFIO_IRQ_SET_ACTION_UNMASK, 0,
				     EV_U);
			m->unmaskfd = true;
		}
		break;
	case ERR:
		m->err = EV_A;
		ret = set_fd(c, ERR, trig, 0, EV_A);
		break;
	case REQ:
		m->req = EV_A;
		ret = set_fd(c, REQ, trig, 0, EV_A);
		break;
	}
	return ret;
}

static int nirqs_of(struct ctx *c, int index)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = index };

	if (ioctl(c->u.device, VFIO_DEVICE_GET_IRQ_INFO, &info))
		return 0;
	return info.count;
}

static bool same(const struct model *a, const struct model *b)
{
	return a->type == b->type && a->alloc == b->alloc &&
	       a->vecs == b->vecs &&
	       a->unmaskfd == b->unmaskfd && a->err == b->err &&
	       a->req == b->req && a->sig == b->sig;
}

/* --- the table ---------------------------------------------------------- */

FIXTURE(irqs) {
	struct ctx c;
};

FIXTURE_VARIANT(irqs) {
	int index;
	int start;
	bool nic;
};

FIXTURE_VARIANT_ADD(irqs, intx_off) { .index = INTX, .start = S_OFF };
FIXTURE_VARIANT_ADD(irqs, intx_on) { .index = INTX, .start = S_ON };
FIXTURE_VARIANT_ADD(irqs, intx_masked) { .index = INTX, .start = S_MASKED };
FIXTURE_VARIANT_ADD(irqs, intx_unmaskfd) {
	.index = INTX, .start = S_UNMASKFD };
FIXTURE_VARIANT_ADD(irqs, intx_msi_on) { .index = INTX, .start = S_OTHER };
FIXTURE_VARIANT_ADD(irqs, msi_off) { .index = MSI, .start = S_OFF };
FIXTURE_VARIANT_ADD(irqs, msi_on) { .index = MSI, .start = S_ON };
FIXTURE_VARIANT_ADD(irqs, msi_intx_on) { .index = MSI, .start = S_OTHER };
FIXTURE_VARIANT_ADD(irqs, msix_off) {
	.index = MSIX, .start = S_OFF, .nic = true };
FIXTURE_VARIANT_ADD(irqs, msix_on) {
	.index = MSIX, .start = S_ON, .nic = true };
FIXTURE_VARIANT_ADD(irqs, msix_intx_on) {
	.index = MSIX, .start = S_OTHER, .nic = true };
/* edu is a conventional PCI function: it has no ERR interrupt. */
FIXTURE_VARIANT_ADD(irqs, err_conventional) { .index = ERR, .start = S_OFF };
FIXTURE_VARIANT_ADD(irqs, err_off) { .index = ERR, .start = S_OFF, .nic = true };
FIXTURE_VARIANT_ADD(irqs, err_on) { .index = ERR, .start = S_ON, .nic = true };
FIXTURE_VARIANT_ADD(irqs, req_off) { .index = REQ, .start = S_OFF };
FIXTURE_VARIANT_ADD(irqs, req_on) { .index = REQ, .start = S_ON };

FIXTURE_SETUP(irqs)
{
	struct ctx *c = &self->c;
	uint16_t cmd = 0x6;	/* memory decode, bus master */
	int i, ret;

	c->nic = variant->nic;
	ret = pci_user_open(&c->u, &c->type1,
			    c->nic ? NIC_VENDOR : EDU_VENDOR,
			    c->nic ? NIC_DEVICE : EDU_DEVICE);
	ASSERT_EQ(0, ret) TH_LOG("open: %s", strerror(-ret));
	c->bar0 = vfio_region_offset(c->u.device, VFIO_PCI_BAR0_REGION_INDEX);
	c->config = vfio_region_offset(c->u.device,
				       VFIO_PCI_CONFIG_REGION_INDEX);
	ASSERT_LE(0, c->bar0);
	ASSERT_LE(0, c->config);
	ASSERT_EQ(2, pwrite(c->u.device, &cmd, 2, c->config + 4));
	c->pcie = nirqs_of(c, ERR) == 1;
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(c->cpus), &c->cpus));
	for (i = 1; i < EV_N; i++) {
		c->efd[i] = eventfd(0, EFD_NONBLOCK);
		ASSERT_LE(0, c->efd[i]);
	}
	c->notevt = open("/dev/null", O_RDWR);
	ASSERT_LE(0, c->notevt);
	/* An fd number nothing holds, and nothing will take. */
	c->closed = dup2(c->notevt, 900);
	ASSERT_EQ(900, c->closed);
	close(c->closed);
	if (c->nic) {
		/* The least throttling there is (see nic_unthrottle()). */
		bar0_w32(c, E1000_IMC, 0xffffffff);
		bar0_w32(c, E1000_ITR, 0);
		for (i = 0; i < 5; i++)
			bar0_w32(c, E1000_EITR(i), 0);
	}
}

FIXTURE_TEARDOWN(irqs)
{
	struct ctx *c = &self->c;
	int i;

	reset_all(c);
	if (c->nic)
		usleep(200 * 1000);
	for (i = 1; i < EV_N; i++)
		close(c->efd[i]);
	close(c->notevt);
	pci_user_close(&c->u, &c->type1);
}

/* Data types other than exactly one of NONE, BOOL, EVENTFD. */
static const uint32_t bad_types[] = { 0, 3, 5, 6, 7 };

#define N_DATA		(D_N + ARRAY_SIZE(bad_types) + 1)

TEST_F_TIMEOUT(irqs, table, 600)
{
	struct ctx *c = &self->c;
	int index = variant->index, nirqs = nirqs_of(c, index);
	unsigned int fired[NFIRE], want_fired[NFIRE];
	unsigned int k, act, count, start, n = 0;
	char got_s[200], want_s[200];
	int data, ret, want, bad = 0;
	struct model m, o, e;

	for (k = 0; k < 8 * N_DATA * 3 * 2; k++) {
		uint32_t flags;

		act = k % 8;
		data = k / 8 % N_DATA;
		count = k / 8 / N_DATA % 3;
		start = k / 8 / N_DATA / 3;
		/* start 1 only where there are vectors past 0 */
		if (start && index != MSIX)
			continue;
		if (data < D_N) {
			flags = data == D_NONE ? VFIO_IRQ_SET_DATA_NONE :
				data <= D_BOOL1 ? VFIO_IRQ_SET_DATA_BOOL :
				VFIO_IRQ_SET_DATA_EVENTFD;
		} else if (data < D_N + (int)ARRAY_SIZE(bad_types)) {
			flags = bad_types[data - D_N];
			data = D_FD_NEW;
		} else {
			flags = 1u << 6 | VFIO_IRQ_SET_DATA_EVENTFD;
			data = D_FD_NEW;
		}
		flags |= act << 3;

		ASSERT_EQ(0, enter(c, index, variant->start, &m))
			TH_LOG("starting state %d", variant->start);
		drain(c);
		want = model_set_irqs(&m, index, nirqs, c->pcie, flags, data,
				      start, count);
		ret = raw_set_irqs(c, index, flags, data, start, count);
		expect_of(&m, &e, want_fired, index);
		observe(c, index, &o, fired, want_fired);
		n++;
		if (ret != want || !same(&o, &e) ||
		    memcmp(fired, want_fired, sizeof(fired))) {
			describe(got_s, sizeof(got_s), ret, &o, fired);
			describe(want_s, sizeof(want_s), want, &e, want_fired);
			TH_LOG("flags %#x %s start %u count %u: got %s; want %s",
			       flags, data_name[data], start, count, got_s,
			       want_s);
			bad++;
		}
		reset_all(c);
	}
	TH_LOG("%u requests, %d differ; %u interrupts late", n, bad,
	       c->late);
	EXPECT_EQ(0, bad);
}

TEST_HARNESS_MAIN
