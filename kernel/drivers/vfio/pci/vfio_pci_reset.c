// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO PCI: hot reset, the reset of a whole slot or bus.
 *
 * A hot reset affects every function below the slot (or on the bus and
 * below it), so the user must prove it owns them all: it passes the fds
 * of groups that hold every member of the device's set, and every
 * function the reset reaches must be a member of the set, bound to a
 * vfio-pci driver (which keeps host drivers off it while the user holds
 * its group).
 */

#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vfio_pci_priv.h"

/* A walk over the functions a hot reset of @pdev reaches. */
struct vfio_pci_reset_walk {
	struct pci_dev *pdev;
	bool slot;
	int (*fn)(struct pci_dev *pdev, void *data);
	void *data;
	int ret;
};

/* Is @pdev below @slot, that is on its bus in it, or under a bridge in it? */
static bool vfio_pci_dev_below_slot(struct pci_dev *pdev, struct pci_slot *slot)
{
	while (pdev) {
		if (pdev->bus == slot->bus)
			return pdev->slot == slot;
		pdev = pdev->bus->self;
	}
	return false;
}

static int vfio_pci_reset_walk_one(struct pci_dev *pdev, void *data)
{
	struct vfio_pci_reset_walk *walk = data;

	if (walk->slot && !vfio_pci_dev_below_slot(pdev, walk->pdev->slot))
		return 0;
	walk->ret = walk->fn(pdev, walk->data);
	return walk->ret;
}

/*
 * Call @fn(function, @data) on every function a slot (@slot) or bus
 * reset of @pdev reaches, until it returns nonzero; return that, or 0.
 */
static int vfio_pci_walk_affected(struct pci_dev *pdev, bool slot,
				  int (*fn)(struct pci_dev *pdev, void *data),
				  void *data)
{
	struct vfio_pci_reset_walk walk = {
		.pdev = pdev,
		.slot = slot,
		.fn = fn,
		.data = data,
	};

	pci_walk_bus(pdev->bus, vfio_pci_reset_walk_one, &walk);
	return walk.ret;
}

/* Which reset: a slot reset (*@slot) if it works, else a bus reset. */
static int vfio_pci_hot_reset_kind(struct pci_dev *pdev, bool *slot)
{
	*slot = !pci_probe_reset_slot(pdev->slot);
	if (!*slot && pci_probe_reset_bus(pdev->bus))
		return -ENODEV;
	return 0;
}

static int vfio_pci_count_devs(struct pci_dev *pdev, void *data)
{
	(*(u32 *)data)++;
	return 0;
}

struct vfio_pci_fill_info {
	struct vfio_pci_dependent_device *devices;
	u32 max;
	u32 count;
	struct vfio_device *vdev;
	u32 flags;
};

/*
 * For a device opened through its cdev, a reached function is named by
 * its device id in the caller's iommufd context: its own id when bound
 * there, OWNED when the context owns its group through another device,
 * else NOT_OWNED, which clears DEV_ID_OWNED from the answer.
 */
static void vfio_pci_fill_devid(struct vfio_pci_fill_info *fill,
				struct pci_dev *pdev,
				struct vfio_pci_dependent_device *dep)
{
	struct iommufd_ctx *ictx = vfio_iommufd_device_ictx(fill->vdev);
	struct vfio_device *member;
	int id;

	member = vfio_find_device_in_devset(fill->vdev->dev_set, &pdev->dev);
	id = member ? vfio_iommufd_get_dev_id(member, ictx) : -ENODEV;
	if (id > 0)
		dep->devid = id;
	else if (id == -ENOENT)
		dep->devid = VFIO_PCI_DEVID_OWNED;
	else
		dep->devid = VFIO_PCI_DEVID_NOT_OWNED;
	if (dep->devid == VFIO_PCI_DEVID_NOT_OWNED)
		fill->flags &= ~VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
}

