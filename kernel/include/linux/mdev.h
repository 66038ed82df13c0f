/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Mediated devices: software-defined devices that a parent driver carves
 * out of a real (or entirely emulated) device. The parent registers the
 * kinds of device it can make (struct mdev_type); the user creates one by
 * writing a UUID to .../mdev_supported_types/<type>/create, which puts a
 * struct mdev_device on the "mdev" bus and binds the parent's mdev_driver
 * to it. That driver usually registers the instance with VFIO as an
 * emulated-IOMMU device.
 */
#ifndef MDEV_H
#define MDEV_H

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/rwsem.h>
#include <linux/uuid.h>

struct mdev_type;

/**
 * struct mdev_device - one mediated device
 * @dev: its device on the mdev bus, named by @uuid; a child of the
 *       parent's device
 * @uuid: the UUID the user created it with; unique among all mdevs
 * @next: entry in the core's list of all mdevs, under the core's list lock
 * @type: the type it was created from; holds a reference on the type's
 *        kobject for the device's lifetime
 * @active: created and not yet being removed; under the core's list lock
 */
struct mdev_device {
	struct device dev;
	guid_t uuid;
	struct list_head next;
	struct mdev_type *type;
	bool active;
};

/**
 * struct mdev_type - a kind of mediated device a parent can create
 * @sysfs_name: set by the driver: the directory is <driver>-<sysfs_name>
 * @pretty_name: set by the driver (optional): what the "name" file shows
 * @parent: set by the core at registration
 * @kobj: the type's directory under mdev_supported_types; core only
 * @devices_kobj: its "devices" directory of links to instances; core only
 */
struct mdev_type {
	const char *sysfs_name;
	const char *pretty_name;
	struct mdev_parent *parent;
	struct kobject kobj;
	struct kobject *devices_kobj;
};

/**
 * struct mdev_parent - a device that mediated devices are created from
 * @dev: the parent device; instances are its children
 * @mdev_driver: the driver bound to every instance
 * @mdev_types_kset: the mdev_supported_types directory
 * @unreg_sem: held for reading while an instance is created or removed,
 *             for writing while the parent is unregistered, so that no
 *             instance appears or goes away under the unregistration
 * @types: the driver's array of types
 * @nr_types: number of entries in @types
 * @available_instances: instances still allowed, for drivers without
 *                       get_available; changed under the core's list lock
 *
 * Drivers embed this in their own state and fill it with
 * mdev_register_parent(), which clears it first.
 */
struct mdev_parent {
	struct device *dev;
	struct mdev_driver *mdev_driver;
	struct kset *mdev_types_kset;
	struct rw_semaphore unreg_sem;
	struct mdev_type **types;
	unsigned int nr_types;
	atomic_t available_instances;
};

/**
 * to_mdev_device - the mediated device of a device on the mdev bus
 * @dev: the device
 *
 * Return: the mdev_device embedding @dev.
 */
static inline struct mdev_device *to_mdev_device(struct device *dev)
{
	return container_of(dev, struct mdev_device, dev);
}

/**
 * struct mdev_driver - the driver of a parent's mediated devices
 * @device_api: what the types' device_api file shows (e.g. "vfio-pci");
 *              required
 * @max_instances: how many instances the parent allows in all, when
 *                 @get_available is not given
 * @probe: bind to a newly created instance
 * @remove: unbind from an instance being removed
 * @get_available: how many more instances of a type can be created; the
 *                 driver then enforces its own limit in @probe
 * @show_description: fill the type's description file (optional; without
 *                    it the file does not exist)
 * @driver: the driver on the mdev bus
 */
struct mdev_driver {
	const char *device_api;
	unsigned int max_instances;
	int (*probe)(struct mdev_device *dev);
	void (*remove)(struct mdev_device *dev);
	unsigned int (*get_available)(struct mdev_type *mtype);
	ssize_t (*show_description)(struct mdev_type *mtype, char *buf);
	struct device_driver driver;
};

int mdev_register_parent(struct mdev_parent *parent, struct device *dev,
			 struct mdev_driver *mdev_driver,
			 struct mdev_type **types, unsigned int nr_types);
void mdev_unregister_parent(struct mdev_parent *parent);

int mdev_register_driver(struct mdev_driver *drv);
void mdev_unregister_driver(struct mdev_driver *drv);

/**
 * mdev_dev - the struct device of a mediated device
 * @mdev: the mediated device
 *
 * Return: the device on the mdev bus.
 */
static inline struct device *mdev_dev(struct mdev_device *mdev)
{
	return &mdev->dev;
}

#endif /* MDEV_H */
