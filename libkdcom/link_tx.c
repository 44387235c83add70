/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * link_tx.c - the output side of a link: the control queue and
 * kdcom_drain() (docs/protocol.md "Sending").
 *
 * THEORY OF OPERATION
 *
 *   The output cursor (out_kind, out_off, out_len) walks one frame at a
 *   time: a control packet or break-in byte copied into out_ctl, or the
 *   data packet in tx_frame.  A frame, once started, is finished before
 *   anything else is written, so a caller may drain with any `cap` and the
 *   wire stays framed.  Between frames the control queue goes first (ACKs
 *   are what the peer waits for), then the outstanding data packet if it is
 *   due and, for a DEBUGGER, the handshake has completed.
 *
 *   The control queue coalesces: an entry identical to one already queued
 *   is not added again (one RESEND or RESET request is as good as two).
 *   Statistics count packets when they are written, not when queued.
 */
#include "internal.h"

void kdcom_ctl_push(struct kdcom_link *l, uint32_t type, uint32_t id)
{
    uint32_t i;

    for (i = 0; i < l->ctlq_count; i++) {
        uint32_t k = (l->ctlq_head + i) % KDCOM_CTLQ_LEN;
        if (l->ctlq_type[k] == type && l->ctlq_id[k] == id)
            return;
    }
    /* Cannot fill up: feeding pauses at KDCOM_CTLQ_HIGH. */
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

/* Loads the next frame into the output cursor; 0 if there is none. */
static int next_frame(struct kdcom_link *l)
{
    if (l->ctlq_count != 0) {
        uint32_t type = l->ctlq_type[l->ctlq_head];
        uint32_t id = l->ctlq_id[l->ctlq_head];

        l->ctlq_head = (l->ctlq_head + 1) % KDCOM_CTLQ_LEN;
        l->ctlq_count--;
        l->out_kind = KDCOM_OUT_CTL;
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
    if (l->tx_state == KDCOM_TX_PENDING && l->synced) {
        /* The id can have changed since the frame was built (RESET,
         * give-up); the checksum does not cover it. */
        kdcom_st32(l->tx_frame + KDCOM_OFF_ID, l->tx_id);
        if (l->tx_sent_once)
            l->stats.retransmits++;
        else
            l->stats.packets_sent++;
        l->tx_sent_once = 1;
        l->tx_on_wire = 1;
        l->tx_state = KDCOM_TX_SENDING;
        l->out_kind = KDCOM_OUT_DATA;
        l->out_off = 0;
        l->out_len = l->tx_len;
        return 1;
    }
    return 0;
}

static void frame_done(struct kdcom_link *l)
{
    if (l->out_kind == KDCOM_OUT_DATA) {
        if (l->tx_state == KDCOM_TX_SENDING) {
            if (l->tx_again) {
                l->tx_again = 0;
                l->tx_state = KDCOM_TX_PENDING;
            } else {
                l->tx_state = KDCOM_TX_WAIT_ACK;
                l->tx_deadline = l->now + l->cfg.ack_timeout_ms;
            }
        } else if (l->tx_state == KDCOM_TX_DRAIN_ONLY) {
            l->tx_state = KDCOM_TX_IDLE;
        }
    }
    l->out_kind = KDCOM_OUT_NONE;
    l->out_off = 0;
    l->out_len = 0;
}

KDCOM_API int kdcom_drain(struct kdcom_link *l, uint64_t now, uint8_t *out,
                          size_t cap)
{
    size_t n = 0;
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    if (out == NULL && cap != 0)
        return KDCOM_ERR_INVAL;
    kdcom_link_advance(l, now);
    kdcom_run_timers(l);
    if (cap > (size_t)INT32_MAX)
        cap = (size_t)INT32_MAX;

    while (n < cap) {
        const uint8_t *src;
        size_t k;

        if (l->out_kind == KDCOM_OUT_NONE && !next_frame(l))
            break;
        src = l->out_kind == KDCOM_OUT_DATA ? l->tx_frame : l->out_ctl;
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
    return (int)n;
}

KDCOM_API int kdcom_want_write(const struct kdcom_link *l)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    return l->out_kind != KDCOM_OUT_NONE || l->ctlq_count != 0 ||
           (l->tx_state == KDCOM_TX_PENDING && l->synced);
}
