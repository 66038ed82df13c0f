// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO PCI core: the life cycle of a PCI function exposed through VFIO,
 * and the ioctls, read() and write() of its device file.
 */

#include <linux/bitfield.h>
#include <linux/eventfd.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uuid.h>

#include "vfio_pci_priv.h"

/* Set once by the driver's module_init (vfio_pci_core_set_params()). */
static bool nointxmask;
static bool disable_vga;
static bool disable_idle_d3;

/**
 * vfio_pci_core_set_params - module parameters of the driver in charge
 * @is_nointxmask: never use PCI 2.3 INTx masking
 * @is_disable_vga: do not expose VGA ranges
 * @is_disable_idle_d3: do not put idle devices into D3
 */
void vfio_pci_core_set_params(bool is_nointxmask, bool is_disable_vga,
			      bool is_disable_idle_d3)
{
	nointxmask = is_nointxmask;
	disable_vga = is_disable_vga;
	disable_idle_d3 = is_disable_idle_d3;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_set_params);

/**
 * vfio_pci_vga_disabled - is VGA access off (vfio-pci's disable_vga)?
 *
 * Return: true when the VGA region is not offered.
 */
bool vfio_pci_vga_disabled(void)
{
	return !IS_ENABLED(CONFIG_VFIO_PCI_VGA) || disable_vga;
}

/* Functions whose INTx is known not to work: it is hidden from users. */
static bool vfio_pci_intx_broken(struct pci_dev *pdev)
{
	if (pdev->vendor != PCI_VENDOR_ID_INTEL)
		return false;
	switch (pdev->device) {
	case 0x1572:			/* i40e family */
	case 0x1574:
	case 0x1580 ... 0x1581:
	case 0x1583 ... 0x158b:
	case 0x37d0 ... 0x37d2:
	case 0x1563:			/* X550 */
		return true;
	default:
		return false;
	}
}

/**
 * vfio_pci_set_power_state - move the function to another D-state
 * @vdev: the device
 * @state: the new state
 *
 * Functions that lose their state in D3hot get it saved on the way in
 * and restored on the way back to D0.
 *
 * Context: going below D0, the caller holds @vdev->memory_lock for
 * writing, so that no BAR access races with the transition.
 * Return: 0 or -errno from pci_set_power_state().
 */
int vfio_pci_set_power_state(struct vfio_pci_core_device *vdev,
			     pci_power_t state)
{
	bool to_d3 = vfio_pci_d_level(state) >= vfio_pci_d_level(PCI_D3hot);
	bool into_d3 = false, out_of_d3 = false;
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	if (state != PCI_D0) {
		lockdep_assert_held_write(&vdev->memory_lock);
		/* A PF with VFs stays in D0: they depend on it. */
		if (vdev->sriov_active)
			return -EBUSY;
	}

	if (vdev->needs_pm_restore) {
		if (!vfio_pci_in_d3(pdev) && to_d3) {
			pci_save_state(pdev);
			into_d3 = true;
		}
		if (vfio_pci_in_d3(pdev) && state == PCI_D0)
			out_of_d3 = true;
	}

	ret = pci_set_power_state(pdev, state);
	if (ret)
		return ret;

	/* A quirk can leave the function out of D3: then nothing to keep. */
	if (into_d3 && vfio_pci_in_d3(pdev)) {
		kfree(vdev->pm_save);
		vdev->pm_save = pci_store_saved_state(pdev);
	} else if (out_of_d3) {
		pci_load_and_free_saved_state(pdev, &vdev->pm_save);
		pci_restore_state(pdev);
	}
	return 0;
}

/**
 * vfio_pci_core_init_dev - vfio_device_ops.init of PCI VFIO drivers
 * @core_vdev: the device just allocated, embedded in a
 *             struct vfio_pci_core_device
 *
 * Return: 0.
 */
int vfio_pci_core_init_dev(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev =
		container_of(core_vdev, struct vfio_pci_core_device, vdev);

	vdev->pdev = to_pci_dev(core_vdev->dev);
	vdev->irq_type = VFIO_PCI_NUM_IRQS;
	vdev->msix_bar = 0xff;
	vdev->disable_idle_d3 = disable_idle_d3;
	INIT_LIST_HEAD(&vdev->sriov_pfs_item);
	mutex_init(&vdev->config_lock);
	init_rwsem(&vdev->memory_lock);
	mutex_init(&vdev->igate);
	spin_lock_init(&vdev->irqlock);
	vfio_pci_ioeventfd_init(vdev);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_init_dev);

