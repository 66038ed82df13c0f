// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO PCI interrupts: VFIO_DEVICE_SET_IRQS for INTx, MSI, MSI-X and the
 * error and request eventfds.
 *
 * The host kernel owns the real interrupts: each one the user enables is
 * requested here, and its handler signals the user's eventfd. INTx is
 * level-triggered, so its handler masks the line (DisINTx, or the host
 * IRQ when the function cannot mask itself) until the user unmasks it.
 */

#include <linux/eventfd.h>
#include <linux/interrupt.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "vfio_pci_priv.h"

/**
 * struct vfio_pci_irq_ctx - one interrupt the user listens to
 * @trigger: the user's eventfd, signalled by the interrupt; NULL for a
 *           vector with none. MSI/MSI-X: changed under the device's igate.
 *           INTx: changed under igate and irqlock both, read under
 *           irqlock and RCU, its reference dropped after a grace period
 *           (see vfio_pci_intx_trigger() and vfio_pci_intx_put_trigger())
 * @unmask: INTx only: eventfd whose signals unmask the line
 * @name: the name given to request_irq()
 * @masked: INTx only: the line is masked, by its handler or the user;
 *          under the device's irqlock
 */
struct vfio_pci_irq_ctx {
	struct eventfd_ctx	*trigger;
	struct virqfd		*unmask;
	char			*name;
	bool			masked;
};

static bool vfio_pci_irq_is(struct vfio_pci_core_device *vdev, int index)
{
	return vdev->irq_type == index;
}

static bool vfio_pci_irq_none(struct vfio_pci_core_device *vdev)
{
	return vdev->irq_type == VFIO_PCI_NUM_IRQS;
}

/*
 * The host writes the MSI-X table in a memory BAR: memory decode must be
 * on meanwhile, whatever the user set, and no BAR access may race with
 * the change. Returns the command register to put back.
 */
static u16 vfio_pci_memory_lock_and_enable(struct vfio_pci_core_device *vdev)
{
	u16 cmd;

	down_write(&vdev->memory_lock);
	pci_read_config_word(vdev->pdev, PCI_COMMAND, &cmd);
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(vdev->pdev, PCI_COMMAND,
				      cmd | PCI_COMMAND_MEMORY);
	return cmd;
}

static void
vfio_pci_memory_unlock_and_restore(struct vfio_pci_core_device *vdev, u16 cmd)
{
	pci_write_config_word(vdev->pdev, PCI_COMMAND, cmd);
	up_write(&vdev->memory_lock);
}

/* ---- INTx ---- */

/* An INTx trigger whose reference is dropped once a grace period ends. */
struct vfio_pci_intx_put {
	struct rcu_head		rcu;
	struct eventfd_ctx	*trigger;
};

/*
 * RCU callback, in softirq context: eventfd_ctx_put() is a kref_put()
 * whose release does ida_free() (irq-safe lock) and kfree(), so it may
 * run here.
 */
static void vfio_pci_intx_put_rcu(struct rcu_head *rcu)
{
	struct vfio_pci_intx_put *put =
		container_of(rcu, struct vfio_pci_intx_put, rcu);

	eventfd_ctx_put(put->trigger);
	kfree(put);
}

/*
 * Drop the reference of an INTx trigger no longer published, once the
 * senders that may have read it (see vfio_pci_intx_trigger()) are done.
 * Deferred to an RCU callback rather than waiting here: a grace period
 * for each SET_IRQS that replaces or drops a trigger made them tens of
 * milliseconds long. Should the carrier not be allocated, wait instead:
 * the reference must not leak. vfio-pci-core's module exit waits for the
 * callbacks with rcu_barrier().
 */
static void vfio_pci_intx_put_trigger(struct eventfd_ctx *trigger)
{
	struct vfio_pci_intx_put *put;

	if (!trigger)
		return;
	put = kmalloc(sizeof(*put), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!put) {
		synchronize_rcu();
		eventfd_ctx_put(trigger);
		return;
	}
	put->trigger = trigger;
	call_rcu(&put->rcu, vfio_pci_intx_put_rcu);
}

