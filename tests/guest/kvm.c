// SPDX-License-Identifier: GPL-2.0-only
// harness: timeout=180 feature=kvm
/*
 * The KVM file API with a real KVM in the guest: the KVM-VFIO device
 * (KVM_DEV_TYPE_VFIO) asks vfio whether a file is a VFIO group or device
 * file (vfio_file_is_valid) and hands it the VM (vfio_file_set_kvm); a
 * device opened while its file is associated holds a reference on the
 * VM until it closes. That reference is visible to the user: the VM's
 * debugfs directory, /sys/kernel/debug/kvm/<pid>-<vm fd>, outlives
 * close() of every KVM fd while the device stays open.
 *
 * Needs a guest CPU with SVM (QEMU's TCG "-cpu max" offers it with NPT):
 * without it kvm_amd does not load and the tests skip.
 */
#include <sys/stat.h>
#include <linux/kvm.h>

#include "iommufd_test.h"
#include "kselftest_harness.h"

/* The VM and its KVM-VFIO device; -1 when not open. */
struct kvm_vfio {
	int kvm;
	int vm;
	int dev;
	char debugfs[96];
};

/* Load kvm_amd and create a VM with a KVM-VFIO device. */
static int kvm_vfio_create(struct kvm_vfio *k)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };

	k->kvm = k->vm = k->dev = -1;
	if (access("/dev/kvm", F_OK) &&
	    system("modprobe kvm_amd 2>/dev/null"))
		return -ENODEV;
	k->kvm = open("/dev/kvm", O_RDWR);
	if (k->kvm < 0)
		return -errno;
	k->vm = ioctl(k->kvm, KVM_CREATE_VM, 0);
	if (k->vm < 0)
		return -errno;
	snprintf(k->debugfs, sizeof(k->debugfs), "/sys/kernel/debug/kvm/%d-%d",
		 getpid(), k->vm);
	if (ioctl(k->vm, KVM_CREATE_DEVICE, &cd))
		return -errno;
	k->dev = cd.fd;
	return 0;
}

/* Close every KVM fd; the VM lives on while something holds it. */
static void kvm_vfio_close(struct kvm_vfio *k)
{
	if (k->dev >= 0)
		close(k->dev);
	if (k->vm >= 0)
		close(k->vm);
	if (k->kvm >= 0)
		close(k->kvm);
	k->kvm = k->vm = k->dev = -1;
}

static bool vm_alive(struct kvm_vfio *k)
{
	return !access(k->debugfs, F_OK);
}

/* KVM_DEV_VFIO_FILE_ADD or _DEL of @fd: 0 or the errno. */
static int kvm_vfio_file(struct kvm_vfio *k, uint64_t op, int fd)
{
	int32_t value = fd;
	struct kvm_device_attr attr = {
		.group = KVM_DEV_VFIO_FILE, .attr = op,
		.addr = (uintptr_t)&value,
	};

	return ioctl_errno(k->dev, KVM_SET_DEVICE_ATTR, &attr);
}

FIXTURE(kvm) {
	struct kvm_vfio k;
	struct vfio_user u;
};

FIXTURE_SETUP(kvm)
{
	int ret = kvm_vfio_create(&self->k);

	vfio_user_init(&self->u);
	if (ret == -ENODEV)
		SKIP(return, "no /dev/kvm: the guest CPU lacks SVM (QEMU -cpu max under TCG offers it)");
	ASSERT_EQ(0, ret) TH_LOG("creating the VM and its VFIO device: %s",
				 strerror(-ret));
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->u.bdf));
	ASSERT_EQ(0, pci_bind(self->u.bdf, "vfio-pci"));
	self->u.group_id = pci_iommu_group(self->u.bdf);
	ASSERT_LE(0, self->u.group_id);
	self->u.group = vfio_group_open(self->u.group_id);
	ASSERT_LE(0, self->u.group);
}

FIXTURE_TEARDOWN(kvm)
{
	vfio_user_close(&self->u);
	kvm_vfio_close(&self->k);
}

/* Give the group a type1 container, ready for GET_DEVICE_FD. */
static int group_ready(struct vfio_user *u)
{
	u->container = open(VFIO_CONTAINER_PATH, O_RDWR);
	if (u->container < 0)
		return -errno;
	if (ioctl(u->group, VFIO_GROUP_SET_CONTAINER, &u->container) ||
	    ioctl(u->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -errno;
	return 0;
}

TEST_F(kvm, file_add_del_group)
{
	EXPECT_EQ(0, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_ADD,
				   self->u.group));
	EXPECT_EQ(EEXIST, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_ADD,
					self->u.group));
	EXPECT_EQ(0, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_DEL,
				   self->u.group));
	EXPECT_EQ(ENOENT, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_DEL,
					self->u.group));
	/* Added again after a delete. */
	EXPECT_EQ(0, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_ADD,
				   self->u.group));
}

