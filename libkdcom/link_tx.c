/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * link_tx.c - the transmit side of a link: the one outstanding data packet
 * as a state machine, the control queue, and writing frames out
 * (docs/protocol.md "Sending").
 *
 * THEORY OF OPERATION
 *
 *   Sending is stop-and-wait: one data packet is outstanding at a time and
 *   lives, encoded, in tx_frame.  Its id is written into the header each
 *   time it is transmitted, because a RESET can change the id of a packet
 *   that is already built (the checksum does not cover the id).
 *
 *   Where that packet is, is one of the states of enum kdcom_tx_state
 *   (internal.h).  Every change of state goes through tx_step() and the
 *   table tx_next[] below, which link_tx.dot draws:
 *
 *     IDLE --send--> QUEUED --start--> SENDING --end--> WAIT_ACK --ack-->
 *     IDLE; WAIT_ACK --timeout / again--> RESEND --start--> SENDING;
 *     any outstanding state --renumber (RESET)--> RENUMBERED (or
 *     SENDING_STALE while on the wire), which no ACK completes until it
 *     went out under the new id; SENDING* --ack / cancel--> DRAIN_ONLY
 *     --end--> IDLE.
 *
 *   A frame, once started, is finished before anything else is written,
 *   so a caller may drain with any `cap` and the wire stays framed: a
 *   retransmission asked for while the frame is on the wire waits for its
 *   end (SENDING_AGAIN, SENDING_STALE), and an ACK or a cancel while it is
 *   on the wire leaves the rest of it to be written (DRAIN_ONLY).
 *
 *   The output cursor (out_off, out_len) walks one frame at a time: the
 *   data packet in tx_frame while tx_state has it on the wire, else a
 *   control packet or break-in byte copied into out_ctl.  Between frames
 *   the control queue goes first (ACKs are what the peer waits for), then
 *   the outstanding data packet if it is due and, for a DEBUGGER, the
 *   handshake has completed.
 *
 *   The control queue coalesces: an entry identical to one already queued
 *   is not added again (one RESEND or RESET request is as good as two).
 *   Statistics count packets when they are written, not when queued.
 *
 *   Timers: the ACK deadline (WAIT_ACK) and, for a DEBUGGER that is not
 *   synced, the RESET repeat.  Both are absolute times compared with
 *   l->now, the largest `now` seen.
 */
#include "internal.h"

/* Properties of each state. */
#define OUTSTANDING 0x1 /* kdcom_send() refuses; cancel possible */
#define ACKABLE 0x2     /* went out under the current id: an ACK counts */
#define DUE 0x4         /* the output cursor may take it */
#define ON_WIRE 0x8     /* the output cursor is inside tx_frame */

static const uint8_t tx_props[KDCOM_TX_NSTATES] = {
    [KDCOM_TX_IDLE] = 0,
    [KDCOM_TX_QUEUED] = OUTSTANDING | DUE,
    [KDCOM_TX_SENDING] = OUTSTANDING | ACKABLE | ON_WIRE,
    [KDCOM_TX_SENDING_AGAIN] = OUTSTANDING | ACKABLE | ON_WIRE,
    [KDCOM_TX_SENDING_STALE] = OUTSTANDING | ON_WIRE,
    [KDCOM_TX_WAIT_ACK] = OUTSTANDING | ACKABLE,
    [KDCOM_TX_RESEND] = OUTSTANDING | ACKABLE | DUE,
    [KDCOM_TX_RENUMBERED] = OUTSTANDING | DUE,
    [KDCOM_TX_DRAIN_ONLY] = ON_WIRE,
};

/* The transitions.  An entry equal to its row's state means the event
 * changes nothing there; BAD marks an event that cannot happen in that
 * state (the callers check first). */
#define BAD 0xff
#define IDLE KDCOM_TX_IDLE
#define QUEUE KDCOM_TX_QUEUED
#define SENDG KDCOM_TX_SENDING
#define AGAIN KDCOM_TX_SENDING_AGAIN
#define STALE KDCOM_TX_SENDING_STALE
#define WAIT KDCOM_TX_WAIT_ACK
#define RSEND KDCOM_TX_RESEND
#define RENUM KDCOM_TX_RENUMBERED
#define DRAIN KDCOM_TX_DRAIN_ONLY

