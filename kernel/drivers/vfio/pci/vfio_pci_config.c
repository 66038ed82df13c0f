// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO PCI: config space virtualization.
 *
 * The user's view of config space is described per byte by three tables
 * built when the device is opened:
 *
 *   vconfig    the virtual values;
 *   cfg_virt   bits served from vconfig instead of the hardware;
 *   cfg_write  bits the user may change: virtual ones change vconfig,
 *              the others change the hardware (read-modify-write).
 *
 * A fourth, cfg_owner, names the structure (header or capability) each
 * byte belongs to, so that an access never reaches the hardware across
 * two structures, and lets hooks find a capability's start. Bytes that
 * no structure claims pass straight through: some devices keep private
 * registers between their capabilities.
 *
 * Each kind of structure (the header, each capability ID, each extended
 * capability ID) has one entry in the tables below, struct vfio_pci_cap:
 * its length, the permissions of its registers and, for registers that
 * need more than masking (command, BARs, MSI flags, power state,
 * function resets), its access hooks. A capability without an entry is
 * hidden from the user.
 */

#include <linux/bitfield.h>
#include <linux/pci.h>
#include <linux/uaccess.h>

#include "vfio_pci_priv.h"

#define CFG_ALL		0xffffffffU
#define CFG_NONE	0

/* The first and last byte of the virtual BARs, ROM BAR included. */
#define BAR_FIRST	PCI_BASE_ADDRESS_0
#define BAR_LAST	(PCI_BASE_ADDRESS_5 + 3)
#define ROM_FIRST	PCI_ROM_ADDRESS
#define ROM_LAST	(PCI_ROM_ADDRESS + 3)

/* Do [pos, pos + len) and [start, start + size) overlap? */
static bool cfg_overlaps(int pos, int len, int start, int size)
{
	return pos < start + size && start < pos + len;
}

/* Set the virt and write masks of a 1, 2 or 4 byte field. */
static void cfg_perm(struct vfio_pci_core_device *vdev, int pos, int len,
		     u32 virt, u32 write)
{
	int i;

	for (i = 0; i < len; i++) {
		vdev->cfg_virt[pos + i] = virt >> (8 * i);
		vdev->cfg_write[pos + i] = write >> (8 * i);
	}
}

/* Little-endian value of @len bytes of a table. */
static u32 cfg_get(const u8 *table, int pos, int len)
{
	u32 val = 0;
	int i;

	for (i = 0; i < len; i++)
		val |= (u32)table[pos + i] << (8 * i);
	return val;
}

static void cfg_put(u8 *table, int pos, int len, u32 val)
{
	int i;

	for (i = 0; i < len; i++)
		table[pos + i] = val >> (8 * i);
}

static int cfg_hw_read(struct pci_dev *pdev, int pos, int len, u32 *val)
{
	u16 word;
	u8 byte;
	int ret;

	switch (len) {
	case 4:
		return pci_user_read_config_dword(pdev, pos, val);
	case 2:
		ret = pci_user_read_config_word(pdev, pos, &word);
		*val = word;
		return ret;
	default:
		ret = pci_user_read_config_byte(pdev, pos, &byte);
		*val = byte;
		return ret;
	}
}

static int cfg_hw_write(struct pci_dev *pdev, int pos, int len, u32 val)
{
	switch (len) {
	case 4:
		return pci_user_write_config_dword(pdev, pos, val);
	case 2:
		return pci_user_write_config_word(pdev, pos, val);
	default:
		return pci_user_write_config_byte(pdev, pos, val);
	}
}

/* Copy @len bytes at @pos from the hardware into vconfig. */
static int cfg_fill(struct vfio_pci_core_device *vdev, int pos, int len)
{
	while (len) {
		int n = (len >= 4 && !(pos % 4)) ? 4 :
			(len >= 2 && !(pos % 2)) ? 2 : 1;
		u32 val;
		int ret;

		ret = cfg_hw_read(vdev->pdev, pos, n, &val);
		if (ret)
			return ret;
		cfg_put(vdev->vconfig, pos, n, val);
		pos += n;
		len -= n;
	}
	return 0;
}

/* The type bits a BAR of this resource reads back with. */
static u32 vfio_pci_bar_type_bits(struct pci_dev *pdev, int bar)
{
	unsigned long flags = pci_resource_flags(pdev, bar);
	u32 bits;

	if (flags & IORESOURCE_IO)
		return PCI_BASE_ADDRESS_SPACE_IO;
	bits = PCI_BASE_ADDRESS_SPACE_MEMORY;
	if (flags & IORESOURCE_PREFETCH)
		bits |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	if (flags & IORESOURCE_MEM_64)
		bits |= PCI_BASE_ADDRESS_MEM_TYPE_64;
	return bits;
}

/*
 * Make the virtual BARs behave like hardware after the user wrote them:
 * only address bits the BAR's size allows survive, the type bits are
 * fixed, and BARs the host did not assign read as unimplemented (0).
 * This is what makes sizing (write all-ones, read back) work.
 */
static void vfio_pci_bar_fixup(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int i, pos;
	u64 mask;
	u32 val;

	if (!vdev->bardirty)
		return;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		pos = PCI_BASE_ADDRESS_0 + 4 * i;
		if (!pci_resource_start(pdev, i)) {
			cfg_put(vdev->vconfig, pos, 4, 0);
			continue;
		}
		mask = ~(u64)(pci_resource_len(pdev, i) - 1);
		val = cfg_get(vdev->vconfig, pos, 4) & (u32)mask;
		val |= vfio_pci_bar_type_bits(pdev, i);
		cfg_put(vdev->vconfig, pos, 4, val);
		if ((val & PCI_BASE_ADDRESS_SPACE) ==
		    PCI_BASE_ADDRESS_SPACE_MEMORY &&
		    (val & PCI_BASE_ADDRESS_MEM_TYPE_64) &&
		    i + 1 < PCI_STD_NUM_BARS) {
			/* The upper half of a 64-bit BAR. */
			i++;
			pos += 4;
			val = cfg_get(vdev->vconfig, pos, 4) & (u32)(mask >> 32);
			cfg_put(vdev->vconfig, pos, 4, val);
		}
	}

	if (pci_resource_start(pdev, PCI_ROM_RESOURCE))
		mask = ~(u64)(pci_resource_len(pdev, PCI_ROM_RESOURCE) - 1);
	else if (pdev->resource[PCI_ROM_RESOURCE].flags & IORESOURCE_ROM_SHADOW)
		mask = ~(u64)(0x20000 - 1);	/* the legacy 128 KiB shadow */
	else
		mask = 0;
	if (mask)
		mask |= PCI_ROM_ADDRESS_ENABLE;
	val = cfg_get(vdev->vconfig, PCI_ROM_ADDRESS, 4) & (u32)mask;
	cfg_put(vdev->vconfig, PCI_ROM_ADDRESS, 4, val);

	vdev->bardirty = false;
}

