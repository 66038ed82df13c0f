// SPDX-License-Identifier: GPL-2.0-only
/*
 * SR-IOV through vfio-pci, and the VF token that guards it.
 *
 * A PF bound to a VFIO driver is driven by a user, and its VFs depend on
 * that user (the PF driver sets up their resources). Whoever opens a VF
 * must therefore show the PF user's shared secret, the VF token: a UUID
 * the PF's user sets (VFIO_DEVICE_FEATURE_PCI_VF_TOKEN) and every VF user
 * appends to the name given to VFIO_GROUP_GET_DEVICE_FD
 * ("0000:01:00.1 vf_token=<uuid>"). While one of its VFs is open, the
 * PF itself opens only with the token too.
 *
 * VFs are created through sysfs (sriov_numvfs) when the driver allows
 * it (vfio-pci's enable_sriov). VFs created so get the PF's driver as
 * their driver_override.
 */
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/uuid.h>

#include "vfio_pci_priv.h"

/**
 * struct vfio_pci_vf_token - a PF's VF token
 * @lock: protects @uuid and @users
 * @uuid: the token
 * @users: open VFs of the PF
 */
struct vfio_pci_vf_token {
	struct mutex lock;	/* protects uuid and users */
	uuid_t uuid;
	int users;
};

/* PFs that enabled SR-IOV through us, linked by sriov_pfs_item. */
static DEFINE_MUTEX(vfio_pci_sriov_pfs_mutex);
static LIST_HEAD(vfio_pci_sriov_pfs);

/* Give VFs of our PF our driver: the PF's user is who they belong to. */
static int vfio_pci_bus_notifier(struct notifier_block *nb,
				 unsigned long action, void *data)
{
	struct vfio_pci_core_device *vdev =
		container_of(nb, struct vfio_pci_core_device, nb);
	struct pci_dev *pdev = to_pci_dev(data);
	struct pci_driver *drv;

	if (!pdev->is_virtfn || pci_physfn(pdev) != vdev->pdev)
		return 0;
	if (action == BUS_NOTIFY_ADD_DEVICE) {
		pci_info(vdev->pdev, "Captured SR-IOV VF %s driver_override\n",
			 pci_name(pdev));
		WARN_ON(device_set_driver_override(&pdev->dev,
						   vdev->vdev.ops->name));
	} else if (action == BUS_NOTIFY_BOUND_DRIVER) {
		drv = pci_dev_driver(pdev);
		if (drv && drv != pci_dev_driver(vdev->pdev))
			pci_warn(vdev->pdev, "VF %s bound to driver %s while PF bound to driver %s\n",
				 pci_name(pdev), drv->name,
				 pci_dev_driver(vdev->pdev)->name);
	}
	return 0;
}

/**
 * vfio_pci_vf_init - SR-IOV state of a registering function
 * @vdev: the device
 *
 * A VF finds its PF if SR-IOV was enabled through us; a PF gets a VF
 * token (a random one until its user sets its own) and watches for its
 * VFs appearing.
 *
 * Return: 0 or -errno.
 */
int vfio_pci_vf_init(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_pci_core_device *cur;
	int ret;

	if (pdev->is_virtfn) {
		mutex_lock(&vfio_pci_sriov_pfs_mutex);
		list_for_each_entry(cur, &vfio_pci_sriov_pfs, sriov_pfs_item) {
			if (cur->pdev == pci_physfn(pdev)) {
				vdev->sriov_pf_core_dev = cur;
				break;
			}
		}
		mutex_unlock(&vfio_pci_sriov_pfs_mutex);
		return 0;
	}
	if (!pdev->is_physfn)
		return 0;

	vdev->vf_token = kzalloc(sizeof(*vdev->vf_token), GFP_KERNEL);
	if (!vdev->vf_token)
		return -ENOMEM;
	mutex_init(&vdev->vf_token->lock);
	uuid_gen(&vdev->vf_token->uuid);
	vdev->nb.notifier_call = vfio_pci_bus_notifier;
	ret = bus_register_notifier(&pci_bus_type, &vdev->nb);
	if (ret) {
		kfree(vdev->vf_token);
		vdev->vf_token = NULL;
	}
	return ret;
}

/**
 * vfio_pci_vf_uninit - undo vfio_pci_vf_init()
 * @vdev: the device, unregistered
 */
void vfio_pci_vf_uninit(struct vfio_pci_core_device *vdev)
{
	if (!vdev->vf_token)
		return;
	bus_unregister_notifier(&pci_bus_type, &vdev->nb);
	WARN_ON(vdev->vf_token->users);
	mutex_destroy(&vdev->vf_token->lock);
	kfree(vdev->vf_token);
	vdev->vf_token = NULL;
}

/**
 * vfio_pci_vf_token_user - count a VF's open or close on its PF's token
 * @vdev: a function, being opened (@delta 1) or closed (@delta -1)
 * @delta: 1 or -1
 */
void vfio_pci_vf_token_user(struct vfio_pci_core_device *vdev, int delta)
{
	struct vfio_pci_vf_token *token;

	if (!vdev->sriov_pf_core_dev)
		return;
	token = vdev->sriov_pf_core_dev->vf_token;
	mutex_lock(&token->lock);
	WARN_ON(delta < 0 && !token->users);
	token->users += delta;
	mutex_unlock(&token->lock);
}

