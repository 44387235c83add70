/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vm_host_link.c - the wire side of the VM channel host service: feeding
 * and draining the embedded TARGET link, and turning its events into the
 * outcome of the guest request being served.
 *
 * THEORY OF OPERATION
 *
 *   The host service plays kdcom.dll on the wire, so the semantics of
 *   KdSendPacket/KdReceivePacket (PROTOCOL-FACTS §3) are decided here,
 *   from the link's events:
 *
 *   PACKET       held by the link (KDCOM_CFG_HOLD_PACKETS) as the host's
 *                one-packet slot, where a RECEIVE (now or later) picks it
 *                up and copies it to the guest; then kdcom_packet_done()
 *                gives it back.  While it is held the link feeds no data
 *                packet: feeding stops in front of the next one's leader,
 *                and its bytes wait where the caller keeps them, as they
 *                would wait in a UART FIFO while the kernel is not
 *                listening.  Everything else (control packets, break-ins,
 *                noise) is still fed, so a RESET is always answered.  No
 *                PACKET can complete while the slot is full (rx_overrun
 *                counts it if one ever did).  A packet held for twice
 *                receive_timeout_ms (2 s at least) while a data packet
 *                waits behind it (kdcom_packet_held() == 2) is dropped:
 *                the guest that should have asked for it is gone or hung.
 *                With no valid guest in the region a PACKET is dropped at
 *                once (rx_dropped): nobody could take it.
 *   ACKED        completes a SEND (OK).
 *   RETRIES_EXHAUSTED
 *                the link reports every ACK timeout (retry_limit 1);
 *                the host counts them against the guest's
 *                KdpDefaultRetries and gives up droppable packets only
 *                (§3.7: DbgPrint, LoadSymbols, CreateFile, as
 *                kdcom_kd_droppable() says), with kdcom_cancel_send(),
 *                which re-arms SYNC.
 *                Other packets are retried for as long as it takes.
 *   RESET        also drops a held packet: the debugger started over and
 *                will not expect an answer to it.  While a reply (a
 *                STATE_MANIPULATE SEND) waits for its ACK, a RESET means
 *                the debugger that asked is gone and a new one waits for
 *                a state change (PROTOCOL-FACTS §7): the reply goes on
 *                being retransmitted under the new ids, as kdcom.dll
 *                does (§3.4, §3.7), and the next RECEIVE answers RESEND
 *                so the kernel sends its state change again
 *                (reply_reset); a break-in taken before the RESET was the
 *                old debugger's and is dropped.
 *   RESEND/RESET during a SEND: absorbed (but for the reply case above);
 *                the link already retransmits the packet (§3.4:
 *                KdSendPacket resends without spending a retry).
 *                During a RECEIVE: the answer is RESEND (§3.8).
 *                With no request listening: remembered and given to the
 *                next RECEIVE, as the bytes would have waited in the FIFO;
 *                a SEND or a POLL_BREAKIN forgets it (the kernel's poll
 *                consumes and loses bytes, §3.9).
 *   BREAKIN      taken from the link at once into a host flag, handed to
 *                the guest by the next POLL_BREAKIN or as
 *                CONTROL_C_PENDING on the next SEND/RECEIVE answer (the
 *                Windows behaviour, §3.2 and §7: sticky, also when a
 *                packet follows).
 */
#include "kdcom_kd.h"
#include "vm_internal.h"

void kdcom_vm_try_queue(struct kdcom_vm_host *h)
{
    int rc;

    if (h->cur.seq == 0 || h->cur.op != KDCOM_VM_OP_SEND || h->cur.queued ||
        h->cur.done)
        return;
    h->cur.droppable =
        (uint8_t)kdcom_kd_droppable(h->cur.type, h->stage, h->cur.head_len);
    rc = kdcom_send(&h->link, h->now, h->cur.type, h->stage, h->cur.head_len,
                    h->stage + h->cur.head_len, h->cur.data_len);
    if (rc == KDCOM_OK) {
        h->cur.queued = 1;
        h->cur.timeouts = 0;
    } else if (rc != KDCOM_ERR_BUSY) {
        /* The request was validated, so this means the link is unusable;
         * answer rather than keep the guest waiting. */
        kdcom_vm_finish(h, KDCOM_VM_ST_ERR_HOST);
    }
    /* BUSY: the frame of an abandoned SEND is still being drained; the
     * next poll or drain tries again. */
}

