// SPDX-License-Identifier: GPL-2.0-only
// harness: feature=hotunplug
/*
 * A VFIO user that holds edu and listens for the device request (REQ)
 * eventfd: what vfio-pci signals when the kernel wants the device back,
 * e.g. for a hot unplug.
 *
 * Run normally, the case registers the REQ eventfd, checks that nothing
 * has asked for the device, and lets go. With UNPLUG_HOLDER_WAIT=SECONDS
 * in the environment (tests/test_hotunplug.py), it prints "HOLDING" once
 * the eventfd is registered, waits up to SECONDS for the request, prints
 * "REQ" when it comes, and closes everything so the unplug can finish.
 */
#include <poll.h>
#include <sys/eventfd.h>

#include "edu.h"
#include "irqs.h"
#include "kselftest_harness.h"

static int req_trigger(int device, int efd)
{
	return vfio_set_irqs(device, VFIO_PCI_REQ_IRQ_INDEX,
			     VFIO_IRQ_SET_DATA_EVENTFD |
			     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &efd);
}

FIXTURE(holder) {
	struct edu edu;
	int efd;
};

FIXTURE_SETUP(holder)
{
	self->efd = -1;
	ASSERT_EQ(0, edu_open(&self->edu)) TH_LOG("edu via vfio: %m");
	self->efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(holder)
{
	if (self->efd >= 0)
		close(self->efd);
	vfio_user_close(&self->edu.u);
}

TEST_F_TIMEOUT(holder, req, 120)
{
	const char *wait = getenv("UNPLUG_HOLDER_WAIT");

	ASSERT_EQ(0, req_trigger(self->edu.u.device, self->efd));
	if (!wait) {
		/* Nobody wants the device back. */
		EXPECT_EQ(0, wait_eventfd(self->efd, 0));
		return;
	}
	printf("HOLDING\n");
	fflush(stdout);
	ASSERT_LE(1, wait_eventfd(self->efd, atoi(wait) * 1000))
		TH_LOG("no device request within %s s", wait);
	printf("REQ\n");
	fflush(stdout);
	/* The teardown closes the eventfd and the device: unplug goes on. */
}

TEST_HARNESS_MAIN
