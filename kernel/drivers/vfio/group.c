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
#include <linux/module.h>
#include <linux/slab.h>

#include "vfio.h"

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

/* Does the group have a container to get device fds through? */
static bool vfio_group_has_container(struct vfio_group *group)
{
	lockdep_assert_held(&group->group_lock);
	WARN_ON(!group->container != !group->container_users);
	return group->container;
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
	 * bound to any of its devices.
	 */
	if (vfio_group_has_container(group))
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
	struct fd f;
	int ret;
	int fd;

	if (get_user(fd, arg))
		return -EFAULT;

	f = fdget(fd);
	if (!fd_file(f))
		return -EBADF;

	mutex_lock(&group->group_lock);
	if (vfio_group_has_container(group)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (!group->iommu_group) {
		ret = -ENODEV;
		goto out_unlock;
	}
	container = vfio_container_from_file(fd_file(f));
	/* An fd that is not a container (iommufd comes later) is refused. */
	ret = container ? vfio_container_attach_group(container, group) :
			  -EBADFD;
out_unlock:
	mutex_unlock(&group->group_lock);
	fdput(f);
	return ret;
}

static int vfio_group_ioctl_unset_container(struct vfio_group *group)
{
	int ret = 0;

	mutex_lock(&group->group_lock);
	if (!vfio_group_has_container(group))
		ret = -EINVAL;
	else if (group->container_users != 1)
		ret = -EBUSY;	/* a device of the group is open */
	else
		vfio_group_detach_container(group);
	mutex_unlock(&group->group_lock);
	return ret;
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
	} else if (group->opened_file) {
		/* One user per group: the group is what isolation covers. */
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
 * A device exposed through a driver that does its own DMA translation
 * gets a private iommu_group of its own, so the group API still applies.
 */
static struct iommu_group *vfio_emulated_iommu_group(struct device *dev)
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
 * Return: 0, or -EINVAL for a device without an IOMMU group.
 */
int vfio_device_set_group(struct vfio_device *device,
			  enum vfio_group_type type)
{
	struct iommu_group *iommu_group;
	struct vfio_group *group;
	int ret = 0;

	if (type == VFIO_IOMMU) {
		iommu_group = iommu_group_get(device->dev);
		if (!iommu_group)
			return -EINVAL;
	} else {
		iommu_group = vfio_emulated_iommu_group(device->dev);
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
 * vfio_file_is_valid - does this file give access to VFIO devices?
 * @file: a file
 *
 * Return: true for VFIO group files.
 */
bool vfio_file_is_valid(struct file *file)
{
	return vfio_group_is_file(file);
}
EXPORT_SYMBOL_GPL(vfio_file_is_valid);

/**
 * vfio_file_enforced_coherent - does the IOMMU behind this file keep DMA
 *                               coherent with the CPU caches?
 * @file: a VFIO group file
 *
 * KVM asks so it can skip emulating cache maintenance. Without a
 * container the answer is the safe one: true only when every device
 * could enforce it, which no device has promised yet, so false.
 *
 * Return: true when DMA is enforced coherent.
 */
bool vfio_file_enforced_coherent(struct file *file)
{
	struct vfio_group *group = file->private_data;
	bool coherent = false;

	if (!vfio_group_is_file(file))
		return true;
	mutex_lock(&group->group_lock);
	if (group->container)
		coherent = vfio_container_enforced_coherent(group->container);
	mutex_unlock(&group->group_lock);
	return coherent;
}
EXPORT_SYMBOL_GPL(vfio_file_enforced_coherent);

/**
 * vfio_file_set_kvm - tell the devices of a group which KVM uses them
 * @file: a VFIO group file
 * @kvm: the KVM instance, or NULL to dissociate
 *
 * Devices opened from then on see @kvm in vfio_device.kvm.
 */
void vfio_file_set_kvm(struct file *file, struct kvm *kvm)
{
	struct vfio_group *group = file->private_data;

	if (!vfio_group_is_file(file))
		return;
	spin_lock(&group->kvm_ref_lock);
	group->kvm = kvm;
	spin_unlock(&group->kvm_ref_lock);
}
EXPORT_SYMBOL_GPL(vfio_file_set_kvm);

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
