// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VFIO container: /dev/vfio/vfio.
 *
 * Each open of the misc device is a container. Groups are attached to it,
 * then the user picks an IOMMU backend (VFIO_SET_IOMMU) and maps memory
 * through the backend's ioctls. Opening a container needs no privilege:
 * only attaching a group, which the user must be allowed to open, lets it
 * enable an IOMMU.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/rwsem.h>
#include <linux/slab.h>

#include "vfio.h"

/**
 * struct vfio_container - one open of /dev/vfio/vfio
 * @kref: held by the open file and by each attached group
 * @group_lock: protects @group_list, @iommu_ops, @iommu_data and
 *              @noiommu; taken for write to change them, for read to
 *              use the backend
 * @group_list: attached groups, linked by vfio_group.container_next
 * @iommu_ops: the backend, or NULL until VFIO_SET_IOMMU; the container
 *             holds a reference to its module while set
 * @iommu_data: the backend's state for this container
 * @noiommu: the attached groups are no-IOMMU groups
 */
struct vfio_container {
	struct kref kref;
	struct rw_semaphore group_lock;
	struct list_head group_list;
	const struct vfio_iommu_driver_ops *iommu_ops;
	void *iommu_data;
	bool noiommu;
};

struct vfio_iommu_driver {
	const struct vfio_iommu_driver_ops *ops;
	struct list_head next;
};

/* Registered backends; the mutex protects the list. */
static LIST_HEAD(vfio_iommu_drivers);
static DEFINE_MUTEX(vfio_iommu_drivers_lock);

/**
 * vfio_register_iommu_driver - offer an IOMMU backend to containers
 * @ops: the backend; must stay valid until unregistered
 *
 * Return: 0, -EINVAL if @ops is already registered, or -ENOMEM.
 */
int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops)
{
	struct vfio_iommu_driver *driver, *tmp;

	if (WARN_ON(!ops->open || !ops->release || !ops->ioctl))
		return -EINVAL;

	driver = kzalloc(sizeof(*driver), GFP_KERNEL);
	if (!driver)
		return -ENOMEM;
	driver->ops = ops;

	mutex_lock(&vfio_iommu_drivers_lock);
	list_for_each_entry(tmp, &vfio_iommu_drivers, next) {
		if (tmp->ops == ops) {
			mutex_unlock(&vfio_iommu_drivers_lock);
			kfree(driver);
			return -EINVAL;
		}
	}
	list_add(&driver->next, &vfio_iommu_drivers);
	mutex_unlock(&vfio_iommu_drivers_lock);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_register_iommu_driver);

/**
 * vfio_unregister_iommu_driver - withdraw an IOMMU backend
 * @ops: as passed to vfio_register_iommu_driver()
 *
 * Containers using the backend hold its module, so none is left when the
 * module's exit function calls this.
 */
void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops)
{
	struct vfio_iommu_driver *driver;

	mutex_lock(&vfio_iommu_drivers_lock);
	list_for_each_entry(driver, &vfio_iommu_drivers, next) {
		if (driver->ops == ops) {
			list_del(&driver->next);
			kfree(driver);
			break;
		}
	}
	mutex_unlock(&vfio_iommu_drivers_lock);
}
EXPORT_SYMBOL_GPL(vfio_unregister_iommu_driver);

/*
 * The no-IOMMU backend: accepted by containers of no-IOMMU groups only,
 * it translates nothing, so every mapping ioctl is unknown to it.
 */
static void *vfio_noiommu_open(unsigned long arg)
{
	if (arg != VFIO_NOIOMMU_IOMMU)
		return ERR_PTR(-EINVAL);
	if (!capable(CAP_SYS_RAWIO))
		return ERR_PTR(-EPERM);
	return NULL;
}

static void vfio_noiommu_release(void *iommu_data)
{
}

static long vfio_noiommu_ioctl(void *iommu_data, unsigned int cmd,
			       unsigned long arg)
{
	if (cmd != VFIO_CHECK_EXTENSION)
		return -ENOTTY;
	return vfio_noiommu && arg == VFIO_NOIOMMU_IOMMU;
}

static int vfio_noiommu_attach_group(void *iommu_data,
				     struct iommu_group *group,
				     enum vfio_group_type type)
{
	return 0;
}

static void vfio_noiommu_detach_group(void *iommu_data,
				      struct iommu_group *group)
{
}

