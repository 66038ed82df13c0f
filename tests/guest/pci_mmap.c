// SPDX-License-Identifier: GPL-2.0-only
/*
 * mmap() of BARs through the vfio-pci device fd: edu's BAR0 works through
 * the mapping as through pread()/pwrite(); the mappings that are not
 * allowed fail with EINVAL; and the mapping is revoked (SIGBUS) while
 * memory decode is off, then comes back when it is turned on again, or
 * after a reset.
 */
// harness: machine=q35-intel timeout=120 feature=pci
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include <linux/pci_regs.h>

#include "edu.h"
#include "kselftest_harness.h"

#define PAGE		4096
#define EDU_ID_VALUE	0x010000edU

FIXTURE(mmap) {
	struct edu edu;
	struct vfio_region_info bar0;
	volatile uint32_t *regs;
};

FIXTURE_SETUP(mmap)
{
	self->regs = MAP_FAILED;
	ASSERT_EQ(0, edu_open(&self->edu)) TH_LOG("edu via vfio: %m");
	ASSERT_EQ(0, edu_command_set(&self->edu, PCI_COMMAND_MEMORY));
	self->bar0.argsz = sizeof(self->bar0);
	self->bar0.index = VFIO_PCI_BAR0_REGION_INDEX;
	ASSERT_EQ(0, ioctl_errno(self->edu.u.device,
				 VFIO_DEVICE_GET_REGION_INFO, &self->bar0));
	ASSERT_TRUE(!!(self->bar0.flags & VFIO_REGION_INFO_FLAG_MMAP));
}

FIXTURE_TEARDOWN(mmap)
{
	if (self->regs != MAP_FAILED)
		munmap((void *)self->regs, self->bar0.size);
	vfio_user_close(&self->edu.u);
}

static volatile uint32_t *map_bar0(FIXTURE_DATA(mmap) *self)
{
	self->regs = mmap(NULL, self->bar0.size, PROT_READ | PROT_WRITE,
			  MAP_SHARED, self->edu.u.device, self->bar0.offset);
	return self->regs;
}

/* Write the command register through the config region. */
static int command_write(struct edu *edu, uint16_t cmd)
{
	return pwrite(edu->u.device, &cmd, 2, edu->config + PCI_COMMAND) == 2 ?
	       0 : -errno;
}

static uint16_t command_read(struct edu *edu)
{
	uint16_t cmd = 0xdead;

	if (pread(edu->u.device, &cmd, 2, edu->config + PCI_COMMAND) != 2)
		return 0xdead;
	return cmd;
}

/*
 * Read @reg in a child: its exit status is the value's low byte, or it
 * dies of the signal the access raised. Returns the wait() status.
 */
static int touch_in_child(volatile uint32_t *regs)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0)
		_exit(regs[EDU_ID / 4] & 0xff);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static bool died_of_sigbus(int status)
{
	return status != -1 && WIFSIGNALED(status) &&
	       WTERMSIG(status) == SIGBUS;
}

static bool read_id(int status)
{
	return status != -1 && WIFEXITED(status) &&
	       WEXITSTATUS(status) == (EDU_ID_VALUE & 0xff);
}

TEST_F(mmap, registers_through_the_mapping)
{
	volatile uint32_t *regs = map_bar0(self);
	int i;

	ASSERT_NE(MAP_FAILED, regs) TH_LOG("mmap BAR0: %m");
	EXPECT_EQ(EDU_ID_VALUE, regs[EDU_ID / 4]);
	regs[EDU_LIVENESS / 4] = 0x12345678;
	EXPECT_EQ(~0x12345678u, regs[EDU_LIVENESS / 4]);
	/* The same register seen through pread(). */
	EXPECT_EQ(~0x12345678u, edu_read32(&self->edu, EDU_LIVENESS));

	regs[EDU_FACTORIAL / 4] = 5;
	for (i = 0; i < 5000 && regs[EDU_STATUS / 4] & EDU_STATUS_COMPUTING;
	     i++)
		usleep(1000);
	EXPECT_EQ(120u, regs[EDU_FACTORIAL / 4]);
}

