// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO core: devices, device sets, device files, and the helpers drivers
 * share (capability chains, SET_IRQS validation, pinning).
 *
 * A driver allocates a vfio_device with vfio_alloc_device(), registers it,
 * and from then on users reach it through its group. The vfio-dev/vfioN
 * device in sysfs lives from registration to unregistration; the memory
 * lives to the last put. The registration reference counts users, and
 * unregistration waits for them, asking the driver to ask them to leave.
 */
#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/iommufd.h>
#if IS_ENABLED(CONFIG_KVM)
#include <linux/kvm_host.h>
#endif
#include <linux/module.h>
#include <linux/pm_runtime.h>
#include <linux/pseudo_fs.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "vfio.h"

#define DRIVER_DESC	"VFIO - User Level meta-driver (clean-room)"

static struct class *vfio_device_class;
static DEFINE_IDA(vfio_device_ida);

/*
 * A pseudo filesystem that gives each device an inode: every file opened
 * on the device shares that inode's address space, so a driver can zap
 * all user mappings of the device at once (unmap_mapping_range()).
 */
#define VFIO_FS_MAGIC	0x5646494f	/* "VFIO" */
static struct vfsmount *vfio_fs_mount;
static int vfio_fs_count;		/* users of vfio_fs_mount */
/* Device sets by set_id; the xarray's lock serializes set creation. */
static DEFINE_XARRAY(vfio_device_sets);

/* --- device sets -------------------------------------------------------- */

/**
 * vfio_assign_device_set - put a device in the set identified by @set_id
 * @device: a device that is not registered yet
 * @set_id: anything the set's members share; devices that are reset
 *          together must use the same @set_id
 *
 * Without a call the device is alone in a set of its own.
 *
 * Return: 0, -EINVAL or -ENOMEM.
 */
int vfio_assign_device_set(struct vfio_device *device, void *set_id)
{
	unsigned long idx = (unsigned long)set_id;
	struct vfio_device_set *dev_set, *new;

	if (WARN_ON(!set_id || device->dev_set))
		return -EINVAL;

	xa_lock(&vfio_device_sets);
	dev_set = xa_load(&vfio_device_sets, idx);
	if (dev_set)
		goto add;
	xa_unlock(&vfio_device_sets);

	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	mutex_init(&new->lock);
	INIT_LIST_HEAD(&new->device_list);
	new->set_id = set_id;

	xa_lock(&vfio_device_sets);
	dev_set = __xa_cmpxchg(&vfio_device_sets, idx, NULL, new, GFP_KERNEL);
	if (xa_is_err(dev_set)) {
		xa_unlock(&vfio_device_sets);
		kfree(new);
		return xa_err(dev_set);
	}
	if (dev_set)		/* lost a race: use the winner's set */
		kfree(new);
	else
		dev_set = new;
add:
	dev_set->device_count++;
	xa_unlock(&vfio_device_sets);

	mutex_lock(&dev_set->lock);
	device->dev_set = dev_set;
	list_add_tail(&device->dev_set_list, &dev_set->device_list);
	mutex_unlock(&dev_set->lock);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_assign_device_set);

static void vfio_release_device_set(struct vfio_device *device)
{
	struct vfio_device_set *dev_set = device->dev_set;

	if (!dev_set)
		return;

	mutex_lock(&dev_set->lock);
	list_del(&device->dev_set_list);
	mutex_unlock(&dev_set->lock);

	xa_lock(&vfio_device_sets);
	if (!--dev_set->device_count) {
		__xa_erase(&vfio_device_sets, (unsigned long)dev_set->set_id);
		mutex_destroy(&dev_set->lock);
		kfree(dev_set);
	}
	xa_unlock(&vfio_device_sets);
}

/**
 * vfio_device_set_open_count - how many opens the members have in total
 * @dev_set: a device set, whose lock the caller holds
 *
 * Return: the sum of the members' open counts.
 */
unsigned int vfio_device_set_open_count(struct vfio_device_set *dev_set)
{
	struct vfio_device *cur;
	unsigned int open_count = 0;

	lockdep_assert_held(&dev_set->lock);
	list_for_each_entry(cur, &dev_set->device_list, dev_set_list)
		open_count += cur->open_count;
	return open_count;
}
EXPORT_SYMBOL_GPL(vfio_device_set_open_count);

