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
#include "kdcom_kd.h" /* little-endian loads and stores, one home */

/* What GCC and Clang require of any freestanding environment. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* Calls that return a byte count as int handle at most INT32_MAX bytes
 * at a time. */
static inline size_t kdcom_clamp_len(size_t len)
{
    return len > (size_t)INT32_MAX ? (size_t)INT32_MAX : len;
}

/* Writes a 16-byte header; no argument checks (callers did them). */
void kdcom_put_header(uint8_t *out, uint32_t leader, uint32_t type,
                      uint32_t byte_count, uint32_t id, uint32_t checksum);

/* Copies len bytes from src to dst and returns the checksum of them added
 * to sum: one pass over the payload instead of two. */
uint32_t kdcom_copy_sum(uint8_t *dst, const uint8_t *src, size_t len,
                        uint32_t sum);

/* Invariant checks.  Built in with KDCOM_DEBUG (the test builds define
 * it): a broken invariant stops the program where it broke.  A program may
 * define KDCOM_ASSERT itself (a kernel's own assertion).  Off by default:
 * the checks then cost nothing. */
#ifndef KDCOM_ASSERT
#ifdef KDCOM_DEBUG
#define KDCOM_ASSERT(x)                                                       \
    do {                                                                      \
        if (!(x))                                                             \
            __builtin_trap();                                                 \
    } while (0)
#else
#define KDCOM_ASSERT(x) ((void)0)
#endif
#endif

/* ---- the link: shared by link.c, link_events.c, link_rx.c, link_tx.c ----
 *
 * Who calls whom (no two files call each other):
 *
 *   link.c  --> link_rx.c --> link_tx.c --> link_events.c
 *      |            |                            ^
 *      +------------+----------------------------+
 *
 * link.c: set-up, kdcom_tick() / kdcom_drain() / kdcom_next_deadline()
 * handing off to both sides, accessors.  link_rx.c: kdcom_feed(), what
 * each frame means, the byte timer.  link_tx.c: the transmit state
 * machine (send, cancel, acknowledgement, retransmission, the ACK and
 * RESET timers), the control queue and writing frames out.
 * link_events.c: the event queue. */

/* Marks a struct kdcom_link that kdcom_link_init() prepared. */
#define KDCOM_LINK_MAGIC 0x4b44434du   /* "KDCM" */
#define KDCOM_LINK_CLOSED 0x4b44437au  /* "KDCz" */

/* Every call on a link starts here: KDCOM_OK, or why it cannot be used. */
static inline int kdcom_link_check(const struct kdcom_link *l)
{
    if (l == NULL)
        return KDCOM_ERR_INVAL;
    if (l->magic == KDCOM_LINK_CLOSED)
        return KDCOM_ERR_CLOSED;
    if (l->magic != KDCOM_LINK_MAGIC ||
        (l->role != KDCOM_ROLE_TARGET && l->role != KDCOM_ROLE_DEBUGGER))
        return KDCOM_ERR_NOT_INIT;
    return KDCOM_OK;
}

/* The same, for a call that exists in one role only. */
static inline int kdcom_link_check_role(const struct kdcom_link *l,
                                        uint32_t role)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    return l->role == role ? KDCOM_OK : KDCOM_ERR_WRONG_ROLE;
}

/* Time only moves forward: l->now is the largest `now` seen. */
static inline void kdcom_link_advance(struct kdcom_link *l, uint64_t now)
{
    if (now > l->now)
        l->now = now;
}

/* What every call that moves bytes (kdcom_feed, kdcom_drain) checks
 * first: a usable link and a buffer that exists unless it is empty; then
 * its time is taken.  KDCOM_OK, or why the call fails. */
static inline int kdcom_link_enter(struct kdcom_link *l, uint64_t now,
                                   const uint8_t *buf, size_t len)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    if (buf == NULL && len != 0)
        return KDCOM_ERR_INVAL;
    kdcom_link_advance(l, now);
    return KDCOM_OK;
}

/* Longest timeout a configuration may ask for: one hour. */
#define KDCOM_MAX_TIMEOUT_MS 3600000u
/* Defaults of struct kdcom_config and struct kdcom_vm_config. */
#define KDCOM_DEFAULT_TIMEOUT_MS 1000u /* ACK, byte, RESET and receive */
#define KDCOM_DEFAULT_RETRIES 20u      /* KdpDefaultRetries */

/* Feeding pauses before the queues could overflow: a single frame adds
 * at most 2 control packets and 3 events, a timer pass at most 2 control
 * packets and 1 (coalesced) event. */
