// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mediated device core: parents, and the lifetime of their instances.
 *
 * An instance is created from sysfs (mdev_device_create(), called by a
 * type's create file) and removed from sysfs (its remove file), or by the
 * parent's unregistration. Each parent's unreg_sem orders the two: create
 * and remove take it for reading and give up at once (-ENODEV) when the
 * parent is already going, unregistration takes it for writing and
 * removes every instance left.
 */
#include <linux/device.h>
#include <linux/lockdep.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "mdev_private.h"

/*
 * Protects mdev_list, each mdev's @next and @active, and the parents'
 * available_instances (for drivers without get_available).
 */
static DEFINE_MUTEX(mdev_list_lock);
/* Every mdev from creation until its device is released. */
static LIST_HEAD(mdev_list);

/* /sys/class/mdev_bus/<parent>: the links older tools look parents up by. */
static struct class_compat *mdev_bus_compat_class;

/* Caller holds the parent's unreg_sem (either way). */
static void mdev_device_destroy(struct mdev_device *mdev)
{
	lockdep_assert_held(&mdev->type->parent->unreg_sem);
	mdev_links_del(mdev);
	device_del(&mdev->dev);
	/* The reference from device_initialize() in mdev_device_create(). */
	put_device(&mdev->dev);
}

static int mdev_destroy_child(struct device *dev, void *unused)
{
	if (dev->bus == &mdev_bus_type)
		mdev_device_destroy(to_mdev_device(dev));
	return 0;
}

/**
 * mdev_register_parent - offer mdev types on a device
 * @parent: the parent structure, embedded in the driver's state; cleared
 *          and filled here
 * @dev: the device the instances will be children of
 * @mdev_driver: the driver to bind to every instance
 * @types: the types the parent offers
 * @nr_types: number of entries in @types
 *
 * Creates @dev's mdev_supported_types directory and a directory per type.
 * The caller keeps a reference on @dev until mdev_unregister_parent().
 *
 * Return: 0 or a negative errno.
 */
int mdev_register_parent(struct mdev_parent *parent, struct device *dev,
			 struct mdev_driver *mdev_driver,
			 struct mdev_type **types, unsigned int nr_types)
{
	char state[] = "MDEV_STATE=registered";
	char *env[2] = { state, NULL };
	int ret;

	memset(parent, 0, sizeof(*parent));
	init_rwsem(&parent->unreg_sem);
	parent->dev = dev;
	parent->mdev_driver = mdev_driver;
	parent->types = types;
	parent->nr_types = nr_types;
	atomic_set(&parent->available_instances, mdev_driver->max_instances);

	ret = mdev_types_add(parent);
	if (ret)
		return ret;

	/* Without the compat link only old tools lose: not fatal. */
	if (class_compat_create_link(mdev_bus_compat_class, dev, NULL))
		dev_warn(dev, "mdev: no link in /sys/class/mdev_bus\n");

	dev_info(dev, "MDEV: Registered\n");
	kobject_uevent_env(&dev->kobj, KOBJ_CHANGE, env);
	return 0;
}
EXPORT_SYMBOL(mdev_register_parent);

/**
 * mdev_unregister_parent - withdraw a parent and remove its instances
 * @parent: a parent from mdev_register_parent()
 *
 * Every instance still there is removed, which waits for its users to
 * close it (the VFIO driver's remove does); no instance can be created
 * or removed from sysfs meanwhile.
 */
void mdev_unregister_parent(struct mdev_parent *parent)
{
	char state[] = "MDEV_STATE=unregistered";
	char *env[2] = { state, NULL };

	dev_info(parent->dev, "MDEV: Unregistering\n");

	down_write(&parent->unreg_sem);
	class_compat_remove_link(mdev_bus_compat_class, parent->dev, NULL);
	device_for_each_child(parent->dev, NULL, mdev_destroy_child);
	mdev_types_del(parent);
	up_write(&parent->unreg_sem);

	kobject_uevent_env(&parent->dev->kobj, KOBJ_CHANGE, env);
}
EXPORT_SYMBOL(mdev_unregister_parent);

static void mdev_device_release(struct device *dev)
{
	struct mdev_device *mdev = to_mdev_device(dev);
	struct mdev_type *type = mdev->type;
	struct mdev_parent *parent = type->parent;

	mutex_lock(&mdev_list_lock);
	list_del(&mdev->next);
	if (!parent->mdev_driver->get_available)
		atomic_inc(&parent->available_instances);
	mutex_unlock(&mdev_list_lock);

	kfree(mdev);
	/* Taken in mdev_device_create(); may free the type's directory. */
	kobject_put(&type->kobj);
}

/* Claim @uuid and an instance slot, under mdev_list_lock. */
static int mdev_reserve(struct mdev_device *mdev, struct mdev_parent *parent)
{
	struct mdev_device *other;

	lockdep_assert_held(&mdev_list_lock);
	list_for_each_entry(other, &mdev_list, next)
		if (guid_equal(&other->uuid, &mdev->uuid))
			return -EEXIST;

	if (!parent->mdev_driver->get_available) {
		if (!atomic_read(&parent->available_instances))
			return -EUSERS;
		atomic_dec(&parent->available_instances);
	}
	list_add(&mdev->next, &mdev_list);
	return 0;
}

/**
 * mdev_device_create - create an instance of a type and bind its driver
 * @type: the type
 * @uuid: the instance's UUID, unused by any other mdev
 *
 * Return: 0; -EEXIST for a UUID in use; -EUSERS when the parent allows no
 * more instances; -ENODEV when the parent is being unregistered; or the
 * error of the device core or the driver's probe.
 */
int mdev_device_create(struct mdev_type *type, const guid_t *uuid)
{
	struct mdev_parent *parent = type->parent;
	struct mdev_device *mdev;
	int ret;

	mdev = kzalloc(sizeof(*mdev), GFP_KERNEL);
	if (!mdev)
		return -ENOMEM;
	guid_copy(&mdev->uuid, uuid);
	mdev->type = type;

	mutex_lock(&mdev_list_lock);
	ret = mdev_reserve(mdev, parent);
	mutex_unlock(&mdev_list_lock);
	if (ret) {
		kfree(mdev);
		return ret;
	}

	/* From here on, the release callback undoes the reservation. */
	kobject_get(&type->kobj);
	device_initialize(&mdev->dev);
	mdev->dev.parent = parent->dev;
	mdev->dev.bus = &mdev_bus_type;
	mdev->dev.release = mdev_device_release;
	mdev->dev.groups = mdev_device_groups;
	ret = dev_set_name(&mdev->dev, "%pUl", uuid);
	if (ret)
		goto err_put;

	if (!down_read_trylock(&parent->unreg_sem)) {
		ret = -ENODEV;
		goto err_put;
	}
	ret = device_add(&mdev->dev);
	if (ret)
		goto err_unlock;
	ret = device_driver_attach(&parent->mdev_driver->driver, &mdev->dev);
	if (ret)
		goto err_del;
	ret = mdev_links_add(mdev);
	if (ret)
		goto err_del;

	mutex_lock(&mdev_list_lock);
	mdev->active = true;
	mutex_unlock(&mdev_list_lock);
	up_read(&parent->unreg_sem);
	dev_dbg(&mdev->dev, "MDEV: created\n");
	return 0;

err_del:
	device_del(&mdev->dev);
err_unlock:
	up_read(&parent->unreg_sem);
err_put:
	put_device(&mdev->dev);
	return ret;
}

/**
 * mdev_device_remove - remove an instance, as its remove file asks
 * @mdev: the instance
 *
 * Return: 0; -ENODEV when it is gone or its parent is being unregistered;
 * -EAGAIN while it is still being created or already being removed.
 */
int mdev_device_remove(struct mdev_device *mdev)
{
	struct mdev_parent *parent = mdev->type->parent;
	struct mdev_device *pos;
	int ret = -ENODEV;

	mutex_lock(&mdev_list_lock);
	list_for_each_entry(pos, &mdev_list, next) {
		if (pos != mdev)
			continue;
		if (mdev->active) {
			mdev->active = false;
			ret = 0;
		} else {
			ret = -EAGAIN;
		}
		break;
	}
	mutex_unlock(&mdev_list_lock);
	if (ret)
		return ret;

	if (!down_read_trylock(&parent->unreg_sem))
		return -ENODEV;
	mdev_device_destroy(mdev);
	up_read(&parent->unreg_sem);
	return 0;
}

static int __init mdev_init(void)
{
	int ret;

	ret = bus_register(&mdev_bus_type);
	if (ret)
		return ret;
	mdev_bus_compat_class = class_compat_register("mdev_bus");
	if (!mdev_bus_compat_class) {
		bus_unregister(&mdev_bus_type);
		return -ENOMEM;
	}
	return 0;
}

static void __exit mdev_exit(void)
{
	class_compat_unregister(mdev_bus_compat_class);
	bus_unregister(&mdev_bus_type);
}

module_init(mdev_init);
module_exit(mdev_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Mediated device bus and parent/type core (clean room)");
