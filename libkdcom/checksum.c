/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * checksum.c - the KDCOM checksum (docs/protocol.md "Checksum").
 *
 * THEORY OF OPERATION
 *
 *   The checksum is the plain sum of the payload bytes modulo 2^32.  The
 *   loops below are written so that a compiler vectorises them at -O2/-O3:
 *   a straight uint32_t accumulation over bytes, no early exits.  A 4000-
 *   byte payload cannot overflow a uint32_t on its own (4000 * 255), so the
 *   wrap only matters across kdcom_checksum_update() calls, where unsigned
 *   arithmetic gives it for free.
 *
 *   kdcom_copy_sum() fuses the copy of a payload with its checksum; it is
 *   what the encoder and the parser use, so each payload byte is read once.
 */
#include "internal.h"

KDCOM_API uint32_t kdcom_checksum_update(uint32_t sum, const uint8_t *in,
                                         size_t len)
{
    size_t i;

    if (in == NULL)
        return sum;
    for (i = 0; i < len; i++)
        sum += in[i];
    return sum;
}

KDCOM_API uint32_t kdcom_checksum(const uint8_t *in, size_t len)
{
    return kdcom_checksum_update(0, in, len);
}

uint32_t kdcom_copy_sum(uint8_t *dst, const uint8_t *src, size_t len,
                        uint32_t sum)
{
    /* memcpy is the fastest copy the platform has; summing the destination
     * right after reads bytes that are still in L1, which measures as fast
     * as a hand-fused loop and keeps both halves vectorisable. */
    memcpy(dst, src, len);
    return kdcom_checksum_update(sum, dst, len);
}