static int vfio_pci_fill_devs(struct pci_dev *pdev, void *data)
{
	struct vfio_pci_fill_info *fill = data;
	struct vfio_pci_dependent_device *dep;
	struct iommu_group *group;

	/* More functions than counted: hotplug in between. */
	if (fill->count >= fill->max)
		return -EAGAIN;

	if (fill->flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID) {
		dep = &fill->devices[fill->count++];
		dep->segment = pci_domain_nr(pdev->bus);
		dep->bus = pdev->bus->number;
		dep->devfn = pdev->devfn;
		vfio_pci_fill_devid(fill, pdev, dep);
		return 0;
	}

	/* A function outside any group is not isolated: no reset for it. */
	group = iommu_group_get(&pdev->dev);
	if (!group)
		return -EPERM;

	dep = &fill->devices[fill->count++];
	dep->group_id = iommu_group_id(group);
	dep->segment = pci_domain_nr(pdev->bus);
	dep->bus = pdev->bus->number;
	dep->devfn = pdev->devfn;
	iommu_group_put(group);
	return 0;
}

/**
 * vfio_pci_ioctl_hot_reset_info - VFIO_DEVICE_GET_PCI_HOT_RESET_INFO
 * @vdev: the device, open
 * @arg: the user's struct vfio_pci_hot_reset_info
 *
 * Lists the functions a hot reset of @vdev would reach, with their
 * groups; for a device opened through its cdev, with their device ids in
 * its iommufd context instead (flag DEV_ID, and DEV_ID_OWNED when the
 * context owns them all). When the user's array is too small, only the
 * header is written back, with the count needed.
 *
 * Return: 0; -ENOSPC with the count; -ENODEV when neither the slot nor
 * the bus can be reset; -EPERM when a reached function has no group;
 * -EINVAL or -EFAULT for a bad argument.
 */
int vfio_pci_ioctl_hot_reset_info(struct vfio_pci_core_device *vdev,
				  struct vfio_pci_hot_reset_info __user *arg)
{
	size_t minsz = offsetofend(struct vfio_pci_hot_reset_info, count);
	struct vfio_pci_hot_reset_info hdr;
	struct vfio_pci_fill_info fill = { };
	u32 count = 0;
	bool slot;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;
	hdr.flags = 0;

	ret = vfio_pci_hot_reset_kind(vdev->pdev, &slot);
	if (ret)
		return ret;
	vfio_pci_walk_affected(vdev->pdev, slot, vfio_pci_count_devs, &count);
	if (WARN_ON(!count))
		return -ERANGE;	/* the device itself is always there */

	if (count > (hdr.argsz - minsz) / sizeof(*fill.devices)) {
		hdr.count = count;
		if (copy_to_user(arg, &hdr, minsz))
			return -EFAULT;
		return -ENOSPC;
	}

	fill.devices = kcalloc(count, sizeof(*fill.devices), GFP_KERNEL);
	if (!fill.devices)
		return -ENOMEM;
	fill.max = count;
	fill.vdev = &vdev->vdev;
	if (vfio_device_cdev_opened(&vdev->vdev))
		fill.flags = VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
			     VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;

	mutex_lock(&vdev->vdev.dev_set->lock);
	ret = vfio_pci_walk_affected(vdev->pdev, slot, vfio_pci_fill_devs,
				     &fill);
	mutex_unlock(&vdev->vdev.dev_set->lock);
	if (ret)
		goto out_free_devices;

	hdr.count = fill.count;
	hdr.flags = fill.flags;
	if (copy_to_user(arg->devices, fill.devices,
			 fill.count * sizeof(*fill.devices)) ||
	    copy_to_user(arg, &hdr, minsz))
		ret = -EFAULT;
out_free_devices:
	kfree(fill.devices);
	return ret;
}

static int vfio_pci_in_dev_set(struct pci_dev *pdev, void *data)
{
	struct vfio_device_set *dev_set = data;

	return vfio_find_device_in_devset(dev_set, &pdev->dev) ? 0 : -ENODEV;
}

/* Is @vdev in one of the @nr groups of @files? */
static bool vfio_pci_dev_in_groups(struct vfio_device *vdev,
				   struct file **files, u32 nr)
{
	u32 i;

	for (i = 0; i < nr; i++)
		if (vfio_file_has_dev(files[i], vdev))
			return true;
	return false;
}

static struct vfio_pci_core_device *to_vfio_pci_core(struct vfio_device *vdev)
{
	return container_of(vdev, struct vfio_pci_core_device, vdev);
}

/*
 * Does the user own @vdev: is it in one of the groups of @files or, with
 * @ictx (a cdev user, who passed no files), bound to @ictx or in a group
 * @ictx owns through another device?
 */
