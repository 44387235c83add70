/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * link.c - the KDCOM link: set-up, sending, events and timers
 * (docs/protocol.md "Link engine").
 *
 * THEORY OF OPERATION
 *
 *   A link is one end of a KDCOM conversation, in the TARGET or the
 *   DEBUGGER role.  It is split in three files:
 *
 *     link.c     configuration, kdcom_send(), events, timers, accessors;
 *     link_rx.c  what each received frame means (ids, ACK matching,
 *                duplicates, RESET/RESEND, break-in);
 *     link_tx.c  the output side: control queue and kdcom_drain().
 *
 *   Sending is stop-and-wait: one data packet is outstanding at a time and
 *   lives, encoded, in tx_frame.  Its id is written into the header each
 *   time it is transmitted, because a RESET can change the id of a packet
 *   that is already built (the checksum does not cover the id).
 *
 *     IDLE --send--> PENDING --drain starts--> SENDING --drain ends-->
 *     WAIT_ACK --ACK--> IDLE
 *     WAIT_ACK --timeout / RESEND / RESET--> PENDING
 *     SENDING --ACK or cancel--> DRAIN_ONLY --drain ends--> IDLE
 *
 *   Time only moves forward: l->now is the largest `now` seen.  Timers are
 *   absolute deadlines compared with it: the ACK deadline (WAIT_ACK), the
 *   RESET repeat (a DEBUGGER that is not synced) and the byte timeout (the
 *   parser is inside a packet and no byte came for byte_timeout_ms).
 *
 *   Nothing here blocks or loops on input: every call is bounded by the
 *   bytes it is given or asked for, and the queues are bounded by the
 *   feed pausing (see KDCOM_CTLQ_HIGH / KDCOM_EVQ_HIGH in internal.h).
 */
#include "internal.h"

#define KDCOM_MAX_TIMEOUT_MS 3600000u

KDCOM_API int kdcom_config_init(struct kdcom_config *cfg, uint32_t role)
{
    if (cfg == NULL)
        return KDCOM_ERR_INVAL;
    if (role != KDCOM_ROLE_TARGET && role != KDCOM_ROLE_DEBUGGER)
        return KDCOM_ERR_ROLE;
    memset(cfg, 0, sizeof(*cfg));
    cfg->role = role;
    cfg->ack_timeout_ms = 1000;
    cfg->retry_limit = 20; /* KdpDefaultRetries in Windows and ReactOS */
    cfg->reset_interval_ms = 1000; /* WinDbg repeats RESET about 1/s */
    cfg->byte_timeout_ms = 1000;
    return KDCOM_OK;
}

static int timeout_ok(uint32_t ms)
{
    return ms >= 1 && ms <= KDCOM_MAX_TIMEOUT_MS;
}

KDCOM_API int kdcom_link_init(struct kdcom_link *l,
                              const struct kdcom_config *cfg)
{
    struct kdcom_config def;
    const uint32_t known = KDCOM_CFG_BREAKIN_ON_SYNC | KDCOM_CFG_PASSIVE |
                           KDCOM_CFG_NO_IMPLICIT_ACK;

    if (l == NULL)
        return KDCOM_ERR_INVAL;
    if (cfg == NULL) {
        kdcom_config_init(&def, KDCOM_ROLE_TARGET);
        cfg = &def;
    }
    if (cfg->role != KDCOM_ROLE_TARGET && cfg->role != KDCOM_ROLE_DEBUGGER)
        return KDCOM_ERR_ROLE;
    if ((cfg->flags & ~known) != 0 || !timeout_ok(cfg->ack_timeout_ms) ||
        !timeout_ok(cfg->reset_interval_ms) ||
        !timeout_ok(cfg->byte_timeout_ms))
        return KDCOM_ERR_CONFIG;

    memset(l, 0, sizeof(*l));
    l->cfg = *cfg;
    l->role = cfg->role;
    kdcom_parser_init(&l->rx);
    l->rx_expect = KDCOM_INITIAL_ID;
    if (l->role == KDCOM_ROLE_TARGET) {
        /* docs/protocol.md "Packet ids": the target starts in SYNC state. */
        l->tx_id = KDCOM_INITIAL_ID | KDCOM_SYNC_BIT;
        l->synced = 1; /* a target never holds data back */
    } else {
        l->tx_id = KDCOM_INITIAL_ID;
        l->synced = (cfg->flags & KDCOM_CFG_PASSIVE) != 0;
        l->rx_expect_known = 0;
        l->breakin_on_sync_due =
            (cfg->flags & KDCOM_CFG_BREAKIN_ON_SYNC) != 0 && !l->synced;
        l->reset_deadline = 0; /* first RESET goes out at once */
    }
    l->magic = KDCOM_LINK_MAGIC;
    return KDCOM_OK;
}

int kdcom_link_check(const struct kdcom_link *l)
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

KDCOM_API int kdcom_link_close(struct kdcom_link *l)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    l->magic = KDCOM_LINK_CLOSED;
    return KDCOM_OK;
}

void kdcom_link_advance(struct kdcom_link *l, uint64_t now)
{
    if (now > l->now)
        l->now = now;
}