/**
 * vfio_pci_validate_vf_token - may a user who gave (or not) @uuid open
 *                              @vdev?
 * @vdev: the function
 * @given: the user appended " vf_token=<uuid>" to the name
 * @uuid: the token given
 *
 * A VF of a PF bound to us needs its PF's token; a PF needs its own while
 * one of its VFs is open, and a PF opened with a token when none is
 * needed takes it as its token. A token given for anything else, or for
 * a VF whose PF is not ours, is an error.
 *
 * Return: 0, -EACCES for a missing or wrong token, -EINVAL for a token
 * given where none applies.
 */
int vfio_pci_validate_vf_token(struct vfio_pci_core_device *vdev,
			       bool given, uuid_t *uuid)
{
	struct vfio_pci_core_device *pf = vdev->sriov_pf_core_dev;
	struct vfio_pci_vf_token *token;
	bool ok;

	if (vdev->pdev->is_virtfn) {
		if (!pf) {
			if (!given)
				return 0;
			pci_info_ratelimited(vdev->pdev, "VF token incorrectly provided, PF not bound to vfio-pci\n");
			return -EINVAL;
		}
		if (!given) {
			pci_info_ratelimited(vdev->pdev, "VF token required to access device\n");
			return -EACCES;
		}
		mutex_lock(&pf->vf_token->lock);
		ok = uuid_equal(uuid, &pf->vf_token->uuid);
		mutex_unlock(&pf->vf_token->lock);
		if (!ok) {
			pci_info_ratelimited(vdev->pdev, "Incorrect VF token provided for device\n");
			return -EACCES;
		}
		return 0;
	}

	token = vdev->vf_token;
	if (!token) {
		if (!given)
			return 0;
		pci_info_ratelimited(vdev->pdev, "VF token incorrectly provided, not a PF or VF\n");
		return -EINVAL;
	}
	mutex_lock(&token->lock);
	if (token->users && (!given || !uuid_equal(uuid, &token->uuid))) {
		mutex_unlock(&token->lock);
		pci_info_ratelimited(vdev->pdev, given ?
				     "Incorrect VF token provided for device\n" :
				     "VF token required to access device\n");
		return -EACCES;
	}
	if (!token->users && given)
		uuid_copy(&token->uuid, uuid);
	mutex_unlock(&token->lock);
	return 0;
}

/**
 * vfio_pci_feature_vf_token - VFIO_DEVICE_FEATURE_PCI_VF_TOKEN
 * @vdev: the device, open
 * @flags: the request's flags; SET only (a GET would show the token of
 *         the PF's previous user)
 * @arg: the user's UUID
 * @argsz: its size
 *
 * Return: 0 or -errno; -ENOTTY for a function that is not a PF.
 */
int vfio_pci_feature_vf_token(struct vfio_pci_core_device *vdev, u32 flags,
			      uuid_t __user *arg, size_t argsz)
{
	uuid_t uuid;
	int ret;

	if (!vdev->vf_token)
		return -ENOTTY;
	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET,
				 sizeof(uuid));
	if (ret != 1)
		return ret;
	if (copy_from_user(&uuid, arg, sizeof(uuid)))
		return -EFAULT;
	mutex_lock(&vdev->vf_token->lock);
	uuid_copy(&vdev->vf_token->uuid, &uuid);
	mutex_unlock(&vdev->vf_token->lock);
	return 0;
}

/**
 * vfio_pci_core_sriov_configure - pci_driver.sriov_configure of PCI VFIO
 *                                 drivers
 * @vdev: the PF's device
 * @nr_virtfn: VFs to enable, or 0 to disable them
 *
 * The PF stays awake (D0, runtime PM reference held) while it has VFs.
 *
 * Context: under the PF's device lock (sysfs sriov_numvfs, or removal).
 * Return: @nr_virtfn, 0 for a disable, or -errno: -EINVAL when VFs were
 * enabled already.
 */
int vfio_pci_core_sriov_configure(struct vfio_pci_core_device *vdev,
				  int nr_virtfn)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret = 0;

	device_lock_assert(&pdev->dev);

	if (nr_virtfn) {
		mutex_lock(&vfio_pci_sriov_pfs_mutex);
		/* Whoever adds the PF to the list alone enables SR-IOV. */
		if (!list_empty(&vdev->sriov_pfs_item)) {
			ret = -EINVAL;
			goto out_unlock;
		}
		list_add_tail(&vdev->sriov_pfs_item, &vfio_pci_sriov_pfs);
		mutex_unlock(&vfio_pci_sriov_pfs_mutex);

		/* A PF must not be in a lower power state than its VFs. */
		ret = pm_runtime_resume_and_get(&pdev->dev);
		if (ret)
			goto out_del;
		down_write(&vdev->memory_lock);
		vfio_pci_set_power_state(vdev, PCI_D0);
		vdev->sriov_active = true;
		up_write(&vdev->memory_lock);
		ret = pci_enable_sriov(pdev, nr_virtfn);
		if (ret) {
			pm_runtime_put(&pdev->dev);
			goto out_del;
		}
		return nr_virtfn;
	}

	if (pci_num_vf(pdev)) {
		pci_disable_sriov(pdev);
		pm_runtime_put(&pdev->dev);
	}

out_del:
	/* Unlocked: a racing D-state change can at worst see -EBUSY. */
	vdev->sriov_active = false;
	mutex_lock(&vfio_pci_sriov_pfs_mutex);
	list_del_init(&vdev->sriov_pfs_item);
out_unlock:
	mutex_unlock(&vfio_pci_sriov_pfs_mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_sriov_configure);