static const struct vfio_iommu_driver_ops vfio_noiommu_ops = {
	.name		= "vfio-noiommu",
	.owner		= THIS_MODULE,
	.open		= vfio_noiommu_open,
	.release	= vfio_noiommu_release,
	.ioctl		= vfio_noiommu_ioctl,
	.attach_group	= vfio_noiommu_attach_group,
	.detach_group	= vfio_noiommu_detach_group,
};

/*
 * A container of no-IOMMU groups takes the no-IOMMU backend and nothing
 * else; any other container takes any backend but that one.
 */
static bool vfio_backend_allowed(struct vfio_container *container,
				 const struct vfio_iommu_driver_ops *ops)
{
	if (!IS_ENABLED(CONFIG_VFIO_NOIOMMU))
		return true;
	return container->noiommu == (ops == &vfio_noiommu_ops);
}

static void vfio_container_release(struct kref *kref)
{
	struct vfio_container *container =
		container_of(kref, struct vfio_container, kref);

	WARN_ON(!list_empty(&container->group_list));
	kfree(container);
}

static void vfio_container_put(struct vfio_container *container)
{
	kref_put(&container->kref, vfio_container_release);
}

/* Ask a backend whether it supports @ext; the caller holds no module ref. */
static long vfio_backend_check(const struct vfio_iommu_driver_ops *ops,
			       unsigned long ext)
{
	long ret;

	if (!try_module_get(ops->owner))
		return 0;
	ret = ops->ioctl(NULL, VFIO_CHECK_EXTENSION, ext);
	module_put(ops->owner);
	return ret;
}

static long vfio_container_check_extension(struct vfio_container *container,
					   unsigned long ext)
{
	struct vfio_iommu_driver *driver;
	long ret = 0;

	down_read(&container->group_lock);
	if (container->iommu_ops) {
		/* Once a backend is set, it alone answers. */
		ret = container->iommu_ops->ioctl(container->iommu_data,
						  VFIO_CHECK_EXTENSION, ext);
		goto out;
	}

	mutex_lock(&vfio_iommu_drivers_lock);
	list_for_each_entry(driver, &vfio_iommu_drivers, next) {
		/* An empty container has no kind yet: every backend answers. */
		if (!list_empty(&container->group_list) &&
		    !vfio_backend_allowed(container, driver->ops))
			continue;
		ret = vfio_backend_check(driver->ops, ext);
		if (ret > 0)
			break;
	}
	mutex_unlock(&vfio_iommu_drivers_lock);
out:
	up_read(&container->group_lock);
	return ret;
}

/* Attach every group of the container to a backend's new state. */
static int vfio_container_attach_groups(struct vfio_container *container,
					const struct vfio_iommu_driver_ops *ops,
					void *data)
{
	struct vfio_group *group;
	int ret;

	list_for_each_entry(group, &container->group_list, container_next) {
		ret = ops->attach_group(data, group->iommu_group, group->type);
		if (ret)
			goto detach_attached;
	}
	return 0;

detach_attached:
	list_for_each_entry_continue_reverse(group, &container->group_list,
					     container_next)
		ops->detach_group(data, group->iommu_group);
	return ret;
}

static long vfio_container_set_iommu(struct vfio_container *container,
				     unsigned long arg)
{
	struct vfio_iommu_driver *driver;
	long ret = -ENODEV;

	down_write(&container->group_lock);
	/* Only a container with a group, and no backend yet, may pick one. */
	if (list_empty(&container->group_list) || container->iommu_ops) {
		ret = -EINVAL;
		goto out_unlock;
	}

	mutex_lock(&vfio_iommu_drivers_lock);
	list_for_each_entry(driver, &vfio_iommu_drivers, next) {
		const struct vfio_iommu_driver_ops *ops = driver->ops;
		void *data;

		if (!vfio_backend_allowed(container, ops))
			continue;
		if (!try_module_get(ops->owner))
			continue;
		if (ops->ioctl(NULL, VFIO_CHECK_EXTENSION, arg) <= 0)
			goto next;

		data = ops->open(arg);
		if (IS_ERR(data)) {
			ret = PTR_ERR(data);
			goto next;
		}
		ret = vfio_container_attach_groups(container, ops, data);
		if (ret) {
			ops->release(data);
			goto next;
		}
		/* The module reference now belongs to the container. */
		container->iommu_ops = ops;
		container->iommu_data = data;
		break;
next:
		module_put(ops->owner);
	}
	mutex_unlock(&vfio_iommu_drivers_lock);
out_unlock:
	up_write(&container->group_lock);
	return ret;
}

