// SPDX-License-Identifier: GPL-2.0-only
/*
 * Runtime power management of vfio-pci functions.
 *
 * A function bound to vfio-pci that no user has open holds no runtime PM
 * reference, so the PM core suspends it and the PCI core moves it to
 * D3hot (unless disable_idle_d3). Opening takes a reference, which wakes
 * it; the last close gives it back.
 *
 * A user may also let an open function suspend: the LOW_POWER_ENTRY
 * device features drop the open's reference (pm_runtime_engaged). While
 * engaged the BAR mappings are revoked (faults raise SIGBUS); a read or
 * write of a region wakes the function for the access only, unless the
 * user gave a wakeup eventfd, in which case any wakeup signals it and
 * ends the low-power state; LOW_POWER_EXIT and the last close end it too.
 *
 * pm_runtime_engaged and pm_wake_eventfd_ctx change under memory_lock
 * held for writing (pm_runtime_engaged with WRITE_ONCE(): read() and
 * write() glance at it unlocked to choose their path).
 */
#include <linux/eventfd.h>
#include <linux/pm_runtime.h>

#include "vfio_pci_priv.h"

/* A suspending function is left in D0: the PCI core picks its D-state. */
static int vfio_pci_core_runtime_suspend(struct device *dev)
{
	struct vfio_pci_core_device *vdev = dev_get_drvdata(dev);

	down_write(&vdev->memory_lock);
	vfio_pci_set_power_state(vdev, PCI_D0);
	up_write(&vdev->memory_lock);

	/* A level-triggered INTx must not fire on a function going to D3. */
	vdev->pm_intx_masked = vdev->irq_type == VFIO_PCI_INTX_IRQ_INDEX &&
			       vfio_pci_intx_mask(vdev);
	return 0;
}

static void vfio_pci_pm_disengage(struct vfio_pci_core_device *vdev)
{
	lockdep_assert_held_write(&vdev->memory_lock);
	if (!vdev->pm_runtime_engaged)
		return;
	WRITE_ONCE(vdev->pm_runtime_engaged, false);
	pm_runtime_get_noresume(&vdev->pdev->dev);
	if (vdev->pm_wake_eventfd_ctx) {
		eventfd_ctx_put(vdev->pm_wake_eventfd_ctx);
		vdev->pm_wake_eventfd_ctx = NULL;
	}
}

static int vfio_pci_core_runtime_resume(struct device *dev)
{
	struct vfio_pci_core_device *vdev = dev_get_drvdata(dev);

	down_write(&vdev->memory_lock);
	/* The user asked to hear of a wakeup: tell it, and stay awake. */
	if (vdev->pm_wake_eventfd_ctx) {
		eventfd_signal(vdev->pm_wake_eventfd_ctx);
		vfio_pci_pm_disengage(vdev);
	}
	up_write(&vdev->memory_lock);

	if (vdev->pm_intx_masked)
		vfio_pci_intx_unmask(vdev);
	return 0;
}

static const struct dev_pm_ops vfio_pci_core_pm_ops = {
	RUNTIME_PM_OPS(vfio_pci_core_runtime_suspend,
		       vfio_pci_core_runtime_resume, NULL)
};

/**
 * vfio_pci_pm_register - let a newly bound function suspend while idle
 * @vdev: the device, being registered; its function is in D0
 *
 * The PCI core probed it holding a runtime PM reference and with runtime
 * PM forbidden; allow it and, unless disable_idle_d3, give the reference
 * back.
 */
void vfio_pci_pm_register(struct vfio_pci_core_device *vdev)
{
	struct device *dev = &vdev->pdev->dev;

	dev->driver->pm = &vfio_pci_core_pm_ops;
	pm_runtime_allow(dev);
	if (!vdev->disable_idle_d3)
		pm_runtime_put(dev);
}

/**
 * vfio_pci_pm_unregister - undo vfio_pci_pm_register()
 * @vdev: the device, unregistered; no user holds it
 */
void vfio_pci_pm_unregister(struct vfio_pci_core_device *vdev)
{
	struct device *dev = &vdev->pdev->dev;

	if (!vdev->disable_idle_d3)
		pm_runtime_get_noresume(dev);
	pm_runtime_forbid(dev);
}