/* A stopped kernel asks again at least every receive_timeout_ms, so a
 * packet held for twice that (HOLD_MIN_MS at least) with more data behind
 * it was sent to a guest that is gone or hung: it must not block the wire
 * for good. */
#define HOLD_MIN_MS (2 * KDCOM_DEFAULT_TIMEOUT_MS)

static int held_too_long(const struct kdcom_vm_host *h)
{
    uint64_t limit = 2 * (uint64_t)h->cfg.receive_timeout_ms;

    if (limit < HOLD_MIN_MS)
        limit = HOLD_MIN_MS;
    return h->now - h->slot.at >= limit;
}

static int cur_is(const struct kdcom_vm_host *h, uint32_t op)
{
    return h->cur.seq != 0 && h->cur.op == op && !h->cur.done;
}

static void on_packet(struct kdcom_vm_host *h, const struct kdcom_event *ev)
{
    h->dbg_present = 1;
    if (h->guest_absent) {
        h->stats.rx_dropped++;
        kdcom_packet_done(&h->link);
        return;
    }
    if (h->slot.full || ev->len > KDCOM_MAX_PAYLOAD) {
        h->stats.rx_overrun++;
        return;
    }
    h->slot.data = ev->payload;
    h->slot.at = h->now;
    h->slot.type = ev->type;
    h->slot.len = ev->len;
    h->slot.full = 1;
}

static void on_exhausted(struct kdcom_vm_host *h, const struct kdcom_event *ev)
{
    if (!cur_is(h, KDCOM_VM_OP_SEND) || !h->cur.queued)
        return;
    h->cur.timeouts += ev->retries ? ev->retries : 1;
    if (h->cur.droppable && h->cur.timeouts >= h->cur.arg) {
        kdcom_cancel_send(&h->link);
        h->dbg_present = 0; /* §3.7: give-up marks the debugger absent */
        kdcom_vm_finish(h, KDCOM_VM_ST_DROPPED);
    }
}

/* A RESET arrived while the kernel's reply waits for its ACK: the
 * debugger that sent the request died or was replaced (a new one starts
 * with RESET), and the new one waits for a state change, which the
 * kernel sends when its next RECEIVE says RESEND (docs/protocol.md 6.2
 * step 5).  The break-ins taken so far came from the old debugger. */
static void on_reply_reset(struct kdcom_vm_host *h)
{
    h->reply_reset = 1;
    h->stats.reply_resets++;
    kdcom_vm_take_breakin(h, &h->stats.breakins_dropped);
}

static void on_resend(struct kdcom_vm_host *h)
{
    if (cur_is(h, KDCOM_VM_OP_RECEIVE)) {
        kdcom_vm_finish(h, KDCOM_VM_ST_RESEND);
    } else if (!cur_is(h, KDCOM_VM_OP_SEND)) {
        h->resend_due = 1;
    }
}

void kdcom_vm_pump(struct kdcom_vm_host *h)
{
    struct kdcom_event ev;

    while (kdcom_next_event(&h->link, &ev) > 0) {
        switch (ev.kind) {
        case KDCOM_EV_PACKET:
            on_packet(h, &ev);
            break;
        case KDCOM_EV_ACKED:
            h->dbg_present = 1;
            if (cur_is(h, KDCOM_VM_OP_SEND) && h->cur.queued)
                kdcom_vm_finish(h, KDCOM_VM_ST_OK);
            break;
        case KDCOM_EV_RESET:
            h->dbg_present = 1;
            kdcom_vm_slot_release(h, &h->stats.rx_dropped);
            if (cur_is(h, KDCOM_VM_OP_SEND) &&
                h->cur.type == KDCOM_TYPE_STATE_MANIPULATE)
                on_reply_reset(h);
            on_resend(h);
            break;
        case KDCOM_EV_BREAKIN:
            /* In stream order, so a RESET after it can drop it. */
            if (kdcom_take_breakin(&h->link) == 1)
                h->breakin = 1;
            break;
        case KDCOM_EV_RESEND:
            on_resend(h);
            break;
        case KDCOM_EV_RETRIES_EXHAUSTED:
            on_exhausted(h, &ev);
            break;
        default:
            break;
        }
    }
    if (kdcom_take_breakin(&h->link) == 1)
        h->breakin = 1;
}

