// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO core: module life cycle.
 */
#include <linux/module.h>

#include "vfio.h"

static int __init vfio_init(void)
{
	return vfio_container_init();
}

static void __exit vfio_cleanup(void)
{
	vfio_container_cleanup();
}

module_init(vfio_init);
module_exit(vfio_cleanup);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO core (clean-room)");