/*
 * The trigger to signal, or NULL: none set, INTx not in use (being torn
 * down), or disabled by the user in the command register. Called with
 * @irqlock held, inside an RCU read-side section that lasts until the
 * eventfd is signalled: the unmask virqfd takes @irqlock under an
 * eventfd's wait queue lock, so the signal comes after @irqlock is
 * dropped, and whoever replaces the trigger drops its reference only
 * after a grace period (vfio_pci_intx_put_trigger()).
 */
static struct eventfd_ctx *
vfio_pci_intx_trigger(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_irq_ctx *ctx = vdev->irq_ctx;

	lockdep_assert_held(&vdev->irqlock);
	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "INTx trigger outside RCU");
	if (!vfio_pci_irq_is(vdev, VFIO_PCI_INTX_IRQ_INDEX) || !ctx ||
	    vdev->virq_disabled)
		return NULL;
	return READ_ONCE(ctx->trigger);
}

/* Signal the user, unless it disabled INTx in the command register. */
static void vfio_pci_intx_send(struct vfio_pci_core_device *vdev)
{
	struct eventfd_ctx *trigger;
	unsigned long flags;

	rcu_read_lock();
	spin_lock_irqsave(&vdev->irqlock, flags);
	trigger = vfio_pci_intx_trigger(vdev);
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	if (trigger)
		eventfd_signal(trigger);
	rcu_read_unlock();
}

/* virqfd thread: the unmask found the line asserted; tell the user. */
static void vfio_pci_intx_send_thread(void *opaque, void *unused)
{
	vfio_pci_intx_send(opaque);
}

/**
 * vfio_pci_intx_mask - mask INTx at the user's request
 * @vdev: the device
 *
 * Also called when the user sets INTx disable in the virtual command
 * register; without INTx in use, the real bit just follows the virtual.
 *
 * Return: true when INTx is in use and this call masked it.
 */
bool vfio_pci_intx_mask(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_irq_ctx *ctx;
	bool masked = false;
	struct pci_dev *pdev = vdev->pdev;
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	ctx = vdev->irq_ctx;	/* published under irqlock */
	if (!vfio_pci_irq_is(vdev, VFIO_PCI_INTX_IRQ_INDEX)) {
		if (vdev->pci_2_3)
			pci_intx(pdev, 0);
	} else if (!ctx->masked) {
		if (vdev->pci_2_3)
			pci_intx(pdev, 0);
		else
			disable_irq_nosync(pdev->irq);
		ctx->masked = true;
		masked = true;
	}
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	return masked;
}

/*
 * Unmask INTx unless the user disabled it in the command register.
 * Returns 1 when the line is still asserted: it stays masked and the
 * user must be signalled again.
 */
static int vfio_pci_intx_unmask_handler(void *opaque, void *unused)
{
	struct vfio_pci_core_device *vdev = opaque;
	struct vfio_pci_irq_ctx *ctx;
	struct pci_dev *pdev = vdev->pdev;
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&vdev->irqlock, flags);
	ctx = vdev->irq_ctx;	/* published under irqlock */
	if (!vfio_pci_irq_is(vdev, VFIO_PCI_INTX_IRQ_INDEX)) {
		if (vdev->pci_2_3)
			pci_intx(pdev, 1);
	} else if (ctx->masked && !vdev->virq_disabled) {
		if (vdev->pci_2_3) {
			if (!pci_check_and_unmask_intx(pdev))
				ret = 1;
		} else {
			enable_irq(pdev->irq);
		}
		ctx->masked = ret > 0;
	}
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	return ret;
}

/**
 * vfio_pci_intx_unmask - unmask INTx at the user's request
 * @vdev: the device
 *
 * Also called when the user clears INTx disable in the virtual command
 * register.
 */
