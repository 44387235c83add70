/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz.h - shared pieces of the libkdcom fuzz harnesses: an input cursor,
 * the oracle that aborts on a broken invariant, and a checked wrapper
 * around one link end (struct fz_end) that every link harness drives.
 *
 * The wrapper is where the invariants of docs/SECURITY.md live.  Each
 * public call a harness makes goes through it, and it checks after the
 * call that:
 *
 *   - kdcom_drain() wrote nothing past the bytes it reported (guard bytes
 *     fill the rest of the buffer and a tail past `cap`);
 *   - every call made progress or said why not (a short feed only with an
 *     event waiting or output to drain; loops are bounded; a tick leaves
 *     no deadline in the past);
 *   - everything drained re-parses, with a separate kdcom_parser, as DATA,
 *     CONTROL or (DEBUGGER only) BREAKIN items with zero noise, good
 *     checksums, legal types, and legal ids;
 *   - every intact received frame is accounted for in exactly one
 *     counter, every PACKET event is the frame the link last parsed, and
 *     no event is lost;
 *   - stats never decrease and bytes_in/bytes_out match what was fed and
 *     drained.
 */
#ifndef KDCOM_FUZZ_H
#define KDCOM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "kdcom.h"

/* Aborts with a message when an invariant does not hold. */
#define FZ_CHECK(cond, ...)                                                 \
    do {                                                                    \
        if (!(cond))                                                        \
            fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                \
    } while (0)

void fz_fail(const char *file, int line, const char *expr, const char *fmt,
             ...);

/* The fuzz input, consumed from the front; reads past the end give 0. */
struct fz_in {
    const uint8_t *p;
    size_t n;
    size_t off;
};

uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
uint32_t fz_u32(struct fz_in *in);
/* Up to want bytes; *got says how many are really there. */
const uint8_t *fz_bytes(struct fz_in *in, size_t want, size_t *got);
int fz_more(const struct fz_in *in);

/* Builds a link configuration for role from the last 8 bytes of the
 * input (which are then no longer part of the op stream).  Small timer
 * values make every timer fire within a short input. */
void fz_config(struct fz_in *in, uint32_t role, struct kdcom_config *cfg);

/* Ids a link may put on a data packet it sends. */
int fz_legal_tx_id(uint32_t role, uint32_t id);

#define FZ_MAX_IDS 64

/* One link under test and everything the oracles remember about it. */
struct fz_end {
    struct kdcom_link link;
    uint32_t role;
    int closed;                /* kdcom_link_close() was called */
    uint64_t now;              /* the largest time passed in */
    /* what we sent: the frame drained must be exactly this */
    int have_sent;
    uint32_t sent_type;
    uint32_t sent_types;       /* bit per type ever sent */
    uint32_t sent_len;
    uint8_t sent_payload[KDCOM_MAX_PAYLOAD];
    uint64_t sends_ok, cancels_ok;
    /* output checker: parses everything drained */
    struct kdcom_parser out_chk;
    uint64_t out_acks, out_resends, out_resets, out_data, out_breakins;
    /* input mirror: parses every byte the link consumed (minus the stale
     * bytes a TARGET drops after a RESET), reset when the link abandons a
     * stalled packet; it sees exactly the frames the link sees */
    struct kdcom_parser in_ref;
    uint64_t seen_stalls;
    uint64_t in_data, in_control, in_resets, in_breakin, in_bad_size,
        in_bad_trailer, in_bad_checksum;
    uint32_t in_ids[FZ_MAX_IDS]; /* distinct data-packet ids received */
    uint32_t in_nids;
    int in_ids_overflow;
    int have_last;             /* last intact data frame the link parsed */
    uint32_t last_type, last_id, last_len;
    uint8_t last_payload[KDCOM_MAX_PAYLOAD];
    /* events taken */
    uint64_t ev_packets, ev_acked, ev_synced, ev_breakins, ev_resets;
    /* byte totals and the previous stats snapshot */
    uint64_t fed, drained;
    struct kdcom_stats prev;
    /* the last PACKET event, copied (the pointer dies on the next call) */
    uint32_t pkt_type, pkt_id, pkt_len;
    uint8_t pkt_payload[KDCOM_MAX_PAYLOAD];
    /* KDCOM_CFG_HOLD_PACKETS: the taken PACKET the link still holds, and
     * where its payload must stay unchanged until kdcom_packet_done() */
    int held;
    const uint8_t *held_payload;
    uint64_t ev_restarts;      /* KDCOM_EV_PEER_RESTARTED taken */
};

/* Initialises e->link from cfg and resets every oracle. */
void fz_end_init(struct fz_end *e, const struct kdcom_config *cfg);

/* kdcom_link_close(): every later call must say KDCOM_ERR_CLOSED. */
void fz_end_close(struct fz_end *e);

/* kdcom_feed() with oracles; returns bytes consumed. */
size_t fz_end_feed(struct fz_end *e, uint64_t now, const uint8_t *in,
                   size_t len);

/* kdcom_drain() with oracles into out (room for cap bytes); returns bytes
 * written. */
size_t fz_end_drain(struct fz_end *e, uint64_t now, uint8_t *out, size_t cap);

/* Drains until the link has nothing left to write; returns the total.
 * out must hold FZ_DRAIN_MAX bytes. */
#define FZ_DRAIN_MAX (KDCOM_CTLQ_LEN * (KDCOM_CONTROL_FRAME_SIZE + 1) + \
                      2 * KDCOM_MAX_FRAME)
size_t fz_end_drain_all(struct fz_end *e, uint64_t now, uint8_t *out);

/* Takes one event (checked); returns its kind (0 when none).  A PACKET's
 * payload is copied into e->pkt_payload. */
int fz_end_event(struct fz_end *e);
/* Takes every event; returns how many.  With KDCOM_CFG_HOLD_PACKETS it
 * then releases a packet taken (fz_end_packet_done()), as an upper layer
 * that handles every event at once would. */
int fz_end_events(struct fz_end *e);
/* kdcom_packet_done() with oracles: the held payload was still intact,
 * and the call succeeds exactly when a taken packet is held. */
void fz_end_packet_done(struct fz_end *e);

/* kdcom_send() with oracles; returns its result. */
int fz_end_send(struct fz_end *e, uint64_t now, uint32_t type,
                const uint8_t *head, size_t head_len, const uint8_t *data,
                size_t data_len);

/* kdcom_tick() with oracles. */
void fz_end_tick(struct fz_end *e, uint64_t now);

/* kdcom_cancel_send(), kdcom_send_breakin(), kdcom_resync(),
 * kdcom_take_breakin() with their role and result checks. */
int fz_end_cancel(struct fz_end *e);
void fz_end_breakin(struct fz_end *e);
void fz_end_resync(struct fz_end *e, uint64_t now);
void fz_end_take_breakin(struct fz_end *e);

/* Checks the state-independent invariants (stats, accessors). */
void fz_end_check(struct fz_end *e);

/* Calls every entry point with bad arguments and checks the error codes. */
void fz_check_bad_args(void);

#endif /* KDCOM_FUZZ_H */
