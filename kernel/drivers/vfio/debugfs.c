// SPDX-License-Identifier: GPL-2.0-only
/*
 * debugfs: vfio/<device>/ for every registered device, named after the
 * parent device (a PCI address, an mdev UUID), and in it
 * migration/state for a device with migration support: its current
 * migration state by name, one line, as the driver reports it.
 *
 * The directories live from registration to unregistration; removing
 * them waits for readers inside a file operation, so a read never sees a
 * device whose driver is gone.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "vfio.h"

/* vfio/ at the debugfs root; set at module init, cleared at exit. */
static struct dentry *vfio_debugfs_root;

static const char *vfio_mig_state_name(enum vfio_device_mig_state state)
{
	static const char * const names[VFIO_DEVICE_STATE_NR] = {
		[VFIO_DEVICE_STATE_ERROR] = "ERROR",
		[VFIO_DEVICE_STATE_STOP] = "STOP",
		[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
		[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
		[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
		[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
		[VFIO_DEVICE_STATE_PRE_COPY] = "PRE_COPY",
		[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "PRE_COPY_P2P",
	};

	if ((unsigned int)state >= ARRAY_SIZE(names))
		return "Invalid";
	return names[state];
}

static int vfio_debugfs_mig_state_show(struct seq_file *seq, void *unused)
{
	struct vfio_device *device = seq->private;
	enum vfio_device_mig_state state;

	if (device->mig_ops->migration_get_state(device, &state))
		return -EINVAL;
	seq_printf(seq, "%s\n", vfio_mig_state_name(state));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vfio_debugfs_mig_state);

/**
 * vfio_device_debugfs_init - create a registering device's directory
 * @device: the device
 *
 * Failures are not fatal: debugfs is a debugging aid.
 */
void vfio_device_debugfs_init(struct vfio_device *device)
{
	struct dentry *migration;

	device->debug_root = debugfs_create_dir(dev_name(device->dev),
						vfio_debugfs_root);
	if (!device->mig_ops)
		return;
	migration = debugfs_create_dir("migration", device->debug_root);
	debugfs_create_file("state", 0444, migration, device,
			    &vfio_debugfs_mig_state_fops);
}

/**
 * vfio_device_debugfs_exit - remove an unregistering device's directory
 * @device: the device
 */
void vfio_device_debugfs_exit(struct vfio_device *device)
{
	debugfs_remove_recursive(device->debug_root);
	device->debug_root = NULL;
}

/** vfio_debugfs_create_root - create vfio/ at module init */
void vfio_debugfs_create_root(void)
{
	vfio_debugfs_root = debugfs_create_dir("vfio", NULL);
}

/** vfio_debugfs_remove_root - remove vfio/ at module exit */
void vfio_debugfs_remove_root(void)
{
	debugfs_remove_recursive(vfio_debugfs_root);
	vfio_debugfs_root = NULL;
}
