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

#endif
