/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * input.c - the fuzz input cursor, the configuration drawn from trailing
 * bytes, and the oracle's failure path.
 *
 * Reading past the end of the input yields zeros rather than an error, so
 * a harness never has to special-case a short input: it simply runs out
 * of operations (fz_more() turns 0).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

void fz_fail(const char *file, int line, const char *expr, const char *fmt,
             ...)
{
    va_list ap;

    fprintf(stderr, "\nfuzz oracle violated at %s:%d: %s\n  ", file, line,
            expr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

uint8_t fz_u8(struct fz_in *in)
{
    return in->off < in->n ? in->p[in->off++] : 0;
}

uint16_t fz_u16(struct fz_in *in)
{
    uint16_t lo = fz_u8(in);

    return (uint16_t)(lo | (fz_u8(in) << 8));
}

uint32_t fz_u32(struct fz_in *in)
{
    uint32_t lo = fz_u16(in);

    return lo | ((uint32_t)fz_u16(in) << 16);
}

const uint8_t *fz_bytes(struct fz_in *in, size_t want, size_t *got)
{
    const uint8_t *p = in->p + in->off;
    size_t left = in->n - in->off;

    *got = want < left ? want : left;
    in->off += *got;
    return p;
}

int fz_more(const struct fz_in *in)
{
    return in->off < in->n;
}

/* Trailing layout (8 bytes, from the end): flags, ack timeout, retry
 * limit, reset interval, byte timeout, spare.  A short input gets the
 * defaults with small timers. */
void fz_config(struct fz_in *in, uint32_t role, struct kdcom_config *cfg)
{
    const uint8_t *t;

    kdcom_config_init(cfg, role);
    cfg->ack_timeout_ms = 10;
    cfg->reset_interval_ms = 10;
    cfg->byte_timeout_ms = 10;
    cfg->retry_limit = 3;
    if (in->n < 8)
        return;
    t = in->p + in->n - 8;
    in->n -= 8;
    cfg->flags = t[0] & (KDCOM_CFG_BREAKIN_ON_SYNC | KDCOM_CFG_PASSIVE |
                         KDCOM_CFG_NO_IMPLICIT_ACK | KDCOM_CFG_HOLD_PACKETS |
                         KDCOM_CFG_REPORT_RESTARTS);
    cfg->ack_timeout_ms = 1u + t[1];
    cfg->retry_limit = t[2] & 0x1f; /* 0: never report */
    cfg->reset_interval_ms = 1u + t[3];
    cfg->byte_timeout_ms = 1u + (uint32_t)(t[4] | (t[5] << 8)) % 2000u;
    /* t[6], t[7]: reserved so that old corpus files keep their meaning
     * when a field is added. */
}

int fz_legal_tx_id(uint32_t role, uint32_t id)
{
    uint32_t base = id & ~(uint32_t)1;

    if (base == KDCOM_INITIAL_ID)
        return 1;
    return role == KDCOM_ROLE_TARGET &&
           base == (KDCOM_INITIAL_ID | KDCOM_SYNC_BIT);
}