/**
 * vfio_find_device_in_devset - the member of a set whose parent is @dev
 * @dev_set: a device set, whose lock the caller holds
 * @dev: a parent device
 *
 * Return: the member, or NULL.
 */
struct vfio_device *
vfio_find_device_in_devset(struct vfio_device_set *dev_set,
			   struct device *dev)
{
	struct vfio_device *cur;

	lockdep_assert_held(&dev_set->lock);
	list_for_each_entry(cur, &dev_set->device_list, dev_set_list)
		if (cur->dev == dev)
			return cur;
	return NULL;
}
EXPORT_SYMBOL_GPL(vfio_find_device_in_devset);

/* --- allocation and registration --------------------------------------- */

static int vfio_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, VFIO_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type vfio_fs_type = {
	.name			= "vfio",
	.owner			= THIS_MODULE,
	.init_fs_context	= vfio_fs_init_fs_context,
	.kill_sb		= kill_anon_super,
};

static struct inode *vfio_fs_inode_new(void)
{
	struct inode *inode;
	int ret;

	ret = simple_pin_fs(&vfio_fs_type, &vfio_fs_mount, &vfio_fs_count);
	if (ret)
		return ERR_PTR(ret);
	inode = alloc_anon_inode(vfio_fs_mount->mnt_sb);
	if (IS_ERR(inode))
		simple_release_fs(&vfio_fs_mount, &vfio_fs_count);
	return inode;
}

static void vfio_fs_inode_put(struct inode *inode)
{
	iput(inode);
	simple_release_fs(&vfio_fs_mount, &vfio_fs_count);
}

static void vfio_device_release(struct device *dev)
{
	struct vfio_device *device =
		container_of(dev, struct vfio_device, device);

	vfio_release_device_set(device);
	ida_free(&vfio_device_ida, device->index);
	if (device->ops->release)
		device->ops->release(device);
	vfio_fs_inode_put(device->inode);
	kvfree(device);
}

/**
 * _vfio_alloc_device - allocate and initialize a vfio_device
 * @size: size of the driver's structure, which embeds the vfio_device
 *        at offset 0
 * @dev: the parent device
 * @ops: the driver's callbacks
 *
 * Drivers use vfio_alloc_device(). ops->init, if any, runs before this
 * returns; ops->release runs when the last reference is put.
 *
 * Return: the device, or an ERR_PTR().
 */
