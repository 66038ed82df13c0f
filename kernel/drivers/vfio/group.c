// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO groups: /dev/vfio/N.
 *
 * A group is the unit of isolation the IOMMU provides, so it is the unit
 * a user is given: the user opens the group, attaches it to a container
 * (which claims DMA ownership of every device in it), and only then gets
 * file descriptors for the group's devices.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/iommufd.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "vfio.h"

#if IS_ENABLED(CONFIG_VFIO_NOIOMMU)
/*
 * Devices without an IOMMU group get an unprotected no-IOMMU group while
 * this is set; changing it later leaves existing groups as they are.
 */
bool vfio_noiommu __read_mostly;
module_param_named(enable_unsafe_noiommu_mode, vfio_noiommu, bool, 0644);
MODULE_PARM_DESC(enable_unsafe_noiommu_mode,
		 "Give devices without an IOMMU to users, unprotected: no isolation, no DMA translation, no protection of the kernel from the device, not for virtual machines. Needs CAP_SYS_RAWIO to use, and taints the kernel. (default: false)");
#endif

/*
 * All groups. @lock protects @list and orders group creation and removal
 * against each other; it nests outside every group_lock.
 */
static struct {
	struct class *class;
	dev_t devt;
	struct ida ida;
	struct mutex lock;	/* protects list */
	struct list_head list;
} vfio_groups;

/*
 * Does the group have an IOMMU to get device fds through: a container,
 * or an iommufd context in its place?
 */
static bool vfio_group_has_iommu(struct vfio_group *group)
{
	lockdep_assert_held(&group->group_lock);
	return group->container || group->iommufd;
}

/* Give up the iommufd context SET_CONTAINER stored. */
static void vfio_group_put_iommufd(struct vfio_group *group)
{
	lockdep_assert_held(&group->group_lock);
	if (group->iommufd) {
		iommufd_ctx_put(group->iommufd);
		group->iommufd = NULL;
	}
}

static int vfio_group_ioctl_get_status(struct vfio_group *group,
				       struct vfio_group_status __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_group_status, flags);
	struct vfio_group_status status;

	if (copy_from_user(&status, arg, minsz))
		return -EFAULT;
	if (status.argsz < minsz)
		return -EINVAL;

	status.flags = 0;
	mutex_lock(&group->group_lock);
	if (!group->iommu_group) {
		mutex_unlock(&group->group_lock);
		return -ENODEV;
	}
	/*
	 * Attached means DMA ownership was claimed, so attached is viable.
	 * Otherwise the group is viable while no kernel driver doing DMA is
	 * bound to any of its devices. (With an iommufd, ownership is only
	 * claimed when a device is opened, which can still fail.)
	 */
	if (vfio_group_has_iommu(group))
		status.flags |= VFIO_GROUP_FLAGS_CONTAINER_SET |
				VFIO_GROUP_FLAGS_VIABLE;
	else if (!iommu_group_dma_owner_claimed(group->iommu_group))
		status.flags |= VFIO_GROUP_FLAGS_VIABLE;
	mutex_unlock(&group->group_lock);

	if (copy_to_user(arg, &status, minsz))
		return -EFAULT;
	return 0;
}