/* Do the hardware BARs still hold what the host assigned? */
static bool vfio_pci_bars_lost(struct vfio_pci_core_device *vdev)
{
	u32 val;
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		if (!vdev->rbar[i])
			continue;
		if (pci_user_read_config_dword(vdev->pdev,
					       PCI_BASE_ADDRESS_0 + 4 * i,
					       &val) || val != vdev->rbar[i])
			return true;
	}
	return false;
}

/* Put back the host's BARs after the device was reset behind our back. */
static void vfio_pci_bars_restore(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int i;

	if (pdev->is_virtfn)
		return;

	pci_info(pdev, "restoring BARs after an unexpected reset\n");
	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		pci_user_write_config_dword(pdev, PCI_BASE_ADDRESS_0 + 4 * i,
					    vdev->rbar[i]);
	pci_user_write_config_dword(pdev, PCI_ROM_ADDRESS,
				    vdev->rbar[PCI_STD_NUM_BARS]);
}

/*
 * After the user wrote the MSI flags: MSI is only enabled through
 * VFIO_DEVICE_SET_IRQS, and the vectors enabled cannot exceed those set
 * up; the result goes to the hardware as well.
 */
static int vfio_pci_msi_flags_written(struct vfio_pci_core_device *vdev,
				      int pos)
{
	u16 flags = cfg_get(vdev->vconfig, pos, 2);

	if (vdev->irq_type != VFIO_PCI_MSI_IRQ_INDEX)
		flags &= ~PCI_MSI_FLAGS_ENABLE;
	if (FIELD_GET(PCI_MSI_FLAGS_QSIZE, flags) > vdev->msi_qmax) {
		flags &= ~PCI_MSI_FLAGS_QSIZE;
		flags |= FIELD_PREP(PCI_MSI_FLAGS_QSIZE, vdev->msi_qmax);
	}
	cfg_put(vdev->vconfig, pos, 2, flags);
	return pci_user_write_config_word(vdev->pdev, pos, flags);
}

/*
 * One access of 1, 2 or 4 aligned bytes inside one structure, as its
 * permissions say: virtual bits from vconfig, the others from the
 * hardware.
 */
static int cfg_read_masked(struct vfio_pci_core_device *vdev, int pos, int len,
			   u32 *val)
{
	u32 all = len == 4 ? CFG_ALL : (1U << (8 * len)) - 1;
	u32 virt, hw;
	int ret;

	*val = cfg_get(vdev->vconfig, pos, len);
	virt = cfg_get(vdev->cfg_virt, pos, len);
	if (virt == all)
		return 0;

	ret = cfg_hw_read(vdev->pdev, pos, len, &hw);
	if (ret)
		return ret;
	*val = (*val & virt) | (hw & ~virt);
	return 0;
}

/*
 * The same for a write: writable virtual bits change vconfig, writable
 * hardware bits are read, modified and written back; bytes no structure
 * claims pass through as they are.
 */
static int cfg_write_masked(struct vfio_pci_core_device *vdev, int pos, int len,
			    u32 val)
{
	u32 write = cfg_get(vdev->cfg_write, pos, len);
	u32 virt = cfg_get(vdev->cfg_virt, pos, len);
	u32 v, hw;
	int ret;

	if (write & virt) {
		v = cfg_get(vdev->vconfig, pos, len);
		v = (v & ~(write & virt)) | (val & write & virt);
		cfg_put(vdev->vconfig, pos, len, v);
	}

	if (!(write & ~virt))
		return 0;
	if (vdev->cfg_owner[pos] == VFIO_PCI_CFG_UNOWNED)
		return cfg_hw_write(vdev->pdev, pos, len, val);
	ret = cfg_hw_read(vdev->pdev, pos, len, &hw);
	if (ret)
		return ret;
	hw = (hw & ~(write & ~virt)) | (val & write & ~virt);
	return cfg_hw_write(vdev->pdev, pos, len, hw);
}

/*
 * A write at the command register. Memory decode changes under
 * memory_lock held for writing: without it, user BAR mappings are zapped
 * first and fault until it is back. The virtual memory and I/O enable
 * bits are what the user wrote.
 */
static int vfio_pci_cmd_write(struct vfio_pci_core_device *vdev, int len,
			      u32 val)
{
	u16 decode = PCI_COMMAND_MEMORY | PCI_COMMAND_IO;
	u16 virt_cmd = cfg_get(vdev->vconfig, PCI_COMMAND, 2);
	u16 new_cmd = val;
	u16 phys_cmd = 0;
	bool lost;
	int ret;

	pci_user_read_config_word(vdev->pdev, PCI_COMMAND, &phys_cmd);

	down_write(&vdev->memory_lock);
	if (!(new_cmd & PCI_COMMAND_MEMORY))
		vfio_pci_zap_bars(vdev);

	/*
	 * The user enables decode it thinks is already on, but the hardware
	 * has it off: the device was reset without us, and its BARs went
	 * back to zero. Put them back before decode is enabled.
	 */
	lost = (new_cmd & virt_cmd & ~phys_cmd & PCI_COMMAND_MEMORY &&
		!vdev->pdev->no_command_memory) ||
	       (new_cmd & virt_cmd & ~phys_cmd & PCI_COMMAND_IO);
	if (lost || vfio_pci_bars_lost(vdev))
		vfio_pci_bars_restore(vdev);

	ret = cfg_write_masked(vdev, PCI_COMMAND, len, val);

	virt_cmd = cfg_get(vdev->vconfig, PCI_COMMAND, 2);
	virt_cmd = (virt_cmd & ~decode) | (new_cmd & decode);
	cfg_put(vdev->vconfig, PCI_COMMAND, 2, virt_cmd);
	up_write(&vdev->memory_lock);
	return ret;
}

/* INTx disable is emulated: it masks and unmasks the user's INTx. */
static void vfio_pci_intx_disable_written(struct vfio_pci_core_device *vdev)
{
	bool disable = cfg_get(vdev->vconfig, PCI_COMMAND, 2) &
		       PCI_COMMAND_INTX_DISABLE;

	if (disable && !vdev->virq_disabled) {
		vdev->virq_disabled = true;
		vfio_pci_intx_mask(vdev);
	} else if (!disable && vdev->virq_disabled) {
		vdev->virq_disabled = false;
		vfio_pci_intx_unmask(vdev);
	}
}

/* Reset the function for the user, with BAR access held off. */
static void vfio_pci_user_function_reset(struct vfio_pci_core_device *vdev)
{
	vfio_pci_zap_and_lock(vdev);
	pci_try_reset_function(vdev->pdev);
	up_write(&vdev->memory_lock);
}

/* The user wrote a power state into the PM control register. */
static void vfio_pci_pm_ctrl_written(struct vfio_pci_core_device *vdev, u32 val)
{
	static const pci_power_t states[] = {
		PCI_D0, PCI_D1, PCI_D2, PCI_D3hot,
	};
	pci_power_t state = states[val & PCI_PM_CTRL_STATE_MASK];

	/* In D3hot, user BAR mappings must fault. */
	if (vfio_pci_d_level(state) >= vfio_pci_d_level(PCI_D3hot))
		vfio_pci_zap_and_lock(vdev);
	else
		down_write(&vdev->memory_lock);
	vfio_pci_set_power_state(vdev, state);
	up_write(&vdev->memory_lock);
}

