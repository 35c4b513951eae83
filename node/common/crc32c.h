/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc32c.h - CRC-32C (Castagnoli), as used by iSCSI, ext4 and NVMe.
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at
 * first use), a slice-by-8 table otherwise. Both give identical results.
 */
#ifndef FERRY_CRC32C_H
#define FERRY_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc32c - continue a CRC over buf; start with crc = 0. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
/* crc32c_sw - the portable implementation (exposed for tests). */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);
/* crc32c_hw_available - 1 when the hardware path is used. */
int crc32c_hw_available(void);

#endif
