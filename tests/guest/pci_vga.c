// SPDX-License-Identifier: GPL-2.0-only
// harness: machine=q35-sriov timeout=180 feature=pci
/*
 * The VGA region of vfio-pci (VFIO_PCI_VGA_REGION_INDEX) on QEMU's
 * standard VGA adapter: the legacy memory at 0xa0000-0xbffff and the I/O
 * ports 0x3b0-0x3bb and 0x3c0-0x3df, at their own addresses within the
 * region; nothing else. vfio-pci's disable_vga (read at load) hides it.
 */
#include "kselftest_harness.h"
#include "pci_test.h"

#define VGA_VENDOR	0x1234
#define VGA_DEVICE	0x1111
#define VGA_OFF(a)	(((uint64_t)VFIO_PCI_VGA_REGION_INDEX << 40) + (a))
#define SEQ_INDEX	0x3c4	/* VGA sequencer index register */

FIXTURE(vga) {
	struct vfio_user u;
	bool type1;
};

FIXTURE_SETUP(vga)
{
	ASSERT_EQ(0, pci_user_open(&self->u, &self->type1, VGA_VENDOR,
				   VGA_DEVICE)) TH_LOG("VGA: %m");
}

FIXTURE_TEARDOWN(vga)
{
	pci_user_close(&self->u, &self->type1);
}

TEST_F(vga, region_info)
{
	struct vfio_device_info dev = { .argsz = sizeof(dev) };
	struct vfio_region_info info = { .argsz = sizeof(info),
					 .index = VFIO_PCI_VGA_REGION_INDEX };

	ASSERT_EQ(0, ioctl(self->u.device, VFIO_DEVICE_GET_INFO, &dev));
	EXPECT_LE(VFIO_PCI_NUM_REGIONS, dev.num_regions);
	ASSERT_EQ(0, ioctl(self->u.device, VFIO_DEVICE_GET_REGION_INFO, &info));
	EXPECT_EQ(0xc0000, info.size);
	EXPECT_EQ(VGA_OFF(0), info.offset);
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
		  info.flags);
}

/* A VGA register through the region: the sequencer index reads back. */
TEST_F(vga, io_ports)
{
	uint8_t v = 0x02, back = 0;

	ASSERT_EQ(1, pwrite(self->u.device, &v, 1, VGA_OFF(SEQ_INDEX)));
	ASSERT_EQ(1, pread(self->u.device, &back, 1, VGA_OFF(SEQ_INDEX)));
	EXPECT_EQ(0x02, back & 0x07);
	v = 0x04;
	ASSERT_EQ(1, pwrite(self->u.device, &v, 1, VGA_OFF(SEQ_INDEX)));
	ASSERT_EQ(1, pread(self->u.device, &back, 1, VGA_OFF(SEQ_INDEX)));
	EXPECT_EQ(0x04, back & 0x07);
}

/* Accesses stop at the end of the range they start in. */
TEST_F(vga, ranges)
{
	uint8_t buf[64];

	EXPECT_EQ(4, pread(self->u.device, buf, 4, VGA_OFF(0xa0000)));
	EXPECT_EQ(4, pread(self->u.device, buf, 64, VGA_OFF(0x3b8)));
	EXPECT_EQ(2, pread(self->u.device, buf, 64, VGA_OFF(0x3de)));
	EXPECT_EQ(16, pread(self->u.device, buf, 16, VGA_OFF(0xbfff0)));
	EXPECT_EQ(-1, pread(self->u.device, buf, 1, VGA_OFF(0x3bc)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(self->u.device, buf, 1, VGA_OFF(0x400)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(self->u.device, buf, 1, VGA_OFF(0xc0000)));
	EXPECT_EQ(EINVAL, errno);
}

/* disable_vga=1: no VGA region. */
TEST(disable_vga)
{
	struct vfio_region_info info = { .argsz = sizeof(info),
					 .index = VFIO_PCI_VGA_REGION_INDEX };
	struct vfio_user u;
	bool type1 = false;
	uint8_t b;

	ASSERT_EQ(0, reload_vfio_pci("disable_vga=1"));
	ASSERT_EQ(0, pci_user_open(&u, &type1, VGA_VENDOR, VGA_DEVICE));
	EXPECT_EQ(EINVAL, ioctl_errno(u.device, VFIO_DEVICE_GET_REGION_INFO,
				      &info));
	EXPECT_EQ(-1, pread(u.device, &b, 1, VGA_OFF(SEQ_INDEX)));
	EXPECT_EQ(EINVAL, errno);
	pci_user_close(&u, &type1);
	EXPECT_EQ(0, reload_vfio_pci(""));
}

TEST_HARNESS_MAIN
