/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * QEMU's e1000e (an 82574L): what the tests need to make it raise MSI-X
 * interrupts on demand. Register offsets in BAR0, from the 82574 data
 * sheet as QEMU models it.
 */
#ifndef VFIO_TEST_E1000E_H
#define VFIO_TEST_E1000E_H

#define NIC_VENDOR	0x8086
#define NIC_DEVICE	0x10d3	/* 82574L: MSI-X */
#define E1000_ICR	0x00c0	/* cause read; write 1s to clear */
#define E1000_ITR	0x00c4	/* interrupt throttling */
#define E1000_ICS	0x00c8	/* cause set */
#define E1000_IMS	0x00d0	/* mask set (enables causes) */
#define E1000_IMC	0x00d8	/* mask clear */
#define E1000_IVAR	0x00e4	/* cause -> MSI-X vector */
#define E1000_EITR(n)	(0x00e8 + 4 * (n))	/* per-vector throttling */
#define E1000_ICR_RXQ0	(1u << 20)
#define E1000_IVAR_VALID 0x8	/* per 4-bit entry; RXQ0 is bits 3:0 */

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

/* Write a register through a VFIO device fd whose BAR0 is at @bar0. */
static inline int e1000e_w32(int device, uint64_t bar0, uint32_t reg,
			     uint32_t v)
{
	return pwrite(device, &v, 4, bar0 + reg) == 4 ? 0 : errno;
}

/*
 * Raise the receive-queue-0 cause on MSI-X @vector: every other cause
 * masked, old causes cleared. Memory decode and bus master must be on,
 * MSI-X enabled. Returns 0 or the errno of the failed write.
 */
static inline int e1000e_msix_raise(int device, uint64_t bar0,
				    uint32_t vector)
{
	return e1000e_w32(device, bar0, E1000_IMC, 0xffffffff) ?:
	       e1000e_w32(device, bar0, E1000_ICR, 0xffffffff) ?:
	       e1000e_w32(device, bar0, E1000_IVAR,
			  E1000_IVAR_VALID | vector) ?:
	       e1000e_w32(device, bar0, E1000_IMS, E1000_ICR_RXQ0) ?:
	       e1000e_w32(device, bar0, E1000_ICS, E1000_ICR_RXQ0);
}

#endif