/*
 * The user wrote PCIe device control. Function reset reads as 0 and is
 * carried out when the function has FLR. The maximum read request size
 * reaches the hardware, but never below the payload size, which the
 * user cannot know system-wide.
 */
static void vfio_pci_exp_devctl_written(struct vfio_pci_core_device *vdev,
					int cap, u16 old_ctrl)
{
	int pos = cap + PCI_EXP_DEVCTL;
	u16 ctrl = cfg_get(vdev->vconfig, pos, 2);
	u32 devcap;
	int readrq;

	if (ctrl & PCI_EXP_DEVCTL_BCR_FLR) {
		ctrl &= ~PCI_EXP_DEVCTL_BCR_FLR;
		cfg_put(vdev->vconfig, pos, 2, ctrl);
		if (!pci_user_read_config_dword(vdev->pdev,
						cap + PCI_EXP_DEVCAP, &devcap) &&
		    (devcap & PCI_EXP_DEVCAP_FLR))
			vfio_pci_user_function_reset(vdev);
	}

	if ((ctrl ^ old_ctrl) & PCI_EXP_DEVCTL_READRQ) {
		readrq = 128 << FIELD_GET(PCI_EXP_DEVCTL_READRQ, ctrl);
		pcie_set_readrq(vdev->pdev,
				max(readrq, pcie_get_mps(vdev->pdev)));
	}
}

/* The user wrote Advanced Features control: function reset, as above. */
static void vfio_pci_af_ctrl_written(struct vfio_pci_core_device *vdev, int cap)
{
	u8 *ctrl = &vdev->vconfig[cap + PCI_AF_CTRL];
	u8 afcap;

	if (!(*ctrl & PCI_AF_CTRL_FLR))
		return;
	*ctrl &= ~PCI_AF_CTRL_FLR;
	if (!pci_user_read_config_byte(vdev->pdev, cap + PCI_AF_CAP, &afcap) &&
	    (afcap & PCI_AF_CAP_FLR) && (afcap & PCI_AF_CAP_TP))
		vfio_pci_user_function_reset(vdev);
}

/*
 * ---- Access hooks: each replaces cfg_read_masked() or cfg_write_masked()
 * for the accesses inside one kind of structure, starting at @cap.
 */

static int vfio_pci_header_read(struct vfio_pci_core_device *vdev, int cap,
				int pos, int len, u32 *val)
{
	if (cfg_overlaps(pos, len, BAR_FIRST, BAR_LAST - BAR_FIRST + 1) ||
	    cfg_overlaps(pos, len, ROM_FIRST, ROM_LAST - ROM_FIRST + 1))
		vfio_pci_bar_fixup(vdev);
	return cfg_read_masked(vdev, pos, len, val);
}

static int vfio_pci_header_write(struct vfio_pci_core_device *vdev, int cap,
				 int pos, int len, u32 val)
{
	int ret;

	if (pos == PCI_COMMAND)
		ret = vfio_pci_cmd_write(vdev, len, val);
	else
		ret = cfg_write_masked(vdev, pos, len, val);
	if (ret)
		return ret;

	if (cfg_overlaps(pos, len, PCI_COMMAND, 2))
		vfio_pci_intx_disable_written(vdev);
	if (cfg_overlaps(pos, len, BAR_FIRST, BAR_LAST - BAR_FIRST + 1) ||
	    cfg_overlaps(pos, len, ROM_FIRST, ROM_LAST - ROM_FIRST + 1))
		vdev->bardirty = true;
	return 0;
}

static int vfio_pci_pm_write(struct vfio_pci_core_device *vdev, int cap,
			     int pos, int len, u32 val)
{
	int ret = cfg_write_masked(vdev, pos, len, val);

	if (!ret && pos == cap + PCI_PM_CTRL)
		vfio_pci_pm_ctrl_written(vdev, val);
	return ret;
}

static int vfio_pci_msi_write(struct vfio_pci_core_device *vdev, int cap,
			      int pos, int len, u32 val)
{
	int ret = cfg_write_masked(vdev, pos, len, val);

	/* The flags of the MSI capability the host drives. */
	if (!ret && cap == vdev->pdev->msi_cap &&
	    cfg_overlaps(pos, len, cap + PCI_MSI_FLAGS, 2))
		ret = vfio_pci_msi_flags_written(vdev, cap + PCI_MSI_FLAGS);
	return ret;
}

static int vfio_pci_exp_write(struct vfio_pci_core_device *vdev, int cap,
			      int pos, int len, u32 val)
{
	u16 old_devctl = cfg_get(vdev->vconfig, cap + PCI_EXP_DEVCTL, 2);
	int ret = cfg_write_masked(vdev, pos, len, val);

	if (!ret && cfg_overlaps(pos, len, cap + PCI_EXP_DEVCTL, 2))
		vfio_pci_exp_devctl_written(vdev, cap, old_devctl);
	return ret;
}

static int vfio_pci_af_write(struct vfio_pci_core_device *vdev, int cap,
			     int pos, int len, u32 val)
{
	int ret = cfg_write_masked(vdev, pos, len, val);

	if (!ret && cfg_overlaps(pos, len, cap + PCI_AF_CTRL, 1))
		vfio_pci_af_ctrl_written(vdev, cap);
	return ret;
}

/*
 * PCIe and PCI-X 2.0 functions may have extended capabilities: they do
 * when the first header in extended config space is not empty.
 */
static void vfio_pci_probe_extended_caps(struct vfio_pci_core_device *vdev)
{
	u32 header = 0;

	if (vdev->pdev->cfg_size <= PCI_CFG_SPACE_SIZE)
		return;
	pci_read_config_dword(vdev->pdev, PCI_CFG_SPACE_SIZE, &header);
	vdev->extended_caps = header != 0;
}

/*
 * ---- Lengths of the capabilities whose size the device tells: each
 * returns the bytes of the capability at @pos the user sees.
 */

static int vfio_pci_msi_len(struct vfio_pci_core_device *vdev, int pos)
{
	u16 flags = 0;
	int len = 10;

	pci_read_config_word(vdev->pdev, pos + PCI_MSI_FLAGS, &flags);
	if (flags & PCI_MSI_FLAGS_64BIT)
		len += 4;
	if (flags & PCI_MSI_FLAGS_MASKBIT)
		len += 10;
	return len;
}

static int vfio_pci_pcix_len(struct vfio_pci_core_device *vdev, int pos)
{
	u16 cmd = 0;

	pci_read_config_word(vdev->pdev, pos + PCI_X_CMD, &cmd);
	if (!PCI_X_CMD_VERSION(cmd))
		return PCI_CAP_PCIX_SIZEOF_V0;
	vfio_pci_probe_extended_caps(vdev);
	return PCI_CAP_PCIX_SIZEOF_V2;
}

