/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * end.c - one link under test, wrapped in the oracles of fuzz.h.
 *
 * The wrapper keeps two private parsers beside the link.  out_chk reads
 * every byte the link drains and insists on a perfectly framed stream.
 * in_ref reads every byte the link consumed and so sees the very frames
 * the link saw: the link's counters can then be checked one by one
 * against what really arrived (nothing counted twice, nothing dropped
 * without a counter), and each PACKET event against the frame behind it.
 *
 * Two places follow the link's own decisions to stay in step: a TARGET
 * that takes a RESET drops the rest of that input (stats.stale_bytes says
 * how much), and a link abandons a stalled packet on a timer
 * (stats.rx_stalls); in_ref skips and resets accordingly.
 *
 * The only private fields read are the queue fill levels, to tell a
 * paused feed from a stuck one and a full queue from a lost entry.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"

#define GUARD 64
#define GUARD_BYTE 0xA5
#define SCRATCH_MAX 16384

static uint8_t scratch[SCRATCH_MAX + GUARD];

#define NSTATS (sizeof(struct kdcom_stats) / sizeof(uint64_t))

static void stats_words(const struct kdcom_stats *s, uint64_t *w)
{
    memcpy(w, s, sizeof(*s));
}

void fz_end_init(struct fz_end *e, const struct kdcom_config *cfg)
{
    int rc;

    memset(e, 0, sizeof(*e));
    rc = kdcom_link_init(&e->link, cfg);
    FZ_CHECK(rc == KDCOM_OK, "link_init: %d", rc);
    e->role = cfg->role;
    kdcom_parser_init(&e->out_chk);
    kdcom_parser_init(&e->in_ref);
    fz_end_check(e);
}

static int closed(struct fz_end *e, int rc)
{
    if (!e->closed)
        return 0;
    FZ_CHECK(rc == KDCOM_ERR_CLOSED, "call on a closed link returned %d", rc);
    return 1;
}

void fz_end_close(struct fz_end *e)
{
    int rc = kdcom_link_close(&e->link);

    if (closed(e, rc))
        return;
    FZ_CHECK(rc == KDCOM_OK, "close: %d", rc);
    e->closed = 1;
    FZ_CHECK(kdcom_next_deadline(&e->link) == 0, "deadline of closed link");
}

static void queues_bounded(const struct fz_end *e)
{
    /* A queue at its capacity may have refused an entry (the push helpers
     * drop silently when full); the feed pause is meant to keep both
     * below it. */
    FZ_CHECK(e->link.ctlq_count < KDCOM_CTLQ_LEN, "control queue full (%u)",
             (unsigned)e->link.ctlq_count);
    FZ_CHECK(e->link.evq_count < KDCOM_EVQ_LEN, "event queue full (%u)",
             (unsigned)e->link.evq_count);
}

/* The link abandons a half-received packet on its byte timer (in tick or
 * drain); no byte can arrive in between, so resetting in_ref at the next
 * look is the same as resetting it at that moment. */
static void sync_stalls(struct fz_end *e)
{
    const struct kdcom_stats *s = kdcom_get_stats(&e->link);

    if (!e->closed && s->rx_stalls != e->seen_stalls) {
        kdcom_parser_reset(&e->in_ref);
        e->seen_stalls = s->rx_stalls;
    }
}

