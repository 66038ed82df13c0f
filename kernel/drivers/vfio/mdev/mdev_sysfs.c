// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sysfs side of mdev:
 *
 *   <parent>/mdev_supported_types/<driver>-<type>/
 *           create               write a UUID to make an instance
 *           available_instances  how many more can be made
 *           device_api           the driver's device_api
 *           name                 pretty_name, else sysfs_name
 *           description          only if the driver shows one
 *           devices/<uuid>       links to the type's instances
 *   /sys/bus/mdev/devices/<uuid>/
 *           remove               write a nonzero number to remove it
 *           mdev_type            link back to the type's directory
 */
#include <linux/kobject.h>
#include <linux/kstrtox.h>
#include <linux/mdev.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "mdev_private.h"

/**
 * struct mdev_type_attr - a file in a type's directory
 * @attr: the sysfs attribute
 * @show: fills @buf for a read
 * @store: takes a write of @count bytes
 */
struct mdev_type_attr {
	struct attribute attr;
	ssize_t (*show)(struct mdev_type *type, char *buf);
	ssize_t (*store)(struct mdev_type *type, const char *buf,
			 size_t count);
};

static struct mdev_type *kobj_to_type(struct kobject *kobj)
{
	return container_of(kobj, struct mdev_type, kobj);
}

static struct mdev_type_attr *to_type_attr(struct attribute *attr)
{
	return container_of(attr, struct mdev_type_attr, attr);
}

static ssize_t mdev_type_show(struct kobject *kobj, struct attribute *attr,
			      char *buf)
{
	struct mdev_type_attr *ta = to_type_attr(attr);

	if (!ta->show)
		return -EIO;
	return ta->show(kobj_to_type(kobj), buf);
}

static ssize_t mdev_type_store(struct kobject *kobj, struct attribute *attr,
			       const char *buf, size_t count)
{
	struct mdev_type_attr *ta = to_type_attr(attr);

	if (!ta->store)
		return -EIO;
	return ta->store(kobj_to_type(kobj), buf, count);
}

static const struct sysfs_ops mdev_type_sysfs_ops = {
	.show = mdev_type_show,
	.store = mdev_type_store,
};

/* A UUID in its 36-character form, optionally followed by one byte. */
static ssize_t create_store(struct mdev_type *type, const char *buf,
			    size_t count)
{
	char text[UUID_STRING_LEN + 1];
	guid_t uuid;
	int ret;

	if (count != UUID_STRING_LEN && count != UUID_STRING_LEN + 1)
		return -EINVAL;
	memcpy(text, buf, UUID_STRING_LEN);
	text[UUID_STRING_LEN] = '\0';
	ret = guid_parse(text, &uuid);
	if (ret)
		return ret;
	ret = mdev_device_create(type, &uuid);
	return ret ? ret : count;
}

static ssize_t device_api_show(struct mdev_type *type, char *buf)
{
	return sysfs_emit(buf, "%s\n", type->parent->mdev_driver->device_api);
}

static ssize_t name_show(struct mdev_type *type, char *buf)
{
	return sysfs_emit(buf, "%s\n", type->pretty_name ?: type->sysfs_name);
}

static ssize_t available_instances_show(struct mdev_type *type, char *buf)
{
	struct mdev_parent *parent = type->parent;
	struct mdev_driver *drv = parent->mdev_driver;
	unsigned int n;

	if (drv->get_available)
		n = drv->get_available(type);
	else
		n = atomic_read(&parent->available_instances);
	return sysfs_emit(buf, "%u\n", n);
}

static ssize_t description_show(struct mdev_type *type, char *buf)
{
	return type->parent->mdev_driver->show_description(type, buf);
}

static struct mdev_type_attr type_attr_create = __ATTR_WO(create);
static struct mdev_type_attr type_attr_device_api = __ATTR_RO(device_api);
static struct mdev_type_attr type_attr_name = __ATTR_RO(name);
static struct mdev_type_attr type_attr_available_instances =
	__ATTR_RO(available_instances);
static struct mdev_type_attr type_attr_description = __ATTR_RO(description);

static struct attribute *mdev_type_attrs[] = {
	&type_attr_create.attr,
	&type_attr_device_api.attr,
	&type_attr_name.attr,
	&type_attr_available_instances.attr,
	&type_attr_description.attr,
	NULL,
};

static umode_t mdev_type_attr_visible(struct kobject *kobj,
				      struct attribute *attr, int n)
{
	struct mdev_type *type = kobj_to_type(kobj);

	if (attr == &type_attr_description.attr &&
	    !type->parent->mdev_driver->show_description)
		return 0;
	return attr->mode;
}

static const struct attribute_group mdev_type_group = {
	.attrs = mdev_type_attrs,
	.is_visible = mdev_type_attr_visible,
};