void vfio_pci_intx_unmask(struct vfio_pci_core_device *vdev)
{
	if (vfio_pci_intx_unmask_handler(vdev, NULL) > 0)
		vfio_pci_intx_send(vdev);
}

static irqreturn_t vfio_pci_intx_handler(int irq, void *dev_id)
{
	struct vfio_pci_core_device *vdev = dev_id;
	struct eventfd_ctx *trigger = NULL;
	struct vfio_pci_irq_ctx *ctx;
	irqreturn_t ret = IRQ_NONE;
	unsigned long flags;

	rcu_read_lock();
	spin_lock_irqsave(&vdev->irqlock, flags);
	ctx = vdev->irq_ctx;
	if (!ctx) {
		/* INTx is being torn down: free_irq() comes next. */
	} else if (!vdev->pci_2_3) {
		disable_irq_nosync(vdev->pdev->irq);
		ctx->masked = true;
		ret = IRQ_HANDLED;
	} else if (!ctx->masked && pci_check_and_mask_intx(vdev->pdev)) {
		ctx->masked = true;
		ret = IRQ_HANDLED;
	}
	if (ret == IRQ_HANDLED)
		trigger = vfio_pci_intx_trigger(vdev);
	spin_unlock_irqrestore(&vdev->irqlock, flags);

	if (trigger)
		eventfd_signal(trigger);
	rcu_read_unlock();
	return ret;
}

/*
 * Make @ctx the INTx context, or none for NULL. Config space writes mask
 * and unmask INTx without the igate: they see both changes at once.
 */
static void vfio_pci_intx_publish(struct vfio_pci_core_device *vdev,
				  struct vfio_pci_irq_ctx *ctx)
{
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	vdev->irq_ctx = ctx;
	vdev->num_irq_ctx = ctx ? 1 : 0;
	vdev->irq_type = ctx ? VFIO_PCI_INTX_IRQ_INDEX : VFIO_PCI_NUM_IRQS;
	spin_unlock_irqrestore(&vdev->irqlock, flags);
}

/*
 * Start INTx with @trigger (which may be NULL); takes its reference,
 * also on failure.
 */
static int vfio_pci_intx_enable(struct vfio_pci_core_device *vdev,
				struct eventfd_ctx *trigger)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_pci_irq_ctx *ctx;
	unsigned long irqflags;
	int ret;

	if (!vfio_pci_irq_none(vdev)) {
		ret = -EINVAL;
		goto err_put;
	}
	if (!pdev->irq || pdev->irq == IRQ_NOTCONNECTED) {
		ret = -ENODEV;
		goto err_put;
	}

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx) {
		ret = -ENOMEM;
		goto err_put;
	}
	ctx->name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-intx(%s)",
			      pci_name(pdev));
	if (!ctx->name) {
		ret = -ENOMEM;
		goto err_free_ctx;
	}
	ctx->trigger = trigger;

	/*
	 * The user may have disabled INTx in the command register before
	 * enabling it here: then it starts masked.
	 */
	ctx->masked = vdev->virq_disabled;
	if (vdev->pci_2_3) {
		pci_intx(pdev, !ctx->masked);
		irqflags = IRQF_SHARED;
	} else {
		irqflags = ctx->masked ? IRQF_NO_AUTOEN : 0;
	}

	vfio_pci_intx_publish(vdev, ctx);
	ret = request_irq(pdev->irq, vfio_pci_intx_handler, irqflags,
			  ctx->name, vdev);
	if (ret)
		goto err_unpublish;
	return 0;

err_unpublish:
	vfio_pci_intx_publish(vdev, NULL);
	kfree(ctx->name);
err_free_ctx:
	kfree(ctx);
err_put:
	/* Once published, a config write's sender may have read it. */
	vfio_pci_intx_put_trigger(trigger);
	return ret;
}

/*
 * Replace the INTx eventfd; takes the reference of @trigger. The old
 * one's is dropped once the senders that read it are done.
 */
