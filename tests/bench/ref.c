/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ref.c - the reference kernels the codec rows are measured against.
 *
 * The minimal work of encoding or decoding a payload is one copy and one
 * byte sum of it.  These are written the plain way (memcpy, then a
 * straight uint32_t loop) and built with BENCH_REF_OPT (-O3 by default),
 * where the compiler vectorises the loop.  Living in their own file keeps
 * the optimiser from seeing through them into the timing loops.
 */
#include <string.h>

#include "bench.h"

uint32_t ref_sum(const uint8_t *in, size_t len)
{
    uint32_t sum = 0;
    size_t i;

    for (i = 0; i < len; i++)
        sum += in[i];
    return sum;
}

uint32_t ref_copy_sum(uint8_t *dst, const uint8_t *src, size_t len)
{
    memcpy(dst, src, len);
    return ref_sum(dst, len);
}

uint32_t ref_copy(uint8_t *dst, const uint8_t *src, size_t len)
{
    memcpy(dst, src, len);
    /* One byte of the result, so the copy is observable. */
    return len ? dst[len - 1] : 0;
}

/* The least a one-byte-per-call interface can cost: a call that takes the
 * byte and does nothing else worth mentioning.  The floor of row 2. */
uint32_t ref_take_byte(const uint8_t *in, size_t len)
{
    return len != 0 ? in[0] : 0;
}