#define KDCOM_CTLQ_HIGH (KDCOM_CTLQ_LEN - 4)
#define KDCOM_EVQ_HIGH (KDCOM_EVQ_LEN - 4)

/* Pseudo control type for a queued break-in byte. */
#define KDCOM_CTL_BREAKIN 0x100u

/* tx_state: the one outstanding data packet (link_tx.c, link_tx.dot).
 * "Current id" is tx_id; "on the wire" means the output cursor is in the
 * middle of tx_frame. */
enum kdcom_tx_state {
    KDCOM_TX_IDLE = 0,      /* nothing outstanding: kdcom_send() allowed */
    KDCOM_TX_QUEUED,        /* outstanding, never transmitted */
    KDCOM_TX_SENDING,       /* on the wire under the current id */
    KDCOM_TX_SENDING_AGAIN, /* the same, and due again once written out
                               (a RESEND or a resync came meanwhile) */
    KDCOM_TX_SENDING_STALE, /* on the wire under an id a RESET replaced:
                               due again under the new one, and no ACK
                               counts until then */
    KDCOM_TX_WAIT_ACK,      /* written out; the ACK timer runs */
    KDCOM_TX_RESEND,        /* due again; last sent under the current id,
                               so its ACK still counts */
    KDCOM_TX_RENUMBERED,    /* due again under a new id (RESET); no ACK
                               counts until it went out under it */
    KDCOM_TX_DRAIN_ONLY,    /* acknowledged or cancelled while on the wire:
                               the rest of the frame still goes out */
    KDCOM_TX_NSTATES
};

/* What happens to the outstanding packet. */
enum kdcom_tx_event {
    KDCOM_TXE_SEND = 0, /* kdcom_send() */
    KDCOM_TXE_START,    /* the output cursor takes the frame */
    KDCOM_TXE_END,      /* its last byte was written out */
    KDCOM_TXE_ACK,      /* acknowledged, explicitly or implicitly */
    KDCOM_TXE_CANCEL,   /* kdcom_cancel_send() */
    KDCOM_TXE_TIMEOUT,  /* the ACK timer expired */
    KDCOM_TXE_AGAIN,    /* the peer sent RESEND, or kdcom_resync() */
    KDCOM_TXE_RENUMBER, /* a RESET changed the ids */
    KDCOM_TXE_NEVENTS
};

/* rx_hold: whose the parser's payload buffer is. */
enum kdcom_rx_hold {
    KDCOM_RX_FREE = 0, /* the parser's: the next data packet may land */
    KDCOM_RX_QUEUED,   /* a delivered packet's, its PACKET event queued */
    KDCOM_RX_HELD      /* taken, until kdcom_packet_done()
                          (KDCOM_CFG_HOLD_PACKETS) */
};

/* parser.c: the bytes the parser may take while a packet is held. */
size_t kdcom_parser_span_to_data(const struct kdcom_parser *p,
                                 const uint8_t *in, size_t len);

/* link_events.c */
void kdcom_ev_push(struct kdcom_link *l, uint32_t kind, uint32_t type,
                   uint32_t id, const uint8_t *payload, uint32_t len);

/* link_tx.c: the transmit machine, as the receive side drives it. */
int kdcom_tx_outstanding(const struct kdcom_link *l);
int kdcom_tx_ackable(const struct kdcom_link *l);
void kdcom_tx_ack(struct kdcom_link *l);
void kdcom_tx_again(struct kdcom_link *l);
void kdcom_tx_renumber(struct kdcom_link *l);
void kdcom_tx_rebase(struct kdcom_link *l);
/* link_tx.c: the control queue. */
void kdcom_ctl_push(struct kdcom_link *l, uint32_t type, uint32_t id);
void kdcom_ctl_clear(struct kdcom_link *l);
void kdcom_ctl_remove(struct kdcom_link *l, uint32_t type);
/* link_tx.c: for link.c. */
void kdcom_tx_init(struct kdcom_link *l);
void kdcom_tx_timers(struct kdcom_link *l);
uint64_t kdcom_tx_deadline(const struct kdcom_link *l);
size_t kdcom_tx_write(struct kdcom_link *l, uint8_t *out, size_t cap);
int kdcom_tx_want_write(const struct kdcom_link *l);

/* link_rx.c: for link.c. */
void kdcom_rx_init(struct kdcom_link *l);
void kdcom_rx_timers(struct kdcom_link *l);
uint64_t kdcom_rx_deadline(const struct kdcom_link *l);

#endif /* KDCOM_INTERNAL_H */