static bool vfio_pci_dev_owned(struct vfio_device *vdev, struct file **files,
			       u32 nr, struct iommufd_ctx *ictx)
{
	int id;

	if (!ictx)
		return vfio_pci_dev_in_groups(vdev, files, nr);
	id = vfio_iommufd_get_dev_id(vdev, ictx);
	return id > 0 || id == -ENOENT;
}

/*
 * Wake every member of the set for a bus reset (idle ones are runtime
 * suspended, and a reset needs D0); vfio_pci_dev_set_pm_put() undoes it.
 */
static int vfio_pci_dev_set_pm_get(struct vfio_device_set *dev_set)
{
	struct vfio_device *cur;
	int ret;

	list_for_each_entry(cur, &dev_set->device_list, dev_set_list) {
		ret = pm_runtime_resume_and_get(&to_vfio_pci_core(cur)->pdev->dev);
		if (ret)
			goto put;
	}
	return 0;

put:
	list_for_each_entry_continue_reverse(cur, &dev_set->device_list,
					     dev_set_list)
		pm_runtime_put(&to_vfio_pci_core(cur)->pdev->dev);
	return ret;
}

static void vfio_pci_dev_set_pm_put(struct vfio_device_set *dev_set)
{
	struct vfio_device *cur;

	list_for_each_entry(cur, &dev_set->device_list, dev_set_list)
		pm_runtime_put(&to_vfio_pci_core(cur)->pdev->dev);
}

/*
 * Reset the slot or bus of @vdev, for a user holding the groups of
 * @files, or the iommufd context @ictx. Every function the reset reaches
 * must be in the device set, every member of the set owned by the user;
 * the members' BARs are unmapped and kept from user access while the
 * reset runs.
 */
static int vfio_pci_dev_set_hot_reset(struct vfio_pci_core_device *vdev,
				      bool slot, struct file **files,
				      u32 nr_files, struct iommufd_ctx *ictx)
{
	struct vfio_device_set *dev_set = vdev->vdev.dev_set;
	struct vfio_device *cur, *locked = NULL;
	int ret = 0;

	mutex_lock(&dev_set->lock);

	if (vfio_pci_walk_affected(vdev->pdev, slot, vfio_pci_in_dev_set,
				   dev_set)) {
		ret = -EINVAL;
		goto out_unlock_set;
	}

	/*
	 * Wake every member before taking memory_locks: a runtime resume
	 * takes the member's memory_lock itself.
	 */
	ret = vfio_pci_dev_set_pm_get(dev_set);
	if (ret)
		goto out_unlock_set;

	list_for_each_entry(cur, &dev_set->device_list, dev_set_list) {
		if (!vfio_pci_dev_owned(cur, files, nr_files, ictx)) {
			ret = -EINVAL;
			break;
		}
		/*
		 * Several memory_locks at once: a trylock, so that nothing
		 * can deadlock against them; the user may try again.
		 */
		if (!down_write_trylock(&to_vfio_pci_core(cur)->memory_lock)) {
			ret = -EBUSY;
			break;
		}
		vfio_pci_zap_bars(to_vfio_pci_core(cur));
		locked = cur;
	}
	if (ret)
		goto out_unlock_memory;

	/* A reset needs D0; functions that lose their state get it back. */
	list_for_each_entry(cur, &dev_set->device_list, dev_set_list)
		vfio_pci_set_power_state(to_vfio_pci_core(cur), PCI_D0);

	/* The slot when it can be reset, else the bus; never waits. */
	ret = pci_reset_bus(vdev->pdev);

out_unlock_memory:
	/* Release the memory_locks taken, up to and including @locked. */
	if (locked) {
		list_for_each_entry(cur, &dev_set->device_list, dev_set_list) {
			up_write(&to_vfio_pci_core(cur)->memory_lock);
			if (cur == locked)
				break;
		}
	}
	vfio_pci_dev_set_pm_put(dev_set);
out_unlock_set:
	mutex_unlock(&dev_set->lock);
	return ret;
}