static int vfio_group_ioctl_set_container(struct vfio_group *group,
					  int __user *arg)
{
	struct vfio_container *container;
	struct iommufd_ctx *iommufd;
	struct fd f;
	int ret;
	int fd;

	if (get_user(fd, arg))
		return -EFAULT;

	f = fdget(fd);
	if (!fd_file(f))
		return -EBADF;

	mutex_lock(&group->group_lock);
	if (vfio_group_has_iommu(group)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (!group->iommu_group) {
		ret = -ENODEV;
		goto out_unlock;
	}
	container = vfio_container_from_file(fd_file(f));
	if (container) {
		ret = vfio_container_attach_group(container, group);
		goto out_unlock;
	}

	/*
	 * An iommufd context stands in for a container: the devices will be
	 * bound to it when opened and attached to its compatibility IOAS,
	 * created here if it does not exist yet.
	 */
	iommufd = iommufd_ctx_from_file(fd_file(f));
	if (IS_ERR(iommufd)) {
		ret = -EBADFD;		/* neither a container nor an iommufd */
		goto out_unlock;
	}
	/* A no-IOMMU group has nothing to translate: no IOAS either. */
	if (IS_ENABLED(CONFIG_VFIO_NOIOMMU) && group->type == VFIO_NO_IOMMU)
		ret = iommufd_vfio_compat_set_no_iommu(iommufd);
	else
		ret = iommufd_vfio_compat_ioas_create(iommufd);
	if (ret) {
		iommufd_ctx_put(iommufd);
		goto out_unlock;
	}
	group->iommufd = iommufd;
out_unlock:
	mutex_unlock(&group->group_lock);
	fdput(f);
	return ret;
}

static int vfio_group_ioctl_unset_container(struct vfio_group *group)
{
	int ret = 0;

	mutex_lock(&group->group_lock);
	if (!vfio_group_has_iommu(group))
		ret = -EINVAL;
	else if (group->container && vfio_group_container_busy(group))
		ret = -EBUSY;	/* a device of the group is open */
	else if (group->container)
		vfio_group_detach_container(group);
	/* Open devices hold their own binding to the iommufd context. */
	vfio_group_put_iommufd(group);
	mutex_unlock(&group->group_lock);
	return ret;
}

/* Open @df's device through its group, under the group's lock. */
static int vfio_df_group_open(struct vfio_device_file *df)
{
	struct vfio_device *device = df->device;
	struct vfio_group *group = device->group;
	int ret;

	mutex_lock(&group->group_lock);
	if (!vfio_group_has_iommu(group)) {
		ret = -EINVAL;
		goto out_unlock_group;
	}
	mutex_lock(&device->dev_set->lock);
	/* The first open takes the KVM the user associated with the group. */
	if (!device->open_count) {
		spin_lock(&group->kvm_ref_lock);
		vfio_device_get_kvm_safe(device, group->kvm);
		spin_unlock(&group->kvm_ref_lock);
	}
	df->iommufd = group->iommufd;
	/*
	 * An iommufd with a compatibility IOAS means the user expects
	 * translation, which a no-IOMMU device cannot give.
	 */
	if (df->iommufd && vfio_device_is_noiommu(device) &&
	    !device->open_count &&
	    (!capable(CAP_SYS_RAWIO) ||
	     vfio_iommufd_device_has_compat_ioas(device, df->iommufd))) {
		ret = -EPERM;
		goto put_kvm;
	}
	ret = vfio_df_open(df);
	if (ret)
		goto put_kvm;
	/* Bound to the group's iommufd: attach to its compatibility IOAS. */
	if (df->iommufd && device->open_count == 1) {
		ret = vfio_iommufd_compat_attach_ioas(device, df->iommufd);
		if (ret)
			goto close;
	}
	/* Pairs with the acquire load before every use of the file. */
	smp_store_release(&df->access_granted, true);
	mutex_unlock(&device->dev_set->lock);
	mutex_unlock(&group->group_lock);
	if (group->type == VFIO_NO_IOMMU)
		dev_warn(device->dev, "vfio-noiommu device opened by user (%s:%d)\n",
			 current->comm, task_pid_nr(current));
	return 0;

close:
	vfio_df_close(df);
put_kvm:
	df->iommufd = NULL;
	if (!device->open_count)
		vfio_device_put_kvm(device);
	mutex_unlock(&device->dev_set->lock);
out_unlock_group:
	mutex_unlock(&group->group_lock);
	return ret;
}

/**
 * vfio_df_group_close - close a device file opened through the group
 * @df: the file's state
 */
void vfio_df_group_close(struct vfio_device_file *df)
{
	struct vfio_device *device = df->device;

	mutex_lock(&device->group->group_lock);
	mutex_lock(&device->dev_set->lock);
	vfio_df_close(df);
	df->iommufd = NULL;
	if (!device->open_count)
		vfio_device_put_kvm(device);
	mutex_unlock(&device->dev_set->lock);
	mutex_unlock(&device->group->group_lock);
}

/**
 * vfio_device_open_file - open a device through its group
 * @device: a device whose registration reference the caller holds
 *
 * On success that reference moves to the returned file.
 *
 * Return: the file, or an ERR_PTR(): -EINVAL when the group has no
 * container (nor iommufd) or the container no IOMMU backend.
 */
struct file *vfio_device_open_file(struct vfio_device *device)
{
	struct vfio_device_file *df;
	struct file *file;
	int ret;

	df = vfio_allocate_device_file(device);
	if (IS_ERR(df))
		return ERR_CAST(df);
	df->group = device->group;
	ret = vfio_df_group_open(df);
	if (ret)
		goto free_df;

	file = anon_inode_getfile("[vfio-device]", &vfio_device_fops, df,
				  O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto close_df;
	}
	/* pread/pwrite at region offsets are the point of the device fd. */
	file->f_mode |= FMODE_PREAD | FMODE_PWRITE;
	/* All opens share the device's mappings, so a driver can zap them. */
	file->f_mapping = device->inode->i_mapping;
	return file;

close_df:
	vfio_df_group_close(df);
free_df:
	kfree(df);
	return ERR_PTR(ret);
}

/*
 * The registered device of @group that @name selects, with a registration
 * reference, or an ERR_PTR(): -ENODEV when none does.
 */
static struct vfio_device *vfio_device_get_from_name(struct vfio_group *group,
						     char *name)
{
	struct vfio_device *device, *found = ERR_PTR(-ENODEV);
	int ret;

	mutex_lock(&group->device_lock);
	list_for_each_entry(device, &group->device_list, group_next) {
		if (device->ops->match)
			ret = device->ops->match(device, name);
		else
			ret = !strcmp(dev_name(device->dev), name);
		if (ret < 0) {
			found = ERR_PTR(ret);
			break;
		}
		if (ret && vfio_device_try_get_registration(device)) {
			found = device;
			break;
		}
	}
	mutex_unlock(&group->device_lock);
	return found;
}

static int vfio_group_ioctl_get_device_fd(struct vfio_group *group,
					  char __user *arg)
{
	struct vfio_device *device;
	struct file *file;
	char *name;
	int fd, ret;

	name = strndup_user(arg, PAGE_SIZE);
	if (IS_ERR(name))
		return PTR_ERR(name);
	device = vfio_device_get_from_name(group, name);
	kfree(name);
	if (IS_ERR(device))
		return PTR_ERR(device);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto put_registration;
	}
	file = vfio_device_open_file(device);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto put_fd;
	}
	/* The registration reference now belongs to the file. */
	fd_install(fd, file);
	return fd;