static int vfio_pci_ht_len(struct vfio_pci_core_device *vdev, int pos)
{
	u8 byte = 0;

	pci_read_config_byte(vdev->pdev, pos + 3, &byte);
	return (byte & HT_3BIT_CAP_MASK) ? HT_CAP_SIZEOF_SHORT :
					   HT_CAP_SIZEOF_LONG;
}

static int vfio_pci_vndr_len(struct vfio_pci_core_device *vdev, int pos)
{
	u8 byte = 0;

	pci_read_config_byte(vdev->pdev, pos + PCI_CAP_FLAGS, &byte);
	return byte;
}

static int vfio_pci_exp_len(struct vfio_pci_core_device *vdev, int pos)
{
	struct pci_dev *pdev = vdev->pdev;
	bool rc_end = pci_pcie_type(pdev) == PCI_EXP_TYPE_RC_END;

	vfio_pci_probe_extended_caps(vdev);
	if ((pcie_caps_reg(pdev) & PCI_EXP_FLAGS_VERS) == 1)
		return rc_end ? 0xc : PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
	return rc_end ? 0x2c : PCI_CAP_EXP_ENDPOINT_SIZEOF_V2;
}

static int vfio_pci_sata_len(struct vfio_pci_core_device *vdev, int pos)
{
	u8 byte = 0;

	pci_read_config_byte(vdev->pdev, pos + PCI_SATA_REGS, &byte);
	return (byte & PCI_SATA_REGS_MASK) == PCI_SATA_REGS_INLINE ?
	       PCI_SATA_SIZEOF_LONG : PCI_SATA_SIZEOF_SHORT;
}

/* Virtual Channel (also MFVC). */
static int vfio_pci_vc_len(struct vfio_pci_core_device *vdev, int pos)
{
	struct pci_dev *pdev = vdev->pdev;
	u32 cap1 = 0, cap2 = 0;
	int len = PCI_CAP_VC_BASE_SIZEOF;
	int phases;

	pci_read_config_dword(pdev, pos + PCI_VC_PORT_CAP1, &cap1);
	pci_read_config_dword(pdev, pos + PCI_VC_PORT_CAP2, &cap2);
	if (cap2 & PCI_VC_CAP2_128_PHASE)
		phases = 128;
	else if (cap2 & PCI_VC_CAP2_64_PHASE)
		phases = 64;
	else if (cap2 & PCI_VC_CAP2_32_PHASE)
		phases = 32;
	else
		phases = 0;

	len += (1 + (cap1 & PCI_VC_CAP1_EVCC)) * PCI_CAP_VC_PER_VC_SIZEOF;
	/* The arbitration table: 4 bits per phase, 16-byte aligned. */
	if (phases)
		len = round_up(len, 16) + phases / 2;
	return len;
}

static int vfio_pci_ext_vndr_len(struct vfio_pci_core_device *vdev, int pos)
{
	u32 dword = 0;

	pci_read_config_dword(vdev->pdev, pos + PCI_VSEC_HDR, &dword);
	return dword >> PCI_VSEC_HDR_LEN_SHIFT;
}

static int vfio_pci_acs_len(struct vfio_pci_core_device *vdev, int pos)
{
	u8 byte = 0;
	int bits;

	pci_read_config_byte(vdev->pdev, pos + PCI_ACS_CAP, &byte);
	if (!(byte & PCI_ACS_EC))
		return 8;
	pci_read_config_byte(vdev->pdev, pos + PCI_ACS_EGRESS_BITS, &byte);
	bits = byte ? round_up(byte, 32) : 256;
	return 8 + bits / 8;
}

static int vfio_pci_rebar_len(struct vfio_pci_core_device *vdev, int pos)
{
	u8 byte = 0;

	pci_read_config_byte(vdev->pdev, pos + PCI_REBAR_CTRL, &byte);
	return 4 + 8 * FIELD_GET(PCI_REBAR_CTRL_NBAR_MASK, byte);
}

static int vfio_pci_dpa_len(struct vfio_pci_core_device *vdev, int pos)
{
	u8 byte = 0;

	pci_read_config_byte(vdev->pdev, pos + PCI_DPA_CAP, &byte);
	return PCI_DPA_BASE_SIZEOF + (byte & PCI_DPA_CAP_SUBSTATE_MASK) + 1;
}

static int vfio_pci_tph_len(struct vfio_pci_core_device *vdev, int pos)
{
	u32 dword = 0;

	pci_read_config_dword(vdev->pdev, pos + PCI_TPH_CAP, &dword);
	if ((dword & PCI_TPH_CAP_LOC_MASK) != PCI_TPH_LOC_CAP)
		return PCI_TPH_BASE_SIZEOF;
	return PCI_TPH_BASE_SIZEOF + 2 * FIELD_GET(PCI_TPH_CAP_ST_MASK, dword) +
	       2;
}

static int vfio_pci_dvsec_len(struct vfio_pci_core_device *vdev, int pos)
{
	u32 dword = 0;

	pci_read_config_dword(vdev->pdev, pos + PCI_DVSEC_HEADER1, &dword);
	return PCI_DVSEC_HEADER1_LEN(dword);
}

/*
 * ---- Permissions that depend on the device: each runs after the
 * structure's fixed fields, for the capability of @len bytes at @pos.
 */

/* PME cannot reach the user: its support and state read as 0. */
static void vfio_pci_pm_init(struct vfio_pci_core_device *vdev, int pos,
			     int len)
{
	u16 flags;

	flags = cfg_get(vdev->vconfig, pos + PCI_PM_PMC, 2);
	cfg_put(vdev->vconfig, pos + PCI_PM_PMC, 2,
		flags & ~PCI_PM_CAP_PME_MASK);
	flags = cfg_get(vdev->vconfig, pos + PCI_PM_CTRL, 2);
	cfg_put(vdev->vconfig, pos + PCI_PM_CTRL, 2,
		flags & ~(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS));
}

/*
 * The host programs MSI: address and data are the user's. The low flags
 * byte is virtual as a whole, so Multiple Message Capable reads as the
 * hardware's until the user writes it. The layout after the address
 * depends on 64-bit addressing and per-vector masking.
 */
static void vfio_pci_msi_init(struct vfio_pci_core_device *vdev, int pos,
			      int len)
{
	u16 flags = cfg_get(vdev->vconfig, pos + PCI_MSI_FLAGS, 2);
	bool is64 = flags & PCI_MSI_FLAGS_64BIT;

	cfg_perm(vdev, pos + PCI_MSI_FLAGS, 1, CFG_ALL, CFG_ALL);
	cfg_perm(vdev, pos + PCI_MSI_ADDRESS_LO, 4, CFG_ALL, CFG_ALL);
	if (is64)
		cfg_perm(vdev, pos + PCI_MSI_ADDRESS_HI, 4, CFG_ALL, CFG_ALL);
	cfg_perm(vdev, pos + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 2,
		 CFG_ALL, CFG_ALL);
	if (!(flags & PCI_MSI_FLAGS_MASKBIT))
		return;
	cfg_perm(vdev, pos + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32), 4,
		 CFG_NONE, CFG_ALL);
	cfg_perm(vdev, pos + (is64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32),
		 4, CFG_NONE, CFG_ALL);
}