void fz_end_check(struct fz_end *e)
{
    const struct kdcom_stats *s = kdcom_get_stats(&e->link);
    uint64_t cur[NSTATS], prev[NSTATS];
    size_t i;
    uint64_t expect_noise;

    FZ_CHECK(s != NULL, "no stats");
    if (e->closed)
        return;
    sync_stalls(e);
    stats_words(s, cur);
    stats_words(&e->prev, prev);
    for (i = 0; i < NSTATS; i++)
        FZ_CHECK(cur[i] >= prev[i], "stats word %zu went from %llu to %llu",
                 i, (unsigned long long)prev[i], (unsigned long long)cur[i]);
    e->prev = *s;

    FZ_CHECK(s->bytes_in == e->fed, "bytes_in %llu, fed %llu",
             (unsigned long long)s->bytes_in, (unsigned long long)e->fed);
    FZ_CHECK(s->bytes_out == e->drained, "bytes_out %llu, drained %llu",
             (unsigned long long)s->bytes_out,
             (unsigned long long)e->drained);
    FZ_CHECK(e->fed == e->in_ref.bytes_in + s->stale_bytes,
             "fed %llu != parsed %llu + stale %llu",
             (unsigned long long)e->fed,
             (unsigned long long)e->in_ref.bytes_in,
             (unsigned long long)s->stale_bytes);
    /* Every intact data frame lands in exactly one counter. */
    FZ_CHECK(s->packets_received + s->duplicates + s->bad_type +
                     s->bad_id + s->dropped_unsynced + s->bad_short ==
                 e->in_data,
             "data frames: %llu in, %llu+%llu+%llu+%llu+%llu+%llu accounted",
             (unsigned long long)e->in_data,
             (unsigned long long)s->packets_received,
             (unsigned long long)s->duplicates,
             (unsigned long long)s->bad_type,
             (unsigned long long)s->bad_id,
             (unsigned long long)s->dropped_unsynced,
             (unsigned long long)s->bad_short);
    FZ_CHECK(s->acks_received + s->resends_received + s->resets_received +
                     s->unknown_control ==
                 e->in_control,
             "control frames: %llu in", (unsigned long long)e->in_control);
    FZ_CHECK(s->acks_ignored <= s->acks_received, "acks_ignored");
    FZ_CHECK(s->resets_ignored <= s->resets_received &&
                 (s->resets_ignored == 0 || e->role == KDCOM_ROLE_DEBUGGER),
             "resets_ignored");
    FZ_CHECK(s->bad_size == e->in_bad_size, "bad_size");
    FZ_CHECK(s->bad_trailer == e->in_bad_trailer, "bad_trailer");
    FZ_CHECK(s->bad_checksum == e->in_bad_checksum, "bad_checksum");
    FZ_CHECK(s->partial_leaders == e->in_ref.partial_leaders,
             "partial_leaders %llu vs %llu",
             (unsigned long long)s->partial_leaders,
             (unsigned long long)e->in_ref.partial_leaders);
    expect_noise = e->in_ref.noise_bytes;
    if (e->role == KDCOM_ROLE_TARGET)
        FZ_CHECK(s->breakins_received == e->in_breakin, "breakins_received");
    else
        expect_noise += e->in_breakin; /* a 'b' means nothing to a debugger */
    FZ_CHECK(s->noise_bytes == expect_noise, "noise %llu, expected %llu",
             (unsigned long long)s->noise_bytes,
             (unsigned long long)expect_noise);
    FZ_CHECK(s->packets_acked <= s->packets_sent, "acked > sent");
    FZ_CHECK(s->packets_sent <= e->sends_ok, "packets_sent > sends");
    FZ_CHECK(s->packets_cancelled == e->cancels_ok, "packets_cancelled");
    FZ_CHECK(s->packets_received >= e->ev_packets, "PACKET events");
    FZ_CHECK(s->packets_acked >= e->ev_acked, "ACKED events");
    FZ_CHECK(s->implicit_acks == 0 || e->role == KDCOM_ROLE_TARGET,
             "implicit ack in a debugger");
    FZ_CHECK(s->stale_bytes == 0 || e->role == KDCOM_ROLE_TARGET,
             "stale bytes in a debugger");
    if (e->role == KDCOM_ROLE_TARGET)
        FZ_CHECK(s->syncs == 0 && s->breakins_sent == 0 &&
                     s->dropped_unsynced == 0,
                 "debugger counters in a target");
    else
        FZ_CHECK(s->breakins_received == 0, "target counter in a debugger");
    /* Frames are counted when they start to go out; one may be half
     * drained.  fz_end_drain_all() checks the exact totals. */
    FZ_CHECK(s->resets_sent <= e->out_resets + 1 &&
                 s->acks_sent <= e->out_acks + 1 &&
                 s->resends_sent <= e->out_resends + 1 &&
                 s->breakins_sent == e->out_breakins &&
                 s->packets_sent + s->retransmits <= e->out_data + 1,
             "sent counters ahead of the frames drained");
    FZ_CHECK(fz_legal_tx_id(e->role, kdcom_tx_id(&e->link)), "tx id %08x",
             (unsigned)kdcom_tx_id(&e->link));
    queues_bounded(e);
}