int kdcom_tx_outstanding(const struct kdcom_link *l)
{
    return l->tx_state == KDCOM_TX_PENDING ||
           l->tx_state == KDCOM_TX_SENDING ||
           l->tx_state == KDCOM_TX_WAIT_ACK;
}

/* Schedules the outstanding packet for another transmission.  A frame
 * being drained is finished first (tx_again), so the wire stays framed. */
void kdcom_tx_retransmit(struct kdcom_link *l)
{
    if (l->tx_state == KDCOM_TX_WAIT_ACK)
        l->tx_state = KDCOM_TX_PENDING;
    else if (l->tx_state == KDCOM_TX_SENDING)
        l->tx_again = 1;
}

/* The outstanding packet is acknowledged: advance our id and tell the
 * upper layer. */
void kdcom_tx_acked(struct kdcom_link *l)
{
    uint32_t id = l->tx_id;

    if (l->role == KDCOM_ROLE_TARGET)
        l->tx_id = (l->tx_id ^ 1u) & ~KDCOM_SYNC_BIT; /* first ACK clears
                                                          SYNC */
    else
        l->tx_id ^= 1u;
    l->tx_retries = 0;
    l->tx_again = 0;
    l->tx_state = l->out_kind == KDCOM_OUT_DATA ? KDCOM_TX_DRAIN_ONLY
                                                : KDCOM_TX_IDLE;
    l->stats.packets_acked++;
    kdcom_ev_push(l, KDCOM_EV_ACKED, l->tx_type, id, NULL, 0);
}

KDCOM_API int kdcom_send(struct kdcom_link *l, uint64_t now, uint32_t type,
                         const uint8_t *head, size_t head_len,
                         const uint8_t *data, size_t data_len)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    kdcom_link_advance(l, now);
    if (l->tx_state != KDCOM_TX_IDLE)
        return KDCOM_ERR_BUSY;
    /* The encoder validates everything and writes nothing on failure. */
    rc = kdcom_encode_data(l->tx_frame, sizeof(l->tx_frame), type, l->tx_id,
                           head, head_len, data, data_len);
    if (rc < 0)
        return rc;
    l->tx_len = (uint32_t)rc;
    l->tx_type = type;
    l->tx_retries = 0;
    l->tx_sent_once = 0;
    l->tx_on_wire = 0;
    l->tx_again = 0;
    l->tx_state = KDCOM_TX_PENDING;
    return KDCOM_OK;
}

KDCOM_API int kdcom_can_send(const struct kdcom_link *l)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    return l->tx_state == KDCOM_TX_IDLE;
}

KDCOM_API int kdcom_cancel_send(struct kdcom_link *l)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    if (!kdcom_tx_outstanding(l))
        return KDCOM_ERR_NO_PACKET;
    l->stats.packets_cancelled++;
    l->tx_again = 0;
    l->tx_on_wire = 0;
    l->tx_retries = 0;
    l->tx_state = l->out_kind == KDCOM_OUT_DATA ? KDCOM_TX_DRAIN_ONLY
                                                : KDCOM_TX_IDLE;
    if (l->role == KDCOM_ROLE_TARGET) {
        /* Giving up means the debugger is presumed gone: number from
         * scratch, with SYNC, as kdcom.dll does (docs/protocol.md
         * "Giving up"). */
        l->tx_id = KDCOM_INITIAL_ID | KDCOM_SYNC_BIT;
        l->rx_expect = KDCOM_INITIAL_ID;
    }
    return KDCOM_OK;
}

void kdcom_ev_push(struct kdcom_link *l, uint32_t kind, uint32_t type,
                   uint32_t id, const uint8_t *payload, uint32_t len)
{
    struct kdcom_event *ev;

    /* Cannot fill up: feeding pauses at KDCOM_EVQ_HIGH and timers add at
     * most one coalesced event.  The check keeps memory safe regardless. */
    if (l->evq_count >= KDCOM_EVQ_LEN)
        return;
    ev = &l->evq[(l->evq_head + l->evq_count) % KDCOM_EVQ_LEN];
    l->evq_count++;
    ev->kind = kind;
    ev->type = type;
    ev->id = id;
    ev->retries = l->tx_retries;
    ev->payload = payload;
    ev->len = len;
}

KDCOM_API int kdcom_next_event(struct kdcom_link *l, struct kdcom_event *ev)
{
    int rc;

    if (ev == NULL)
        return KDCOM_ERR_INVAL;
    memset(ev, 0, sizeof(*ev));
    rc = kdcom_link_check(l);
    if (rc != KDCOM_OK)
        return rc;
    if (l->evq_count == 0)
        return KDCOM_EV_NONE;
    *ev = l->evq[l->evq_head];
    l->evq_head = (l->evq_head + 1) % KDCOM_EVQ_LEN;
    l->evq_count--;
    if (ev->kind == KDCOM_EV_PACKET)
        l->rx_pkt_pending = 0; /* the parser may reuse its buffer on the
                                  next feed, not before */
    return (int)ev->kind;
}