static void vfio_pci_intx_set_trigger(struct vfio_pci_core_device *vdev,
				      struct eventfd_ctx *trigger)
{
	struct vfio_pci_irq_ctx *ctx = vdev->irq_ctx;
	struct eventfd_ctx *old;
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	old = ctx->trigger;
	WRITE_ONCE(ctx->trigger, trigger);
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	vfio_pci_intx_put_trigger(old);
}

static void vfio_pci_intx_disable(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_irq_ctx *ctx = vdev->irq_ctx;
	struct pci_dev *pdev = vdev->pdev;

	vfio_virqfd_disable(&ctx->unmask);
	/*
	 * Unpublished first, so that config space writes no longer mask
	 * or unmask the line. Freeing the only action shuts the line
	 * down, however masked.
	 */
	vfio_pci_intx_publish(vdev, NULL);
	free_irq(pdev->irq, vdev);
	/* A config write's sender may still hold it; not @ctx itself. */
	vfio_pci_intx_put_trigger(ctx->trigger);
	kfree(ctx->name);
	kfree(ctx);
}

static int vfio_pci_set_intx_mask(struct vfio_pci_core_device *vdev,
				  unsigned int start, unsigned int count,
				  u32 flags, void *data)
{
	if (!vfio_pci_irq_is(vdev, VFIO_PCI_INTX_IRQ_INDEX) || start ||
	    count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		vfio_pci_intx_mask(vdev);
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(u8 *)data)
			vfio_pci_intx_mask(vdev);
	} else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		return -ENOTTY;		/* as upstream: no mask eventfd */
	}
	return 0;
}

static int vfio_pci_set_intx_unmask(struct vfio_pci_core_device *vdev,
				    unsigned int start, unsigned int count,
				    u32 flags, void *data)
{
	struct vfio_pci_irq_ctx *ctx = vdev->irq_ctx;
	s32 fd;

	if (!vfio_pci_irq_is(vdev, VFIO_PCI_INTX_IRQ_INDEX) || start ||
	    count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		vfio_pci_intx_unmask(vdev);
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(u8 *)data)
			vfio_pci_intx_unmask(vdev);
	} else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		fd = *(s32 *)data;
		if (fd >= 0)
			return vfio_virqfd_enable(vdev,
						  vfio_pci_intx_unmask_handler,
						  vfio_pci_intx_send_thread,
						  NULL, &ctx->unmask, fd);
		vfio_virqfd_disable(&ctx->unmask);
	}
	return 0;
}

static int vfio_pci_set_intx_trigger(struct vfio_pci_core_device *vdev,
				     unsigned int start, unsigned int count,
				     u32 flags, void *data)
{
	bool intx = vfio_pci_irq_is(vdev, VFIO_PCI_INTX_IRQ_INDEX);
	struct eventfd_ctx *trigger = NULL;
	s32 fd;

	if (intx && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		vfio_pci_intx_disable(vdev);
		return 0;
	}
	if (!(intx || vfio_pci_irq_none(vdev)) || start || count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		fd = *(s32 *)data;
		if (fd >= 0) {
			trigger = eventfd_ctx_fdget(fd);
			if (IS_ERR(trigger))
				return PTR_ERR(trigger);
		}
		if (intx) {
			vfio_pci_intx_set_trigger(vdev, trigger);
			return 0;
		}
		return vfio_pci_intx_enable(vdev, trigger);
	}

	/* No data or a bool: loopback, the user signals itself. */
	if (!intx)
		return -EINVAL;
	if ((flags & VFIO_IRQ_SET_DATA_NONE) || *(u8 *)data)
		vfio_pci_intx_send(vdev);
	return 0;
}

/* ---- MSI and MSI-X ---- */

static irqreturn_t vfio_pci_msi_handler(int irq, void *arg)
{
	eventfd_signal(arg);
	return IRQ_HANDLED;
}

/*
 * Allocate @nvec vectors of MSI or MSI-X. Returns 0, -errno, or (as
 * upstream does) the smaller positive number of vectors the host could
 * have given.
 */
