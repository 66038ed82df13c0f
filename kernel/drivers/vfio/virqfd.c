// SPDX-License-Identifier: GPL-2.0-only
/*
 * virqfd: run a driver's callbacks when a user signals an eventfd.
 *
 * vfio-pci uses it so that a user (or KVM) can unmask an INTx interrupt
 * by writing an eventfd instead of making an ioctl. When the eventfd is
 * signaled, @handler runs at once in the waker's (atomic) context; if it
 * returns nonzero, or there is none, @thread runs later from a work item.
 * Closing the eventfd, or vfio_virqfd_disable(), tears the virqfd down.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/vfio.h>
#include <linux/workqueue.h>

#include "vfio.h"

/**
 * struct virqfd - an eventfd a driver listens to
 * @opaque: first argument of the callbacks
 * @eventfd: the eventfd; a reference is held
 * @handler: runs in the waker's atomic context; nonzero asks for @thread
 * @thread: runs from @inject, in process context
 * @data: second argument of the callbacks
 * @inject: runs @thread
 * @wait: our entry on the eventfd's wait queue
 * @pt: used once, to get @wait onto the queue through vfs_poll()
 * @shutdown: frees the virqfd, on vfio_irqfd_cleanup_wq
 * @flush_inject: waits for @inject, on vfio_irqfd_cleanup_wq
 * @pvirqfd: the driver's pointer to this virqfd, under virqfd_lock; NULL
 *           once teardown has been queued
 */
struct virqfd {
	void *opaque;
	struct eventfd_ctx *eventfd;
	int (*handler)(void *opaque, void *data);
	void (*thread)(void *opaque, void *data);
	void *data;
	struct work_struct inject;
	wait_queue_entry_t wait;
	poll_table pt;
	struct work_struct shutdown;
	struct work_struct flush_inject;
	struct virqfd **pvirqfd;
};

/*
 * Protects every driver's struct virqfd pointer. Taken from the eventfd's
 * wake-up, under its wait queue lock with interrupts off.
 */
static DEFINE_SPINLOCK(virqfd_lock);

/*
 * Teardown and flushes run here, one at a time, so flushing this queue
 * waits for every teardown queued before.
 */
static struct workqueue_struct *vfio_irqfd_cleanup_wq;

static void virqfd_signaled(struct virqfd *virqfd)
{
	bool wants_thread = !virqfd->handler ||
			    virqfd->handler(virqfd->opaque, virqfd->data);

	if (wants_thread && virqfd->thread)
		schedule_work(&virqfd->inject);
}

/* Queue teardown unless it already was; the caller holds virqfd_lock. */
static void virqfd_deactivate(struct virqfd *virqfd)
{
	if (*virqfd->pvirqfd == virqfd) {
		*virqfd->pvirqfd = NULL;
		queue_work(vfio_irqfd_cleanup_wq, &virqfd->shutdown);
	}
}

static int virqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			 int sync, void *key)
{
	struct virqfd *virqfd = container_of(wait, struct virqfd, wait);
	__poll_t events = key_to_poll(key);
	unsigned long flags;
	u64 count;

	if (events & EPOLLIN) {
		/* Consume the count, so each signal is one event. */
		eventfd_ctx_do_read(virqfd->eventfd, &count);
		virqfd_signaled(virqfd);
	}
	if (events & EPOLLHUP) {
		/* The user closed the eventfd. */
		spin_lock_irqsave(&virqfd_lock, flags);
		virqfd_deactivate(virqfd);
		spin_unlock_irqrestore(&virqfd_lock, flags);
	}
	return 0;
}

static void virqfd_queue_proc(struct file *file, wait_queue_head_t *wqh,
			      poll_table *pt)
{
	struct virqfd *virqfd = container_of(pt, struct virqfd, pt);

	add_wait_queue(wqh, &virqfd->wait);
}

static void virqfd_shutdown(struct work_struct *work)
{
	struct virqfd *virqfd = container_of(work, struct virqfd, shutdown);
	u64 count;

	eventfd_ctx_remove_wait_queue(virqfd->eventfd, &virqfd->wait, &count);
	flush_work(&virqfd->inject);
	eventfd_ctx_put(virqfd->eventfd);
	kfree(virqfd);
}

static void virqfd_inject(struct work_struct *work)
{
	struct virqfd *virqfd = container_of(work, struct virqfd, inject);

	virqfd->thread(virqfd->opaque, virqfd->data);
}

static void virqfd_flush_inject(struct work_struct *work)
{
	struct virqfd *virqfd = container_of(work, struct virqfd,
					     flush_inject);

	flush_work(&virqfd->inject);
}