static const uint8_t tx_next[KDCOM_TX_NSTATES][KDCOM_TXE_NEVENTS] = {
    /*         send   start  end    ack    cancel timeout again  renumber */
    [IDLE]  = {QUEUE, BAD,   BAD,   BAD,   BAD,   BAD,    IDLE,  IDLE},
    [QUEUE] = {BAD,   SENDG, BAD,   BAD,   IDLE,  BAD,    QUEUE, QUEUE},
    [SENDG] = {BAD,   BAD,   WAIT,  DRAIN, DRAIN, BAD,    AGAIN, STALE},
    [AGAIN] = {BAD,   BAD,   RSEND, DRAIN, DRAIN, BAD,    AGAIN, STALE},
    [STALE] = {BAD,   BAD,   RENUM, BAD,   DRAIN, BAD,    STALE, STALE},
    [WAIT]  = {BAD,   BAD,   BAD,   IDLE,  IDLE,  RSEND,  RSEND, RENUM},
    [RSEND] = {BAD,   SENDG, BAD,   IDLE,  IDLE,  BAD,    RSEND, RENUM},
    [RENUM] = {BAD,   SENDG, BAD,   BAD,   IDLE,  BAD,    RENUM, RENUM},
    [DRAIN] = {BAD,   BAD,   IDLE,  BAD,   BAD,   BAD,    DRAIN, DRAIN},
};

#undef IDLE
#undef QUEUE
#undef SENDG
#undef AGAIN
#undef STALE
#undef WAIT
#undef RSEND
#undef RENUM
#undef DRAIN

static int tx_is(const struct kdcom_link *l, uint8_t prop)
{
    return (tx_props[l->tx_state] & prop) != 0;
}

/* What must hold between any two calls. */
static void tx_invariants(const struct kdcom_link *l)
{
    (void)l; /* without KDCOM_DEBUG */
    KDCOM_ASSERT(l->tx_state < KDCOM_TX_NSTATES);
    KDCOM_ASSERT(l->out_off <= l->out_len);
    /* A data frame on the wire is the one in tx_frame, whole. */
    KDCOM_ASSERT(!tx_is(l, ON_WIRE) ||
                 (l->out_len == l->tx_len && l->out_off < l->out_len));
    KDCOM_ASSERT(l->tx_state == KDCOM_TX_IDLE ||
                 (l->tx_len > KDCOM_HEADER_SIZE &&
                  l->tx_len <= KDCOM_MAX_FRAME));
    /* The cursor is on a frame exactly while out_len says so. */
    KDCOM_ASSERT(l->out_len != 0 || !tx_is(l, ON_WIRE));
    KDCOM_ASSERT(l->ctlq_count <= KDCOM_CTLQ_LEN);
    KDCOM_ASSERT(l->evq_count <= KDCOM_EVQ_LEN);
}

static void tx_step(struct kdcom_link *l, enum kdcom_tx_event e)
{
    uint8_t next = tx_next[l->tx_state][e];

    KDCOM_ASSERT(next != BAD);
    if (next == BAD)
        return;
    l->tx_state = next;
}

/* ---- the machine as the receive side and the API drive it ---- */

void kdcom_tx_init(struct kdcom_link *l)
{
    l->tx_state = KDCOM_TX_IDLE;
    if (l->role == KDCOM_ROLE_TARGET) {
        /* docs/protocol.md "Packet ids": the target starts in SYNC state. */
        l->tx_id = KDCOM_INITIAL_ID | KDCOM_SYNC_BIT;
    } else {
        l->tx_id = KDCOM_INITIAL_ID;
        l->breakin_on_sync_due =
            (l->cfg.flags & KDCOM_CFG_BREAKIN_ON_SYNC) != 0 && !l->synced;
        l->reset_deadline = 0; /* first RESET goes out at once */
    }
}

int kdcom_tx_outstanding(const struct kdcom_link *l)
{
    return tx_is(l, OUTSTANDING);
}

/* An ACK for tx_id would complete the outstanding packet: it went out
 * under that id. */
int kdcom_tx_ackable(const struct kdcom_link *l)
{
    return tx_is(l, ACKABLE);
}

/* The outstanding packet is acknowledged: advance our id and tell the
 * upper layer. */
void kdcom_tx_ack(struct kdcom_link *l)
{
    uint32_t id = l->tx_id;

    if (l->role == KDCOM_ROLE_TARGET)
        l->tx_id = (l->tx_id ^ 1u) & ~KDCOM_SYNC_BIT; /* first ACK clears
                                                          SYNC */
    else
        l->tx_id ^= 1u;
    l->tx_retries = 0;
    tx_step(l, KDCOM_TXE_ACK);
    l->stats.packets_acked++;
    kdcom_ev_push(l, KDCOM_EV_ACKED, l->tx_type, id, NULL, 0);
    tx_invariants(l);
}

