/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * internal.h - helpers shared by the libkdcom sources.  Not installed;
 * consumers include <kdcom.h> only.
 *
 * The core includes nothing beyond <stddef.h> and <stdint.h>, the headers
 * every C compiler ships for freestanding use, so it builds with
 * -ffreestanding (32- or 64-bit, with or without a C library installed
 * for that target) and links into a kernel, a hypervisor or a boot loader
 * unchanged.  The four memory functions it calls are declared below
 * rather than through <string.h>, which is a C library header; the
 * program provides them (libc, a kernel's runtime, guest/kd_mem.c).
 */
#ifndef KDCOM_INTERNAL_H
#define KDCOM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kdcom.h"

/* What GCC and Clang require of any freestanding environment. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* Marks a struct kdcom_link that kdcom_link_init() prepared. */
#define KDCOM_LINK_MAGIC 0x4b44434du   /* "KDCM" */
#define KDCOM_LINK_CLOSED 0x4b44437au  /* "KDCz" */

static inline uint16_t kdcom_ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t kdcom_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline void kdcom_st16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void kdcom_st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Writes a 16-byte header; no argument checks (callers did them). */
void kdcom_put_header(uint8_t *out, uint32_t leader, uint32_t type,
                      uint32_t byte_count, uint32_t id, uint32_t checksum);

/* Copies len bytes from src to dst and returns the checksum of them added
 * to sum: one pass over the payload instead of two. */
uint32_t kdcom_copy_sum(uint8_t *dst, const uint8_t *src, size_t len,
                        uint32_t sum);

#endif /* KDCOM_INTERNAL_H */

/* ---- link internals shared by link.c, link_rx.c and link_tx.c ---- */

/* tx_state: where the one outstanding data packet is. */
enum kdcom_tx_state {
    KDCOM_TX_IDLE = 0,   /* nothing outstanding; kdcom_send() allowed */
    KDCOM_TX_PENDING,    /* waiting to be (re)transmitted by drain */
    KDCOM_TX_SENDING,    /* being drained now (out_kind == OUT_DATA) */
    KDCOM_TX_WAIT_ACK,   /* fully drained, ACK timer running */
    KDCOM_TX_DRAIN_ONLY  /* acknowledged or cancelled while being drained:
                            the rest of the frame still goes out */
};

/* out_kind: what the output cursor is writing. */
enum kdcom_out_kind { KDCOM_OUT_NONE = 0, KDCOM_OUT_CTL, KDCOM_OUT_DATA };

/* Pseudo control type for a queued break-in byte. */
#define KDCOM_CTL_BREAKIN 0x100u

/* Feeding pauses before the queues could overflow: a single frame adds
 * at most 2 control packets and 3 events, a timer pass at most 2 control
 * packets and 1 (coalesced) event. */
#define KDCOM_CTLQ_HIGH (KDCOM_CTLQ_LEN - 4)
#define KDCOM_EVQ_HIGH (KDCOM_EVQ_LEN - 4)

int kdcom_link_check(const struct kdcom_link *l);
void kdcom_link_advance(struct kdcom_link *l, uint64_t now);
int kdcom_tx_outstanding(const struct kdcom_link *l);
void kdcom_tx_retransmit(struct kdcom_link *l);
void kdcom_tx_acked(struct kdcom_link *l);
void kdcom_ctl_push(struct kdcom_link *l, uint32_t type, uint32_t id);
void kdcom_ctl_clear(struct kdcom_link *l);
void kdcom_ctl_remove(struct kdcom_link *l, uint32_t type);
void kdcom_ev_push(struct kdcom_link *l, uint32_t kind, uint32_t type,
                   uint32_t id, const uint8_t *payload, uint32_t len);
void kdcom_run_timers(struct kdcom_link *l);