/**
 * vfio_virqfd_enable - call back a driver when an eventfd is signaled
 * @opaque: first argument of the callbacks
 * @handler: called in atomic context on each signal; may be NULL
 * @thread: called in process context when @handler returns nonzero (or
 *          on each signal without @handler); may be NULL
 * @data: second argument of the callbacks
 * @pvirqfd: the driver's pointer, set to the new virqfd
 * @fd: the eventfd
 *
 * A signal pending before the call is delivered as if it came after.
 *
 * Return: 0; -EBUSY when *@pvirqfd is already in use; -EBADF or -EINVAL
 * for an @fd that is not an eventfd; -ENOMEM.
 */
int vfio_virqfd_enable(void *opaque, int (*handler)(void *, void *),
		       void (*thread)(void *, void *), void *data,
		       struct virqfd **pvirqfd, int fd)
{
	struct eventfd_ctx *ctx;
	struct virqfd *virqfd;
	__poll_t events;
	struct fd f;
	int ret;

	virqfd = kzalloc(sizeof(*virqfd), GFP_KERNEL_ACCOUNT);
	if (!virqfd)
		return -ENOMEM;
	virqfd->pvirqfd = pvirqfd;
	virqfd->opaque = opaque;
	virqfd->handler = handler;
	virqfd->thread = thread;
	virqfd->data = data;
	INIT_WORK(&virqfd->shutdown, virqfd_shutdown);
	INIT_WORK(&virqfd->inject, virqfd_inject);
	INIT_WORK(&virqfd->flush_inject, virqfd_flush_inject);

	f = fdget(fd);
	if (!fd_file(f)) {
		ret = -EBADF;
		goto free_virqfd;
	}
	ctx = eventfd_ctx_fileget(fd_file(f));
	if (IS_ERR(ctx)) {
		ret = PTR_ERR(ctx);
		goto put_fd;
	}
	virqfd->eventfd = ctx;

	spin_lock_irq(&virqfd_lock);
	if (*pvirqfd) {
		spin_unlock_irq(&virqfd_lock);
		ret = -EBUSY;
		goto put_ctx;
	}
	*pvirqfd = virqfd;
	spin_unlock_irq(&virqfd_lock);

	init_waitqueue_func_entry(&virqfd->wait, virqfd_wakeup);
	init_poll_funcptr(&virqfd->pt, virqfd_queue_proc);
	events = vfs_poll(fd_file(f), &virqfd->pt);
	if (events & EPOLLIN)
		virqfd_signaled(virqfd);

	fdput(f);
	return 0;

put_ctx:
	eventfd_ctx_put(ctx);
put_fd:
	fdput(f);
free_virqfd:
	kfree(virqfd);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_virqfd_enable);

/**
 * vfio_virqfd_disable - stop listening and free the virqfd
 * @pvirqfd: the driver's pointer; NULL afterwards
 *
 * Returns after the virqfd (and any teardown queued before) is gone, so
 * no callback runs after this returns.
 */
void vfio_virqfd_disable(struct virqfd **pvirqfd)
{
	unsigned long flags;

	spin_lock_irqsave(&virqfd_lock, flags);
	if (*pvirqfd)
		virqfd_deactivate(*pvirqfd);
	spin_unlock_irqrestore(&virqfd_lock, flags);

	flush_workqueue(vfio_irqfd_cleanup_wq);
}
EXPORT_SYMBOL_GPL(vfio_virqfd_disable);

/**
 * vfio_virqfd_flush_thread - wait for a running or queued @thread callback
 * @pvirqfd: the driver's pointer
 *
 * For drivers that change what @thread acts on: after this returns, no
 * call started before the change is still running.
 */
void vfio_virqfd_flush_thread(struct virqfd **pvirqfd)
{
	unsigned long flags;

	spin_lock_irqsave(&virqfd_lock, flags);
	if (*pvirqfd && (*pvirqfd)->thread)
		queue_work(vfio_irqfd_cleanup_wq, &(*pvirqfd)->flush_inject);
	spin_unlock_irqrestore(&virqfd_lock, flags);

	flush_workqueue(vfio_irqfd_cleanup_wq);
}
EXPORT_SYMBOL_GPL(vfio_virqfd_flush_thread);

int vfio_virqfd_init(void)
{
	/*
	 * Not WQ_MEM_RECLAIM: teardown flushes the inject work, which runs on
	 * the system workqueue, and a reclaim queue must not wait on that.
	 */
	vfio_irqfd_cleanup_wq = alloc_ordered_workqueue("vfio-irqfd-cleanup",
							0);
	return vfio_irqfd_cleanup_wq ? 0 : -ENOMEM;
}

void vfio_virqfd_exit(void)
{
	destroy_workqueue(vfio_irqfd_cleanup_wq);
}