static int vfio_pci_msi_enable(struct vfio_pci_core_device *vdev, int nvec,
			       bool msix)
{
	struct pci_dev *pdev = vdev->pdev;
	int max = msix ? pci_msix_vec_count(pdev) : nvec;
	struct vfio_pci_irq_ctx *ctx;
	u16 cmd;
	int ret;

	if (!vfio_pci_irq_none(vdev))
		return -EINVAL;
	if (max < nvec)
		max = nvec;

	/* MSI-X may grow up to its table size: room for every entry. */
	ctx = kcalloc(max, sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;

	cmd = vfio_pci_memory_lock_and_enable(vdev);
	ret = pci_alloc_irq_vectors(pdev, 1, nvec,
				    msix ? PCI_IRQ_MSIX : PCI_IRQ_MSI);
	if (ret > 0 && ret < nvec)
		pci_free_irq_vectors(pdev);
	vfio_pci_memory_unlock_and_restore(vdev, cmd);
	if (ret < nvec) {
		kfree(ctx);
		return ret;
	}

	vdev->irq_ctx = ctx;
	vdev->num_irq_ctx = max;
	vdev->irq_type = msix ? VFIO_PCI_MSIX_IRQ_INDEX :
				VFIO_PCI_MSI_IRQ_INDEX;
	/* The Multiple Message Enable the user may write: log2, rounded up. */
	if (!msix)
		vdev->msi_qmax = fls(nvec * 2 - 1) - 1;
	return 0;
}

/*
 * Point one vector at the eventfd @fd, or detach it for a negative @fd.
 * A vector keeps its host IRQ allocated until MSI or MSI-X is disabled.
 */
static int vfio_pci_msi_set_vector(struct vfio_pci_core_device *vdev,
				   unsigned int vector, s32 fd, bool msix)
{
	struct vfio_pci_irq_ctx *ctx = &vdev->irq_ctx[vector];
	struct pci_dev *pdev = vdev->pdev;
	struct eventfd_ctx *trigger;
	struct msi_map map;
	struct msi_msg msg;
	int irq, ret;
	u16 cmd;

	/* A vector MSI never had: nothing to detach, none to attach. */
	if (vector >= vdev->num_irq_ctx)
		return fd < 0 ? 0 : -EINVAL;

	irq = pci_irq_vector(pdev, vector);
	if (ctx->trigger) {
		cmd = vfio_pci_memory_lock_and_enable(vdev);
		free_irq(irq, ctx->trigger);
		vfio_pci_memory_unlock_and_restore(vdev, cmd);
		eventfd_ctx_put(ctx->trigger);
		ctx->trigger = NULL;
		kfree(ctx->name);
		ctx->name = NULL;
	}
	if (fd < 0)
		return 0;

	if (irq == -EINVAL) {
		/* Not allocated yet: only dynamic MSI-X can add it now. */
		if (!msix || !vdev->has_dyn_msix)
			return -EINVAL;
		cmd = vfio_pci_memory_lock_and_enable(vdev);
		map = pci_msix_alloc_irq_at(pdev, vector, NULL);
		vfio_pci_memory_unlock_and_restore(vdev, cmd);
		if (map.index < 0)
			return map.index;
		irq = map.virq;
	} else if (irq < 0) {
		return irq;
	}

	ctx->name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-msi%s[%u](%s)",
			      msix ? "x" : "", vector, pci_name(pdev));
	if (!ctx->name)
		return -ENOMEM;

	trigger = eventfd_ctx_fdget(fd);
	if (IS_ERR(trigger)) {
		ret = PTR_ERR(trigger);
		goto err_free_name;
	}

	cmd = vfio_pci_memory_lock_and_enable(vdev);
	/*
	 * A reset behind our back may have cleared the table entry: write
	 * the message again before the vector is used.
	 */
	if (msix) {
		get_cached_msi_msg(irq, &msg);
		pci_write_msi_msg(irq, &msg);
	}
	ret = request_irq(irq, vfio_pci_msi_handler, 0, ctx->name, trigger);
	vfio_pci_memory_unlock_and_restore(vdev, cmd);
	if (ret)
		goto err_put_trigger;

	ctx->trigger = trigger;
	return 0;

err_put_trigger:
	eventfd_ctx_put(trigger);
err_free_name:
	kfree(ctx->name);
	ctx->name = NULL;
	return ret;
}