static int exhausted_queued(struct kdcom_link *l)
{
    uint32_t i;

    for (i = 0; i < l->evq_count; i++) {
        struct kdcom_event *ev = &l->evq[(l->evq_head + i) % KDCOM_EVQ_LEN];
        if (ev->kind == KDCOM_EV_RETRIES_EXHAUSTED) {
            ev->retries += l->tx_retries;
            return 1;
        }
    }
    return 0;
}

void kdcom_run_timers(struct kdcom_link *l)
{
    uint64_t now = l->now;

    if (l->tx_state == KDCOM_TX_WAIT_ACK && now >= l->tx_deadline) {
        l->stats.ack_timeouts++;
        l->tx_retries++;
        l->tx_state = KDCOM_TX_PENDING;
        if (l->cfg.retry_limit != 0 && l->tx_retries >= l->cfg.retry_limit) {
            l->stats.retries_exhausted++;
            if (!exhausted_queued(l))
                kdcom_ev_push(l, KDCOM_EV_RETRIES_EXHAUSTED, l->tx_type,
                              l->tx_id, NULL, 0);
            l->tx_retries = 0;
        }
    }
    if (!l->synced && now >= l->reset_deadline) {
        if (l->breakin_on_sync_due) {
            kdcom_ctl_push(l, KDCOM_CTL_BREAKIN, 0);
            l->breakin_on_sync_due = 0;
        }
        kdcom_ctl_push(l, KDCOM_TYPE_RESET, 0);
        l->reset_deadline = now + l->cfg.reset_interval_ms;
    }
    if (kdcom_parser_busy(&l->rx) &&
        now - l->rx_last >= l->cfg.byte_timeout_ms) {
        /* The rest of the packet is not coming: drop it and ask for it
         * again, as kdcom.dll does on a byte timeout inside a packet. */
        kdcom_parser_reset(&l->rx);
        l->stats.rx_stalls++;
        if (l->synced)
            kdcom_ctl_push(l, KDCOM_TYPE_RESEND, 0);
    }
    l->stats.noise_bytes = l->rx.noise_bytes;
    l->stats.partial_leaders = l->rx.partial_leaders;
}

KDCOM_API int kdcom_tick(struct kdcom_link *l, uint64_t now)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    kdcom_link_advance(l, now);
    kdcom_run_timers(l);
    return KDCOM_OK;
}

KDCOM_API uint64_t kdcom_next_deadline(const struct kdcom_link *l)
{
    uint64_t d = UINT64_MAX;

    if (kdcom_link_check(l) != KDCOM_OK)
        return 0;
    if (l->tx_state == KDCOM_TX_WAIT_ACK && l->tx_deadline < d)
        d = l->tx_deadline;
    if (!l->synced && l->reset_deadline < d)
        d = l->reset_deadline;
    if (kdcom_parser_busy(&l->rx) &&
        l->rx_last + l->cfg.byte_timeout_ms < d)
        d = l->rx_last + l->cfg.byte_timeout_ms;
    return d;
}

KDCOM_API int kdcom_send_breakin(struct kdcom_link *l)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    if (l->role != KDCOM_ROLE_DEBUGGER)
        return KDCOM_ERR_WRONG_ROLE;
    kdcom_ctl_push(l, KDCOM_CTL_BREAKIN, 0);
    return KDCOM_OK;
}

KDCOM_API int kdcom_resync(struct kdcom_link *l, uint64_t now)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    if (l->role != KDCOM_ROLE_DEBUGGER)
        return KDCOM_ERR_WRONG_ROLE;
    kdcom_link_advance(l, now);
    l->synced = 0;
    l->reset_deadline = l->now;
    l->breakin_on_sync_due = (l->cfg.flags & KDCOM_CFG_BREAKIN_ON_SYNC) != 0;
    kdcom_tx_retransmit(l); /* held back until the handshake completes */
    return KDCOM_OK;
}

KDCOM_API int kdcom_expect_header(struct kdcom_link *l, uint32_t len)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    if (l->role != KDCOM_ROLE_TARGET)
        return KDCOM_ERR_WRONG_ROLE;
    /* PROTOCOL-FACTS §3.5 step 1, §3.6 and §7: the receiver's header
     * buffer is the minimum a data packet must fill (link_rx.c). */
    l->rx_min_len = len;
    return KDCOM_OK;
}

KDCOM_API int kdcom_take_breakin(struct kdcom_link *l)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    if (l->role != KDCOM_ROLE_TARGET)
        return KDCOM_ERR_WRONG_ROLE;
    rc = l->breakin_pending;
    l->breakin_pending = 0;
    return rc;
}

KDCOM_API int kdcom_is_synced(const struct kdcom_link *l)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    if (l->role == KDCOM_ROLE_TARGET)
        return (l->tx_id & KDCOM_SYNC_BIT) == 0;
    return l->synced;
}

KDCOM_API const struct kdcom_stats *kdcom_get_stats(
    const struct kdcom_link *l)
{
    return l != NULL ? &l->stats : NULL;
}

KDCOM_API uint32_t kdcom_tx_id(const struct kdcom_link *l)
{
    return l != NULL ? l->tx_id : 0;
}