/* vfio_file_is_valid() says no: KVM answers EINVAL. */
TEST_F(kvm, file_add_not_vfio)
{
	int null = open("/dev/null", O_RDWR);
	int container = open(VFIO_CONTAINER_PATH, O_RDWR);

	ASSERT_LE(0, null);
	ASSERT_LE(0, container);
	EXPECT_EQ(EINVAL, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_ADD, null));
	/* A container is a VFIO file, but not a group or a device. */
	EXPECT_EQ(EINVAL, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_ADD,
					container));
	EXPECT_EQ(ENOENT, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_DEL, null));
	close(container);
	close(null);
}

TEST_F(kvm, file_add_closed_fd)
{
	int fd = dup(self->u.group);

	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(EBADF, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_ADD, fd));
	EXPECT_EQ(EBADF, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_DEL, fd));
}

/* KVM keeps the group file it was given: closing ours changes nothing. */
TEST_F(kvm, group_closed_after_add)
{
	int again;

	ASSERT_EQ(0, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_ADD,
				   self->u.group));
	close(self->u.group);
	self->u.group = -1;
	/* The group is still held (by KVM): a second open is busy. */
	again = vfio_group_open(self->u.group_id);
	EXPECT_EQ(-1, again);
	EXPECT_EQ(EBUSY, errno);
	if (again >= 0)
		close(again);
}

/* A device opened while the group is associated holds the VM. */
TEST_F(kvm, device_holds_vm)
{
	int device;

	ASSERT_EQ(0, group_ready(&self->u));
	ASSERT_EQ(0, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_ADD,
				   self->u.group));
	device = ioctl(self->u.group, VFIO_GROUP_GET_DEVICE_FD, self->u.bdf);
	ASSERT_LE(0, device);
	ASSERT_TRUE(vm_alive(&self->k)) TH_LOG("%s", self->k.debugfs);
	kvm_vfio_close(&self->k);
	EXPECT_TRUE(vm_alive(&self->k));
	close(device);
	EXPECT_FALSE(vm_alive(&self->k));
}

/* One opened after FILE_DEL does not. */
TEST_F(kvm, device_after_del_does_not_hold_vm)
{
	int device;

	ASSERT_EQ(0, group_ready(&self->u));
	ASSERT_EQ(0, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_ADD,
				   self->u.group));
	ASSERT_EQ(0, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_DEL,
				   self->u.group));
	device = ioctl(self->u.group, VFIO_GROUP_GET_DEVICE_FD, self->u.bdf);
	ASSERT_LE(0, device);
	ASSERT_TRUE(vm_alive(&self->k));
	kvm_vfio_close(&self->k);
	EXPECT_FALSE(vm_alive(&self->k));
	close(device);
}

/*
 * Give up the group (the cdev and the group exclude each other) and open
 * the device's cdev and an iommufd: 0 or -errno.
 */
static int cdev_instead_of_group(struct vfio_user *u, int *cdev,
				 int *iommufd)
{
	char path[64];
	int ret;

	close(u->group);
	u->group = -1;
	ret = cdev_path(u->bdf, path);
	if (ret)
		return ret;
	*cdev = open(path, O_RDWR);
	if (*cdev < 0)
		return -errno;
	*iommufd = open(IOMMUFD_PATH, O_RDWR);
	return *iommufd < 0 ? -errno : 0;
}

/* The cdev file, unbound then bound, and the VM reaching its device. */
TEST_F(kvm, cdev_file)
{
	int cdev = -1, iommufd = -1;
	uint32_t ioas;

	ASSERT_EQ(0, cdev_instead_of_group(&self->u, &cdev, &iommufd));

	EXPECT_EQ(0, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_ADD, cdev));
	EXPECT_EQ(EEXIST, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_ADD, cdev));
	ASSERT_EQ(0, bind_iommufd(cdev, iommufd, NULL));
	ASSERT_EQ(0, ioas_alloc(iommufd, &ioas));
	ASSERT_EQ(0, attach_pt(cdev, &ioas));
	/* Bound after the add: the open took the VM. */
	kvm_vfio_close(&self->k);
	EXPECT_TRUE(vm_alive(&self->k));
	close(cdev);
	EXPECT_FALSE(vm_alive(&self->k));
	close(iommufd);
}

/* A bound cdev may be added too; the device, already open, holds nothing. */
TEST_F(kvm, cdev_file_bound_before_add)
{
	int cdev = -1, iommufd = -1;

	ASSERT_EQ(0, cdev_instead_of_group(&self->u, &cdev, &iommufd));
	ASSERT_EQ(0, bind_iommufd(cdev, iommufd, NULL));
	EXPECT_EQ(0, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_ADD, cdev));
	EXPECT_EQ(0, kvm_vfio_file(&self->k, KVM_DEV_VFIO_FILE_DEL, cdev));
	kvm_vfio_close(&self->k);
	EXPECT_FALSE(vm_alive(&self->k));
	close(cdev);
	close(iommufd);
}

TEST_HARNESS_MAIN
