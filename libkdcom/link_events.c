/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * link_events.c - the event queue of a link: what the upper layer must
 * learn about, taken one at a time with kdcom_next_event().
 *
 * THEORY OF OPERATION
 *
 *   A ring of KDCOM_EVQ_LEN events.  Both sides of the link push (the
 *   receive side: PACKET, RESEND, RESET, SYNCED, BREAKIN; the transmit
 *   side: ACKED, RETRIES_EXHAUSTED); nothing here calls back into them.
 *   It cannot fill up: feeding pauses at KDCOM_EVQ_HIGH, and a timer pass
 *   adds at most one event, because RETRIES_EXHAUSTED coalesces with one
 *   still queued (its retries add up).  The bound is checked regardless,
 *   so memory stays safe whatever the state.
 *
 *   Taking a PACKET event ends its hold on the parser's payload buffer
 *   (rx_hold): the next kdcom_feed() may reuse it, not before; with
 *   KDCOM_CFG_HOLD_PACKETS the hold lasts until kdcom_packet_done().
 */
#include "internal.h"

static struct kdcom_event *queued_exhausted(struct kdcom_link *l)
{
    uint32_t i;

    for (i = 0; i < l->evq_count; i++) {
        struct kdcom_event *ev = &l->evq[(l->evq_head + i) % KDCOM_EVQ_LEN];
        if (ev->kind == KDCOM_EV_RETRIES_EXHAUSTED)
            return ev;
    }
    return NULL;
}

void kdcom_ev_push(struct kdcom_link *l, uint32_t kind, uint32_t type,
                   uint32_t id, const uint8_t *payload, uint32_t len)
{
    struct kdcom_event *ev;

    if (kind == KDCOM_EV_RETRIES_EXHAUSTED &&
        (ev = queued_exhausted(l)) != NULL) {
        ev->retries += l->tx_retries;
        return;
    }
    KDCOM_ASSERT(l->evq_count < KDCOM_EVQ_LEN);
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
        l->rx_hold = (l->cfg.flags & KDCOM_CFG_HOLD_PACKETS) ? KDCOM_RX_HELD
                                                              : KDCOM_RX_FREE;
    return (int)ev->kind;
}