/* Runs in_ref over bytes the link consumed and parsed. */
static void mirror(struct fz_end *e, const uint8_t *in, size_t len)
{
    while (len > 0) {
        struct kdcom_frame f;
        int n = kdcom_parse(&e->in_ref, in, len, &f);

        FZ_CHECK(n >= 0 && (size_t)n <= len, "parse returned %d", n);
        in += n;
        len -= (size_t)n;
        switch (f.kind) {
        case KDCOM_FRAME_NONE:
            FZ_CHECK(len == 0, "parser stopped early with no item");
            break;
        case KDCOM_FRAME_DATA:
            e->in_data++;
            e->have_last = 1;
            e->last_type = f.type;
            e->last_id = f.id;
            e->last_len = f.payload_len;
            memcpy(e->last_payload, f.payload, f.payload_len);
            if (e->in_nids < FZ_MAX_IDS) {
                uint32_t i;
                for (i = 0; i < e->in_nids && e->in_ids[i] != f.id; i++)
                    ;
                if (i == e->in_nids)
                    e->in_ids[e->in_nids++] = f.id;
            } else {
                e->in_ids_overflow = 1;
            }
            break;
        case KDCOM_FRAME_CONTROL:
            e->in_control++;
            if (f.type == KDCOM_TYPE_RESET)
                e->in_resets++;
            break;
        case KDCOM_FRAME_BREAKIN:
            e->in_breakin++;
            break;
        case KDCOM_FRAME_BAD_SIZE:
            e->in_bad_size++;
            break;
        case KDCOM_FRAME_BAD_TRAILER:
            e->in_bad_trailer++;
            break;
        case KDCOM_FRAME_BAD_CHECKSUM:
            e->in_bad_checksum++;
            break;
        default:
            FZ_CHECK(0, "parser kind %u", (unsigned)f.kind);
        }
    }
}

static int id_received(const struct fz_end *e, uint32_t id)
{
    uint32_t i;

    if (e->in_ids_overflow)
        return 1; /* too many to remember: not checked */
    for (i = 0; i < e->in_nids; i++)
        if (e->in_ids[i] == id)
            return 1;
    return 0;
}

size_t fz_end_feed(struct fz_end *e, uint64_t now, const uint8_t *in,
                   size_t len)
{
    const struct kdcom_stats *s = kdcom_get_stats(&e->link);
    uint64_t stale0 = s->stale_bytes;
    size_t parsed, stale;
    int rc;

    if (now > e->now)
        e->now = now;
    sync_stalls(e);
    rc = kdcom_feed(&e->link, now, in, len);
    if (closed(e, rc))
        return 0;
    FZ_CHECK(rc >= 0 && (size_t)rc <= len, "feed(%zu) returned %d", len, rc);
    stale = (size_t)(s->stale_bytes - stale0);
    FZ_CHECK(stale <= (size_t)rc, "stale %zu > consumed %d", stale, rc);
    parsed = (size_t)rc - stale;
    mirror(e, in, parsed);
    e->fed += (size_t)rc;
    if ((size_t)rc < len) {
        /* A pause needs a reason the caller can act on. */
        FZ_CHECK(e->link.evq_count > 0 || kdcom_want_write(&e->link) == 1 ||
                     kdcom_packet_held(&e->link) == 2,
                 "feed consumed %d of %zu with no event, nothing to drain "
                 "and no held packet in the way", rc, len);
    }
    fz_end_check(e);
    return (size_t)rc;
}