static const struct attribute_group *mdev_type_groups[] = {
	&mdev_type_group,
	NULL,
};

/* The last reference to a type's directory is gone. */
static void mdev_type_release(struct kobject *kobj)
{
	struct mdev_type *type = kobj_to_type(kobj);

	/* The reference mdev_type_add() took on the parent's device. */
	put_device(type->parent->dev);
}

static const struct kobj_type mdev_type_ktype = {
	.sysfs_ops = &mdev_type_sysfs_ops,
	.release = mdev_type_release,
	.default_groups = mdev_type_groups,
};

static int mdev_type_add(struct mdev_parent *parent, struct mdev_type *type)
{
	int ret;

	type->parent = parent;
	type->kobj.kset = parent->mdev_types_kset;
	get_device(parent->dev);
	ret = kobject_init_and_add(&type->kobj, &mdev_type_ktype, NULL,
				   "%s-%s", dev_driver_string(parent->dev),
				   type->sysfs_name);
	if (ret)
		goto err_put;

	type->devices_kobj = kobject_create_and_add("devices", &type->kobj);
	if (!type->devices_kobj) {
		ret = -ENOMEM;
		goto err_del;
	}
	return 0;

err_del:
	kobject_del(&type->kobj);
err_put:
	kobject_put(&type->kobj);
	return ret;
}

/* Instances may keep the type's kobject (not its files) a while longer. */
static void mdev_type_del(struct mdev_type *type)
{
	kobject_put(type->devices_kobj);
	kobject_del(&type->kobj);
	kobject_put(&type->kobj);
}

/**
 * mdev_types_add - create mdev_supported_types and a directory per type
 * @parent: the parent being registered
 *
 * Return: 0 or a negative errno, with nothing left behind.
 */
int mdev_types_add(struct mdev_parent *parent)
{
	unsigned int i;
	int ret;

	parent->mdev_types_kset = kset_create_and_add("mdev_supported_types",
						      NULL, &parent->dev->kobj);
	if (!parent->mdev_types_kset)
		return -ENOMEM;

	for (i = 0; i < parent->nr_types; i++) {
		ret = mdev_type_add(parent, parent->types[i]);
		if (ret)
			goto err_undo;
	}
	return 0;

err_undo:
	while (i--)
		mdev_type_del(parent->types[i]);
	kset_unregister(parent->mdev_types_kset);
	return ret;
}

/**
 * mdev_types_del - remove what mdev_types_add() created
 * @parent: the parent being unregistered
 */
void mdev_types_del(struct mdev_parent *parent)
{
	unsigned int i;

	for (i = 0; i < parent->nr_types; i++)
		mdev_type_del(parent->types[i]);
	kset_unregister(parent->mdev_types_kset);
}

static ssize_t remove_store(struct device *dev, struct device_attribute *attr,
			    const char *buf, size_t count)
{
	unsigned long val;
	int ret;

	if (kstrtoul(buf, 0, &val) < 0)
		return -EINVAL;
	/*
	 * The file goes first, so that the write does not wait for itself
	 * when the device (and its files) are deleted; a writer that loses
	 * the race to another remove has nothing left to do.
	 */
	if (val && device_remove_file_self(dev, attr)) {
		ret = mdev_device_remove(to_mdev_device(dev));
		if (ret)
			return ret;
	}
	return count;
}
static DEVICE_ATTR_WO(remove);

static struct attribute *mdev_device_attrs[] = {
	&dev_attr_remove.attr,
	NULL,
};

static const struct attribute_group mdev_device_group = {
	.attrs = mdev_device_attrs,
};

const struct attribute_group *mdev_device_groups[] = {
	&mdev_device_group,
	NULL,
};

/**
 * mdev_links_add - link an instance and its type to each other
 * @mdev: an instance whose device has been added
 *
 * Return: 0 or a negative errno, with no link left behind.
 */
int mdev_links_add(struct mdev_device *mdev)
{
	struct kobject *kobj = &mdev->dev.kobj;
	int ret;

	ret = sysfs_create_link(mdev->type->devices_kobj, kobj,
				dev_name(&mdev->dev));
	if (ret)
		return ret;
	ret = sysfs_create_link(kobj, &mdev->type->kobj, "mdev_type");
	if (ret)
		sysfs_remove_link(mdev->type->devices_kobj,
				  dev_name(&mdev->dev));
	return ret;
}

/**
 * mdev_links_del - remove what mdev_links_add() created
 * @mdev: the instance
 */
void mdev_links_del(struct mdev_device *mdev)
{
	sysfs_remove_link(&mdev->dev.kobj, "mdev_type");
	sysfs_remove_link(mdev->type->devices_kobj, dev_name(&mdev->dev));
}