/* Set vectors @start..@start+@count-1; all or nothing. */
static int vfio_pci_msi_set_block(struct vfio_pci_core_device *vdev,
				  unsigned int start, unsigned int count,
				  s32 *fds, bool msix)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < count; i++) {
		ret = vfio_pci_msi_set_vector(vdev, start + i,
					      fds ? fds[i] : -1, msix);
		if (ret)
			break;
	}
	if (ret) {
		while (i--)
			vfio_pci_msi_set_vector(vdev, start + i, -1, msix);
	}
	return ret;
}

static void vfio_pci_msi_disable(struct vfio_pci_core_device *vdev, bool msix)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int i;
	u16 cmd;

	for (i = 0; i < vdev->num_irq_ctx; i++)
		vfio_pci_msi_set_vector(vdev, i, -1, msix);

	cmd = vfio_pci_memory_lock_and_enable(vdev);
	pci_free_irq_vectors(pdev);
	vfio_pci_memory_unlock_and_restore(vdev, cmd);

	/* Freeing the vectors set DisINTx back; undo it for NoINTx. */
	if (vdev->nointx)
		pci_intx(pdev, 0);

	kfree(vdev->irq_ctx);
	vdev->irq_ctx = NULL;
	vdev->num_irq_ctx = 0;
	vdev->irq_type = VFIO_PCI_NUM_IRQS;
}

static int vfio_pci_set_msi_trigger(struct vfio_pci_core_device *vdev,
				    unsigned int index, unsigned int start,
				    unsigned int count, u32 flags, void *data)
{
	bool msix = index == VFIO_PCI_MSIX_IRQ_INDEX;
	unsigned int i;
	int ret;

	if (vfio_pci_irq_is(vdev, index) && !count &&
	    (flags & VFIO_IRQ_SET_DATA_NONE)) {
		vfio_pci_msi_disable(vdev, msix);
		return 0;
	}
	if (!(vfio_pci_irq_is(vdev, index) || vfio_pci_irq_none(vdev)))
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		if (vfio_pci_irq_is(vdev, index))
			return vfio_pci_msi_set_block(vdev, start, count, data,
						      msix);
		ret = vfio_pci_msi_enable(vdev, start + count, msix);
		if (ret)
			return ret;
		ret = vfio_pci_msi_set_block(vdev, start, count, data, msix);
		if (ret)
			vfio_pci_msi_disable(vdev, msix);
		return ret;
	}

	/* No data or bools: loopback on the vectors that have an eventfd. */
	if (!vfio_pci_irq_is(vdev, index))
		return -EINVAL;
	for (i = start; i < start + count && i < vdev->num_irq_ctx; i++) {
		struct eventfd_ctx *trigger = vdev->irq_ctx[i].trigger;

		if (!trigger)
			continue;
		if ((flags & VFIO_IRQ_SET_DATA_NONE) ||
		    ((u8 *)data)[i - start])
			eventfd_signal(trigger);
	}
	return 0;
}

/* ---- ERR and REQ: one eventfd each ---- */