/**
 * vfio_pci_pm_get - wake the function for the open and keep it awake
 * @vdev: the device, being opened
 *
 * Return: 0 or -errno from the runtime resume.
 */
int vfio_pci_pm_get(struct vfio_pci_core_device *vdev)
{
	int ret;

	if (vdev->disable_idle_d3)
		return 0;
	ret = pm_runtime_resume_and_get(&vdev->pdev->dev);
	return ret < 0 ? ret : 0;
}

/**
 * vfio_pci_pm_put - undo vfio_pci_pm_get() at the last close
 * @vdev: the device
 */
void vfio_pci_pm_put(struct vfio_pci_core_device *vdev)
{
	if (!vdev->disable_idle_d3)
		pm_runtime_put(&vdev->pdev->dev);
}

/**
 * vfio_pci_pm_exit - end a user's low-power state and wake the function
 * @vdev: the device, being closed or reset
 */
void vfio_pci_pm_exit(struct vfio_pci_core_device *vdev)
{
	down_write(&vdev->memory_lock);
	vfio_pci_pm_disengage(vdev);
	up_write(&vdev->memory_lock);
	pm_runtime_resume(&vdev->pdev->dev);
}

static int vfio_pci_pm_engage(struct vfio_pci_core_device *vdev,
			      struct eventfd_ctx *wake)
{
	vfio_pci_zap_and_lock(vdev);
	if (vdev->pm_runtime_engaged) {
		up_write(&vdev->memory_lock);
		return -EINVAL;
	}
	WRITE_ONCE(vdev->pm_runtime_engaged, true);
	vdev->pm_wake_eventfd_ctx = wake;
	/* The open's reference; suspending waits for the next idle check. */
	pm_runtime_put_noidle(&vdev->pdev->dev);
	up_write(&vdev->memory_lock);
	return 0;
}

/**
 * vfio_pci_feature_low_power_entry - VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY
 * @vdev: the device, open
 * @flags: the request's flags; SET only
 * @argsz: the data's size; none is needed
 *
 * Return: 0 (also for a PROBE), or -EINVAL when already in low power or
 * for a GET.
 */
int vfio_pci_feature_low_power_entry(struct vfio_pci_core_device *vdev,
				     u32 flags, size_t argsz)
{
	int ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);

	if (ret != 1)
		return ret;
	return vfio_pci_pm_engage(vdev, NULL);
}

/**
 * vfio_pci_feature_low_power_entry_with_wakeup -
 *	VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP
 * @vdev: the device, open
 * @flags: the request's flags; SET only
 * @arg: the user's struct vfio_device_low_power_entry_with_wakeup
 * @argsz: its size
 *
 * Return: 0 or -errno: -EINVAL for a negative or non-eventfd fd (-EBADF
 * for a closed one) or when already in low power.
 */
int vfio_pci_feature_low_power_entry_with_wakeup(struct vfio_pci_core_device *vdev,
						 u32 flags, void __user *arg,
						 size_t argsz)
{
	struct vfio_device_low_power_entry_with_wakeup entry;
	struct eventfd_ctx *wake;
	int ret;

	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET,
				 sizeof(entry));
	if (ret != 1)
		return ret;
	if (copy_from_user(&entry, arg, sizeof(entry)))
		return -EFAULT;
	if (entry.wakeup_eventfd < 0)
		return -EINVAL;
	wake = eventfd_ctx_fdget(entry.wakeup_eventfd);
	if (IS_ERR(wake))
		return PTR_ERR(wake);
	ret = vfio_pci_pm_engage(vdev, wake);
	if (ret)
		eventfd_ctx_put(wake);
	return ret;
}

/**
 * vfio_pci_feature_low_power_exit - VFIO_DEVICE_FEATURE_LOW_POWER_EXIT
 * @vdev: the device, open
 * @flags: the request's flags; SET only
 * @argsz: the data's size; none is needed
 *
 * Leaving a low-power state the device is not in is not an error.
 *
 * Return: 0, or -EINVAL for a GET.
 */
int vfio_pci_feature_low_power_exit(struct vfio_pci_core_device *vdev,
				    u32 flags, size_t argsz)
{
	int ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);

	if (ret != 1)
		return ret;
	down_write(&vdev->memory_lock);
	vfio_pci_pm_disengage(vdev);
	up_write(&vdev->memory_lock);
	return 0;
}