/* Vendor registers are the device's business: all writable. */
static void vfio_pci_vndr_init(struct vfio_pci_core_device *vdev, int pos,
			       int len)
{
	int i;

	for (i = PCI_CAP_FLAGS; i < len; i++)
		cfg_perm(vdev, pos + i, 1, CFG_NONE, CFG_ALL);
}

/* The same for vendor-specific extended capabilities (VSEC, DVSEC). */
static void vfio_pci_ext_vndr_init(struct vfio_pci_core_device *vdev, int pos,
				   int len)
{
	int i;

	for (i = PCI_CAP_SIZEOF; i < len; i++)
		cfg_perm(vdev, pos + i, 1, CFG_NONE, CFG_ALL);
}

/**
 * struct vfio_pci_cfg_field - permissions of one register of a structure
 * @off: its offset from the structure's start
 * @size: its size, 1, 2 or 4 bytes
 * @virt: the bits served from vconfig instead of the hardware
 * @write: the bits the user may change
 */
struct vfio_pci_cfg_field {
	u16	off;
	u8	size;
	u32	virt;
	u32	write;
};

/**
 * struct vfio_pci_cap - how the user sees one kind of structure: the
 *                       standard header, a capability or an extended
 *                       capability
 * @size: its length in bytes, when fixed
 * @length: or a function that reads its length at @pos from the device;
 *          0 hides it. A capability with neither is hidden.
 * @fields: its registers whose permissions are not the default (read
 *          from the hardware, writes dropped); a field that does not fit
 *          in the capability's length is skipped
 * @nr_fields: entries in @fields
 * @init: permissions and virtual values that depend on the device,
 *        after @fields
 * @read: the accesses inside the structure starting at @cap, instead of
 *        cfg_read_masked()
 * @write: the same for writes, instead of cfg_write_masked(); only
 *         called for accesses with writable bits
 *
 * The list header of a capability (ID and next pointer, or the extended
 * header dword) is always virtual and read-only, so that the user's list
 * can skip hidden capabilities; the walkers set it, not the entries.
 */
struct vfio_pci_cap {
	u16	size;
	int	(*length)(struct vfio_pci_core_device *vdev, int pos);
	const struct vfio_pci_cfg_field *fields;
	unsigned int nr_fields;
	void	(*init)(struct vfio_pci_core_device *vdev, int pos, int len);
	int	(*read)(struct vfio_pci_core_device *vdev, int cap, int pos,
			int len, u32 *val);
	int	(*write)(struct vfio_pci_core_device *vdev, int cap, int pos,
			 int len, u32 val);
};

#define CFG_FIELDS(_fields)	.fields = (_fields), \
				.nr_fields = ARRAY_SIZE(_fields)

static const struct vfio_pci_cfg_field vfio_pci_header_fields[] = {
	/* Identity is virtual: VFs read all-ones there in hardware. */
	{ PCI_VENDOR_ID, 2, CFG_ALL, CFG_NONE },
	{ PCI_DEVICE_ID, 2, CFG_ALL, CFG_NONE },
	/* INTx disable is emulated; everything else reaches the device. */
	{ PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE, CFG_ALL },
	/* Hidden capabilities may leave none: the list bit is virtual. */
	{ PCI_STATUS, 2, PCI_STATUS_CAP_LIST, CFG_NONE },
	{ PCI_CACHE_LINE_SIZE, 1, CFG_NONE, CFG_ALL },
	{ PCI_LATENCY_TIMER, 1, CFG_NONE, CFG_ALL },
	{ PCI_BIST, 1, CFG_NONE, CFG_ALL },
	/* The real BARs are the host's: the user writes copies. */
	{ PCI_BASE_ADDRESS_0, 4, CFG_ALL, CFG_ALL },
	{ PCI_BASE_ADDRESS_1, 4, CFG_ALL, CFG_ALL },
	{ PCI_BASE_ADDRESS_2, 4, CFG_ALL, CFG_ALL },
	{ PCI_BASE_ADDRESS_3, 4, CFG_ALL, CFG_ALL },
	{ PCI_BASE_ADDRESS_4, 4, CFG_ALL, CFG_ALL },
	{ PCI_BASE_ADDRESS_5, 4, CFG_ALL, CFG_ALL },
	{ PCI_ROM_ADDRESS, 4, CFG_ALL, CFG_ALL },
	{ PCI_CAPABILITY_LIST, 1, CFG_ALL, CFG_NONE },
	{ PCI_INTERRUPT_LINE, 1, CFG_ALL, CFG_ALL },
	/* Virtual so that INTx can be hidden. */
	{ PCI_INTERRUPT_PIN, 1, CFG_ALL, CFG_NONE },
};

/* The standard header: sizing of the virtual BARs, the command register. */
static const struct vfio_pci_cap vfio_pci_header = {
	.size	= PCI_STD_HEADER_SIZEOF,
	CFG_FIELDS(vfio_pci_header_fields),
	.read	= vfio_pci_header_read,
	.write	= vfio_pci_header_write,
};

/* The power state is set by vfio_pci_pm_ctrl_written(); PME is virtual. */
static const struct vfio_pci_cfg_field vfio_pci_pm_fields[] = {
	{ PCI_PM_PMC, 2, PCI_PM_CAP_PME_MASK, CFG_NONE },
	{ PCI_PM_CTRL, 4, PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS,
	  ~(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS |
	    PCI_PM_CTRL_STATE_MASK) },
};

/*
 * Device control is the user's but for phantom functions (they would
 * confuse the IOMMU). The payload size is shared with the link partner
 * and stays virtual; the read request size and function reset are
 * virtual and carried out by vfio_pci_exp_devctl_written().
 */
static const struct vfio_pci_cfg_field vfio_pci_exp_fields[] = {
	{ PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_PAYLOAD |
	  PCI_EXP_DEVCTL_READRQ, ~PCI_EXP_DEVCTL_PHANTOM },
	{ PCI_EXP_DEVCTL2, 2, CFG_NONE, ~PCI_EXP_DEVCTL2_ARI },
};

/* Function reset, carried out by vfio_pci_af_ctrl_written(). */
static const struct vfio_pci_cfg_field vfio_pci_af_fields[] = {
	{ PCI_AF_CTRL, 1, PCI_AF_CTRL_FLR, PCI_AF_CTRL_FLR },
};

/*
 * The capabilities the user sees, by ID. Those not listed are hidden:
 * bridge-only, obsolete, or not supported yet.
 */