struct vfio_device *_vfio_alloc_device(size_t size, struct device *dev,
				       const struct vfio_device_ops *ops)
{
	struct vfio_device *device;
	int ret;

	if (WARN_ON(size < sizeof(struct vfio_device)))
		return ERR_PTR(-EINVAL);

	device = kvzalloc(size, GFP_KERNEL);
	if (!device)
		return ERR_PTR(-ENOMEM);

	ret = ida_alloc_max(&vfio_device_ida, MINORMASK, GFP_KERNEL);
	if (ret < 0)
		goto free_device;
	device->index = ret;
	init_completion(&device->comp);
	device->dev = dev;
	device->ops = ops;

	device->inode = vfio_fs_inode_new();
	if (IS_ERR(device->inode)) {
		ret = PTR_ERR(device->inode);
		goto free_index;
	}

	if (ops->init) {
		ret = ops->init(device);
		if (ret)
			goto put_inode;
	}

	/* From here on the struct device owns the memory. */
	device_initialize(&device->device);
	device->device.release = vfio_device_release;
	device->device.class = vfio_device_class;
	device->device.parent = device->dev;
	return device;

put_inode:
	vfio_fs_inode_put(device->inode);
free_index:
	ida_free(&vfio_device_ida, device->index);
free_device:
	kvfree(device);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(_vfio_alloc_device);

static int vfio_register_dev(struct vfio_device *device,
			     enum vfio_group_type type)
{
	int ret;

	/* The cdev path needs all four; a driver without them is a bug. */
	if (WARN_ON(IS_ENABLED(CONFIG_IOMMUFD) &&
		    (!device->ops->bind_iommufd ||
		     !device->ops->unbind_iommufd ||
		     !device->ops->attach_ioas ||
		     !device->ops->detach_ioas)))
		return -EINVAL;

	/* Without a set of its own choosing, a device is alone in one. */
	if (!device->dev_set) {
		ret = vfio_assign_device_set(device, device);
		if (ret)
			return ret;
	}

	ret = dev_set_name(&device->device, "vfio%d", device->index);
	if (ret)
		return ret;

	ret = vfio_device_set_group(device, type);
	if (ret)
		return ret;

	/*
	 * A device behind an IOMMU that cannot keep DMA coherent would let
	 * a user read stale data: refuse it, as the uAPI promises coherency.
	 */
	if (type == VFIO_IOMMU && !vfio_device_is_noiommu(device) &&
	    !device_iommu_capable(device->dev, IOMMU_CAP_CACHE_COHERENCY)) {
		ret = -EINVAL;
		goto remove_group;
	}

	refcount_set(&device->refcount, 1);
	ret = vfio_device_add(device);
	if (ret)
		goto remove_group;

	vfio_device_group_register(device);
	vfio_device_debugfs_init(device);
	return 0;

remove_group:
	vfio_device_remove_group(device);
	return ret;
}

/**
 * vfio_register_group_dev - expose a device behind the platform IOMMU
 * @device: an allocated vfio_device
 *
 * The device joins the VFIO group of its iommu_group, created on first
 * use as /dev/vfio/N.
 *
 * Return: 0, or -EINVAL when the device has no IOMMU group or its IOMMU
 * cannot enforce cache coherency.
 */
int vfio_register_group_dev(struct vfio_device *device)
{
	return vfio_register_dev(device, VFIO_IOMMU);
}
EXPORT_SYMBOL_GPL(vfio_register_group_dev);

/**
 * vfio_register_emulated_iommu_dev - expose a device that translates DMA
 *                                    itself
 * @device: an allocated vfio_device whose ops have dma_unmap
 *
 * The device gets a group of its own and reaches user memory only
 * through vfio_pin_pages() and vfio_dma_rw().
 *
 * Return: 0 or -errno.
 */
int vfio_register_emulated_iommu_dev(struct vfio_device *device)
{
	return vfio_register_dev(device, VFIO_EMULATED_IOMMU);
}
EXPORT_SYMBOL_GPL(vfio_register_emulated_iommu_dev);

bool vfio_device_try_get_registration(struct vfio_device *device)
{
	return refcount_inc_not_zero(&device->refcount);
}

void vfio_device_put_registration(struct vfio_device *device)
{
	if (refcount_dec_and_test(&device->refcount))
		complete(&device->comp);
}

/**
 * vfio_unregister_group_dev - withdraw a registered device
 * @device: the device
 *
 * New opens fail at once. While users still hold the device, the driver's
 * request callback is called every ten seconds (to signal the user), and
 * this waits, so a driver's remove() may block on a user.
 */
void vfio_unregister_group_dev(struct vfio_device *device)
{
	unsigned int asked = 0;

	vfio_device_group_unregister(device);
	/* Before the device goes: readers of its files are waited for. */
	vfio_device_debugfs_exit(device);
	/* The cdev goes too, so no new open can start on either path. */
	vfio_device_del(device);
	vfio_device_put_registration(device);

	while (!wait_for_completion_timeout(&device->comp,
					    asked ? 10 * HZ : 0)) {
		if (device->ops->request)
			device->ops->request(device, asked);
		if (!asked)
			dev_info(device->dev,
				 "device in use: waiting for the user to release it\n");
		asked++;
	}

	vfio_device_remove_group(device);
}
EXPORT_SYMBOL_GPL(vfio_unregister_group_dev);

/* --- device files ----------------------------------------------------- */

/**
 * vfio_allocate_device_file - the per-file state of a device file
 * @device: the device
 *
 * Return: the new state, not yet granted access, or ERR_PTR(-ENOMEM).
 */
struct vfio_device_file *
vfio_allocate_device_file(struct vfio_device *device)
{
	struct vfio_device_file *df;

	df = kzalloc(sizeof(*df), GFP_KERNEL_ACCOUNT);
	if (!df)
		return ERR_PTR(-ENOMEM);
	df->device = device;
	spin_lock_init(&df->kvm_ref_lock);
	return df;
}

#if IS_ENABLED(CONFIG_KVM)
/**
 * vfio_device_get_kvm_safe - hold @kvm for the device's open lifetime
 * @device: a device being opened for the first time
 * @kvm: the KVM instance the user associated, or NULL
 *
 * Takes a reference without a hard dependency on kvm.ko. The caller holds
 * dev_set->lock and the lock that protects where @kvm was read from.
 */
void vfio_device_get_kvm_safe(struct vfio_device *device, struct kvm *kvm)
{
	void (*put)(struct kvm *kvm);
	bool (*get)(struct kvm *kvm);

	lockdep_assert_held(&device->dev_set->lock);
	if (!kvm)
		return;
	put = symbol_get(kvm_put_kvm);
	if (WARN_ON(!put))
		return;
	get = symbol_get(kvm_get_kvm_safe);
	if (WARN_ON(!get) || !get(kvm)) {
		if (get)
			symbol_put(kvm_get_kvm_safe);
		symbol_put(kvm_put_kvm);
		return;
	}
	symbol_put(kvm_get_kvm_safe);
	device->put_kvm = put;
	device->kvm = kvm;
}

/**
 * vfio_device_put_kvm - drop what vfio_device_get_kvm_safe() took
 * @device: the device, under dev_set->lock
 */
void vfio_device_put_kvm(struct vfio_device *device)
{
	lockdep_assert_held(&device->dev_set->lock);
	if (!device->kvm)
		return;
	device->put_kvm(device->kvm);
	device->put_kvm = NULL;
	symbol_put(kvm_put_kvm);
	device->kvm = NULL;
}
#else
void vfio_device_get_kvm_safe(struct vfio_device *device, struct kvm *kvm)
{
}

void vfio_device_put_kvm(struct vfio_device *device)
{
}
#endif

/*
 * The first open: pin the driver, reach the IOMMU (the group's container,
 * or a binding to the file's iommufd context), open the device.
 */
static int vfio_df_device_first_open(struct vfio_device_file *df)
{
	struct vfio_device *device = df->device;
	int ret;

	lockdep_assert_held(&device->dev_set->lock);

	if (!try_module_get(device->dev->driver->owner))
		return -ENODEV;
	if (df->iommufd)
		ret = vfio_df_iommufd_bind(df);
	else
		ret = vfio_device_group_use_iommu(device);
	if (ret)
		goto put_module;

	if (device->ops->open_device) {
		ret = device->ops->open_device(device);
		if (ret)
			goto unuse_iommu;
	}
	return 0;

unuse_iommu:
	if (df->iommufd)
		vfio_df_iommufd_unbind(df);
	else
		vfio_device_group_unuse_iommu(device);
put_module:
	module_put(device->dev->driver->owner);
	return ret;
}

static void vfio_df_device_last_close(struct vfio_device_file *df)
{
	struct vfio_device *device = df->device;

	lockdep_assert_held(&device->dev_set->lock);

	if (device->ops->close_device)
		device->ops->close_device(device);
	if (df->iommufd)
		vfio_df_iommufd_unbind(df);
	else
		vfio_device_group_unuse_iommu(device);
	module_put(device->dev->driver->owner);
}

/**
 * vfio_df_open - count an open of the device, opening it the first time
 * @df: the file opening it; @df->iommufd says how it reaches the IOMMU
 *
 * The caller holds dev_set->lock (and, on the group path, the group's
 * lock). A device is opened many times only through its group: a cdev
 * open must be the only one.
 *
 * Return: 0, -EINVAL when a cdev open finds the device already open, or
 * what the first open returned.
 */
int vfio_df_open(struct vfio_device_file *df)
{
	struct vfio_device *device = df->device;
	int ret = 0;

	lockdep_assert_held(&device->dev_set->lock);

	if (device->open_count && !df->group)
		return -EINVAL;
	/* open_device() sees the new open already counted, as upstream. */
	device->open_count++;
	if (device->open_count == 1) {
		ret = vfio_df_device_first_open(df);
		if (ret)
			device->open_count--;
	}
	return ret;
}

/**
 * vfio_df_close - undo vfio_df_open()
 * @df: the file closing the device; under dev_set->lock
 */
void vfio_df_close(struct vfio_device_file *df)
{
	struct vfio_device *device = df->device;

	lockdep_assert_held(&device->dev_set->lock);

	if (WARN_ON(!device->open_count))
		return;
	/* close_device() sees the closing open still counted, as upstream. */
	if (device->open_count == 1)
		vfio_df_device_last_close(df);
	device->open_count--;
}

static int vfio_device_fops_release(struct inode *inode, struct file *file)
{
	struct vfio_device_file *df = file->private_data;
	struct vfio_device *device = df->device;

	if (df->group)
		vfio_df_group_close(df);
	else
		vfio_df_unbind_iommufd(df);
	vfio_device_put_registration(device);
	kfree(df);
	return 0;
}

/* Runtime-resume the parent around user access, if its driver uses PM. */
static int vfio_device_pm_get(struct vfio_device *device)
{
	struct device *dev = device->dev;

	if (dev->driver && dev->driver->pm)
		return pm_runtime_resume_and_get(dev);
	return 0;
}

static void vfio_device_pm_put(struct vfio_device *device)
{
	struct device *dev = device->dev;

	if (dev->driver && dev->driver->pm)
		pm_runtime_put(dev);
}

static long vfio_ioctl_device_feature(struct vfio_device *device,
				      struct vfio_device_feature __user *arg)
{
	size_t minsz = offsetofend(struct vfio_device_feature, flags);
	struct vfio_device_feature feature;

	if (copy_from_user(&feature, arg, minsz))
		return -EFAULT;
	if (feature.argsz < minsz)
		return -EINVAL;
	if (feature.flags & ~(VFIO_DEVICE_FEATURE_MASK |
			      VFIO_DEVICE_FEATURE_SET |
			      VFIO_DEVICE_FEATURE_GET |
			      VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	/* GET and SET together only make sense when probing. */
	if (!(feature.flags & VFIO_DEVICE_FEATURE_PROBE) &&
	    (feature.flags & VFIO_DEVICE_FEATURE_SET) &&
	    (feature.flags & VFIO_DEVICE_FEATURE_GET))
		return -EINVAL;

	switch (feature.flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_MIGRATION:
		return vfio_ioctl_device_feature_migration(device,
				feature.flags, arg->data, feature.argsz - minsz);
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
		return vfio_ioctl_device_feature_mig_device_state(device,
				feature.flags, arg->data, feature.argsz - minsz);
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
		return vfio_ioctl_device_feature_migration_data_size(device,
				feature.flags, arg->data, feature.argsz - minsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
		return vfio_ioctl_device_feature_logging_start(device,
				feature.flags, arg->data, feature.argsz - minsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
		return vfio_ioctl_device_feature_logging_stop(device,
				feature.flags, arg->data, feature.argsz - minsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
		return vfio_ioctl_device_feature_logging_report(device,
				feature.flags, arg->data, feature.argsz - minsz);
	}

	if (!device->ops->device_feature)
		return -ENOTTY;
	return device->ops->device_feature(device, feature.flags, arg->data,
					   feature.argsz - minsz);
}

/* Has the file been granted the device (a group open, or a cdev bind)? */
static bool vfio_df_access_granted(struct vfio_device_file *df)
{
	/* Pairs with the release store once the device was opened. */
	return smp_load_acquire(&df->access_granted);
}

static long vfio_device_fops_ioctl(struct file *file, unsigned int cmd,
				   unsigned long arg)
{
	struct vfio_device_file *df = file->private_data;
	struct vfio_device *device = df->device;
	void __user *uarg = (void __user *)arg;
	long ret;

	/* The one request a cdev file answers before it is bound. */
	if (cmd == VFIO_DEVICE_BIND_IOMMUFD)
		return vfio_df_ioctl_bind_iommufd(df, uarg);
	if (!vfio_df_access_granted(df))
		return -EINVAL;

	ret = vfio_device_pm_get(device);
	if (ret)
		return ret;
	if (!df->group && cmd == VFIO_DEVICE_ATTACH_IOMMUFD_PT)
		ret = vfio_df_ioctl_attach_pt(df, uarg);
	else if (!df->group && cmd == VFIO_DEVICE_DETACH_IOMMUFD_PT)
		ret = vfio_df_ioctl_detach_pt(df, uarg);
	else if (cmd == VFIO_DEVICE_FEATURE)
		ret = vfio_ioctl_device_feature(device, uarg);
	else if (device->ops->ioctl)
		ret = device->ops->ioctl(device, cmd, arg);
	else
		ret = -EINVAL;
	vfio_device_pm_put(device);
	return ret;
}

static ssize_t vfio_device_fops_read(struct file *file, char __user *buf,
				     size_t count, loff_t *ppos)
{
	struct vfio_device_file *df = file->private_data;
	struct vfio_device *device = df->device;

	if (!vfio_df_access_granted(df) || !device->ops->read)
		return -EINVAL;
	return device->ops->read(device, buf, count, ppos);
}

static ssize_t vfio_device_fops_write(struct file *file,
				      const char __user *buf, size_t count,
				      loff_t *ppos)
{
	struct vfio_device_file *df = file->private_data;
	struct vfio_device *device = df->device;

	if (!vfio_df_access_granted(df) || !device->ops->write)
		return -EINVAL;
	return device->ops->write(device, buf, count, ppos);
}

static int vfio_device_fops_mmap(struct file *file,
				 struct vm_area_struct *vma)
{
	struct vfio_device_file *df = file->private_data;
	struct vfio_device *device = df->device;

	if (!vfio_df_access_granted(df) || !device->ops->mmap)
		return -EINVAL;
	return device->ops->mmap(device, vma);
}

/*
 * One set of file operations for both kinds of device file: the group
 * path makes anonymous files (which never call .open), the cdev path
 * opens /dev/vfio/devices/vfioN.
 */
const struct file_operations vfio_device_fops = {
	.owner		= THIS_MODULE,
	.open		= vfio_device_fops_cdev_open,
	.release	= vfio_device_fops_release,
	.read		= vfio_device_fops_read,
	.write		= vfio_device_fops_write,
	.unlocked_ioctl	= vfio_device_fops_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= vfio_device_fops_mmap,
};

/* The device of a device file (either kind), or NULL for other files. */
static struct vfio_device *vfio_device_from_file(struct file *file)
{
	struct vfio_device_file *df = file->private_data;

	if (file->f_op != &vfio_device_fops)
		return NULL;
	return df->device;
}

/**
 * vfio_file_is_valid - does this file give access to VFIO devices?
 * @file: a file
 *
 * Return: true for VFIO group files and device files.
 */
bool vfio_file_is_valid(struct file *file)
{
	return vfio_group_is_file(file) || vfio_device_from_file(file);
}
EXPORT_SYMBOL_GPL(vfio_file_is_valid);

/**
 * vfio_file_enforced_coherent - does the IOMMU behind this file keep DMA
 *                               coherent with the CPU caches?
 * @file: a VFIO group or device file
 *
 * KVM asks so it can skip emulating cache maintenance.
 *
 * Return: true when DMA is enforced coherent (and for other files).
 */
bool vfio_file_enforced_coherent(struct file *file)
{
	struct vfio_device *device = vfio_device_from_file(file);

	if (device)
		return device_iommu_capable(device->dev,
					    IOMMU_CAP_ENFORCE_CACHE_COHERENCY);
	if (vfio_group_is_file(file))
		return vfio_group_enforced_coherent(file->private_data);
	return true;
}
EXPORT_SYMBOL_GPL(vfio_file_enforced_coherent);

/**
 * vfio_file_set_kvm - tell VFIO which KVM instance uses a file's devices
 * @file: a VFIO group or device file
 * @kvm: the KVM instance, or NULL to dissociate
 *
 * Devices opened from then on (through the group, or by the cdev file's
 * BIND_IOMMUFD) see @kvm in vfio_device.kvm.
 */
void vfio_file_set_kvm(struct file *file, struct kvm *kvm)
{
	struct vfio_device_file *df = file->private_data;

	if (vfio_group_is_file(file)) {
		vfio_group_set_kvm(file->private_data, kvm);
	} else if (vfio_device_from_file(file)) {
		spin_lock(&df->kvm_ref_lock);
		df->kvm = kvm;
		spin_unlock(&df->kvm_ref_lock);
	}
}
EXPORT_SYMBOL_GPL(vfio_file_set_kvm);

/* --- pinning for emulated-IOMMU devices ---------------------------------- */

static bool vfio_device_is_open(struct vfio_device *device)
{
	return READ_ONCE(device->open_count) > 0;
}

/**
 * vfio_pin_pages - pin user pages behind an IOVA range
 * @device: an open device registered with an emulated IOMMU
 * @iova: the first IOVA, page aligned
 * @npage: how many pages, at most VFIO_PIN_PAGES_MAX_ENTRIES
 * @prot: IOMMU_READ and/or IOMMU_WRITE
 * @pages: filled with the pinned pages
 *
 * Return: the number of pages pinned, or -errno.
 */
int vfio_pin_pages(struct vfio_device *device, dma_addr_t iova,
		   int npage, int prot, struct page **pages)
{
	int ret;

	if (!pages || npage <= 0 || WARN_ON(!vfio_device_is_open(device)))
		return -EINVAL;
	/* Only a driver that hears about unmaps may keep pages pinned. */
	if (!device->ops->dma_unmap)
		return -EINVAL;
	if (vfio_device_has_container(device))
		return vfio_device_container_pin_pages(device, iova, npage,
						       prot, pages);
	if (!device->iommufd_access || iova > ULONG_MAX)
		return -EINVAL;
	/*
	 * Whole pages from the one holding @iova: the caller finds its data
	 * at pages[0] + offset_in_page(iova), as on the container path.
	 */
	ret = iommufd_access_pin_pages(device->iommufd_access,
				       ALIGN_DOWN(iova, PAGE_SIZE),
				       (unsigned long)npage * PAGE_SIZE, pages,
				       (prot & IOMMU_WRITE) ?
				       IOMMUFD_ACCESS_RW_WRITE : 0);
	return ret ? ret : npage;
}
EXPORT_SYMBOL(vfio_pin_pages);

/**
 * vfio_unpin_pages - unpin pages pinned by vfio_pin_pages()
 * @device: the device that pinned them
 * @iova: the first IOVA
 * @npage: how many pages
 */
void vfio_unpin_pages(struct vfio_device *device, dma_addr_t iova,
		      int npage)
{
	if (WARN_ON(!vfio_device_is_open(device)))
		return;
	if (vfio_device_has_container(device)) {
		vfio_device_container_unpin_pages(device, iova, npage);
		return;
	}
	if (device->iommufd_access && !WARN_ON(iova > ULONG_MAX))
		iommufd_access_unpin_pages(device->iommufd_access,
					   ALIGN_DOWN(iova, PAGE_SIZE),
					   (unsigned long)npage * PAGE_SIZE);
}
EXPORT_SYMBOL(vfio_unpin_pages);

/**
 * vfio_dma_rw - copy to or from user memory mapped at an IOVA
 * @device: an open device registered with an emulated IOMMU
 * @iova: the IOVA to start at
 * @data: the kernel buffer
 * @len: bytes to copy
 * @write: true to copy @data to the user's memory
 *
 * May be called from a kernel thread (a driver's work item): the copy
 * then goes through the user's mm rather than current's.
 *
 * Return: 0 or -errno.
 */
int vfio_dma_rw(struct vfio_device *device, dma_addr_t iova, void *data,
		size_t len, bool write)
{
	unsigned int flags = write ? IOMMUFD_ACCESS_RW_WRITE : 0;

	if (!data || !len || !vfio_device_is_open(device))
		return -EINVAL;
	if (vfio_device_has_container(device))
		return vfio_device_container_dma_rw(device, iova, data, len,
						    write);
	if (!device->iommufd_access || iova > ULONG_MAX)
		return -EINVAL;
	if (!current->mm)
		flags |= IOMMUFD_ACCESS_RW_KTHREAD;
	return iommufd_access_rw(device->iommufd_access, iova, data, len,
				 flags);
}
EXPORT_SYMBOL(vfio_dma_rw);

/* --- helpers for drivers' INFO and SET_IRQS ioctls ------------------------ */

/**
 * vfio_info_cap_add - append a capability to a chain being built
 * @caps: the chain; starts zeroed
 * @size: the capability's size, header included
 * @id: its VFIO_*_CAP_* id
 * @version: its version
 *
 * Capabilities are padded to 8 bytes so each starts aligned. On failure
 * the whole chain is freed.
 *
 * Return: the new, zeroed capability (header filled in), or an ERR_PTR().
 */
struct vfio_info_cap_header *vfio_info_cap_add(struct vfio_info_cap *caps,
					       size_t size, u16 id,
					       u16 version)
{
	struct vfio_info_cap_header *header, *last;
	void *buf;

	size = ALIGN(size, sizeof(u64));
	buf = krealloc(caps->buf, caps->size + size, GFP_KERNEL);
	if (!buf) {
		kfree(caps->buf);
		caps->buf = NULL;
		caps->size = 0;
		return ERR_PTR(-ENOMEM);
	}
	caps->buf = buf;

	header = buf + caps->size;
	memset(header, 0, size);
	header->id = id;
	header->version = version;

	/* Link it after the current last one; next offsets start at 0. */
	if (caps->size) {
		for (last = buf; last->next; last = buf + last->next)
			;
		last->next = caps->size;
	}
	caps->size += size;
	return header;
}
EXPORT_SYMBOL_GPL(vfio_info_cap_add);

/**
 * vfio_info_cap_shift - make a chain's offsets relative to the INFO struct
 * @caps: a built chain
 * @offset: where the chain will start in the user's buffer, 8-byte aligned
 */
void vfio_info_cap_shift(struct vfio_info_cap *caps, size_t offset)
{
	struct vfio_info_cap_header *cap;
	void *buf = caps->buf;

	WARN_ON(!IS_ALIGNED(offset, sizeof(u64)));
	for (cap = buf; cap->next; cap = buf + cap->next - offset)
		cap->next += offset;
}
EXPORT_SYMBOL(vfio_info_cap_shift);

/**
 * vfio_info_add_capability - append a copy of a filled-in capability
 * @caps: the chain
 * @cap: the capability, header first
 * @size: its size, header included
 *
 * Return: 0 or -ENOMEM.
 */
int vfio_info_add_capability(struct vfio_info_cap *caps,
			     struct vfio_info_cap_header *cap, size_t size)
{
	struct vfio_info_cap_header *header;

	header = vfio_info_cap_add(caps, size, cap->id, cap->version);
	if (IS_ERR(header))
		return PTR_ERR(header);
	memcpy(header + 1, cap + 1, size - sizeof(*header));
	return 0;
}
EXPORT_SYMBOL(vfio_info_add_capability);

/**
 * vfio_set_irqs_validate_and_prepare - check a VFIO_DEVICE_SET_IRQS header
 * @hdr: the header, copied from the user
 * @num_irqs: how many interrupts hdr->index has
 * @max_irq_type: the number of interrupt indexes the device has
 * @data_size: set to the size of the data that follows the header
 *
 * Checks argsz, index, flags, that [start, start + count) fits in
 * @num_irqs and that argsz covers the data. The driver still checks the
 * action is one it supports.
 *
 * Return: 0 or -EINVAL.
 */
int vfio_set_irqs_validate_and_prepare(struct vfio_irq_set *hdr,
				       int num_irqs, int max_irq_type,
				       size_t *data_size)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	size_t elem;

	if (hdr->argsz < minsz || hdr->index >= max_irq_type ||
	    hdr->count >= U32_MAX - hdr->start ||
	    hdr->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
			   VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return -EINVAL;

	if (data_size)
		*data_size = 0;

	if (hdr->start >= num_irqs || hdr->start + hdr->count > num_irqs)
		return -EINVAL;

	switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		return 0;
	case VFIO_IRQ_SET_DATA_BOOL:
		elem = sizeof(u8);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		elem = sizeof(s32);
		break;
	default:
		return -EINVAL;
	}

	if (hdr->argsz - minsz < hdr->count * elem || !data_size)
		return -EINVAL;
	*data_size = hdr->count * elem;
	return 0;
}
EXPORT_SYMBOL(vfio_set_irqs_validate_and_prepare);

/* --- module ------------------------------------------------------------- */

static int __init vfio_init(void)
{
	int ret;

	ret = vfio_virqfd_init();
	if (ret)
		return ret;
	ret = vfio_group_init();
	if (ret)
		goto exit_virqfd;

	vfio_device_class = class_create("vfio-dev");
	if (IS_ERR(vfio_device_class)) {
		ret = PTR_ERR(vfio_device_class);
		goto cleanup_group;
	}
	ret = vfio_cdev_init(vfio_device_class);
	if (ret)
		goto destroy_class;
	vfio_debugfs_create_root();
	pr_info(DRIVER_DESC "\n");
	return 0;

destroy_class:
	class_destroy(vfio_device_class);
cleanup_group:
	vfio_group_cleanup();
exit_virqfd:
	vfio_virqfd_exit();
	return ret;
}

static void __exit vfio_cleanup(void)
{
	vfio_debugfs_remove_root();
	ida_destroy(&vfio_device_ida);
	vfio_cdev_cleanup();
	class_destroy(vfio_device_class);
	vfio_group_cleanup();
	vfio_virqfd_exit();
	xa_destroy(&vfio_device_sets);
}

module_init(vfio_init);
module_exit(vfio_cleanup);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION(DRIVER_DESC);
MODULE_SOFTDEP("post: vfio_iommu_type1");