/* Send the outstanding packet again (RESEND, resync); one on the wire is
 * finished first. */
void kdcom_tx_again(struct kdcom_link *l)
{
    tx_step(l, KDCOM_TXE_AGAIN);
    tx_invariants(l);
}

/* A RESET: ids start over, and the outstanding packet goes out again
 * under the new one; only a transmission under it can be acknowledged,
 * implicitly or not. */
void kdcom_tx_renumber(struct kdcom_link *l)
{
    if (tx_is(l, OUTSTANDING))
        l->tx_retries = 0;
    tx_step(l, KDCOM_TXE_RENUMBER);
    l->tx_id = KDCOM_INITIAL_ID;
    tx_invariants(l);
}

/* DEBUGGER: the target numbers from INITIAL|SYNC again (it gave up on
 * us), its receive side included.  Our next packet must carry INITIAL, or
 * it would be taken for a duplicate and dropped.  A packet still
 * outstanding keeps its id: it may have arrived before the target gave
 * up. */
void kdcom_tx_rebase(struct kdcom_link *l)
{
    if (!tx_is(l, OUTSTANDING))
        l->tx_id = KDCOM_INITIAL_ID;
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
    tx_step(l, KDCOM_TXE_SEND);
    tx_invariants(l);
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
    if (!tx_is(l, OUTSTANDING))
        return KDCOM_ERR_NO_PACKET;
    l->stats.packets_cancelled++;
    l->tx_retries = 0;
    tx_step(l, KDCOM_TXE_CANCEL);
    if (l->role == KDCOM_ROLE_TARGET) {
        /* Giving up means the debugger is presumed gone: number from
         * scratch, with SYNC, as kdcom.dll does (docs/protocol.md
         * "Giving up"). */
        l->tx_id = KDCOM_INITIAL_ID | KDCOM_SYNC_BIT;
        l->rx_expect = KDCOM_INITIAL_ID;
    }
    tx_invariants(l);
    return KDCOM_OK;
}

/* ---- timers ---- */

