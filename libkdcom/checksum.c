/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * checksum.c - the KDCOM checksum (docs/protocol.md "Checksum").
 *
 * THEORY OF OPERATION
 *
 *   The checksum is the plain sum of the payload bytes modulo 2^32.  The
 *   loops are shaped for the vectorisers of the compilers packagers use,
 *   at -O2 as well as -O3:
 *
 *   - Bytes are summed in blocks of a constant length into a uint16_t.
 *     256 * 255 = 65280, so a block never wraps its 16-bit sum, and the
 *     compiler may keep 8 (SSE2) or 16 (AVX2) 16-bit lanes per register:
 *     twice the lanes of a uint32_t accumulator, half the widening work.
 *   - The trip count is a constant with no remainder, which is what GCC's
 *     -O2 ("very cheap") vectoriser requires: a plain `for (i < len)` sum
 *     stays scalar at -O2 and costs about 6x more.
 *   - No casts of the byte buffer to wider types: the code is C99 without
 *     alignment or aliasing assumptions, and endian-neutral because a sum
 *     does not care in which order the bytes are added.
 *
 *   kdcom_copy_sum() fuses the copy of a payload with its checksum; it is
 *   what the encoder and the parser use, so each payload byte is read once
 *   and written once.  Its buffers never overlap (restrict), like memcpy's.
 */
#include "internal.h"

/* Bytes per block: the most a uint16_t sum holds without wrapping. */
#define SUM_BLOCK 256
/* Bytes per tail block: one 128-bit vector; then at most one half block
 * (KD's 56-byte headers end in one), then single bytes. */
#define SUM_TAIL 16

/* The block loops are written out in each function rather than in a
 * shared helper: clang vectorises them only in this shape (through a
 * helper it unrolls them as scalar code, 6x slower). */

KDCOM_API uint32_t kdcom_checksum_update(uint32_t sum, const uint8_t *in,
                                         size_t len)
{
    if (in == NULL)
        return sum;
    for (; len >= SUM_BLOCK; len -= SUM_BLOCK, in += SUM_BLOCK) {
        uint16_t s = 0;
        int i;

        for (i = 0; i < SUM_BLOCK; i++)
            s = (uint16_t)(s + in[i]);
        sum += s;
    }
    for (; len >= SUM_TAIL; len -= SUM_TAIL, in += SUM_TAIL) {
        uint16_t s = 0;
        int i;

        for (i = 0; i < SUM_TAIL; i++)
            s = (uint16_t)(s + in[i]);
        sum += s;
    }
    if (len >= SUM_TAIL / 2) {
        uint16_t s = 0;
        int i;

        for (i = 0; i < SUM_TAIL / 2; i++)
            s = (uint16_t)(s + in[i]);
        sum += s;
        len -= SUM_TAIL / 2;
        in += SUM_TAIL / 2;
    }
    while (len-- > 0)
        sum += *in++;
    return sum;
}

KDCOM_API uint32_t kdcom_checksum(const uint8_t *in, size_t len)
{
    return kdcom_checksum_update(0, in, len);
}

uint32_t kdcom_copy_sum(uint8_t *restrict dst, const uint8_t *restrict src,
                        size_t len, uint32_t sum)
{
    for (; len >= SUM_BLOCK;
         len -= SUM_BLOCK, dst += SUM_BLOCK, src += SUM_BLOCK) {
        uint16_t s = 0;
        int i;

        for (i = 0; i < SUM_BLOCK; i++) {
            uint8_t b = src[i];
            dst[i] = b;
            s = (uint16_t)(s + b);
        }
        sum += s;
    }
    for (; len >= SUM_TAIL; len -= SUM_TAIL, dst += SUM_TAIL, src += SUM_TAIL) {
        uint16_t s = 0;
        int i;

        for (i = 0; i < SUM_TAIL; i++) {
            uint8_t b = src[i];
            dst[i] = b;
            s = (uint16_t)(s + b);
        }
        sum += s;
    }
    if (len >= SUM_TAIL / 2) {
        uint16_t s = 0;
        int i;

        for (i = 0; i < SUM_TAIL / 2; i++) {
            uint8_t b = src[i];
            dst[i] = b;
            s = (uint16_t)(s + b);
        }
        sum += s;
        len -= SUM_TAIL / 2;
        dst += SUM_TAIL / 2;
        src += SUM_TAIL / 2;
    }
    while (len-- > 0) {
        sum += *src;
        *dst++ = *src++;
    }
    return sum;
}