static void check_output(struct fz_end *e, const uint8_t *out, size_t n)
{
    while (n > 0) {
        struct kdcom_frame f;
        int k = kdcom_parse(&e->out_chk, out, n, &f);

        FZ_CHECK(k >= 0 && (size_t)k <= n, "parse returned %d", k);
        out += k;
        n -= (size_t)k;
        switch (f.kind) {
        case KDCOM_FRAME_NONE:
            break;
        case KDCOM_FRAME_DATA:
            e->out_data++;
            FZ_CHECK(e->have_sent, "data frame with nothing sent");
            FZ_CHECK(f.type == e->sent_type && f.payload_len == e->sent_len &&
                         memcmp(f.payload, e->sent_payload, e->sent_len) == 0,
                     "data frame differs from the packet sent (type %u len "
                     "%u)", (unsigned)f.type, (unsigned)f.payload_len);
            FZ_CHECK(fz_legal_tx_id(e->role, f.id), "data id %08x",
                     (unsigned)f.id);
            break;
        case KDCOM_FRAME_CONTROL:
            FZ_CHECK(f.byte_count == 0 && f.checksum == 0,
                     "control frame with count %u sum %08x",
                     (unsigned)f.byte_count, (unsigned)f.checksum);
            if (f.type == KDCOM_TYPE_ACKNOWLEDGE) {
                e->out_acks++;
                FZ_CHECK(e->out_acks <= e->in_data,
                         "more ACKs than data frames received");
                if (e->role == KDCOM_ROLE_TARGET)
                    FZ_CHECK(id_received(e, f.id),
                             "target ACK id %08x was never received",
                             (unsigned)f.id);
                else
                    FZ_CHECK(!(f.id & KDCOM_SYNC_BIT) &&
                                 (id_received(e, f.id) ||
                                  id_received(e, f.id | KDCOM_SYNC_BIT)),
                             "debugger ACK id %08x", (unsigned)f.id);
            } else if (f.type == KDCOM_TYPE_RESEND) {
                e->out_resends++;
                FZ_CHECK(f.id == 0, "RESEND id %08x", (unsigned)f.id);
            } else if (f.type == KDCOM_TYPE_RESET) {
                e->out_resets++;
                FZ_CHECK(f.id == 0, "RESET id %08x", (unsigned)f.id);
                if (e->role == KDCOM_ROLE_TARGET)
                    FZ_CHECK(e->out_resets <= e->in_resets,
                             "target RESET not echoing one");
            } else {
                FZ_CHECK(0, "control type %u sent", (unsigned)f.type);
            }
            break;
        case KDCOM_FRAME_BREAKIN:
            e->out_breakins++;
            FZ_CHECK(e->role == KDCOM_ROLE_DEBUGGER, "target sent 'b'");
            break;
        default:
            FZ_CHECK(0, "link emitted a bad frame (kind %u)",
                     (unsigned)f.kind);
        }
    }
    FZ_CHECK(e->out_chk.noise_bytes == 0 && e->out_chk.partial_leaders == 0,
             "link emitted %llu noise bytes",
             (unsigned long long)e->out_chk.noise_bytes);
}

static void deadline_ahead(struct fz_end *e)
{
    uint64_t d = kdcom_next_deadline(&e->link);

    /* A timer that has expired was just run; one still in the past would
     * make a caller that sleeps until the deadline spin. */
    FZ_CHECK(d > e->now, "deadline %llu not after now %llu",
             (unsigned long long)d, (unsigned long long)e->now);
}

size_t fz_end_drain(struct fz_end *e, uint64_t now, uint8_t *out, size_t cap)
{
    size_t i, lib_cap = cap;
    int rc;

    /* SIZE_MAX is passed on as is: a cap larger than anything the link
     * can hold must be safe (the link writes what it has, no more). */
    if (cap > SCRATCH_MAX)
        cap = SCRATCH_MAX;
    if (lib_cap != (size_t)-1)
        lib_cap = cap;
    if (now > e->now)
        e->now = now;
    memset(scratch, GUARD_BYTE, cap + GUARD);
    rc = kdcom_drain(&e->link, now, scratch, lib_cap);
    if (closed(e, rc))
        return 0;
    FZ_CHECK(rc >= 0 && (size_t)rc <= cap, "drain(%zu) returned %d", cap, rc);
    for (i = (size_t)rc; i < cap + GUARD; i++)
        FZ_CHECK(scratch[i] == GUARD_BYTE,
                 "drain wrote byte %zu (returned %d, cap %zu)", i, rc, cap);
    if ((size_t)rc < cap)
        FZ_CHECK(kdcom_want_write(&e->link) == 0,
                 "drain stopped early with output left");
    check_output(e, scratch, (size_t)rc);
    e->drained += (size_t)rc;
    if (out != NULL)
        memcpy(out, scratch, (size_t)rc);
    deadline_ahead(e);
    fz_end_check(e);
    return (size_t)rc;
}