/**
 * vfio_pci_core_release_dev - vfio_device_ops.release of PCI VFIO drivers
 * @core_vdev: the device, after its last reference is gone
 */
void vfio_pci_core_release_dev(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev =
		container_of(core_vdev, struct vfio_pci_core_device, vdev);

	mutex_destroy(&vdev->config_lock);
	mutex_destroy(&vdev->igate);
	mutex_destroy(&vdev->ioeventfds_lock);
	kfree(vdev->pm_save);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_release_dev);

/**
 * vfio_pci_core_register_device - expose a PCI function through VFIO
 * @vdev: the device, from vfio_alloc_device(), already the drvdata of
 *        its PCI device
 *
 * Only normal (type 0 header) functions are accepted, and not a PF with
 * VFs enabled. Functions that reset together share a device set: the
 * function alone on a root bus, its slot when the slot can be reset,
 * otherwise its whole bus.
 *
 * Return: 0 or -errno.
 */
int vfio_pci_core_register_device(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	void *set_id;
	int ret;

	if (WARN_ON(vdev != dev_get_drvdata(&pdev->dev)))
		return -EINVAL;
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL)
		return -EINVAL;
	/* Migration needs all three callbacks and at least STOP_COPY. */
	if (vdev->vdev.mig_ops &&
	    (!vdev->vdev.mig_ops->migration_set_state ||
	     !vdev->vdev.mig_ops->migration_get_state ||
	     !vdev->vdev.mig_ops->migration_get_data_size ||
	     !(vdev->vdev.migration_flags & VFIO_MIGRATION_STOP_COPY)))
		return -EINVAL;
	if (vdev->vdev.log_ops &&
	    (!vdev->vdev.log_ops->log_start ||
	     !vdev->vdev.log_ops->log_stop ||
	     !vdev->vdev.log_ops->log_read_and_clear))
		return -EINVAL;
	if (pci_num_vf(pdev)) {
		pci_warn(pdev, "cannot bind to a PF with SR-IOV enabled\n");
		return -EBUSY;
	}

	if (pci_is_root_bus(pdev->bus) || pdev->is_virtfn)
		set_id = vdev;
	else if (!pci_probe_reset_slot(pdev->slot))
		set_id = pdev->slot;
	else
		set_id = pdev->bus;
	ret = vfio_assign_device_set(&vdev->vdev, set_id);
	if (ret)
		return ret;
	ret = vfio_pci_vf_init(vdev);
	if (ret)
		return ret;
	ret = vfio_pci_vga_init(vdev);
	if (ret)
		goto err_vf_uninit;

	if (pdev->pm_cap) {
		u16 pmcsr;

		pci_read_config_word(pdev, pdev->pm_cap + PCI_PM_CTRL, &pmcsr);
		vdev->needs_pm_restore = !(pmcsr & PCI_PM_CTRL_NO_SOFT_RESET);
	}

	/*
	 * After boot or another driver, the function's power state is
	 * unknown; the only way out of that is to D0.
	 */
	vfio_pci_set_power_state(vdev, PCI_D0);
	vfio_pci_pm_register(vdev);

	ret = vfio_register_group_dev(&vdev->vdev);
	if (ret)
		goto err_pm_unregister;
	return 0;

err_pm_unregister:
	vfio_pci_pm_unregister(vdev);
	vfio_pci_vga_uninit(vdev);
err_vf_uninit:
	vfio_pci_vf_uninit(vdev);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_register_device);

/**
 * vfio_pci_core_unregister_device - undo vfio_pci_core_register_device()
 * @vdev: the device; returns once no user holds it
 */
void vfio_pci_core_unregister_device(struct vfio_pci_core_device *vdev)
{
	vfio_pci_core_sriov_configure(vdev, 0);
	vfio_unregister_group_dev(&vdev->vdev);
	vfio_pci_vf_uninit(vdev);
	vfio_pci_vga_uninit(vdev);
	vfio_pci_pm_unregister(vdev);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_unregister_device);

/**
 * vfio_pci_core_enable - get the function ready for a user
 * @vdev: the device, being opened
 *
 * Enables the function without bus mastering, resets it if it can be
 * (which tells whether VFIO_DEVICE_RESET will work), saves its state for
 * vfio_pci_core_disable() and builds the user's config space.
 *
 * Context: open_device(), under the device set's lock.
 * Return: 0 or -errno.
 */
