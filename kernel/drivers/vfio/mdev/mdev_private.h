/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the three parts of the mdev module share: the bus (mdev_driver.c),
 * the sysfs layout (mdev_sysfs.c) and instance lifetime (mdev_core.c).
 */
#ifndef MDEV_PRIVATE_H
#define MDEV_PRIVATE_H

#include <linux/device.h>
#include <linux/mdev.h>
#include <linux/uuid.h>

extern const struct bus_type mdev_bus_type;
extern const struct attribute_group *mdev_device_groups[];

int mdev_types_add(struct mdev_parent *parent);
void mdev_types_del(struct mdev_parent *parent);

int mdev_links_add(struct mdev_device *mdev);
void mdev_links_del(struct mdev_device *mdev);

int mdev_device_create(struct mdev_type *type, const guid_t *uuid);
int mdev_device_remove(struct mdev_device *mdev);

#endif /* MDEV_PRIVATE_H */