static const struct vfio_pci_cap vfio_pci_caps[PCI_CAP_ID_MAX + 1] = {
	[PCI_CAP_ID_PM] = {
		.size	= PCI_PM_SIZEOF,
		CFG_FIELDS(vfio_pci_pm_fields),
		.init	= vfio_pci_pm_init,
		.write	= vfio_pci_pm_write,
	},
	[PCI_CAP_ID_AGP]	= { .size = PCI_AGP_SIZEOF },
	[PCI_CAP_ID_VPD]	= { .size = PCI_CAP_VPD_SIZEOF },
	[PCI_CAP_ID_MSI] = {
		.length	= vfio_pci_msi_len,
		.init	= vfio_pci_msi_init,
		.write	= vfio_pci_msi_write,
	},
	[PCI_CAP_ID_PCIX]	= { .length = vfio_pci_pcix_len },
	[PCI_CAP_ID_HT]		= { .length = vfio_pci_ht_len },
	[PCI_CAP_ID_VNDR] = {
		.length	= vfio_pci_vndr_len,
		.init	= vfio_pci_vndr_init,
	},
	[PCI_CAP_ID_EXP] = {
		.length	= vfio_pci_exp_len,
		CFG_FIELDS(vfio_pci_exp_fields),
		.write	= vfio_pci_exp_write,
	},
	[PCI_CAP_ID_MSIX]	= { .size = PCI_CAP_MSIX_SIZEOF },
	[PCI_CAP_ID_SATA]	= { .length = vfio_pci_sata_len },
	[PCI_CAP_ID_AF] = {
		.size	= PCI_CAP_AF_SIZEOF,
		CFG_FIELDS(vfio_pci_af_fields),
		.write	= vfio_pci_af_write,
	},
};

/* Status, masks and severity of endpoint errors; ECRC control. */
#define ERR_UNC_ENDPOINT						\
	(PCI_ERR_UNC_UND | PCI_ERR_UNC_DLP | PCI_ERR_UNC_SURPDN |	\
	 PCI_ERR_UNC_POISON_TLP | PCI_ERR_UNC_FCP |			\
	 PCI_ERR_UNC_COMP_TIME | PCI_ERR_UNC_COMP_ABORT |		\
	 PCI_ERR_UNC_UNX_COMP | PCI_ERR_UNC_RX_OVER |			\
	 PCI_ERR_UNC_MALF_TLP | PCI_ERR_UNC_ECRC |			\
	 PCI_ERR_UNC_UNSUP | PCI_ERR_UNC_ACSV |				\
	 PCI_ERR_UNC_INTN | PCI_ERR_UNC_MCBTLP |			\
	 PCI_ERR_UNC_ATOMEG | PCI_ERR_UNC_TLPPRE)
#define ERR_COR_ENDPOINT						\
	(PCI_ERR_COR_RCVR | PCI_ERR_COR_BAD_TLP |			\
	 PCI_ERR_COR_BAD_DLLP | PCI_ERR_COR_REP_ROLL |			\
	 PCI_ERR_COR_REP_TIMER | PCI_ERR_COR_ADV_NFAT |			\
	 PCI_ERR_COR_INTERNAL | PCI_ERR_COR_LOG_OVER)

static const struct vfio_pci_cfg_field vfio_pci_err_fields[] = {
	{ PCI_ERR_UNCOR_STATUS, 4, CFG_NONE, ERR_UNC_ENDPOINT },
	{ PCI_ERR_UNCOR_MASK, 4, CFG_NONE, ERR_UNC_ENDPOINT },
	{ PCI_ERR_UNCOR_SEVER, 4, CFG_NONE, ERR_UNC_ENDPOINT },
	{ PCI_ERR_COR_STATUS, 4, CFG_NONE, ERR_COR_ENDPOINT },
	{ PCI_ERR_COR_MASK, 4, CFG_NONE, ERR_COR_ENDPOINT },
	{ PCI_ERR_CAP, 4, CFG_NONE,
	  PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE },
};

/* The byte at PCI_PWR_DATA is writable (as upstream); the rest read-only. */
static const struct vfio_pci_cfg_field vfio_pci_pwr_fields[] = {
	{ PCI_PWR_DATA, 1, CFG_NONE, CFG_ALL },
};

/*
 * The extended capabilities the user sees, by ID. Those not listed are
 * hidden: root-complex only, obsolete, or not supported yet.
 */
static const struct vfio_pci_cap vfio_pci_ecaps[PCI_EXT_CAP_ID_MAX + 1] = {
	[PCI_EXT_CAP_ID_ERR]	= { .size = PCI_ERR_ROOT_COMMAND,
				    CFG_FIELDS(vfio_pci_err_fields) },
	[PCI_EXT_CAP_ID_VC]	= { .length = vfio_pci_vc_len },
	[PCI_EXT_CAP_ID_DSN]	= { .size = PCI_EXT_CAP_DSN_SIZEOF },
	[PCI_EXT_CAP_ID_PWR]	= { .size = PCI_EXT_CAP_PWR_SIZEOF,
				    CFG_FIELDS(vfio_pci_pwr_fields) },
	[PCI_EXT_CAP_ID_MFVC]	= { .length = vfio_pci_vc_len },
	[PCI_EXT_CAP_ID_VC9]	= { .length = vfio_pci_vc_len },
	[PCI_EXT_CAP_ID_VNDR]	= { .length = vfio_pci_ext_vndr_len,
				    .init = vfio_pci_ext_vndr_init },
	[PCI_EXT_CAP_ID_ACS]	= { .length = vfio_pci_acs_len },
	[PCI_EXT_CAP_ID_ARI]	= { .size = PCI_EXT_CAP_ARI_SIZEOF },
	[PCI_EXT_CAP_ID_ATS]	= { .size = PCI_EXT_CAP_ATS_SIZEOF },
	[PCI_EXT_CAP_ID_SRIOV]	= { .size = PCI_EXT_CAP_SRIOV_SIZEOF },
	[PCI_EXT_CAP_ID_MCAST]	= { .size = PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF },
	[PCI_EXT_CAP_ID_PRI]	= { .size = PCI_EXT_CAP_PRI_SIZEOF },
	[PCI_EXT_CAP_ID_REBAR]	= { .length = vfio_pci_rebar_len },
	[PCI_EXT_CAP_ID_DPA]	= { .length = vfio_pci_dpa_len },
	[PCI_EXT_CAP_ID_TPH]	= { .length = vfio_pci_tph_len },
	[PCI_EXT_CAP_ID_LTR]	= { .size = PCI_EXT_CAP_LTR_SIZEOF },
	[PCI_EXT_CAP_ID_DVSEC]	= { .length = vfio_pci_dvsec_len,
				    .init = vfio_pci_ext_vndr_init },
};

/* The entry of capability @id, standard or @extended; NULL if unknown. */
static const struct vfio_pci_cap *vfio_pci_cap_find(bool extended, u16 id)
{
	if (!extended)
		return id < ARRAY_SIZE(vfio_pci_caps) ? &vfio_pci_caps[id] :
							NULL;
	return id < ARRAY_SIZE(vfio_pci_ecaps) ? &vfio_pci_ecaps[id] : NULL;
}

/* How long the capability @cap at @pos is for the user; 0 hides it. */
static int vfio_pci_cap_length(struct vfio_pci_core_device *vdev,
			       const struct vfio_pci_cap *cap, int pos)
{
	if (!cap)
		return 0;
	return cap->length ? cap->length(vdev, pos) : cap->size;
}

