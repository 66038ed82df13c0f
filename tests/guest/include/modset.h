/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which VFIO module set the guest has loaded, for the few cases whose
 * expected answer differs on purpose (each such difference is written
 * down beside the test that uses this). images/vfio-modset records the
 * set's name when it loads one.
 */
#ifndef VFIO_TEST_MODSET_H
#define VFIO_TEST_MODSET_H

#include <stdio.h>
#include <string.h>

#define MODSET_NAME_FILE	"/run/vfio-modset.name"

/* True when the loaded set is @name ("ours" or "upstream"). */
static inline int modset_is(const char *name)
{
	char set[32] = "";
	FILE *f = fopen(MODSET_NAME_FILE, "r");

	if (f) {
		if (!fgets(set, sizeof(set), f))
			set[0] = 0;
		fclose(f);
	}
	set[strcspn(set, "\n")] = 0;
	return strcmp(set, name) == 0;
}

#endif