/* A mapping of part of the BAR, at a page offset inside it. */
TEST_F(mmap, partial_mapping)
{
	volatile uint32_t *page;

	page = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->edu.u.device,
		    self->bar0.offset);
	ASSERT_NE(MAP_FAILED, page);
	EXPECT_EQ(EDU_ID_VALUE, page[EDU_ID / 4]);
	munmap((void *)page, PAGE);

	/* Writes through it reach the device: edu's DMA source address. */
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		    self->edu.u.device, self->bar0.offset);
	ASSERT_NE(MAP_FAILED, page);
	page[EDU_DMA_SRC / 4] = 0xcafef000;
	EXPECT_EQ(0xcafef000u, edu_read32(&self->edu, EDU_DMA_SRC));
	munmap((void *)page, PAGE);

	/* The second page: the same as pread() sees there. */
	page = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->edu.u.device,
		    self->bar0.offset + PAGE);
	ASSERT_NE(MAP_FAILED, page);
	EXPECT_EQ(edu_read32(&self->edu, PAGE + 0x10), page[0x10 / 4]);
	munmap((void *)page, PAGE);
}

TEST_F(mmap, refused_mappings)
{
	int fd = self->edu.u.device;
	long long config = self->edu.config;
	long long rom = vfio_region_offset(fd, VFIO_PCI_ROM_REGION_INDEX);
	void *p;

	/* Private mappings. */
	p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, self->bar0.offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* Past the end of the BAR, or straddling it. */
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd,
		 self->bar0.offset + self->bar0.size);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd,
		 self->bar0.offset + self->bar0.size - PAGE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* BAR1 (not implemented by edu), the ROM and config space. */
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd,
		 vfio_region_offset(fd, VFIO_PCI_BAR1_REGION_INDEX));
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	ASSERT_LE(0, rom);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, rom);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, config);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* Region indexes past the last one. */
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 20ULL << 40);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

/* Decode off: the mapping faults (SIGBUS); decode on: it works again. */
TEST_F(mmap, memory_decode_off_revokes)
{
	volatile uint32_t *regs = map_bar0(self);
	uint16_t cmd;

	ASSERT_NE(MAP_FAILED, regs);
	EXPECT_EQ(EDU_ID_VALUE, regs[EDU_ID / 4]);
	EXPECT_TRUE(read_id(touch_in_child(regs)));

	cmd = command_read(&self->edu);
	ASSERT_NE(0xdead, cmd);
	ASSERT_EQ(0, command_write(&self->edu, cmd & ~PCI_COMMAND_MEMORY));
	EXPECT_TRUE(died_of_sigbus(touch_in_child(regs)));
	/* read() is refused too. */
	EXPECT_EQ(~0u, edu_read32(&self->edu, EDU_ID));

	ASSERT_EQ(0, command_write(&self->edu, cmd | PCI_COMMAND_MEMORY));
	EXPECT_TRUE(read_id(touch_in_child(regs)));
	EXPECT_EQ(EDU_ID_VALUE, regs[EDU_ID / 4]);
}

/* VFIO_DEVICE_RESET takes the mapping away; the next access faults in. */
TEST_F(mmap, reset_revokes_then_restores)
{
	volatile uint32_t *regs = map_bar0(self);

	ASSERT_NE(MAP_FAILED, regs);
	EXPECT_EQ(EDU_ID_VALUE, regs[EDU_ID / 4]);
	ASSERT_EQ(0, ioctl_errno(self->edu.u.device, VFIO_DEVICE_RESET, NULL));
	EXPECT_TRUE(read_id(touch_in_child(regs)));
	EXPECT_EQ(EDU_ID_VALUE, regs[EDU_ID / 4]);
	regs[EDU_LIVENESS / 4] = 0x5a5a0000;
	EXPECT_EQ(~0x5a5a0000u, regs[EDU_LIVENESS / 4]);
}

/* A mapping outlives the device fd; the device is released on munmap. */
TEST_F(mmap, mapping_outlives_fd)
{
	volatile uint32_t *regs = map_bar0(self);

	ASSERT_NE(MAP_FAILED, regs);
	close(self->edu.u.device);
	self->edu.u.device = -1;
	EXPECT_EQ(EDU_ID_VALUE, regs[EDU_ID / 4]);
}

TEST_HARNESS_MAIN