size_t fz_end_drain_all(struct fz_end *e, uint64_t now, uint8_t *out)
{
    size_t total = 0, n;
    int rounds = 0;

    do {
        n = fz_end_drain(e, now, out != NULL ? out + total : NULL,
                         FZ_DRAIN_MAX - total);
        total += n;
        FZ_CHECK(++rounds <= 2, "drain_all did not finish");
    } while (n > 0 && total < FZ_DRAIN_MAX);
    if (!e->closed) {
        const struct kdcom_stats *s = kdcom_get_stats(&e->link);

        FZ_CHECK(kdcom_want_write(&e->link) == 0,
                 "%zu bytes drained at one instant and still more", total);
        /* Nothing half drained now: the counters match the frames. */
        FZ_CHECK(s->resets_sent == e->out_resets &&
                     s->acks_sent == e->out_acks &&
                     s->resends_sent == e->out_resends &&
                     s->packets_sent + s->retransmits == e->out_data,
                 "sent counters %llu/%llu/%llu/%llu, frames %llu/%llu/%llu/"
                 "%llu", (unsigned long long)s->resets_sent,
                 (unsigned long long)s->acks_sent,
                 (unsigned long long)s->resends_sent,
                 (unsigned long long)(s->packets_sent + s->retransmits),
                 (unsigned long long)e->out_resets,
                 (unsigned long long)e->out_acks,
                 (unsigned long long)e->out_resends,
                 (unsigned long long)e->out_data);
    }
    return total;
}

static int type_sent(const struct fz_end *e, uint32_t type)
{
    return type < 32 && (e->sent_types & (1u << type)) != 0;
}

int fz_end_event(struct fz_end *e)
{
    struct kdcom_event ev;
    int rc = kdcom_next_event(&e->link, &ev);

    if (closed(e, rc))
        return 0;
    FZ_CHECK(rc >= 0 && rc <= KDCOM_EV_PEER_RESTARTED && (uint32_t)rc ==
                 ev.kind, "next_event returned %d kind %u", rc,
             (unsigned)ev.kind);
    switch (rc) {
    case KDCOM_EV_NONE:
        FZ_CHECK(ev.payload == NULL && ev.len == 0, "empty event with data");
        break;
    case KDCOM_EV_PACKET:
        e->ev_packets++;
        /* Whatever the peer claims, only a valid id gets through (either
         * role may receive SYNC: a target masks it). */
        FZ_CHECK(fz_legal_tx_id(KDCOM_ROLE_TARGET, ev.id),
                 "PACKET event with id %08x", (unsigned)ev.id);
        FZ_CHECK(e->have_last && ev.type == e->last_type &&
                     ev.id == e->last_id && ev.len == e->last_len,
                 "PACKET event (type %u id %08x len %u) is not the last "
                 "frame parsed", (unsigned)ev.type, (unsigned)ev.id,
                 (unsigned)ev.len);
        FZ_CHECK(ev.len == 0 || (ev.payload != NULL &&
                                 memcmp(ev.payload, e->last_payload,
                                        ev.len) == 0),
                 "PACKET payload differs from the frame");
        FZ_CHECK(kdcom_is_data_type(ev.type), "PACKET of type %u",
                 (unsigned)ev.type);
        e->pkt_type = ev.type;
        e->pkt_id = ev.id;
        e->pkt_len = ev.len;
        if (ev.len)
            memcpy(e->pkt_payload, ev.payload, ev.len);
        if (e->link.cfg.flags & KDCOM_CFG_HOLD_PACKETS) {
            /* One packet at a time: the link stops in front of the next. */
            FZ_CHECK(!e->held, "a second PACKET while one is held");
            e->held = 1;
            e->held_payload = ev.payload;
        }
        break;
    case KDCOM_EV_PEER_RESTARTED:
        e->ev_restarts++;
        FZ_CHECK(e->role == KDCOM_ROLE_DEBUGGER &&
                     (e->link.cfg.flags & KDCOM_CFG_REPORT_RESTARTS),
                 "PEER_RESTARTED unasked for (role %u)", (unsigned)e->role);
        FZ_CHECK(fz_legal_tx_id(KDCOM_ROLE_TARGET, ev.id) &&
                     (ev.id & KDCOM_SYNC_BIT),
                 "PEER_RESTARTED with id %08x", (unsigned)ev.id);
        break;
    case KDCOM_EV_ACKED:
        e->ev_acked++;
        FZ_CHECK(e->ev_acked + e->cancels_ok <= e->sends_ok,
                 "more ACKED events than packets sent");
        /* The event may be older than the last send: any type sent. */
        FZ_CHECK(type_sent(e, ev.type) && fz_legal_tx_id(e->role, ev.id),
                 "ACKED type %u id %08x", (unsigned)ev.type,
                 (unsigned)ev.id);
        break;
    case KDCOM_EV_RESEND:
        break;
    case KDCOM_EV_RESET:
        e->ev_resets++;
        break;
    case KDCOM_EV_SYNCED:
        e->ev_synced++;
        FZ_CHECK(e->role == KDCOM_ROLE_DEBUGGER, "SYNCED in a target");
        break;
    case KDCOM_EV_BREAKIN:
        e->ev_breakins++;
        FZ_CHECK(e->role == KDCOM_ROLE_TARGET, "BREAKIN in a debugger");
        FZ_CHECK(e->in_breakin > 0, "BREAKIN with no 'b' received");
        break;
    case KDCOM_EV_RETRIES_EXHAUSTED:
        FZ_CHECK(type_sent(e, ev.type) && fz_legal_tx_id(e->role, ev.id) &&
                     ev.retries > 0,
                 "RETRIES_EXHAUSTED type %u id %08x retries %u",
                 (unsigned)ev.type, (unsigned)ev.id, (unsigned)ev.retries);
        break;
    }
    fz_end_check(e);
    return rc;
}