int vfio_pci_core_enable(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd;
	int ret;

	/* Idle functions are runtime-suspended: wake this one for good. */
	ret = vfio_pci_pm_get(vdev);
	if (ret)
		return ret;

	/* The state saved below must not have bus mastering on. */
	pci_clear_master(pdev);

	ret = pci_enable_device(pdev);
	if (ret)
		goto err_pm_put;

	ret = pci_try_reset_function(pdev);
	if (ret == -EAGAIN)
		goto err_disable_device;	/* the device lock is taken */
	vdev->reset_works = !ret;

	pci_save_state(pdev);
	vdev->pci_saved_state = pci_store_saved_state(pdev);
	if (!vdev->pci_saved_state)
		pci_dbg(pdev, "could not store the saved state\n");

	vdev->nointx = false;
	vdev->pci_2_3 = false;
	if (!nointxmask) {
		if (vfio_pci_intx_broken(pdev)) {
			pci_info(pdev, "masking broken INTx support\n");
			vdev->nointx = true;
			pci_intx(pdev, 0);
		} else {
			vdev->pci_2_3 = pci_intx_mask_supported(pdev);
		}
	}

	/* With INTx masking in our hands, start unmasked. */
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	if (vdev->pci_2_3 && (cmd & PCI_COMMAND_INTX_DISABLE)) {
		cmd &= ~PCI_COMMAND_INTX_DISABLE;
		pci_write_config_word(pdev, PCI_COMMAND, cmd);
	}

	ret = vfio_pci_config_init(vdev);
	if (ret)
		goto err_free_state;

	if (pdev->msix_cap) {
		u16 flags;
		u32 table;

		pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS,
				     &flags);
		pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE,
				      &table);
		vdev->msix_bar = table & PCI_MSIX_TABLE_BIR;
		vdev->msix_offset = table & PCI_MSIX_TABLE_OFFSET;
		vdev->msix_size = ((flags & PCI_MSIX_FLAGS_QSIZE) + 1) *
				  PCI_MSIX_ENTRY_SIZE;
		vdev->has_dyn_msix = pci_msix_can_alloc_dyn(pdev);
	} else {
		vdev->msix_bar = 0xff;
		vdev->has_dyn_msix = false;
	}

	vdev->has_vga = !vfio_pci_vga_disabled() && vfio_pci_is_vga(pdev);
	vdev->msi_qmax = 0;
	vdev->irq_type = VFIO_PCI_NUM_IRQS;
	return 0;

err_free_state:
	kfree(vdev->pci_saved_state);
	vdev->pci_saved_state = NULL;
err_disable_device:
	pci_disable_device(pdev);
err_pm_put:
	vfio_pci_pm_put(vdev);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_enable);

/*
 * Which BARs could be mapped into user space: memory BARs of at least a
 * page. (Smaller ones would need the rest of their page reserved, which
 * is not done yet.)
 */
static void vfio_pci_probe_mmaps(struct vfio_pci_core_device *vdev)
{
	struct resource *res;
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		res = &vdev->pdev->resource[bar];
		vdev->bar_mmap_supported[bar] =
			IS_ENABLED(CONFIG_VFIO_PCI_MMAP) &&
			(res->flags & IORESOURCE_MEM) &&
			resource_size(res) >= PAGE_SIZE;
	}
}

/**
 * vfio_pci_core_finish_enable - the last step of opening a device
 * @vdev: the device, after vfio_pci_core_enable() and any setup of the
 *        driver's own
 */
void vfio_pci_core_finish_enable(struct vfio_pci_core_device *vdev)
{
	vfio_pci_probe_mmaps(vdev);
	vfio_pci_vf_token_user(vdev, 1);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_finish_enable);

/**
 * vfio_pci_core_disable - undo vfio_pci_core_enable()
 * @vdev: the device, being closed
 *
 * Stops DMA, drops the user's ioeventfds, config space and BAR mappings,
 * then puts back the state saved at open, with a function reset in
 * between when the device supports one and its locks can be had without
 * waiting. Without one, the slot or bus is reset once the whole device
 * set is released (vfio_pci_dev_set_try_reset()).
 *
 * Context: close_device(), under the device set's lock.
 */