put_fd:
	put_unused_fd(fd);
put_registration:
	vfio_device_put_registration(device);
	return ret;
}

static long vfio_group_fops_ioctl(struct file *file, unsigned int cmd,
				  unsigned long arg)
{
	struct vfio_group *group = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_GROUP_GET_STATUS:
		return vfio_group_ioctl_get_status(group, uarg);
	case VFIO_GROUP_SET_CONTAINER:
		return vfio_group_ioctl_set_container(group, uarg);
	case VFIO_GROUP_UNSET_CONTAINER:
		return vfio_group_ioctl_unset_container(group);
	case VFIO_GROUP_GET_DEVICE_FD:
		return vfio_group_ioctl_get_device_fd(group, uarg);
	default:
		return -ENOTTY;
	}
}

static int vfio_group_fops_open(struct inode *inode, struct file *file)
{
	struct vfio_group *group =
		container_of(inode->i_cdev, struct vfio_group, cdev);
	int ret = 0;

	mutex_lock(&group->group_lock);
	if (!group->iommu_group) {
		/* The last device left; the node is on its way out. */
		ret = -ENODEV;
	} else if (group->type == VFIO_NO_IOMMU && !capable(CAP_SYS_RAWIO)) {
		ret = -EPERM;
	} else if (group->opened_file || group->cdev_device_open_cnt) {
		/*
		 * One user per group: the group is what isolation covers. A
		 * device bound through its cdev is such a user too.
		 */
		ret = -EBUSY;
	} else {
		group->opened_file = file;
		file->private_data = group;
	}
	mutex_unlock(&group->group_lock);
	return ret;
}

static int vfio_group_fops_release(struct inode *inode, struct file *file)
{
	struct vfio_group *group = file->private_data;

	/* Open device files hold the group file, so none is left here. */
	mutex_lock(&group->group_lock);
	if (group->container)
		vfio_group_detach_container(group);
	vfio_group_put_iommufd(group);
	group->opened_file = NULL;
	mutex_unlock(&group->group_lock);
	return 0;
}