int fz_end_events(struct fz_end *e)
{
    const struct kdcom_stats *s = kdcom_get_stats(&e->link);
    int n = 0;

    while (fz_end_event(e) != KDCOM_EV_NONE)
        FZ_CHECK(++n <= KDCOM_EVQ_LEN, "more events than the queue holds");
    if (e->closed)
        return n;
    if (e->held)
        fz_end_packet_done(e);
    /* With the queue empty, every event the link counted was delivered. */
    FZ_CHECK(s->packets_received == e->ev_packets,
             "%llu packets received, %llu PACKET events",
             (unsigned long long)s->packets_received,
             (unsigned long long)e->ev_packets);
    FZ_CHECK(s->packets_acked == e->ev_acked,
             "%llu packets acked, %llu ACKED events",
             (unsigned long long)s->packets_acked,
             (unsigned long long)e->ev_acked);
    FZ_CHECK(s->syncs == e->ev_synced, "syncs %llu, SYNCED events %llu",
             (unsigned long long)s->syncs, (unsigned long long)e->ev_synced);
    return n;
}

int fz_end_send(struct fz_end *e, uint64_t now, uint32_t type,
                const uint8_t *head, size_t head_len, const uint8_t *data,
                size_t data_len)
{
    int can = kdcom_can_send(&e->link);
    int valid = kdcom_is_data_type(type) &&
                head_len + data_len <= KDCOM_MAX_PAYLOAD;
    int rc;

    if (now > e->now)
        e->now = now;
    rc = kdcom_send(&e->link, now, type, head, head_len, data, data_len);
    if (closed(e, rc))
        return rc;
    FZ_CHECK(can == 0 || can == 1, "can_send %d", can);
    if (!can)
        FZ_CHECK(rc == KDCOM_ERR_BUSY, "send when busy returned %d", rc);
    else if (valid)
        FZ_CHECK(rc == KDCOM_OK, "valid send returned %d", rc);
    else
        FZ_CHECK(rc == KDCOM_ERR_BAD_TYPE || rc == KDCOM_ERR_TOO_BIG,
                 "invalid send returned %d", rc);
    if (rc == KDCOM_OK) {
        e->have_sent = 1;
        e->sent_type = type;
        e->sent_types |= 1u << type;
        e->sent_len = (uint32_t)(head_len + data_len);
        if (head_len)
            memcpy(e->sent_payload, head, head_len);
        if (data_len)
            memcpy(e->sent_payload + head_len, data, data_len);
        e->sends_ok++;
        FZ_CHECK(kdcom_can_send(&e->link) == 0, "can_send after send");
    }
    fz_end_check(e);
    return rc;
}

void fz_end_tick(struct fz_end *e, uint64_t now)
{
    int rc;

    if (now > e->now)
        e->now = now;
    rc = kdcom_tick(&e->link, now);
    if (closed(e, rc))
        return;
    FZ_CHECK(rc == KDCOM_OK, "tick returned %d", rc);
    deadline_ahead(e);
    fz_end_check(e);
}