void vfio_pci_core_disable(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct pci_dev *bridge;

	lockdep_assert_held(&vdev->vdev.dev_set->lock);

	/*
	 * The user may have left it in a low-power state, or in D3hot; a
	 * reset needs D0.
	 */
	vfio_pci_pm_exit(vdev);
	vfio_pci_set_power_state(vdev, PCI_D0);
	pci_clear_master(pdev);

	vfio_pci_irqs_teardown(vdev);
	vdev->virq_disabled = false;
	vfio_pci_ioeventfd_release_all(vdev);
	vfio_pci_config_free(vdev);
	vfio_pci_bar_unmap_all(vdev);

	vdev->needs_reset = true;

	/*
	 * Reload the state from open. Without one, a reset on top of the
	 * current state is still better than nothing; without a reset
	 * either, there is nothing worth doing.
	 */
	if (pci_load_and_free_saved_state(pdev, &vdev->pci_saved_state)) {
		pci_info(pdev, "could not reload the saved state\n");
		if (!vdev->reset_works)
			goto out_disable;
		pci_save_state(pdev);
	}

	/* No interrupts while the function resets. */
	pci_write_config_word(pdev, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE);

	if (vdev->reset_works) {
		bridge = pci_upstream_bridge(pdev);
		if (bridge && !pci_dev_trylock(bridge))
			goto out_restore;
		if (pci_dev_trylock(pdev)) {
			if (!__pci_reset_function_locked(pdev))
				vdev->needs_reset = false;
			pci_dev_unlock(pdev);
		}
		if (bridge)
			pci_dev_unlock(bridge);
	}

out_restore:
	pci_restore_state(pdev);
out_disable:
	pci_disable_device(pdev);

	vfio_pci_dev_set_try_reset(vdev);
	vfio_pci_pm_put(vdev);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_disable);

/**
 * vfio_pci_core_close_device - vfio_device_ops.close_device
 * @core_vdev: the device, on its last close
 */
void vfio_pci_core_close_device(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev =
		container_of(core_vdev, struct vfio_pci_core_device, vdev);

	vfio_pci_vf_token_user(vdev, -1);
	vfio_pci_core_disable(vdev);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_close_device);

/* Report which atomic completions the function can do, if any. */
static int vfio_pci_info_atomic_cap(struct vfio_pci_core_device *vdev,
				    struct vfio_info_cap *caps)
{
	static const u32 sizes[][2] = {
		{ PCI_EXP_DEVCAP2_ATOMIC_COMP32, VFIO_PCI_ATOMIC_COMP32 },
		{ PCI_EXP_DEVCAP2_ATOMIC_COMP64, VFIO_PCI_ATOMIC_COMP64 },
		{ PCI_EXP_DEVCAP2_ATOMIC_COMP128, VFIO_PCI_ATOMIC_COMP128 },
	};
	struct vfio_device_info_cap_pci_atomic_comp cap = {
		.header.id = VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP,
		.header.version = 1,
	};
	struct pci_dev *pdev = pci_physfn(vdev->pdev);
	u32 devcap2 = 0;
	int i;

	pcie_capability_read_dword(pdev, PCI_EXP_DEVCAP2, &devcap2);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		if ((devcap2 & sizes[i][0]) &&
		    !pci_enable_atomic_ops_to_root(pdev, sizes[i][0]))
			cap.flags |= sizes[i][1];
	if (!cap.flags)
		return 0;
	return vfio_info_add_capability(caps, &cap.header, sizeof(cap));
}

/*
 * Finish an INFO ioctl whose structure has a capability chain: the chain
 * follows the structure when the user's buffer holds both; otherwise
 * argsz says how much is needed.
 */
static int vfio_pci_info_put_caps(void __user *arg, size_t info_size,
				  u32 *argsz, u32 *cap_offset,
				  struct vfio_info_cap *caps)
{
	if (*argsz < info_size + caps->size) {
		*argsz = info_size + caps->size;
		*cap_offset = 0;
		return 0;
	}
	vfio_info_cap_shift(caps, info_size);
	if (copy_to_user(arg + info_size, caps->buf, caps->size))
		return -EFAULT;
	*cap_offset = info_size;
	return 0;
}

static int vfio_pci_ioctl_get_info(struct vfio_pci_core_device *vdev,
				   struct vfio_device_info __user *arg)
{
	size_t minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_info_cap caps = { };
	struct vfio_device_info info = { };
	size_t outsz;
	int ret;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	/* Only what the user's argsz covers is written back. */
	outsz = min_t(size_t, info.argsz, sizeof(info));