KDCOM_API int kdcom_vm_host_feed(struct kdcom_vm_host *h, uint64_t now,
                                 const uint8_t *in, size_t len)
{
    size_t used = 0;
    int rc = kdcom_vm_host_check(h);

    if (rc != KDCOM_OK)
        return rc;
    if (in == NULL && len != 0)
        return KDCOM_ERR_INVAL;
    if (now > h->now)
        h->now = now;
    len = kdcom_clamp_len(len);
    while (used < len) {
        int n = kdcom_feed(&h->link, now, in + used, len - used);

        if (n < 0)
            return n;
        used += (size_t)n;
        kdcom_vm_pump(h);
        if (n > 0)
            continue;
        /* Nothing taken: a data packet waits behind the held one (see the
         * theory of operation), or the control queue is full (the caller
         * drains first). */
        if (h->slot.full && kdcom_packet_held(&h->link) == 2 &&
            held_too_long(h)) {
            /* the guest is gone or hung */
            kdcom_vm_slot_release(h, &h->stats.rx_dropped);
            continue;
        }
        break;
    }
    return (int)used;
}

KDCOM_API int kdcom_vm_host_drain(struct kdcom_vm_host *h, uint64_t now,
                                  uint8_t *out, size_t cap)
{
    int n, rc = kdcom_vm_host_check(h);

    if (rc != KDCOM_OK)
        return rc;
    if (now > h->now)
        h->now = now;
    n = kdcom_drain(&h->link, now, out, cap);
    if (n < 0)
        return n;
    kdcom_vm_pump(h);  /* timers may have reported an ACK timeout */
    kdcom_vm_try_queue(h); /* an abandoned frame may have finished */
    return n;
}

KDCOM_API int kdcom_vm_host_take_kick(struct kdcom_vm_host *h)
{
    int rc = kdcom_vm_host_check(h);

    if (rc != KDCOM_OK)
        return rc;
    rc = h->kick_due != 0;
    h->kick_due = 0;
    return rc;
}

KDCOM_API int kdcom_vm_host_guest_flags(const struct kdcom_vm_host *h)
{
    int rc = kdcom_vm_host_check(h);

    if (rc != KDCOM_OK)
        return rc;
    return (int)(h->guest_flags & INT32_MAX); /* never negative */
}

KDCOM_API int kdcom_vm_host_want_write(const struct kdcom_vm_host *h)
{
    int rc = kdcom_vm_host_check(h);

    if (rc != KDCOM_OK)
        return rc;
    return kdcom_want_write(&h->link);
}

KDCOM_API int kdcom_vm_host_want_read(const struct kdcom_vm_host *h)
{
    int rc = kdcom_vm_host_check(h);

    if (rc != KDCOM_OK)
        return rc;
    return !h->slot.full;
}

KDCOM_API uint64_t kdcom_vm_host_next_deadline(const struct kdcom_vm_host *h)
{
    uint64_t d;

    if (kdcom_vm_host_check(h) != KDCOM_OK)
        return 0;
    d = kdcom_next_deadline(&h->link);
    /* Without a request, or while the region reads invalid (nothing about
     * the request can move until the guest repairs it or posts anew, and
     * both come with a poll of their own), only the link's timers count:
     * a "poll now" here would let a broken guest spin the host. */
    if (h->cur.seq == 0 || h->guest_absent)
        return d;
    /* An answer is ready, or a RECEIVE can be answered: poll at once. */
    if (h->cur.done ||
        (h->cur.op == KDCOM_VM_OP_RECEIVE &&
         (h->slot.full || h->resend_due || h->reply_reset)))
        return h->now;
    if (h->cur.op == KDCOM_VM_OP_SEND && !h->cur.queued &&
        kdcom_can_send(&h->link) == 1)
        return h->now;
    if (h->cur.op == KDCOM_VM_OP_RECEIVE && h->cur.deadline < d)
        d = h->cur.deadline;
    return d;
}

KDCOM_API int kdcom_vm_host_debugger_present(const struct kdcom_vm_host *h)
{
    int rc = kdcom_vm_host_check(h);

    if (rc != KDCOM_OK)
        return rc;
    return h->dbg_present;
}

KDCOM_API const struct kdcom_vm_stats *kdcom_vm_host_stats(
    const struct kdcom_vm_host *h)
{
    return kdcom_vm_host_check(h) == KDCOM_OK ? &h->stats : NULL;
}

KDCOM_API const struct kdcom_link *kdcom_vm_host_link(
    const struct kdcom_vm_host *h)
{
    return kdcom_vm_host_check(h) == KDCOM_OK ? &h->link : NULL;
}