int fz_end_cancel(struct fz_end *e)
{
    int rc = kdcom_cancel_send(&e->link);

    if (closed(e, rc))
        return rc;
    FZ_CHECK(rc == KDCOM_OK || rc == KDCOM_ERR_NO_PACKET, "cancel: %d", rc);
    if (rc == KDCOM_OK) {
        e->cancels_ok++;
        FZ_CHECK(e->ev_acked + e->cancels_ok <= e->sends_ok,
                 "cancelled more than was sent");
        if (e->role == KDCOM_ROLE_TARGET)
            FZ_CHECK(kdcom_tx_id(&e->link) ==
                         (KDCOM_INITIAL_ID | KDCOM_SYNC_BIT),
                     "target id after give-up %08x",
                     (unsigned)kdcom_tx_id(&e->link));
    }
    fz_end_check(e);
    return rc;
}

void fz_end_breakin(struct fz_end *e)
{
    int rc = kdcom_send_breakin(&e->link);

    if (closed(e, rc))
        return;
    FZ_CHECK(rc == (e->role == KDCOM_ROLE_DEBUGGER ? KDCOM_OK
                                                   : KDCOM_ERR_WRONG_ROLE),
             "send_breakin: %d", rc);
    fz_end_check(e);
}

void fz_end_resync(struct fz_end *e, uint64_t now)
{
    int rc;

    if (now > e->now)
        e->now = now;
    rc = kdcom_resync(&e->link, now);
    if (closed(e, rc))
        return;
    FZ_CHECK(rc == (e->role == KDCOM_ROLE_DEBUGGER ? KDCOM_OK
                                                   : KDCOM_ERR_WRONG_ROLE),
             "resync: %d", rc);
    if (rc == KDCOM_OK)
        FZ_CHECK(kdcom_is_synced(&e->link) == 0, "synced right after resync");
    fz_end_check(e);
}

void fz_end_take_breakin(struct fz_end *e)
{
    int rc = kdcom_take_breakin(&e->link);

    if (closed(e, rc))
        return;
    if (e->role == KDCOM_ROLE_DEBUGGER)
        FZ_CHECK(rc == KDCOM_ERR_WRONG_ROLE, "take_breakin: %d", rc);
    else
        FZ_CHECK(rc == 0 || (rc == 1 && e->in_breakin > 0),
                 "take_breakin: %d", rc);
    fz_end_check(e);
}