/* Apply the permissions of @cap to the @len bytes at @pos. */
static void vfio_pci_cap_apply(struct vfio_pci_core_device *vdev,
			       const struct vfio_pci_cap *cap, int pos, int len)
{
	const struct vfio_pci_cfg_field *field;
	unsigned int i;

	if (!cap)
		return;
	for (i = 0; i < cap->nr_fields; i++) {
		field = &cap->fields[i];
		if (field->off + field->size <= len)
			cfg_perm(vdev, pos + field->off, field->size,
				 field->virt, field->write);
	}
	if (cap->init)
		cap->init(vdev, pos, len);
}

/*
 * The structure the config byte at @pos belongs to, with its start in
 * *@start; NULL for bytes no structure claims and capabilities without
 * an entry (the placeholder of a hidden first extended capability).
 */
static const struct vfio_pci_cap *
vfio_pci_cap_at(struct vfio_pci_core_device *vdev, int pos, int *start)
{
	u16 owner = vdev->cfg_owner[pos];
	u16 id;

	if (owner == VFIO_PCI_CFG_UNOWNED)
		return NULL;
	*start = owner;
	if (owner < PCI_STD_HEADER_SIZEOF)
		return &vfio_pci_header;
	if (owner < PCI_CFG_SPACE_SIZE)
		id = vdev->vconfig[owner + PCI_CAP_LIST_ID];
	else
		id = PCI_EXT_CAP_ID(cfg_get(vdev->vconfig, owner, 4));
	return vfio_pci_cap_find(owner >= PCI_CFG_SPACE_SIZE, id);
}

/* One access of 1, 2 or 4 aligned bytes inside one structure. */
static int cfg_read_one(struct vfio_pci_core_device *vdev, int pos, int len,
			u32 *val)
{
	const struct vfio_pci_cap *cap;
	int start = 0;

	cap = vfio_pci_cap_at(vdev, pos, &start);
	if (cap && cap->read)
		return cap->read(vdev, start, pos, len, val);
	return cfg_read_masked(vdev, pos, len, val);
}

static int cfg_write_one(struct vfio_pci_core_device *vdev, int pos, int len,
			 u32 val)
{
	const struct vfio_pci_cap *cap;
	int start = 0;

	if (!cfg_get(vdev->cfg_write, pos, len))
		return 0;	/* nothing writable: dropped */
	cap = vfio_pci_cap_at(vdev, pos, &start);
	if (cap && cap->write)
		return cap->write(vdev, start, pos, len, val);
	return cfg_write_masked(vdev, pos, len, val);
}

/*
 * Walk the hardware's capability list and build the user's: visible
 * capabilities are copied and claimed, hidden ones are unlinked from the
 * virtual list.
 */
static int vfio_pci_caps_init(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int prev = PCI_CAPABILITY_LIST;
	int budget = (PCI_CFG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF) /
		     PCI_CAP_SIZEOF;
	const struct vfio_pci_cap *cap;
	int visible = 0;
	u16 status;
	u8 pos, id, next;
	int len, i, ret;

	ret = pci_read_config_word(pdev, PCI_STATUS, &status);
	if (ret)
		return pcibios_err_to_errno(ret);
	pos = 0;
	if (status & PCI_STATUS_CAP_LIST) {
		ret = pci_read_config_byte(pdev, PCI_CAPABILITY_LIST, &pos);
		if (ret)
			return pcibios_err_to_errno(ret);
	}

	while (pos && budget--) {
		if (pos < PCI_STD_HEADER_SIZEOF) {
			pci_warn(pdev, "capability list points into the header\n");
			break;
		}
		ret = pci_read_config_byte(pdev, pos + PCI_CAP_LIST_ID, &id);
		if (!ret)
			ret = pci_read_config_byte(pdev,
						   pos + PCI_CAP_LIST_NEXT,
						   &next);
		if (ret)
			return pcibios_err_to_errno(ret);

		/* ID 0 (null) is empty: hidden like unknown ones. */
		cap = vfio_pci_cap_find(false, id);
		len = vfio_pci_cap_length(vdev, cap, pos);
		if (len > PCI_CFG_SPACE_SIZE - pos) {
			pci_warn(pdev, "capability %#x@%#x runs past the end\n",
				 id, pos);
			len = 0;
		}
		if (!len) {
			pci_dbg(pdev, "hiding capability %#x@%#x\n", id, pos);
			vdev->vconfig[prev] = next;
			pos = next;
			continue;
		}

		for (i = 0; i < len; i++) {
			if (vdev->cfg_owner[pos + i] != VFIO_PCI_CFG_UNOWNED)
				pci_warn(pdev, "capabilities overlap at %#x\n",
					 pos + i);
			vdev->cfg_owner[pos + i] = pos;
			vdev->cfg_write[pos + i] = 0;
		}
		ret = cfg_fill(vdev, pos, len);
		if (ret)
			return pcibios_err_to_errno(ret);
		cfg_perm(vdev, pos + PCI_CAP_LIST_ID, 1, CFG_ALL, CFG_NONE);
		cfg_perm(vdev, pos + PCI_CAP_LIST_NEXT, 1, CFG_ALL, CFG_NONE);
		vfio_pci_cap_apply(vdev, cap, pos, len);

		prev = pos + PCI_CAP_LIST_NEXT;
		pos = next;
		visible++;
	}

	if (!visible) {
		status = cfg_get(vdev->vconfig, PCI_STATUS, 2);
		cfg_put(vdev->vconfig, PCI_STATUS, 2,
			status & ~PCI_STATUS_CAP_LIST);
	}
	return 0;
}

/*
 * Walk the extended capability list and build the user's. A hidden
 * capability is unlinked from its predecessor; the first one has none,
 * so its header stays as a placeholder with ID and version 0 that only
 * points on.
 */
static int vfio_pci_ecaps_init(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int budget = (vdev->cfg_size - PCI_CFG_SPACE_SIZE) / PCI_CAP_SIZEOF;
	int pos = PCI_CFG_SPACE_SIZE, prev = -1, visible = 0;
	u32 header, next_mask = PCI_EXT_CAP_NEXT(~0U) << 20;

	if (!vdev->extended_caps)
		return 0;

	while (budget-- && pos >= PCI_CFG_SPACE_SIZE) {
		const struct vfio_pci_cap *cap;
		bool placeholder = false;
		int len, i, ret;
		u16 id;
		u32 v;

		ret = pci_read_config_dword(pdev, pos, &header);
		if (ret)
			return pcibios_err_to_errno(ret);
		id = PCI_EXT_CAP_ID(header);
		cap = vfio_pci_cap_find(true, id);
		len = vfio_pci_cap_length(vdev, cap, pos);
		if (len > vdev->cfg_size - pos) {
			pci_warn(pdev, "extended capability %#x@%#x runs past the end\n",
				 id, pos);
			len = 0;
		}

		if (!len) {
			pci_dbg(pdev, "hiding extended capability %#x@%#x\n",
				id, pos);
			if (prev >= 0) {
				v = cfg_get(vdev->vconfig, prev, 4) & ~next_mask;
				v |= PCI_EXT_CAP_NEXT(header) << 20;
				cfg_put(vdev->vconfig, prev, 4, v);
				pos = PCI_EXT_CAP_NEXT(header);
				continue;
			}
			len = PCI_CAP_SIZEOF;
			placeholder = true;
		}

		for (i = 0; i < len; i++) {
			if (vdev->cfg_owner[pos + i] != VFIO_PCI_CFG_UNOWNED)
				pci_warn(pdev, "capabilities overlap at %#x\n",
					 pos + i);
			vdev->cfg_owner[pos + i] = pos;
			vdev->cfg_write[pos + i] = 0;
		}
		ret = cfg_fill(vdev, pos, len);
		if (ret)
			return pcibios_err_to_errno(ret);
		cfg_perm(vdev, pos, 4, CFG_ALL, CFG_NONE);
		vfio_pci_cap_apply(vdev, placeholder ? NULL : cap, pos, len);

		if (placeholder)
			cfg_put(vdev->vconfig, pos, 4, header & next_mask);
		else
			visible++;
		prev = pos;
		pos = PCI_EXT_CAP_NEXT(header);
	}

	if (!visible)
		cfg_put(vdev->vconfig, PCI_CFG_SPACE_SIZE, 4, 0);
	return 0;
}