	info.flags = VFIO_DEVICE_FLAGS_PCI;
	if (vdev->reset_works)
		info.flags |= VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS + vdev->num_regions;
	info.num_irqs = VFIO_PCI_NUM_IRQS;

	ret = vfio_pci_info_atomic_cap(vdev, &caps);
	if (ret)
		goto out_free_caps;
	if (caps.size) {
		info.flags |= VFIO_DEVICE_FLAGS_CAPS;
		ret = vfio_pci_info_put_caps(arg, sizeof(info), &info.argsz,
					     &info.cap_offset, &caps);
		if (ret)
			goto out_free_caps;
	}

	if (copy_to_user(arg, &info, outsz))
		ret = -EFAULT;
out_free_caps:
	kfree(caps.buf);
	return ret;
}

/* Tell the user the MSI-X table's BAR may be mapped whole. */
static int vfio_pci_region_msix_cap(struct vfio_info_cap *caps)
{
	struct vfio_info_cap_header header = {
		.id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
		.version = 1,
	};

	return vfio_info_add_capability(caps, &header, sizeof(header));
}

/* Does the function really have a ROM behind its ROM BAR? */
static bool vfio_pci_rom_readable(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *io;
	u16 cmd, orig;
	size_t size;

	/* Reading the ROM needs memory decode, whatever the user set. */
	down_write(&vdev->memory_lock);
	pci_read_config_word(pdev, PCI_COMMAND, &orig);
	cmd = orig | PCI_COMMAND_MEMORY;
	if (cmd != orig)
		pci_write_config_word(pdev, PCI_COMMAND, cmd);

	io = pci_map_rom(pdev, &size);
	if (io)
		pci_unmap_rom(pdev, io);

	if (cmd != orig)
		pci_write_config_word(pdev, PCI_COMMAND, orig);
	up_write(&vdev->memory_lock);
	return io;
}

static int vfio_pci_ioctl_get_region_info(struct vfio_pci_core_device *vdev,
					  struct vfio_region_info __user *arg)
{
	size_t minsz = offsetofend(struct vfio_region_info, offset);
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_info_cap caps = { };
	struct vfio_region_info info;
	int ret = 0;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	switch (info.index) {
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		info.offset = VFIO_PCI_INDEX_TO_OFFSET(info.index);
		info.size = pci_resource_len(pdev, info.index);
		info.flags = 0;
		if (!info.size)
			break;
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		if (vdev->bar_mmap_supported[info.index]) {
			info.flags |= VFIO_REGION_INFO_FLAG_MMAP;
			if (info.index == vdev->msix_bar)
				ret = vfio_pci_region_msix_cap(&caps);
		}
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		info.offset = VFIO_PCI_INDEX_TO_OFFSET(info.index);
		info.flags = 0;
		/* The size of the BAR, which may exceed the image's. */
		info.size = pci_resource_len(pdev, info.index);
		if (!info.size &&
		    pdev->resource[PCI_ROM_RESOURCE].flags &
		    IORESOURCE_ROM_SHADOW)
			info.size = 0x20000;
		if (!info.size)
			break;
		if (vfio_pci_rom_readable(vdev))
			info.flags = VFIO_REGION_INFO_FLAG_READ;
		else
			info.size = 0;
		break;
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info.offset = VFIO_PCI_INDEX_TO_OFFSET(info.index);
		info.size = pdev->cfg_size;
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		break;
	case VFIO_PCI_VGA_REGION_INDEX:
		if (!vdev->has_vga)
			return -EINVAL;
		/* The region's offsets are the legacy addresses. */
		info.offset = VFIO_PCI_INDEX_TO_OFFSET(info.index);
		info.size = 0xc0000;
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		break;
	default:
		/* Device-specific regions: none. */
		return -EINVAL;
	}
	if (ret)
		goto out_free_caps;

	if (caps.size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		ret = vfio_pci_info_put_caps(arg, sizeof(info), &info.argsz,
					     &info.cap_offset, &caps);
		if (ret)
			goto out_free_caps;
	}

	if (copy_to_user(arg, &info, minsz))
		ret = -EFAULT;
out_free_caps:
	kfree(caps.buf);
	return ret;
}