void fz_check_bad_args(void)
{
    static struct kdcom_link l;
    struct kdcom_config c;
    struct kdcom_event ev;
    struct kdcom_parser p;
    struct kdcom_frame f;
    uint8_t b[32];

    FZ_CHECK(kdcom_config_init(NULL, 1) == KDCOM_ERR_INVAL, "config NULL");
    FZ_CHECK(kdcom_config_init(&c, 3) == KDCOM_ERR_ROLE, "config role");
    FZ_CHECK(kdcom_link_init(NULL, NULL) == KDCOM_ERR_INVAL, "init NULL");
    kdcom_config_init(&c, KDCOM_ROLE_TARGET);
    c.ack_timeout_ms = 0;
    FZ_CHECK(kdcom_link_init(&l, &c) == KDCOM_ERR_CONFIG, "init config");
    c.ack_timeout_ms = 10;
    c.flags = 0x80;
    FZ_CHECK(kdcom_link_init(&l, &c) == KDCOM_ERR_CONFIG, "init flags");
    c.flags = 0;
    c.role = 0;
    FZ_CHECK(kdcom_link_init(&l, &c) == KDCOM_ERR_ROLE, "init role");
    /* A link that was never initialised (or was overwritten) is refused,
     * not used. */
    memset(&l, 0x5a, sizeof(l));
    FZ_CHECK(kdcom_feed(&l, 0, b, 1) == KDCOM_ERR_NOT_INIT, "feed uninit");
    FZ_CHECK(kdcom_drain(&l, 0, b, 1) == KDCOM_ERR_NOT_INIT, "drain uninit");
    FZ_CHECK(kdcom_next_deadline(&l) == 0, "deadline uninit");
    FZ_CHECK(kdcom_feed(NULL, 0, b, 1) == KDCOM_ERR_INVAL, "feed NULL");
    FZ_CHECK(kdcom_link_init(&l, NULL) == KDCOM_OK, "init default");
    FZ_CHECK(kdcom_feed(&l, 0, NULL, 1) == KDCOM_ERR_INVAL, "feed NULL in");
    FZ_CHECK(kdcom_feed(&l, 0, NULL, 0) == 0, "feed nothing");
    FZ_CHECK(kdcom_drain(&l, 0, NULL, 1) == KDCOM_ERR_INVAL, "drain NULL");
    FZ_CHECK(kdcom_drain(&l, 0, NULL, 0) == 0, "drain nothing");
    FZ_CHECK(kdcom_next_event(&l, NULL) == KDCOM_ERR_INVAL, "event NULL");
    FZ_CHECK(kdcom_packet_done(&l) == KDCOM_ERR_NO_PACKET, "done, none held");
    FZ_CHECK(kdcom_packet_held(&l) == 0, "held on a fresh link");
    FZ_CHECK(kdcom_next_event(NULL, &ev) == KDCOM_ERR_INVAL &&
                 ev.kind == KDCOM_EV_NONE,
             "event on NULL link");
    FZ_CHECK(kdcom_send(&l, 0, KDCOM_TYPE_DEBUG_IO, NULL, 1, NULL, 0) ==
                 KDCOM_ERR_INVAL,
             "send NULL head");
    FZ_CHECK(kdcom_send(&l, 0, KDCOM_TYPE_ACKNOWLEDGE, NULL, 0, NULL, 0) ==
                 KDCOM_ERR_BAD_TYPE,
             "send control type");
    FZ_CHECK(kdcom_send(&l, 0, KDCOM_TYPE_DEBUG_IO, b, (size_t)-1, b,
                        (size_t)-1) == KDCOM_ERR_TOO_BIG,
             "send huge");
    FZ_CHECK(kdcom_cancel_send(&l) == KDCOM_ERR_NO_PACKET, "cancel idle");
    FZ_CHECK(kdcom_parse(NULL, b, 1, &f) == KDCOM_ERR_INVAL, "parse NULL");
    kdcom_parser_init(&p);
    FZ_CHECK(kdcom_parse(&p, NULL, 1, &f) == KDCOM_ERR_INVAL, "parse NULL in");
    FZ_CHECK(kdcom_parse(&p, b, 1, NULL) == KDCOM_ERR_INVAL, "parse NULL f");
    FZ_CHECK(kdcom_encode_data(b, 16, KDCOM_TYPE_DEBUG_IO, 0, NULL, 0, NULL,
                               0) == KDCOM_ERR_NOBUFS,
             "encode small");
    FZ_CHECK(kdcom_encode_control(b, 15, KDCOM_TYPE_RESET, 0) ==
                 KDCOM_ERR_NOBUFS,
             "encode control small");
    FZ_CHECK(kdcom_encode_control(b, 16, KDCOM_TYPE_DEBUG_IO, 0) ==
                 KDCOM_ERR_BAD_TYPE,
             "encode control type");
    FZ_CHECK(kdcom_link_close(&l) == KDCOM_OK, "close");
    FZ_CHECK(kdcom_link_close(&l) == KDCOM_ERR_CLOSED, "close twice");
    FZ_CHECK(kdcom_tick(&l, 0) == KDCOM_ERR_CLOSED, "tick closed");
    FZ_CHECK(kdcom_is_fatal(KDCOM_ERR_CLOSED) && !kdcom_is_fatal(-5),
             "is_fatal");
    FZ_CHECK(kdcom_get_stats(NULL) == NULL, "stats NULL");
}

void fz_end_packet_done(struct fz_end *e)
{
    int rc;

    if (e->held && e->pkt_len > 0)
        FZ_CHECK(memcmp(e->held_payload, e->pkt_payload, e->pkt_len) == 0,
                 "a held packet's payload changed before kdcom_packet_done");
    rc = kdcom_packet_done(&e->link);
    if (closed(e, rc))
        return;
    FZ_CHECK(e->held ? rc == KDCOM_OK : rc == KDCOM_ERR_NO_PACKET,
             "packet_done with%s a packet held returned %d",
             e->held ? "" : "out", rc);
    /* Released (a PACKET event still queued, not taken, keeps its own
     * hold: kdcom_packet_held() says 1 then). */
    if (rc == KDCOM_OK)
        FZ_CHECK(kdcom_packet_held(&e->link) == 0, "still held after done");
    e->held = 0;
    e->held_payload = NULL;
    fz_end_check(e);
}
