/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the vfio-pci guest tests (pci*.c): open a device as a VFIO
 * user, and put everything back afterwards, so that a case leaves the
 * module reference counts as it found them.
 */
#ifndef PCI_TEST_H
#define PCI_TEST_H

#include "vfio_test.h"

/* The loaded module set's name: "ours", "upstream" or "". */
static inline void pci_test_modset(char set[32])
{
	FILE *f = fopen("/run/vfio-modset.name", "r");

	set[0] = 0;
	if (f) {
		if (!fgets(set, 32, f))
			set[0] = 0;
		fclose(f);
	}
	set[strcspn(set, "\n")] = 0;
}

/*
 * While a module set lacks vfio_iommu_type1 (ours is not built on this
 * branch yet, so the upstream set does not load it either), load the
 * kernel's for the upstream set. Returns true when it was loaded here
 * and must be unloaded with pci_test_put_type1().
 */
static inline bool pci_test_get_type1(void)
{
	char set[32];

	if (!access("/sys/module/vfio_iommu_type1", F_OK))
		return false;
	pci_test_modset(set);
	if (strcmp(set, "upstream"))
		return false;
	return !system("modprobe vfio_iommu_type1");
}

static inline void pci_test_put_type1(bool loaded)
{
	if (loaded && system("rmmod vfio_iommu_type1"))
		fprintf(stderr, "# rmmod vfio_iommu_type1 failed\n");
}

/*
 * Open the first vendor:device as a VFIO user (see vfio_user_open());
 * *type1 tells pci_user_close() whether to unload vfio_iommu_type1.
 */
static inline int pci_user_open(struct vfio_user *u, bool *type1,
				uint16_t vendor, uint16_t device)
{
	*type1 = pci_test_get_type1();
	return vfio_user_open(u, vendor, device, 0, VFIO_TYPE1v2_IOMMU);
}

/*
 * Close the files, then unbind the function from vfio-pci: a bound
 * function holds a reference on vfio.ko (through its group).
 */
static inline void pci_user_close(struct vfio_user *u, bool *type1)
{
	char bdf[32];

	snprintf(bdf, sizeof(bdf), "%s", u->bdf);
	vfio_user_close(u);
	if (bdf[0])
		pci_bind(bdf, "");
	pci_test_put_type1(*type1);
	*type1 = false;
}

#endif /* PCI_TEST_H */
