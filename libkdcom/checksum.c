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

/* One block of n bytes (a constant), summed into a uint16_t that cannot
 * wrap, and copied to dst as well in SUM_COPY_BLOCK.  Macros rather than
 * functions: clang vectorises the loop only when it sits in the caller's
 * body with a constant trip count (through a helper it unrolls it as
 * scalar code, 6x slower), and each expansion is exactly that. */
#define SUM_BLOCK_AT(in, n, sum)                                           \
    do {                                                                   \
        uint16_t s_ = 0;                                                   \
        int i_;                                                            \
        for (i_ = 0; i_ < (n); i_++)                                       \
            s_ = (uint16_t)(s_ + (in)[i_]);                                \
        (sum) += s_;                                                       \
    } while (0)

#define SUM_COPY_BLOCK(dst, src, n, sum)                                   \
    do {                                                                   \
        uint16_t s_ = 0;                                                   \
        int i_;                                                            \
        for (i_ = 0; i_ < (n); i_++) {                                     \
            uint8_t b_ = (src)[i_];                                        \
            (dst)[i_] = b_;                                                \
            s_ = (uint16_t)(s_ + b_);                                      \
        }                                                                  \
        (sum) += s_;                                                       \
    } while (0)

KDCOM_API uint32_t kdcom_checksum_update(uint32_t sum, const uint8_t *in,
                                         size_t len)
{
    if (in == NULL)
        return sum;
    for (; len >= SUM_BLOCK; len -= SUM_BLOCK, in += SUM_BLOCK)
        SUM_BLOCK_AT(in, SUM_BLOCK, sum);
    for (; len >= SUM_TAIL; len -= SUM_TAIL, in += SUM_TAIL)
        SUM_BLOCK_AT(in, SUM_TAIL, sum);
    if (len >= SUM_TAIL / 2) {
        SUM_BLOCK_AT(in, SUM_TAIL / 2, sum);
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
         len -= SUM_BLOCK, dst += SUM_BLOCK, src += SUM_BLOCK)
        SUM_COPY_BLOCK(dst, src, SUM_BLOCK, sum);
    for (; len >= SUM_TAIL; len -= SUM_TAIL, dst += SUM_TAIL, src += SUM_TAIL)
        SUM_COPY_BLOCK(dst, src, SUM_TAIL, sum);
    if (len >= SUM_TAIL / 2) {
        SUM_COPY_BLOCK(dst, src, SUM_TAIL / 2, sum);
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