void kdcom_tx_timers(struct kdcom_link *l)
{
    uint64_t now = l->now;

    if (l->tx_state == KDCOM_TX_WAIT_ACK && now >= l->tx_deadline) {
        l->stats.ack_timeouts++;
        l->tx_retries++;
        tx_step(l, KDCOM_TXE_TIMEOUT);
        if (l->cfg.retry_limit != 0 && l->tx_retries >= l->cfg.retry_limit) {
            l->stats.retries_exhausted++;
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
    tx_invariants(l);
}

uint64_t kdcom_tx_deadline(const struct kdcom_link *l)
{
    uint64_t d = UINT64_MAX;

    if (l->tx_state == KDCOM_TX_WAIT_ACK)
        d = l->tx_deadline;
    if (!l->synced && l->reset_deadline < d)
        d = l->reset_deadline;
    return d;
}

KDCOM_API int kdcom_send_breakin(struct kdcom_link *l)
{
    int rc = kdcom_link_check_role(l, KDCOM_ROLE_DEBUGGER);

    if (rc != KDCOM_OK)
        return rc;
    kdcom_ctl_push(l, KDCOM_CTL_BREAKIN, 0);
    return KDCOM_OK;
}

KDCOM_API int kdcom_resync(struct kdcom_link *l, uint64_t now)
{
    int rc = kdcom_link_check_role(l, KDCOM_ROLE_DEBUGGER);

    if (rc != KDCOM_OK)
        return rc;
    kdcom_link_advance(l, now);
    l->synced = 0;
    l->reset_deadline = l->now;
    l->breakin_on_sync_due = (l->cfg.flags & KDCOM_CFG_BREAKIN_ON_SYNC) != 0;
    kdcom_tx_again(l); /* held back until the handshake completes */
    return KDCOM_OK;
}

/* ---- the control queue ---- */

void kdcom_ctl_push(struct kdcom_link *l, uint32_t type, uint32_t id)
{
    uint32_t i;

    for (i = 0; i < l->ctlq_count; i++) {
        uint32_t k = (l->ctlq_head + i) % KDCOM_CTLQ_LEN;
        if (l->ctlq_type[k] == type && l->ctlq_id[k] == id)
            return;
    }
    /* Cannot fill up: feeding pauses at KDCOM_CTLQ_HIGH. */
    KDCOM_ASSERT(l->ctlq_count < KDCOM_CTLQ_LEN);
    if (l->ctlq_count >= KDCOM_CTLQ_LEN)
        return;
    i = (l->ctlq_head + l->ctlq_count) % KDCOM_CTLQ_LEN;
    l->ctlq_type[i] = type;
    l->ctlq_id[i] = id;
    l->ctlq_count++;
}

void kdcom_ctl_clear(struct kdcom_link *l)
{
    l->ctlq_head = 0;
    l->ctlq_count = 0;
}

void kdcom_ctl_remove(struct kdcom_link *l, uint32_t type)
{
    uint32_t i, kept = 0;

    for (i = 0; i < l->ctlq_count; i++) {
        uint32_t from = (l->ctlq_head + i) % KDCOM_CTLQ_LEN;
        uint32_t to = (l->ctlq_head + kept) % KDCOM_CTLQ_LEN;

        if (l->ctlq_type[from] == type)
            continue;
        l->ctlq_type[to] = l->ctlq_type[from];
        l->ctlq_id[to] = l->ctlq_id[from];
        kept++;
    }
    l->ctlq_count = kept;
}

/* ---- writing frames out ---- */

/* Loads the next frame into the output cursor; 0 if there is none. */
static int next_frame(struct kdcom_link *l)
{
    if (l->ctlq_count != 0) {
        uint32_t type = l->ctlq_type[l->ctlq_head];
        uint32_t id = l->ctlq_id[l->ctlq_head];

        l->ctlq_head = (l->ctlq_head + 1) % KDCOM_CTLQ_LEN;
        l->ctlq_count--;
        l->out_off = 0;
        if (type == KDCOM_CTL_BREAKIN) {
            l->out_ctl[0] = KDCOM_BREAKIN_BYTE;
            l->out_len = 1;
            l->stats.breakins_sent++;
            return 1;
        }
        kdcom_put_header(l->out_ctl, KDCOM_LEADER_CONTROL, type, 0, id, 0);
        l->out_len = KDCOM_CONTROL_FRAME_SIZE;
        if (type == KDCOM_TYPE_ACKNOWLEDGE)
            l->stats.acks_sent++;
        else if (type == KDCOM_TYPE_RESEND)
            l->stats.resends_sent++;
        else
            l->stats.resets_sent++;
        return 1;
    }
    if (tx_is(l, DUE) && l->synced) {
        /* The id can have changed since the frame was built (RESET,
         * give-up); the checksum does not cover it. */
        kdcom_kd_st32(l->tx_frame + KDCOM_OFF_ID, l->tx_id);
        if (l->tx_state == KDCOM_TX_QUEUED)
            l->stats.packets_sent++;
        else
            l->stats.retransmits++;
        tx_step(l, KDCOM_TXE_START);
        l->out_off = 0;
        l->out_len = l->tx_len;
        return 1;
    }
    return 0;
}

static void frame_done(struct kdcom_link *l)
{
    if (tx_is(l, ON_WIRE)) {
        tx_step(l, KDCOM_TXE_END);
        if (l->tx_state == KDCOM_TX_WAIT_ACK)
            l->tx_deadline = l->now + l->cfg.ack_timeout_ms;
    }
    l->out_off = 0;
    l->out_len = 0;
}

/* Writes whole or partial frames into out, at most cap bytes. */
size_t kdcom_tx_write(struct kdcom_link *l, uint8_t *out, size_t cap)
{
    size_t n = 0;

    while (n < cap) {
        const uint8_t *src;
        size_t k;

        if (l->out_len == 0 && !next_frame(l))
            break;
        src = tx_is(l, ON_WIRE) ? l->tx_frame : l->out_ctl;
        k = l->out_len - l->out_off;
        if (k > cap - n)
            k = cap - n;
        memcpy(out + n, src + l->out_off, k);
        n += k;
        l->out_off += (uint32_t)k;
        if (l->out_off == l->out_len)
            frame_done(l);
    }
    l->stats.bytes_out += n;
    tx_invariants(l);
    return n;
}

int kdcom_tx_want_write(const struct kdcom_link *l)
{
    return l->out_len != 0 || l->ctlq_count != 0 ||
           (tx_is(l, DUE) && l->synced);
}
