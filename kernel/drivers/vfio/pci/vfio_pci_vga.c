// SPDX-License-Identifier: GPL-2.0-only
/*
 * VGA functions under vfio-pci: the legacy VGA ranges (memory at 0xa0000,
 * I/O ports 0x3b0 and 0x3c0) are offered as VFIO_PCI_VGA_REGION_INDEX
 * unless vfio-pci's disable_vga is set, and the VGA arbiter is told
 * which resources the function decodes.
 */
#include <linux/aperture.h>
#include <linux/pci.h>
#include <linux/vgaarb.h>

#include "vfio_pci_priv.h"

/**
 * vfio_pci_is_vga - is @pdev a VGA-compatible display controller?
 * @pdev: the function
 *
 * Return: true for class 0x0300.
 */
bool vfio_pci_is_vga(struct pci_dev *pdev)
{
	return (pdev->class >> 8) == PCI_CLASS_DISPLAY_VGA;
}

/*
 * The arbiter asks what the function decodes. Besides its BARs, the
 * legacy ranges, unless VGA access is off and another VGA function
 * below the same bridge needs them.
 */
static unsigned int vfio_pci_set_decode(struct pci_dev *pdev, bool single_vga)
{
	unsigned int decodes = VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM;
	unsigned char max_busnr;
	struct pci_dev *other = NULL;

	if (single_vga || !vfio_pci_vga_disabled() ||
	    pci_is_root_bus(pdev->bus))
		return decodes | VGA_RSRC_LEGACY_IO | VGA_RSRC_LEGACY_MEM;

	max_busnr = pci_bus_max_busnr(pdev->bus);
	while ((other = pci_get_class(PCI_CLASS_DISPLAY_VGA << 8, other))) {
		if (other == pdev ||
		    pci_domain_nr(other->bus) != pci_domain_nr(pdev->bus) ||
		    pci_is_root_bus(other->bus))
			continue;
		if (other->bus->number >= pdev->bus->number &&
		    other->bus->number <= max_busnr) {
			pci_dev_put(other);
			decodes |= VGA_RSRC_LEGACY_IO | VGA_RSRC_LEGACY_MEM;
			break;
		}
	}
	return decodes;
}

/**
 * vfio_pci_vga_init - register a VGA function with the VGA arbiter
 * @vdev: the device, registering
 *
 * A firmware framebuffer on the function is removed first: the user is
 * taking the device.
 *
 * Return: 0 or -errno.
 */
int vfio_pci_vga_init(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	if (!vfio_pci_is_vga(pdev))
		return 0;
	ret = aperture_remove_conflicting_pci_devices(pdev,
						      vdev->vdev.ops->name);
	if (ret)
		return ret;
	ret = vga_client_register(pdev, vfio_pci_set_decode);
	if (ret)
		return ret;
	vga_set_legacy_decoding(pdev, vfio_pci_set_decode(pdev, false));
	return 0;
}

/**
 * vfio_pci_vga_uninit - undo vfio_pci_vga_init()
 * @vdev: the device, unregistered
 */
void vfio_pci_vga_uninit(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;

	if (!vfio_pci_is_vga(pdev))
		return;
	vga_client_unregister(pdev);
	vga_set_legacy_decoding(pdev, VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM |
				VGA_RSRC_LEGACY_IO | VGA_RSRC_LEGACY_MEM);
}