static const struct file_operations vfio_group_fops = {
	.owner		= THIS_MODULE,
	.open		= vfio_group_fops_open,
	.release	= vfio_group_fops_release,
	.unlocked_ioctl	= vfio_group_fops_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

bool vfio_group_is_file(struct file *file)
{
	return file->f_op == &vfio_group_fops;
}

/**
 * vfio_device_block_group - keep the group closed while a device is bound
 *                           through its cdev
 * @device: the device being bound
 *
 * Return: 0, or -EBUSY when the group is open.
 */
int vfio_device_block_group(struct vfio_device *device)
{
	struct vfio_group *group = device->group;
	int ret = 0;

	mutex_lock(&group->group_lock);
	if (group->opened_file)
		ret = -EBUSY;
	else
		group->cdev_device_open_cnt++;
	mutex_unlock(&group->group_lock);
	return ret;
}

/**
 * vfio_device_unblock_group - undo vfio_device_block_group()
 * @device: the device unbound
 */
void vfio_device_unblock_group(struct vfio_device *device)
{
	struct vfio_group *group = device->group;

	mutex_lock(&group->group_lock);
	group->cdev_device_open_cnt--;
	mutex_unlock(&group->group_lock);
}

/**
 * vfio_device_group_use_iommu - reach the IOMMU through the group's
 *                               container, at the device's first open
 * @device: a device opened through its group without an iommufd
 *
 * Called under dev_set->lock and the group's lock.
 *
 * Return: 0, or -EINVAL when the container has no IOMMU backend.
 */
int vfio_device_group_use_iommu(struct vfio_device *device)
{
	int ret;

	lockdep_assert_held(&device->group->group_lock);

	ret = vfio_group_use_container(device->group);
	if (ret)
		return ret;
	vfio_device_container_register(device);
	return 0;
}

/**
 * vfio_device_group_unuse_iommu - undo vfio_device_group_use_iommu()
 * @device: the device, at its last close
 */
void vfio_device_group_unuse_iommu(struct vfio_device *device)
{
	lockdep_assert_held(&device->group->group_lock);

	vfio_device_container_unregister(device);
	vfio_group_unuse_container(device->group);
}

/**
 * vfio_device_has_container - does the device reach memory through a
 *                             container (rather than iommufd)?
 * @device: an open device
 *
 * Return: true when its group is attached to a container.
 */
bool vfio_device_has_container(struct vfio_device *device)
{
	return device->group && device->group->container;
}

static void vfio_group_release(struct device *dev)
{
	struct vfio_group *group = container_of(dev, struct vfio_group, dev);

	WARN_ON(group->iommu_group);
	mutex_destroy(&group->device_lock);
	mutex_destroy(&group->group_lock);
	ida_free(&vfio_groups.ida, MINOR(group->dev.devt));
	kfree(group);
}

static struct vfio_group *vfio_group_create(struct iommu_group *iommu_group,
					    enum vfio_group_type type)
{
	struct vfio_group *group;
	int minor, ret;

	lockdep_assert_held(&vfio_groups.lock);

	group = kzalloc(sizeof(*group), GFP_KERNEL);
	if (!group)
		return ERR_PTR(-ENOMEM);
	minor = ida_alloc_max(&vfio_groups.ida, MINORMASK, GFP_KERNEL);
	if (minor < 0) {
		kfree(group);
		return ERR_PTR(minor);
	}

	device_initialize(&group->dev);
	group->dev.devt = MKDEV(MAJOR(vfio_groups.devt), minor);
	group->dev.class = vfio_groups.class;
	group->dev.release = vfio_group_release;
	cdev_init(&group->cdev, &vfio_group_fops);
	group->cdev.owner = THIS_MODULE;
	refcount_set(&group->drivers, 1);
	mutex_init(&group->group_lock);
	mutex_init(&group->device_lock);
	INIT_LIST_HEAD(&group->device_list);
	spin_lock_init(&group->kvm_ref_lock);
	group->type = type;
	group->iommu_group = iommu_group;
	iommu_group_ref_get(iommu_group);	/* put when the group leaves */

	ret = dev_set_name(&group->dev, "%s%d",
			   type == VFIO_NO_IOMMU ? "noiommu-" : "",
			   iommu_group_id(iommu_group));
	if (ret)
		goto put_group;
	ret = cdev_device_add(&group->cdev, &group->dev);
	if (ret)
		goto put_group;
	list_add(&group->vfio_next, &vfio_groups.list);
	return group;

put_group:
	iommu_group_put(iommu_group);
	group->iommu_group = NULL;
	put_device(&group->dev);
	return ERR_PTR(ret);
}

static struct vfio_group *vfio_group_find(struct iommu_group *iommu_group)
{
	struct vfio_group *group;

	lockdep_assert_held(&vfio_groups.lock);
	list_for_each_entry(group, &vfio_groups.list, vfio_next)
		if (group->iommu_group == iommu_group)
			return group;
	return NULL;
}

/*
 * A device exposed through a driver that does its own DMA translation,
 * or one no IOMMU covers (no-IOMMU mode), gets a private iommu_group of
 * its own, so the group API still applies.
 */
static struct iommu_group *vfio_private_iommu_group(struct device *dev)
{
	struct iommu_group *iommu_group;
	int ret;

	iommu_group = iommu_group_alloc();
	if (IS_ERR(iommu_group))
		return iommu_group;
	ret = iommu_group_set_name(iommu_group, "vfio-noiommu");
	if (!ret)
		ret = iommu_group_add_device(iommu_group, dev);
	if (ret) {
		iommu_group_put(iommu_group);
		return ERR_PTR(ret);
	}
	return iommu_group;
}

/**
 * vfio_device_set_group - find or create the group of a registering device
 * @device: the device
 * @type: how its DMA is translated
 *
 * A device of type VFIO_IOMMU that no IOMMU covers gets a no-IOMMU group
 * when enable_unsafe_noiommu_mode is set, which taints the kernel.
 *
 * Return: 0, or -EINVAL for a device without an IOMMU group.
 */
int vfio_device_set_group(struct vfio_device *device,
			  enum vfio_group_type type)
{
	struct iommu_group *iommu_group = NULL;
	struct vfio_group *group;
	int ret = 0;

	if (type == VFIO_IOMMU) {
		iommu_group = iommu_group_get(device->dev);
		if (!iommu_group && !vfio_noiommu)
			return -EINVAL;
		/* No IOMMU driver claimed the device: it gets no protection. */
		if (!iommu_group)
			type = VFIO_NO_IOMMU;
	}
	if (!iommu_group) {
		iommu_group = vfio_private_iommu_group(device->dev);
		if (IS_ERR(iommu_group))
			return PTR_ERR(iommu_group);
	}

	mutex_lock(&vfio_groups.lock);
	group = type == VFIO_IOMMU ? vfio_group_find(iommu_group) : NULL;
	if (group) {
		if (group->type != type)
			ret = -EINVAL;
		else
			refcount_inc(&group->drivers);
	} else {
		group = vfio_group_create(iommu_group, type);
		if (IS_ERR(group))
			ret = PTR_ERR(group);
	}
	mutex_unlock(&vfio_groups.lock);

	if (ret && type != VFIO_IOMMU)
		iommu_group_remove_device(device->dev);
	/* The group holds its own reference. */
	iommu_group_put(iommu_group);
	if (ret)
		return ret;
	device->group = group;
	if (type == VFIO_NO_IOMMU) {
		/* A DMA-capable device goes to a user with nothing in between. */
		add_taint(TAINT_USER, LOCKDEP_STILL_OK);
		dev_warn(device->dev, "Adding kernel taint for vfio-noiommu group on device\n");
	}
	return 0;
}

/**
 * vfio_device_remove_group - undo vfio_device_set_group()
 * @device: the unregistering device, no longer open by anyone
 *
 * The last device out takes the group with it: its container is
 * detached, its node removed, and opens from then on fail with ENODEV.
 */
void vfio_device_remove_group(struct vfio_device *device)
{
	struct vfio_group *group = device->group;
	struct iommu_group *iommu_group;

	if (group->type != VFIO_IOMMU)
		iommu_group_remove_device(device->dev);

	if (!refcount_dec_and_mutex_lock(&group->drivers, &vfio_groups.lock))
		return;
	list_del(&group->vfio_next);
	/* The node goes first so no new open can start. */
	cdev_device_del(&group->cdev, &group->dev);

	mutex_lock(&group->group_lock);
	WARN_ON(!list_empty(&group->device_list));
	if (group->container)
		vfio_group_detach_container(group);
	iommu_group = group->iommu_group;
	group->iommu_group = NULL;
	mutex_unlock(&group->group_lock);
	mutex_unlock(&vfio_groups.lock);

	iommu_group_put(iommu_group);
	put_device(&group->dev);
}

void vfio_device_group_register(struct vfio_device *device)
{
	mutex_lock(&device->group->device_lock);
	list_add(&device->group_next, &device->group->device_list);
	mutex_unlock(&device->group->device_lock);
}

void vfio_device_group_unregister(struct vfio_device *device)
{
	mutex_lock(&device->group->device_lock);
	list_del(&device->group_next);
	mutex_unlock(&device->group->device_lock);
}

/**
 * vfio_file_iommu_group - the iommu_group of a VFIO group file
 * @file: a file
 *
 * Return: the group's iommu_group (no reference is taken), or NULL when
 * @file is not a VFIO group.
 */
struct iommu_group *vfio_file_iommu_group(struct file *file)
{
	struct vfio_group *group = file->private_data;
	struct iommu_group *iommu_group = NULL;

	if (!vfio_group_is_file(file))
		return NULL;
	mutex_lock(&group->group_lock);
	iommu_group = group->iommu_group;
	mutex_unlock(&group->group_lock);
	return iommu_group;
}
EXPORT_SYMBOL_GPL(vfio_file_iommu_group);

/**
 * vfio_file_is_group - is this file an open VFIO group?
 * @file: a file
 *
 * Return: true for /dev/vfio/N files.
 */
bool vfio_file_is_group(struct file *file)
{
	return vfio_group_is_file(file);
}
EXPORT_SYMBOL_GPL(vfio_file_is_group);

/**
 * vfio_group_enforced_coherent - is DMA of the group's devices coherent?
 * @group: a group
 *
 * With a container, the container's IOMMU answers. Without one, the
 * answer is true only when every device's IOMMU can enforce it, as any
 * page table later attached will then too.
 *
 * Return: true when DMA is enforced coherent.
 */
bool vfio_group_enforced_coherent(struct vfio_group *group)
{
	struct vfio_device *device;
	bool coherent = true;

	mutex_lock(&group->group_lock);
	if (group->container) {
		coherent = vfio_container_enforced_coherent(group->container);
		mutex_unlock(&group->group_lock);
		return coherent;
	}
	mutex_unlock(&group->group_lock);

	mutex_lock(&group->device_lock);
	list_for_each_entry(device, &group->device_list, group_next)
		if (!device_iommu_capable(device->dev,
					  IOMMU_CAP_ENFORCE_CACHE_COHERENCY)) {
			coherent = false;
			break;
		}
	mutex_unlock(&group->device_lock);
	return coherent;
}

/**
 * vfio_group_set_kvm - record the KVM instance that uses a group
 * @group: a group
 * @kvm: the KVM instance, or NULL
 */
void vfio_group_set_kvm(struct vfio_group *group, struct kvm *kvm)
{
	spin_lock(&group->kvm_ref_lock);
	group->kvm = kvm;
	spin_unlock(&group->kvm_ref_lock);
}

/**
 * vfio_file_has_dev - does this file give access to this device?
 * @file: a VFIO group file
 * @device: a VFIO device
 *
 * Drivers use it to check the files a user passes as proof of ownership
 * (for example with VFIO_DEVICE_PCI_HOT_RESET).
 *
 * Return: true when @device belongs to the group of @file.
 */
bool vfio_file_has_dev(struct file *file, struct vfio_device *device)
{
	struct vfio_group *group = file->private_data;

	return vfio_group_is_file(file) && device->group == group;
}
EXPORT_SYMBOL_GPL(vfio_file_has_dev);

static char *vfio_group_devnode(const struct device *dev, umode_t *mode)
{
	return kasprintf(GFP_KERNEL, "vfio/%s", dev_name(dev));
}

int vfio_group_init(void)
{
	int ret;

	ida_init(&vfio_groups.ida);
	mutex_init(&vfio_groups.lock);
	INIT_LIST_HEAD(&vfio_groups.list);

	ret = vfio_container_init();
	if (ret)
		return ret;
	vfio_groups.class = class_create("vfio");
	if (IS_ERR(vfio_groups.class)) {
		ret = PTR_ERR(vfio_groups.class);
		goto cleanup_container;
	}
	vfio_groups.class->devnode = vfio_group_devnode;
	ret = alloc_chrdev_region(&vfio_groups.devt, 0, MINORMASK + 1, "vfio");
	if (ret)
		goto destroy_class;
	return 0;

destroy_class:
	class_destroy(vfio_groups.class);
cleanup_container:
	vfio_container_cleanup();
	return ret;
}

void vfio_group_cleanup(void)
{
	WARN_ON(!list_empty(&vfio_groups.list));
	unregister_chrdev_region(vfio_groups.devt, MINORMASK + 1);
	class_destroy(vfio_groups.class);
	ida_destroy(&vfio_groups.ida);
	vfio_container_cleanup();
}
