/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the vfio-pci guest tests (pci*.c): open a device as a VFIO
 * user, and put everything back afterwards, so that a case leaves the
 * module reference counts as it found them.
 */
#ifndef PCI_TEST_H
#define PCI_TEST_H

#include <dirent.h>
#include <limits.h>

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
 * Reload vfio-pci with @args (e.g. "disable_vga=1"): its parameters take
 * effect at load. No function may be bound to it.
 */
static inline int reload_vfio_pci(const char *args)
{
	char set[32], cmd[256];

	pci_test_modset(set);
	if (system("rmmod vfio_pci"))
		return -EBUSY;
	if (!strcmp(set, "ours"))
		snprintf(cmd, sizeof(cmd), "insmod /vfio/ours/vfio_pci.ko %s",
			 args);
	else
		snprintf(cmd, sizeof(cmd), "modprobe vfio_pci %s", args);
	return system(cmd) ? -EIO : 0;
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

/*
 * Members of an IOMMU group moved off their host driver for a test, and
 * where they came from, so they can be given back.
 */
struct pci_moved {
	char bdf[8][32];
	char driver[8][64];
	int n;
};

/*
 * Bind every member of @group_id to @target ("" for no driver), except
 * those already there, those named @skip1/@skip2, and, when @target is
 * "", those no driver holds. Remembers each one's driver.
 */
static inline void pci_group_move(struct pci_moved *m, int group_id,
				  const char *target, const char *skip1,
				  const char *skip2)
{
	char path[PATH_MAX], drv[64];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices",
		 group_id);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir)) && m->n < 8) {
		if (de->d_name[0] == '.')
			continue;
		pci_driver(de->d_name, drv);
		if (!strcmp(drv, target) || !strcmp(drv, "vfio-pci") ||
		    (skip1 && !strcmp(de->d_name, skip1)) ||
		    (skip2 && !strcmp(de->d_name, skip2)))
			continue;
		snprintf(m->bdf[m->n], 32, "%.31s", de->d_name);
		snprintf(m->driver[m->n], 64, "%s", drv);
		if (!pci_bind(de->d_name, target))
			m->n++;
	}
	closedir(dir);
}

/* Give every moved member back to the driver it had. */
static inline void pci_group_restore(struct pci_moved *m)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < m->n; i++) {
		pci_bind(m->bdf[i], "");
		if (!m->driver[i][0])
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind",
			 m->driver[i]);
		sysfs_write(path, m->bdf[i]);
	}
	m->n = 0;
}

/* Host vectors allocated to the function (its sysfs msi_irqs). */
static inline int msi_irqs(const char *bdf)
{
	char path[PATH_MAX];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/msi_irqs", bdf);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

#endif /* PCI_TEST_H */
