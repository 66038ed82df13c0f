// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mdev bus. Nothing binds to an mdev by matching: the core attaches
 * the parent's driver explicitly when the user creates an instance, so
 * match always says no and probe/remove only forward to that driver.
 */
#include <linux/device.h>
#include <linux/mdev.h>
#include <linux/module.h>

#include "mdev_private.h"

static struct mdev_driver *to_mdev_driver(const struct device_driver *drv)
{
	return container_of(drv, struct mdev_driver, driver);
}

static int mdev_bus_match(struct device *dev, const struct device_driver *drv)
{
	return 0;
}

static int mdev_bus_probe(struct device *dev)
{
	struct mdev_driver *drv = to_mdev_driver(dev->driver);

	return drv->probe ? drv->probe(to_mdev_device(dev)) : 0;
}

static void mdev_bus_remove(struct device *dev)
{
	struct mdev_driver *drv = to_mdev_driver(dev->driver);

	if (drv->remove)
		drv->remove(to_mdev_device(dev));
}

const struct bus_type mdev_bus_type = {
	.name = "mdev",
	.match = mdev_bus_match,
	.probe = mdev_bus_probe,
	.remove = mdev_bus_remove,
};

/**
 * mdev_register_driver - register the driver of a parent's mdevs
 * @drv: the driver; @drv->device_api must be set
 *
 * Return: 0, -EINVAL without a device_api, or driver_register()'s error.
 */
int mdev_register_driver(struct mdev_driver *drv)
{
	if (!drv->device_api)
		return -EINVAL;
	drv->driver.bus = &mdev_bus_type;
	return driver_register(&drv->driver);
}
EXPORT_SYMBOL(mdev_register_driver);

/**
 * mdev_unregister_driver - unregister a driver from mdev_register_driver()
 * @drv: the driver
 *
 * Instances still bound are unbound first.
 */
void mdev_unregister_driver(struct mdev_driver *drv)
{
	driver_unregister(&drv->driver);
}
EXPORT_SYMBOL(mdev_unregister_driver);
