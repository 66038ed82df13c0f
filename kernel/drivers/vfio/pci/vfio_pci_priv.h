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

/*
 * D-states are ordered (D0 < D1 < D2 < D3hot < D3cold) but pci_power_t
 * is a sparse-restricted type: compare their levels.
 */
static inline int vfio_pci_d_level(pci_power_t state)
{
	return (__force int)state;
}

/* Is the function in D3hot or deeper? */
static inline bool vfio_pci_in_d3(struct pci_dev *pdev)
{
	return vfio_pci_d_level(pdev->current_state) >=
	       vfio_pci_d_level(PCI_D3hot);
}

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

/* vfio_pci_intrs.c */
void vfio_pci_intx_mask(struct vfio_pci_core_device *vdev);
void vfio_pci_intx_unmask(struct vfio_pci_core_device *vdev);
int vfio_pci_set_irqs_ioctl(struct vfio_pci_core_device *vdev, u32 flags,
			    unsigned int index, unsigned int start,
			    unsigned int count, void *data);
void vfio_pci_irqs_teardown(struct vfio_pci_core_device *vdev);

/* vfio_pci_rdwr.c */
ssize_t vfio_pci_bar_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite);
void vfio_pci_bar_unmap_all(struct vfio_pci_core_device *vdev);

/* vfio_pci_mmap.c */
void vfio_pci_zap_bars(struct vfio_pci_core_device *vdev);
void vfio_pci_zap_and_lock(struct vfio_pci_core_device *vdev);

/* vfio_pci_ioeventfd.c */
void vfio_pci_ioeventfd_init(struct vfio_pci_core_device *vdev);
void vfio_pci_ioeventfd_release_all(struct vfio_pci_core_device *vdev);
int vfio_pci_ioctl_ioeventfd(struct vfio_pci_core_device *vdev,
			     struct vfio_device_ioeventfd __user *arg);

/* vfio_pci_reset.c */
int vfio_pci_ioctl_hot_reset_info(struct vfio_pci_core_device *vdev,
				  struct vfio_pci_hot_reset_info __user *arg);
int vfio_pci_ioctl_hot_reset(struct vfio_pci_core_device *vdev,
			     struct vfio_pci_hot_reset __user *arg);
void vfio_pci_dev_set_try_reset(struct vfio_pci_core_device *vdev);

#endif /* __VFIO_PCI_PRIV_H__ */