/* How many interrupts of a kind the function has. */
static u32 vfio_pci_get_irq_count(struct vfio_pci_core_device *vdev, u32 index)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 flags;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return vdev->vconfig[PCI_INTERRUPT_PIN] ? 1 : 0;
	case VFIO_PCI_MSI_IRQ_INDEX:
		if (!pdev->msi_cap)
			return 0;
		pci_read_config_word(pdev, pdev->msi_cap + PCI_MSI_FLAGS,
				     &flags);
		return 1 << FIELD_GET(PCI_MSI_FLAGS_QMASK, flags);
	case VFIO_PCI_MSIX_IRQ_INDEX:
		if (!pdev->msix_cap)
			return 0;
		pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS,
				     &flags);
		return (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
	case VFIO_PCI_ERR_IRQ_INDEX:
		return pci_is_pcie(pdev) ? 1 : 0;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:
		return 0;
	}
}

static int vfio_pci_ioctl_get_irq_info(struct vfio_pci_core_device *vdev,
				       struct vfio_irq_info __user *arg)
{
	size_t minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	/* The error interrupt exists only for PCIe functions. */
	if (info.index == VFIO_PCI_ERR_IRQ_INDEX && !pci_is_pcie(vdev->pdev))
		return -EINVAL;

	info.flags = VFIO_IRQ_INFO_EVENTFD;
	info.count = vfio_pci_get_irq_count(vdev, info.index);
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE |
			      VFIO_IRQ_INFO_AUTOMASKED;
	else if (info.index != VFIO_PCI_MSIX_IRQ_INDEX || !vdev->has_dyn_msix)
		info.flags |= VFIO_IRQ_INFO_NORESIZE;

	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static int vfio_pci_ioctl_set_irqs(struct vfio_pci_core_device *vdev,
				   struct vfio_irq_set __user *arg)
{
	size_t minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	size_t data_size = 0;
	void *data = NULL;
	int max, ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	max = hdr.index < VFIO_PCI_NUM_IRQS ?
	      vfio_pci_get_irq_count(vdev, hdr.index) : 0;
	ret = vfio_set_irqs_validate_and_prepare(&hdr, max, VFIO_PCI_NUM_IRQS,
						 &data_size);
	if (ret)
		return ret;
	if (data_size) {
		data = memdup_user(&arg->data, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}

	mutex_lock(&vdev->igate);
	ret = vfio_pci_set_irqs_ioctl(vdev, hdr.flags, hdr.index, hdr.start,
				      hdr.count, data);
	mutex_unlock(&vdev->igate);
	kfree(data);
	return ret;
}

static int vfio_pci_ioctl_reset(struct vfio_pci_core_device *vdev)
{
	int ret;

	if (!vdev->reset_works)
		return -EINVAL;

	/* No BAR access, nor user mapping, while the function resets. */
	vfio_pci_zap_and_lock(vdev);
	vfio_pci_set_power_state(vdev, PCI_D0);
	ret = pci_try_reset_function(vdev->pdev);
	up_write(&vdev->memory_lock);
	return ret;
}

/**
 * vfio_pci_core_ioctl - vfio_device_ops.ioctl of PCI VFIO drivers
 * @core_vdev: the device, open
 * @cmd: the VFIO_DEVICE_* request
 * @arg: its argument, a user pointer
 *
 * Return: 0 or -errno; -ENOTTY for requests not handled (yet).
 */
long vfio_pci_core_ioctl(struct vfio_device *core_vdev, unsigned int cmd,
			 unsigned long arg)
{
	struct vfio_pci_core_device *vdev =
		container_of(core_vdev, struct vfio_pci_core_device, vdev);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vfio_pci_ioctl_get_info(vdev, uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vfio_pci_ioctl_get_region_info(vdev, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vfio_pci_ioctl_get_irq_info(vdev, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return vfio_pci_ioctl_set_irqs(vdev, uarg);
	case VFIO_DEVICE_RESET:
		return vfio_pci_ioctl_reset(vdev);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return vfio_pci_ioctl_hot_reset_info(vdev, uarg);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return vfio_pci_ioctl_hot_reset(vdev, uarg);
	case VFIO_DEVICE_IOEVENTFD:
		return vfio_pci_ioctl_ioeventfd(vdev, uarg);
	default:
		return -ENOTTY;
	}
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioctl);

/**
 * vfio_pci_core_ioctl_feature - vfio_device_ops.device_feature of PCI
 *                               VFIO drivers
 * @device: the device, open
 * @flags: the VFIO_DEVICE_FEATURE flags, the feature in the low bits
 * @arg: the feature's data, a user pointer
 * @argsz: its size
 *
 * Handles the low-power features and the VF token. A variant driver with features of its
 * own handles those and passes the rest here.
 *
 * Return: 0 or -errno; -ENOTTY for a feature not handled.
 */
int vfio_pci_core_ioctl_feature(struct vfio_device *device, u32 flags,
				void __user *arg, size_t argsz)
{
	struct vfio_pci_core_device *vdev =
		container_of(device, struct vfio_pci_core_device, vdev);

	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
		return vfio_pci_feature_low_power_entry(vdev, flags, argsz);
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
		return vfio_pci_feature_low_power_entry_with_wakeup(vdev, flags,
								    arg, argsz);
	case VFIO_DEVICE_FEATURE_LOW_POWER_EXIT:
		return vfio_pci_feature_low_power_exit(vdev, flags, argsz);
	case VFIO_DEVICE_FEATURE_PCI_VF_TOKEN:
		return vfio_pci_feature_vf_token(vdev, flags, arg, argsz);
	default:
		return -ENOTTY;
	}
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioctl_feature);

static ssize_t vfio_pci_rw_awake(struct vfio_pci_core_device *vdev,
				 char __user *buf, size_t count, loff_t *ppos,
				 bool iswrite)
{
	u64 index = VFIO_PCI_OFFSET_TO_INDEX(*ppos);

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return vfio_pci_config_rw(vdev, buf, count, ppos, iswrite);
	case VFIO_PCI_ROM_REGION_INDEX:
		if (iswrite)
			return -EINVAL;
		return vfio_pci_bar_rw(vdev, buf, count, ppos, false, true);
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		return vfio_pci_bar_rw(vdev, buf, count, ppos, iswrite, true);
	case VFIO_PCI_VGA_REGION_INDEX:
		return vfio_pci_vga_rw(vdev, buf, count, ppos, iswrite);
	default:
		return -EINVAL;
	}
}

/*
 * A function the user let go to low power wakes for the access: for good
 * when the user asked to hear of wakeups, else until the access is done.
 *
 * While the open's runtime PM reference holds the function awake (the
 * user did not let it go), a BAR access needs no wake: vfio_pci_bar_rw()
 * makes sure of that under memory_lock, per access, which costs a
 * fraction of a runtime PM get and put per read() or write(), and wakes
 * the function itself if the user let it go meanwhile. The unlocked look
 * here only picks the path: a function already let go wakes first, for
 * any access, as the other regions do.
 */
static ssize_t vfio_pci_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			   size_t count, loff_t *ppos, bool iswrite)
{
	u64 index = VFIO_PCI_OFFSET_TO_INDEX(*ppos);
	ssize_t ret;

	if (!count)
		return 0;
	if (index >= VFIO_PCI_NUM_REGIONS + vdev->num_regions)
		return -EINVAL;
	if (index <= VFIO_PCI_BAR5_REGION_INDEX &&
	    !READ_ONCE(vdev->pm_runtime_engaged))
		return vfio_pci_bar_rw(vdev, buf, count, ppos, iswrite, false);
	if (pm_runtime_resume_and_get(&vdev->pdev->dev)) {
		pci_info_ratelimited(vdev->pdev, "runtime resume failed\n");
		return -EIO;
	}
	ret = vfio_pci_rw_awake(vdev, buf, count, ppos, iswrite);
	pm_runtime_put(&vdev->pdev->dev);
	return ret;
}

/**
 * vfio_pci_core_read - vfio_device_ops.read of PCI VFIO drivers
 * @core_vdev: the device, open
 * @buf: the user's buffer
 * @count: bytes to read
 * @ppos: the file offset: region index << 40 | offset in the region
 *
 * Return: the bytes read, or -errno.
 */
ssize_t vfio_pci_core_read(struct vfio_device *core_vdev, char __user *buf,
			   size_t count, loff_t *ppos)
{
	struct vfio_pci_core_device *vdev =
		container_of(core_vdev, struct vfio_pci_core_device, vdev);

	return vfio_pci_rw(vdev, buf, count, ppos, false);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_read);

/**
 * vfio_pci_core_write - vfio_device_ops.write of PCI VFIO drivers
 * @core_vdev: the device, open
 * @buf: the user's buffer
 * @count: bytes to write
 * @ppos: the file offset: region index << 40 | offset in the region
 *
 * Return: the bytes written, or -errno.
 */
ssize_t vfio_pci_core_write(struct vfio_device *core_vdev,
			    const char __user *buf, size_t count,
			    loff_t *ppos)
{
	struct vfio_pci_core_device *vdev =
		container_of(core_vdev, struct vfio_pci_core_device, vdev);

	return vfio_pci_rw(vdev, (char __user *)buf, count, ppos, true);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_write);

/**
 * vfio_pci_core_request - vfio_device_ops.request of PCI VFIO drivers
 * @core_vdev: the device, being unregistered while a user holds it
 * @count: how many times the user was asked so far
 *
 * Signals the request eventfd (VFIO_PCI_REQ_IRQ_INDEX) if the user set
 * one; without, says once that unregistration waits for the user.
 */
void vfio_pci_core_request(struct vfio_device *core_vdev, unsigned int count)
{
	struct vfio_pci_core_device *vdev =
		container_of(core_vdev, struct vfio_pci_core_device, vdev);

	mutex_lock(&vdev->igate);
	if (vdev->req_trigger) {
		if (!(count % 10))
			pci_notice_ratelimited(vdev->pdev,
					       "Relaying device request to user (#%u)\n",
					       count);
		eventfd_signal(vdev->req_trigger);
	} else if (!count) {
		pci_warn(vdev->pdev,
			 "No device request channel registered, blocked until released by user\n");
	}
	mutex_unlock(&vdev->igate);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_request);

/**
 * vfio_pci_core_aer_err_detected - pci_error_handlers.error_detected
 * @pdev: the function that saw an error
 * @state: the channel's state
 *
 * Relays the error to the user through its error eventfd
 * (VFIO_PCI_ERR_IRQ_INDEX), whose handling decides on recovery.
 *
 * Return: %PCI_ERS_RESULT_CAN_RECOVER.
 */
pci_ers_result_t vfio_pci_core_aer_err_detected(struct pci_dev *pdev,
						pci_channel_state_t state)
{
	struct vfio_pci_core_device *vdev = dev_get_drvdata(&pdev->dev);

	mutex_lock(&vdev->igate);
	if (vdev->err_trigger)
		eventfd_signal(vdev->err_trigger);
	mutex_unlock(&vdev->igate);
	return PCI_ERS_RESULT_CAN_RECOVER;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_aer_err_detected);

/* For drivers with no error handling of their own. */
const struct pci_error_handlers vfio_pci_core_err_handlers = {
	.error_detected = vfio_pci_core_aer_err_detected,
};
EXPORT_SYMBOL_GPL(vfio_pci_core_err_handlers);

#define VF_TOKEN_ARG	"vf_token="

/**
 * vfio_pci_core_match - vfio_device_ops.match of PCI VFIO drivers
 * @core_vdev: the device
 * @buf: the name given to VFIO_GROUP_GET_DEVICE_FD: the PCI name,
 *       optionally followed by " vf_token=<uuid>"
 *
 * VF tokens guard the VFs of a PF bound to a VFIO driver, and the PF
 * while they are open (vfio_pci_validate_vf_token()).
 *
 * Return: 1 for a match, 0 for none, or -errno: -EINVAL for a malformed
 * name, -EACCES for a missing or wrong token.
 */
int vfio_pci_core_match(struct vfio_device *core_vdev, char *buf)
{
	struct vfio_pci_core_device *vdev =
		container_of(core_vdev, struct vfio_pci_core_device, vdev);
	const char *name = pci_name(vdev->pdev);
	size_t len = strlen(name);
	bool token = false;
	uuid_t uuid;
	int ret;

	if (strncmp(buf, name, len))
		return 0;
	buf += len;
	if (*buf && *buf != ' ')
		return 0;

	while (*buf) {
		if (*buf == ' ') {
			buf++;
			continue;
		}
		if (token || strncmp(buf, VF_TOKEN_ARG, strlen(VF_TOKEN_ARG)))
			return -EINVAL;	/* unknown or repeated option */
		buf += strlen(VF_TOKEN_ARG);
		if (strlen(buf) < UUID_STRING_LEN || uuid_parse(buf, &uuid))
			return -EINVAL;
		buf += UUID_STRING_LEN;
		token = true;
	}

	ret = vfio_pci_validate_vf_token(vdev, token, &uuid);
	return ret ? ret : 1;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_match);

/*
 * Dropping an INTx trigger is deferred to an RCU callback (see
 * vfio_pci_intrs.c): let the pending ones run before their code goes.
 * No more are queued by now: every device of a driver built on this
 * module is gone with that driver, which held this module.
 */
static void __exit vfio_pci_core_exit(void)
{
	rcu_barrier();
}
module_exit(vfio_pci_core_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO PCI core (clean-room)");