/**
 * vfio_pci_ioctl_hot_reset - VFIO_DEVICE_PCI_HOT_RESET
 * @vdev: the device, open
 * @arg: the user's struct vfio_pci_hot_reset, with the group fds that
 *       prove it owns every function the reset reaches; for a device
 *       opened through its cdev, with none: its iommufd context must own
 *       them all
 *
 * Return: 0 or -errno: -EINVAL for bad arguments, more fds than affected
 * functions, an fd that is not a VFIO group, or a function the groups do
 * not cover; -EBADF for a closed fd; -EBUSY when a member's BARs are in
 * use; -ENODEV when neither the slot nor the bus can be reset.
 */
int vfio_pci_ioctl_hot_reset(struct vfio_pci_core_device *vdev,
			     struct vfio_pci_hot_reset __user *arg)
{
	size_t minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct iommufd_ctx *ictx = vfio_iommufd_device_ictx(&vdev->vdev);
	struct vfio_pci_hot_reset hdr;
	struct file **files;
	u32 count = 0, i, nr = 0;
	s32 *fds;
	bool slot;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.flags)
		return -EINVAL;
	/* Group fds prove ownership on the group path, and only there. */
	if (!!hdr.count == vfio_device_cdev_opened(&vdev->vdev))
		return -EINVAL;

	ret = vfio_pci_hot_reset_kind(vdev->pdev, &slot);
	if (ret)
		return ret;
	if (!hdr.count)
		return vfio_pci_dev_set_hot_reset(vdev, slot, NULL, 0, ictx);
	/* At most one group per affected function. */
	vfio_pci_walk_affected(vdev->pdev, slot, vfio_pci_count_devs, &count);
	if (hdr.count > count)
		return -EINVAL;

	fds = memdup_array_user(arg->group_fds, hdr.count, sizeof(*fds));
	if (IS_ERR(fds))
		return PTR_ERR(fds);
	files = kcalloc(hdr.count, sizeof(*files), GFP_KERNEL);
	if (!files) {
		ret = -ENOMEM;
		goto out_free_fds;
	}

	/* Hold the groups, so they stay what they are, across the reset. */
	for (nr = 0; nr < hdr.count; nr++) {
		files[nr] = fget(fds[nr]);
		if (!files[nr]) {
			ret = -EBADF;
			goto out_put_files;
		}
		if (!vfio_file_is_group(files[nr])) {
			fput(files[nr]);
			ret = -EINVAL;
			goto out_put_files;
		}
	}

	ret = vfio_pci_dev_set_hot_reset(vdev, slot, files, nr, NULL);

out_put_files:
	for (i = 0; i < nr; i++)
		fput(files[i]);
	kfree(files);
out_free_fds:
	kfree(fds);
	return ret;
}

/**
 * vfio_pci_dev_set_try_reset - reset the slot or bus of a released set
 * @vdev: the device, at the end of its last close
 *
 * A function without a reset of its own is left dirty (needs_reset) by
 * its user. When the last user of the device set is gone and a member is
 * dirty, reset the slot or bus they share, provided every function it
 * reaches is a member. Best effort: nothing is reported.
 *
 * Context: under the device set's lock.
 */
void vfio_pci_dev_set_try_reset(struct vfio_pci_core_device *vdev)
{
	struct vfio_device_set *dev_set = vdev->vdev.dev_set;
	struct vfio_device *cur;
	bool dirty = false;
	bool slot;

	lockdep_assert_held(&dev_set->lock);

	/*
	 * Whether or not the core still counts the device being closed,
	 * no other member may be open.
	 */
	if (vfio_device_set_open_count(dev_set) > vdev->vdev.open_count)
		return;
	list_for_each_entry(cur, &dev_set->device_list, dev_set_list)
		dirty |= to_vfio_pci_core(cur)->needs_reset;
	if (!dirty)
		return;

	if (vfio_pci_hot_reset_kind(vdev->pdev, &slot) ||
	    vfio_pci_walk_affected(vdev->pdev, slot, vfio_pci_in_dev_set,
				   dev_set))
		return;
	if (vfio_pci_dev_set_pm_get(dev_set))
		return;
	if (!pci_reset_bus(vdev->pdev))
		list_for_each_entry(cur, &dev_set->device_list, dev_set_list)
			to_vfio_pci_core(cur)->needs_reset = false;
	vfio_pci_dev_set_pm_put(dev_set);
}