static int vfio_pci_set_single_trigger(struct eventfd_ctx **pctx,
				       unsigned int count, u32 flags,
				       void *data)
{
	struct eventfd_ctx *trigger;
	s32 fd;

	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		if (!*pctx)
			return -EINVAL;
		if (count) {
			eventfd_signal(*pctx);
		} else {
			eventfd_ctx_put(*pctx);
			*pctx = NULL;
		}
		return 0;
	}
	if (!count)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(u8 *)data && *pctx)
			eventfd_signal(*pctx);
		return 0;
	}
	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		/* Only -1 means none here; other negatives are refused. */
		fd = *(s32 *)data;
		if (fd < -1)
			return -EINVAL;
		trigger = NULL;
		if (fd >= 0) {
			trigger = eventfd_ctx_fdget(fd);
			if (IS_ERR(trigger))
				return PTR_ERR(trigger);
		}
		if (*pctx)
			eventfd_ctx_put(*pctx);
		*pctx = trigger;
		return 0;
	}
	return -EINVAL;
}

/**
 * vfio_pci_set_irqs_ioctl - carry out a validated VFIO_DEVICE_SET_IRQS
 * @vdev: the device
 * @flags: the request's flags (one data type, one action)
 * @index: the VFIO_PCI_*_IRQ_INDEX
 * @start: the first vector
 * @count: how many vectors
 * @data: @count eventfds or bools, or NULL for DATA_NONE
 *
 * Context: the caller holds @vdev->igate.
 * Return: 0, -errno, or for MSI/MSI-X the smaller number of vectors the
 *         host could have given.
 */
int vfio_pci_set_irqs_ioctl(struct vfio_pci_core_device *vdev, u32 flags,
			    unsigned int index, unsigned int start,
			    unsigned int count, void *data)
{
	u32 action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	lockdep_assert_held(&vdev->igate);

	/*
	 * The action field is a value, not a set of bits: exactly one
	 * action, one the index offers, or -ENOTTY (as upstream), before
	 * anything else is looked at.
	 */
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_MASK)
			return vfio_pci_set_intx_mask(vdev, start, count, flags,
						      data);
		if (action == VFIO_IRQ_SET_ACTION_UNMASK)
			return vfio_pci_set_intx_unmask(vdev, start, count,
							flags, data);
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vfio_pci_set_intx_trigger(vdev, start, count,
							 flags, data);
		return -ENOTTY;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		/* Masking of MSI/MSI-X vectors is not offered, as upstream. */
		if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
			return -ENOTTY;
		return vfio_pci_set_msi_trigger(vdev, index, start, count,
						flags, data);
	case VFIO_PCI_ERR_IRQ_INDEX:
		if (action != VFIO_IRQ_SET_ACTION_TRIGGER ||
		    !pci_is_pcie(vdev->pdev))
			return -ENOTTY;
		if (start || count > 1)
			return -EINVAL;
		return vfio_pci_set_single_trigger(&vdev->err_trigger, count,
						   flags, data);
	case VFIO_PCI_REQ_IRQ_INDEX:
		if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
			return -ENOTTY;
		if (start || count > 1)
			return -EINVAL;
		return vfio_pci_set_single_trigger(&vdev->req_trigger, count,
						   flags, data);
	default:
		return -ENOTTY;
	}
}

/**
 * vfio_pci_irqs_teardown - stop every interrupt the user set up
 * @vdev: the device, being closed
 */
void vfio_pci_irqs_teardown(struct vfio_pci_core_device *vdev)
{
	mutex_lock(&vdev->igate);
	if (vfio_pci_irq_is(vdev, VFIO_PCI_INTX_IRQ_INDEX))
		vfio_pci_intx_disable(vdev);
	else if (vfio_pci_irq_is(vdev, VFIO_PCI_MSI_IRQ_INDEX))
		vfio_pci_msi_disable(vdev, false);
	else if (vfio_pci_irq_is(vdev, VFIO_PCI_MSIX_IRQ_INDEX))
		vfio_pci_msi_disable(vdev, true);
	if (vdev->err_trigger)
		eventfd_ctx_put(vdev->err_trigger);
	vdev->err_trigger = NULL;
	if (vdev->req_trigger)
		eventfd_ctx_put(vdev->req_trigger);
	vdev->req_trigger = NULL;
	mutex_unlock(&vdev->igate);
}