/**
 * vfio_pci_config_init - build the user's view of config space
 * @vdev: the device, enabled
 *
 * Context: open_device(), under the device set's lock.
 * Return: 0 or -errno.
 */
int vfio_pci_config_init(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int size = pdev->cfg_size;
	int i, ret;

	vdev->vconfig = kzalloc(size, GFP_KERNEL_ACCOUNT);
	vdev->cfg_virt = kzalloc(size, GFP_KERNEL_ACCOUNT);
	vdev->cfg_write = kzalloc(size, GFP_KERNEL_ACCOUNT);
	vdev->cfg_owner = kcalloc(size, sizeof(*vdev->cfg_owner),
				  GFP_KERNEL_ACCOUNT);
	if (!vdev->vconfig || !vdev->cfg_virt || !vdev->cfg_write ||
	    !vdev->cfg_owner) {
		ret = -ENOMEM;
		goto err_free;
	}
	vdev->cfg_size = size;

	/* Unclaimed bytes: read and written straight through. */
	for (i = 0; i < size; i++) {
		vdev->cfg_owner[i] = VFIO_PCI_CFG_UNOWNED;
		vdev->cfg_write[i] = 0xff;
	}
	for (i = 0; i < PCI_STD_HEADER_SIZEOF; i++) {
		vdev->cfg_owner[i] = 0;
		vdev->cfg_write[i] = 0;
	}

	ret = cfg_fill(vdev, 0, PCI_STD_HEADER_SIZEOF);
	if (ret) {
		ret = pcibios_err_to_errno(ret);
		goto err_free;
	}
	vfio_pci_cap_apply(vdev, &vfio_pci_header, 0, PCI_STD_HEADER_SIZEOF);
	vdev->bardirty = true;
	vdev->virq_disabled = false;
	vdev->extended_caps = false;

	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		vdev->rbar[i] = cfg_get(vdev->vconfig,
					PCI_BASE_ADDRESS_0 + 4 * i, 4);
	vdev->rbar[PCI_STD_NUM_BARS] = cfg_get(vdev->vconfig,
					       PCI_ROM_ADDRESS, 4);

	if (pdev->is_virtfn) {
		cfg_put(vdev->vconfig, PCI_VENDOR_ID, 2, pdev->vendor);
		cfg_put(vdev->vconfig, PCI_DEVICE_ID, 2, pdev->device);
		/* VFs have no INTx, whatever their pin register says. */
		vdev->vconfig[PCI_INTERRUPT_PIN] = 0;
	}
	if (pdev->no_command_memory) {
		/* Such functions decode memory without the enable bit. */
		cfg_put(vdev->vconfig, PCI_COMMAND, 2,
			cfg_get(vdev->vconfig, PCI_COMMAND, 2) |
			PCI_COMMAND_MEMORY);
	}
	if (vdev->nointx || pdev->irq == IRQ_NOTCONNECTED)
		vdev->vconfig[PCI_INTERRUPT_PIN] = 0;

	ret = vfio_pci_caps_init(vdev);
	if (ret)
		goto err_free;
	ret = vfio_pci_ecaps_init(vdev);
	if (ret)
		goto err_free;
	return 0;

err_free:
	vfio_pci_config_free(vdev);
	return ret;
}

/**
 * vfio_pci_config_free - free what vfio_pci_config_init() built
 * @vdev: the device
 */
void vfio_pci_config_free(struct vfio_pci_core_device *vdev)
{
	kfree(vdev->vconfig);
	kfree(vdev->cfg_virt);
	kfree(vdev->cfg_write);
	kfree(vdev->cfg_owner);
	vdev->vconfig = NULL;
	vdev->cfg_virt = NULL;
	vdev->cfg_write = NULL;
	vdev->cfg_owner = NULL;
	vdev->cfg_size = 0;
}

/* Largest aligned access at @pos, within @count and one structure. */
static int cfg_chunk(struct vfio_pci_core_device *vdev, int pos, size_t count)
{
	int n = 1;

	while ((pos + n) % 4 && n < count &&
	       vdev->cfg_owner[pos + n] == vdev->cfg_owner[pos])
		n++;
	if (n >= 4 && !(pos % 4))
		return 4;
	if (n >= 2 && !(pos % 2))
		return 2;
	return 1;
}

/**
 * vfio_pci_config_rw - read or write the config region
 * @vdev: the device, open
 * @buf: the user's buffer
 * @count: bytes to transfer
 * @ppos: the file offset, inside the config region; advanced by the
 *        bytes transferred
 * @iswrite: write, rather than read
 *
 * The access is cut into aligned pieces of at most a dword that stay
 * inside one structure, each virtualized on its own.
 *
 * Return: @count, or -EFAULT when the range leaves config space or the
 * buffer faults, or another -errno from the hardware.
 */
ssize_t vfio_pci_config_rw(struct vfio_pci_core_device *vdev,
			   char __user *buf, size_t count, loff_t *ppos,
			   bool iswrite)
{
	loff_t pos = *ppos & VFIO_PCI_OFFSET_MASK;
	size_t done = 0;
	ssize_t ret = 0;

	if (pos >= vdev->cfg_size || count > vdev->cfg_size - pos)
		return -EFAULT;

	mutex_lock(&vdev->config_lock);
	while (done < count) {
		int n = cfg_chunk(vdev, pos, count - done);
		__le32 le = 0;
		u32 val;

		if (iswrite) {
			if (copy_from_user(&le, buf + done, n)) {
				ret = -EFAULT;
				break;
			}
			ret = cfg_write_one(vdev, pos, n, le32_to_cpu(le));
		} else {
			ret = cfg_read_one(vdev, pos, n, &val);
			le = cpu_to_le32(val);
			if (!ret && copy_to_user(buf + done, &le, n))
				ret = -EFAULT;
		}
		if (ret)
			break;
		pos += n;
		done += n;
	}
	mutex_unlock(&vdev->config_lock);

	if (ret)
		return ret;
	*ppos += done;
	return done;
}
