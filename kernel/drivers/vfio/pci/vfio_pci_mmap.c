// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO PCI: mapping memory BARs into user space through the device file.
 *
 * Nothing is mapped at mmap() time: pages are inserted one by one as the
 * user touches them, and only while the user's command register enables
 * memory decode and the function is powered. Whenever that stops being
 * true (decode turned off, a reset, D3hot), every user mapping of the
 * device's BARs is zapped under memory_lock held for writing, and faults
 * that come after it raise SIGBUS until decode is back on (or, after a
 * low-power entry, until the low-power state ends).
 *
 * All files of a device share the device's inode, so zapping its address
 * space reaches every mapping made through any of them.
 */

#include <linux/mm.h>
#include <linux/pci.h>

#include "vfio_pci_priv.h"

/* Page offsets inside one region window of the device file. */
#define REGION_PGOFF_SHIFT	(VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT)
#define REGION_PGOFF_MASK	((1UL << REGION_PGOFF_SHIFT) - 1)

/**
 * vfio_pci_zap_bars - take away every user mapping of the device's BARs
 * @vdev: the device
 *
 * Context: the caller holds @vdev->memory_lock for writing, so that no
 * fault can put a page back before the caller is done with the device.
 */
void vfio_pci_zap_bars(struct vfio_pci_core_device *vdev)
{
	loff_t start = VFIO_PCI_INDEX_TO_OFFSET(VFIO_PCI_BAR0_REGION_INDEX);
	loff_t end = VFIO_PCI_INDEX_TO_OFFSET(VFIO_PCI_BAR5_REGION_INDEX + 1);

	lockdep_assert_held_write(&vdev->memory_lock);
	unmap_mapping_range(vdev->vdev.inode->i_mapping, start, end - start,
			    true);
}

/**
 * vfio_pci_zap_and_lock - zap user BAR mappings, keeping faults out
 * @vdev: the device
 *
 * Takes @vdev->memory_lock for writing, then zaps: the caller is free to
 * reset the function or turn its decode off, and releases the lock with
 * up_write() when the device is usable again (or stays unusable, in
 * which case the next faults see that).
 */
void vfio_pci_zap_and_lock(struct vfio_pci_core_device *vdev)
{
	down_write(&vdev->memory_lock);
	vfio_pci_zap_bars(vdev);
}

static vm_fault_t vfio_pci_mmap_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vfio_pci_core_device *vdev = vma->vm_private_data;
	int bar = vma->vm_pgoff >> REGION_PGOFF_SHIFT;
	unsigned long pfn;
	vm_fault_t ret;

	pfn = (pci_resource_start(vdev->pdev, bar) >> PAGE_SHIFT) +
	      (vma->vm_pgoff & REGION_PGOFF_MASK) +
	      ((vmf->address - vma->vm_start) >> PAGE_SHIFT);

	down_read(&vdev->memory_lock);
	/* In a user's low-power state the BARs may be gone: no faults. */
	if (!vdev->pm_runtime_engaged && vfio_pci_memory_enabled(vdev))
		ret = vmf_insert_pfn(vma, vmf->address, pfn);
	else
		ret = VM_FAULT_SIGBUS;
	up_read(&vdev->memory_lock);
	return ret;
}

static const struct vm_operations_struct vfio_pci_mmap_ops = {
	.fault = vfio_pci_mmap_fault,
};

/**
 * vfio_pci_core_mmap - vfio_device_ops.mmap of PCI VFIO drivers
 * @core_vdev: the device, open
 * @vma: the new mapping; its page offset selects the region (index << 40)
 *       and the offset inside it
 *
 * Only shared mappings of BARs that GET_REGION_INFO reports as mappable
 * are accepted, and only inside the BAR's size rounded up to a page.
 * The BAR is claimed for the device as for read() and write().
 *
 * Return: 0, -EINVAL for a mapping that is not allowed, or another
 * -errno from claiming the BAR.
 */
int vfio_pci_core_mmap(struct vfio_device *core_vdev,
		       struct vm_area_struct *vma)
{
	struct vfio_pci_core_device *vdev =
		container_of(core_vdev, struct vfio_pci_core_device, vdev);
	u64 index = vma->vm_pgoff >> REGION_PGOFF_SHIFT;
	u64 start, len, bar_len;
	int ret;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (index > VFIO_PCI_BAR5_REGION_INDEX ||
	    !vdev->bar_mmap_supported[index])
		return -EINVAL;

	bar_len = PAGE_ALIGN(pci_resource_len(vdev->pdev, index));
	start = (u64)(vma->vm_pgoff & REGION_PGOFF_MASK) << PAGE_SHIFT;
	len = vma->vm_end - vma->vm_start;
	if (start >= bar_len || len > bar_len - start)
		return -EINVAL;

	ret = vfio_pci_core_setup_barmap(vdev, index);
	if (ret)
		return ret;

	vma->vm_private_data = vdev;
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vma->vm_page_prot = pgprot_decrypted(vma->vm_page_prot);
	vm_flags_set(vma, VM_ALLOW_ANY_UNCACHED | VM_IO | VM_PFNMAP |
			  VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &vfio_pci_mmap_ops;
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_mmap);
