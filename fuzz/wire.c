/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wire.c - the harnesses' own frame builder (see wire.h).  Deliberately
 * independent of libkdcom's encoders: a bug there must not be mirrored
 * here.
 */
#include <string.h>

#include "kdcom.h"
#include "wire.h"

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void header(uint8_t *out, uint8_t lead, uint32_t type, uint32_t count,
                   uint32_t id, uint32_t sum)
{
    memset(out, lead, 4);
    out[4] = (uint8_t)type;
    out[5] = (uint8_t)(type >> 8);
    out[6] = (uint8_t)count;
    out[7] = (uint8_t)(count >> 8);
    put32(out + 8, id);
    put32(out + 12, sum);
}

size_t fzw_data(uint8_t *out, uint32_t type, uint32_t id,
                const uint8_t *payload, size_t len, unsigned flaws)
{
    uint32_t sum = 0;
    size_t i;

    if (flaws & FZW_BIG_COUNT) {
        header(out, 0x30, type, 4001u + (uint32_t)len % 61535u, id, 0);
        return 16;
    }
    for (i = 0; i < len; i++)
        sum += payload[i];
    if (flaws & FZW_BAD_SUM)
        sum += 1;
    header(out, 0x30, type, (uint32_t)len, id, sum);
    if (len)
        memcpy(out + 16, payload, len);
    out[16 + len] = (flaws & FZW_BAD_TRAILER) ? 0x55 : 0xAA;
    return 16 + len + 1;
}

size_t fzw_control(uint8_t *out, uint32_t type, uint32_t id)
{
    header(out, 0x69, type, 0, id, 0);
    return 16;
}

uint32_t fzw_pick_id(uint8_t sel, uint32_t own, uint32_t any)
{
    switch (sel % 8) {
    case 0: return KDCOM_INITIAL_ID;
    case 1: return KDCOM_INITIAL_ID | 1u;
    case 2: return KDCOM_INITIAL_ID | KDCOM_SYNC_BIT;
    case 3: return KDCOM_INITIAL_ID | KDCOM_SYNC_BIT | 1u;
    case 4: return own;
    case 5: return own ^ 1u;
    case 6: return own | KDCOM_SYNC_BIT;
    default: return any;
    }
}