static long vfio_container_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	struct vfio_container *container = file->private_data;
	long ret;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return vfio_container_check_extension(container, arg);
	case VFIO_SET_IOMMU:
		return vfio_container_set_iommu(container, arg);
	}

	/* Everything else belongs to the backend; EINVAL when none is set. */
	down_read(&container->group_lock);
	if (container->iommu_ops)
		ret = container->iommu_ops->ioctl(container->iommu_data, cmd,
						  arg);
	else
		ret = -EINVAL;
	up_read(&container->group_lock);
	return ret;
}

static int vfio_container_open(struct inode *inode, struct file *file)
{
	struct vfio_container *container;

	container = kzalloc(sizeof(*container), GFP_KERNEL_ACCOUNT);
	if (!container)
		return -ENOMEM;
	kref_init(&container->kref);
	init_rwsem(&container->group_lock);
	INIT_LIST_HEAD(&container->group_list);
	file->private_data = container;
	return 0;
}

static int vfio_container_fops_release(struct inode *inode, struct file *file)
{
	/* Attached groups keep the container alive until they detach. */
	vfio_container_put(file->private_data);
	return 0;
}

static const struct file_operations vfio_container_fops = {
	.owner		= THIS_MODULE,
	.open		= vfio_container_open,
	.release	= vfio_container_fops_release,
	.unlocked_ioctl	= vfio_container_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

/* The container behind an open /dev/vfio/vfio, or NULL for other files. */
struct vfio_container *vfio_container_from_file(struct file *file)
{
	if (file->f_op != &vfio_container_fops)
		return NULL;
	return file->private_data;
}

int vfio_container_attach_group(struct vfio_container *container,
				struct vfio_group *group)
{
	bool noiommu = group->type == VFIO_NO_IOMMU;
	int ret;

	lockdep_assert_held(&group->group_lock);

	if (group->type == VFIO_NO_IOMMU && !capable(CAP_SYS_RAWIO))
		return -EPERM;

	down_write(&container->group_lock);
	/* No-IOMMU groups and translated groups never share a container. */
	if (!list_empty(&container->group_list) &&
	    container->noiommu != noiommu) {
		ret = -EPERM;
		goto out_unlock;
	}

	/*
	 * Claiming DMA ownership fails while a kernel driver that does DMA
	 * is bound to any device of the group: that is what viability means.
	 */
	if (group->type == VFIO_IOMMU) {
		ret = iommu_group_claim_dma_owner(group->iommu_group, group);
		if (ret)
			goto out_unlock;
	}

	if (container->iommu_ops) {
		ret = container->iommu_ops->attach_group(container->iommu_data,
							 group->iommu_group,
							 group->type);
		if (ret)
			goto release_owner;
	}

	group->container = container;
	group->container_users = 1;
	container->noiommu = noiommu;
	list_add(&group->container_next, &container->group_list);
	kref_get(&container->kref);
	up_write(&container->group_lock);
	return 0;

release_owner:
	if (group->type == VFIO_IOMMU)
		iommu_group_release_dma_owner(group->iommu_group);
out_unlock:
	up_write(&container->group_lock);
	return ret;
}

void vfio_group_detach_container(struct vfio_group *group)
{
	struct vfio_container *container = group->container;
	const struct vfio_iommu_driver_ops *ops;

	lockdep_assert_held(&group->group_lock);
	WARN_ON(group->container_users != 1);

	down_write(&container->group_lock);
	ops = container->iommu_ops;
	if (ops)
		ops->detach_group(container->iommu_data, group->iommu_group);
	if (group->type == VFIO_IOMMU)
		iommu_group_release_dma_owner(group->iommu_group);

	group->container = NULL;
	group->container_users = 0;
	list_del(&group->container_next);

	/* The last group leaving takes the container's privilege with it. */
	if (ops && list_empty(&container->group_list)) {
		ops->release(container->iommu_data);
		module_put(ops->owner);
		container->iommu_ops = NULL;
		container->iommu_data = NULL;
	}
	up_write(&container->group_lock);

	vfio_container_put(container);
}

/*
 * A device file is being opened: it needs the backend set, and holds the
 * group file (and so the attachment) until it closes.
 */
int vfio_group_use_container(struct vfio_group *group)
{
	lockdep_assert_held(&group->group_lock);

	if (!group->container->iommu_ops)
		return -EINVAL;
	if (group->type == VFIO_NO_IOMMU && !capable(CAP_SYS_RAWIO))
		return -EPERM;

	get_file(group->opened_file);
	group->container_users++;
	return 0;
}

/* Is a device file open through the group's container attachment? */
bool vfio_group_container_busy(struct vfio_group *group)
{
	lockdep_assert_held(&group->group_lock);
	return group->container_users > 1;
}

void vfio_group_unuse_container(struct vfio_group *group)
{
	lockdep_assert_held(&group->group_lock);

	WARN_ON(group->container_users <= 1);
	group->container_users--;
	fput(group->opened_file);
}

void vfio_device_container_register(struct vfio_device *device)
{
	struct vfio_container *container = device->group->container;

	down_read(&container->group_lock);
	if (container->iommu_ops && container->iommu_ops->register_device)
		container->iommu_ops->register_device(container->iommu_data,
						      device);
	up_read(&container->group_lock);
}

void vfio_device_container_unregister(struct vfio_device *device)
{
	struct vfio_container *container = device->group->container;

	down_read(&container->group_lock);
	if (container->iommu_ops && container->iommu_ops->unregister_device)
		container->iommu_ops->unregister_device(container->iommu_data,
							device);
	up_read(&container->group_lock);
}

int vfio_device_container_pin_pages(struct vfio_device *device,
				    dma_addr_t iova, int npage, int prot,
				    struct page **pages)
{
	struct vfio_container *container = device->group->container;
	const struct vfio_iommu_driver_ops *ops = container->iommu_ops;

	if (npage > VFIO_PIN_PAGES_MAX_ENTRIES)
		return -E2BIG;
	if (!ops || !ops->pin_pages)
		return -ENOTTY;
	return ops->pin_pages(container->iommu_data, device->group->iommu_group,
			      iova, npage, prot, pages);
}

void vfio_device_container_unpin_pages(struct vfio_device *device,
				       dma_addr_t iova, int npage)
{
	struct vfio_container *container = device->group->container;
	const struct vfio_iommu_driver_ops *ops = container->iommu_ops;

	if (WARN_ON(npage <= 0 || npage > VFIO_PIN_PAGES_MAX_ENTRIES))
		return;
	if (ops && ops->unpin_pages)
		ops->unpin_pages(container->iommu_data, iova, npage);
}

int vfio_device_container_dma_rw(struct vfio_device *device,
				 dma_addr_t iova, void *data, size_t len,
				 bool write)
{
	struct vfio_container *container = device->group->container;
	const struct vfio_iommu_driver_ops *ops = container->iommu_ops;

	if (!ops || !ops->dma_rw)
		return -ENOTTY;
	return ops->dma_rw(container->iommu_data, iova, data, len, write);
}

/* Does the container's IOMMU enforce cache coherency for DMA? */
bool vfio_container_enforced_coherent(struct vfio_container *container)
{
	bool coherent = false;

	down_read(&container->group_lock);
	if (container->iommu_ops)
		coherent = container->iommu_ops->ioctl(container->iommu_data,
						       VFIO_CHECK_EXTENSION,
						       VFIO_DMA_CC_IOMMU) > 0;
	up_read(&container->group_lock);
	return coherent;
}

static struct miscdevice vfio_container_dev = {
	.minor		= VFIO_MINOR,
	.name		= "vfio",
	.nodename	= "vfio/vfio",
	.mode		= 0666,
	.fops		= &vfio_container_fops,
};

int vfio_container_init(void)
{
	int ret;

	ret = misc_register(&vfio_container_dev);
	if (ret || !IS_ENABLED(CONFIG_VFIO_NOIOMMU))
		return ret;
	ret = vfio_register_iommu_driver(&vfio_noiommu_ops);
	if (ret)
		misc_deregister(&vfio_container_dev);
	return ret;
}

void vfio_container_cleanup(void)
{
	if (IS_ENABLED(CONFIG_VFIO_NOIOMMU))
		vfio_unregister_iommu_driver(&vfio_noiommu_ops);
	misc_deregister(&vfio_container_dev);
}
