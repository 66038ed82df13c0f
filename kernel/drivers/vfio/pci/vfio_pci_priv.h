/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations shared by the files of vfio-pci-core.ko, and nothing else.
 */
#ifndef __VFIO_PCI_PRIV_H__
#define __VFIO_PCI_PRIV_H__

#include <linux/vfio_pci_core.h>

#ifndef VFIO_CLEAN_ROOM_API
#error "the kernel's own linux/vfio.h was included instead of ours"
#endif

/* cfg_owner of config bytes outside the header and every capability. */
#define VFIO_PCI_CFG_UNOWNED	0xffff

/* vfio_pci_core.c */
int vfio_pci_set_power_state(struct vfio_pci_core_device *vdev,
			     pci_power_t state);

/* vfio_pci_config.c */
int vfio_pci_config_init(struct vfio_pci_core_device *vdev);
void vfio_pci_config_free(struct vfio_pci_core_device *vdev);
ssize_t vfio_pci_config_rw(struct vfio_pci_core_device *vdev,
			   char __user *buf, size_t count, loff_t *ppos,
			   bool iswrite);
bool vfio_pci_memory_enabled(struct vfio_pci_core_device *vdev);

/* vfio_pci_rdwr.c */
ssize_t vfio_pci_bar_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite);
void vfio_pci_bar_unmap_all(struct vfio_pci_core_device *vdev);

#endif /* __VFIO_PCI_PRIV_H__ */
