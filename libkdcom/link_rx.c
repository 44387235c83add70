/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * link_rx.c - what a received frame means to a link (docs/protocol.md
 * "Receiving" and "Role behaviour").
 *
 * THEORY OF OPERATION
 *
 *   kdcom_feed() runs the parser over the input and hands each complete
 *   item to rx_frame(), which decides, per role:
 *
 *   data packet   of a type no data packet carries, or with an id outside
 *                 the four valid ones: header damage, ask for a resend.
 *                 A new one shorter than the message header the TARGET's
 *                 upper layer receives into (kdcom_expect_header()):
 *                 refused with a resend, as KdReceivePacket refuses it.
 *                 Otherwise ACK it (TARGET: with its exact id; DEBUGGER:
 *                 with the SYNC bit cleared), then deliver it if it is
 *                 new.  "New" is id == expected, SYNC masked, for the
 *                 TARGET.  The DEBUGGER learns the expected id from the
 *                 first packet after a handshake, accepts a packet under
 *                 INITIAL|SYNC (a give-up) as a re-base (and then sends
 *                 from INITIAL itself) unless it repeats the last accepted
 *                 one, masks SYNC on INITIAL+1|SYNC, and after a RESET
 *                 while synced takes any packet but a repeat of the last
 *                 one.  A new packet that reaches a TARGET whose own
 *                 packet waits for an ACK acknowledges that packet
 *                 implicitly (the debugger could not have sent it
 *                 otherwise), except while the TARGET's id carries SYNC
 *                 or when it repeats the packet accepted last.
 *   ACK           completes the outstanding packet if the ids match with
 *                 SYNC masked on both sides (accepts masked and unmasked
 *                 ACKs alike) and the packet went out under that id.
 *   RESEND        retransmit at once, no retry spent; report it.
 *   RESET         TARGET: echo it, reset both ids, drop queued control
 *                 packets and the rest of the input (stale bytes that
 *                 would cause a "resync bounce"), retransmit the
 *                 outstanding packet under the new id, report it.
 *                 DEBUGGER: completes the handshake, or is a late or
 *                 doubled echo (or the echo of one forged by the wire);
 *                 never echoed.  A synced DEBUGGER ignores a RESET that
 *                 carries a packet id: that is an ACK with a damaged type.
 *   bad packet    count it and ask for a resend (once synced).
 *   'b'           TARGET: sticky break-in request.  DEBUGGER: noise.
 *
 *   A delivered packet's payload lives in the parser's buffer (rx_hold).
 *   Feeding pauses while its PACKET event waits to be taken or, with
 *   KDCOM_CFG_HOLD_PACKETS, goes on until kdcom_packet_done() over
 *   everything but the next data packet: the parser takes only the bytes
 *   in front of its leader (kdcom_parser_span_to_data()), so no data
 *   packet can complete while the buffer is held, and control packets
 *   (the ACK a sender waits for, RESET) are never held back.  Feeding
 *   also pauses when a queue nears its bound.
 *
 *   The byte timer: a packet whose bytes stop coming for byte_timeout_ms
 *   (the parser is inside it and no byte came) is abandoned and asked for
 *   again, as kdcom.dll does.
 *
 *   What the outstanding packet becomes (acknowledged, sent again,
 *   renumbered) is the transmit machine's business: this file tells it
 *   what arrived (kdcom_tx_ack(), kdcom_tx_again(), kdcom_tx_renumber())
 *   and never changes its state itself.
 */

#include "internal.h"

static uint32_t ack_id_for(const struct kdcom_link *l, uint32_t id)
{
    /* docs/protocol.md "Packet ids": targets ACK the exact id they got;
     * debuggers ACK with SYNC cleared, which targets require. */
    return l->role == KDCOM_ROLE_TARGET ? id : (id & ~KDCOM_SYNC_BIT);
}

/* rx_expect_known on a DEBUGGER: */
#define RX_EXPECT_ANY 0    /* first packet after the handshake: any id */
#define RX_EXPECT_KNOWN 1  /* rx_expect holds the next id */
#define RX_EXPECT_REBASE 2 /* any id, but not the last packet again */

/* The frame carries the payload of the packet accepted last (length and
 * checksum; the checksum does not cover the id). */
static int repeats_last(const struct kdcom_link *l,
                        const struct kdcom_frame *f)
{
    return f->byte_count == l->rx_last_len && f->checksum == l->rx_last_sum;
}

/* The id of the first packet a target sends after it gave up on the
 * debugger (and after start-up): INITIAL with SYNC, bit 0 clear. */
static int is_give_up_id(uint32_t id)
{
    return id == (KDCOM_INITIAL_ID | KDCOM_SYNC_BIT);
}

static int debugger_is_new(const struct kdcom_link *l,
                           const struct kdcom_frame *f)
{
    if (l->rx_expect_known == RX_EXPECT_ANY)
        return 1;
    if (l->rx_expect_known == RX_EXPECT_REBASE) {
        /* The target answered a RESET: it numbers from INITIAL again and
         * resends its outstanding packet under that id, so a repeat of the
         * packet taken last can come back under another id.  Length and
         * checksum tell it from a new packet. */
        return !repeats_last(l, f);
    }
    if (is_give_up_id(f->id)) {
        /* A target that gave up numbers from INITIAL|SYNC again: re-base,
         * unless this is a retransmission of the packet we took last.  The
         * checksum does not cover the id, so id, length and checksum
         * together tell them apart. */
        return !(f->id == l->rx_last_id && repeats_last(l, f));
    }
    /* INITIAL+1 with SYNC follows no give-up (the first ACK clears SYNC
     * as it toggles the id); only a target that clears the wrong bit
     * (VirtualKD, docs/protocol.md 5.5) or a damaged header produces it.
     * Either way the numbering goes on: mask SYNC, as a TARGET does. */
    return (f->id & ~KDCOM_SYNC_BIT) == l->rx_expect;
}

/* One of 0x80800000, 0x80800001 and the same with SYNC: the only ids a
 * sender ever uses (docs/protocol.md "Packet ids"). */
static int id_is_valid(uint32_t id)
{
    return (id & ~(KDCOM_SYNC_BIT | 1u)) == KDCOM_INITIAL_ID;
}

/* A packet refused as damaged: count it and ask for it again (before the
 * handshake there is no numbering to ask in, so only count). */
static void rx_bad(struct kdcom_link *l, uint64_t *counter)
{
    (*counter)++;
    if (l->synced)
        kdcom_ctl_push(l, KDCOM_TYPE_RESEND, 0);
}

static void rx_data(struct kdcom_link *l, const struct kdcom_frame *f)
{
    int is_new;

    if (!l->synced) {
        /* Before the handshake the target's numbering is unknown; it will
         * send the packet again after the RESET. */
        l->stats.dropped_unsynced++;
        return;
    }
    if (!kdcom_is_data_type(f->type)) {
        /* The checksum does not cover the header: a data packet whose type
         * can never travel in one had its header damaged (or comes from a
         * broken peer).  An ACK would make the sender believe it was
         * delivered and, the expectation not moving, make us take its next
         * packet for a duplicate: two packets lost for one damaged header.
         * Ask for it again instead, as the QEMU stub does for types >= 12
         * (docs/protocol.md "Packets of a type that is not a data type"). */
        rx_bad(l, &l->stats.bad_type);
        return;
    }
    if (!id_is_valid(f->id)) {
        /* Same reasoning for the id, which the checksum does not cover
         * either: no sender uses another, so this one was damaged.  An ACK
         * would echo the damaged id, and a second fault in that ACK can
         * turn it into the id the sender waits for: the packet would count
         * as delivered although it was dropped here.  Singularity answers
         * such ids with RESEND as well (docs/protocol.md 5.5). */
        rx_bad(l, &l->stats.bad_id);
        return;
    }
    if (l->role == KDCOM_ROLE_TARGET)
        /* No debugger sets SYNC, so a set SYNC bit is damage to a header
         * the checksum does not cover.  Calling the packet a duplicate
         * would ACK it under an id the sender matches with SYNC masked,
         * i.e. lose it; masking takes it for what it is. */
        is_new = (f->id & ~KDCOM_SYNC_BIT) == l->rx_expect;
    else
        is_new = debugger_is_new(l, f);
    if (is_new && f->byte_count < l->rx_min_len) {
        /* Too short for the message header the receiver expects: Windows'
         * and ReactOS's KdReceivePacket answer RESEND and keep the
         * expected id (PROTOCOL-FACTS §3.5 step 1, §7).  An ACK would make
         * the sender believe it delivered a packet the upper layer can
         * only drop.  Only a new packet: a duplicate was accepted once
         * (under a smaller minimum) and refusing it would make its sender
         * retransmit it for ever (docs/protocol.md 5.8). */
        rx_bad(l, &l->stats.bad_short);
        return;
    }
    kdcom_ctl_push(l, KDCOM_TYPE_ACKNOWLEDGE, ack_id_for(l, f->id));
    if (!is_new) {
        l->stats.duplicates++;
        return;
    }
    if (l->role == KDCOM_ROLE_TARGET &&
        !(l->cfg.flags & KDCOM_CFG_NO_IMPLICIT_ACK) && kdcom_tx_ackable(l) &&
        !(l->tx_id & KDCOM_SYNC_BIT) && !repeats_last(l, f)) {
        /* Not while our id carries SYNC: then we do not know the debugger
         * to be in step (we started, or gave up on it), and a packet with
         * the "expected" id can be an old retransmission that proves
         * nothing about ours.  Nor when it has the length and checksum of
         * the packet taken last: a debugger may well ask the same thing
         * twice, but that is also what a retransmission of the last packet
         * looks like when its id was damaged on the way, and then it
         * proves nothing either.  The debugger's explicit ACK still
         * comes. */
        l->stats.implicit_acks++;
        kdcom_tx_ack(l);
    }
    if (l->role == KDCOM_ROLE_DEBUGGER && is_give_up_id(f->id)) {
        kdcom_tx_rebase(l); /* the target numbers afresh */
        if (l->cfg.flags & KDCOM_CFG_REPORT_RESTARTS)
            kdcom_ev_push(l, KDCOM_EV_PEER_RESTARTED, f->type, f->id, NULL,
                          0);
    }
    l->rx_expect = (f->id & ~KDCOM_SYNC_BIT) ^ 1u;
    l->rx_expect_known = RX_EXPECT_KNOWN;
    l->rx_last_id = f->id;
    l->rx_last_len = f->byte_count;
    l->rx_last_sum = f->checksum;
    l->stats.packets_received++;
    KDCOM_ASSERT(l->rx_hold == KDCOM_RX_FREE);
    l->rx_hold = KDCOM_RX_QUEUED;
    kdcom_ev_push(l, KDCOM_EV_PACKET, f->type, f->id, f->payload,
                  f->payload_len);
}

static void rx_ack(struct kdcom_link *l, const struct kdcom_frame *f)
{
    l->stats.acks_received++;
    if (l->synced && kdcom_tx_ackable(l) &&
        ((f->id ^ l->tx_id) & ~KDCOM_SYNC_BIT) == 0)
        kdcom_tx_ack(l);
    else
        l->stats.acks_ignored++;
}

static void rx_resend(struct kdcom_link *l)
{
    l->stats.resends_received++;
    if (!l->synced)
        return;
    kdcom_tx_again(l); /* only a packet that went out under its id */
    kdcom_ev_push(l, KDCOM_EV_RESEND, 0, 0, NULL, 0);
}

/* Returns 1 when the rest of the input must be discarded. */
static int rx_reset(struct kdcom_link *l, const struct kdcom_frame *f)
{
    l->stats.resets_received++;
    if (l->role == KDCOM_ROLE_DEBUGGER && l->synced && id_is_valid(f->id)) {
        /* Targets send RESET only to echo one, with id 0 (ReactOS, QEMU,
         * libkdcom) or whatever the stack held (Windows).  The ACKs a
         * target sends carry packet ids, and an ACK (type 4) is one bit
         * flip away from a RESET (6): the header has no checksum.  Obeying
         * such a RESET renumbers this side only, and the retransmission
         * under INITIAL then lands as a new packet at a target that had
         * it already (docs/protocol.md 6.3).  Ignoring it loses one ACK,
         * which the retransmission timer repairs.  While not synced every
         * RESET completes the handshake, whatever its id. */
        l->stats.resets_ignored++;
        return 0;
    }
    /* Same packet, new numbering. */
    kdcom_tx_renumber(l);
    if (l->role == KDCOM_ROLE_TARGET) {
        kdcom_ctl_clear(l);
        kdcom_ctl_push(l, KDCOM_TYPE_RESET, 0);
        l->rx_expect = KDCOM_INITIAL_ID;
        kdcom_ev_push(l, KDCOM_EV_RESET, 0, 0, NULL, 0);
        return 1;
    }
    /* The target answers every RESET by numbering from INITIAL and
     * retransmitting its outstanding packet under that id.  When the echo
     * of a RESET arrives late or twice (WinDbg-style repeats, a duplicating
     * pipe), that retransmission can be the packet accepted last: it must
     * not be delivered again (docs/protocol.md "Debugger role").  A
     * handshake the debugger started itself (initial sync, kdcom_resync)
     * is different: the upper layer wants the target's state change again
     * after SYNCED, as WinDbg gets it, so everything is new then. */
    l->rx_expect_known = l->synced && l->stats.packets_received != 0
                             ? RX_EXPECT_REBASE
                             : RX_EXPECT_ANY;
    if (!l->synced) {
        /* RESETs still queued would only make the target reset again. */
        kdcom_ctl_remove(l, KDCOM_TYPE_RESET);
        l->synced = 1;
        l->stats.syncs++;
        kdcom_ev_push(l, KDCOM_EV_SYNCED, 0, 0, NULL, 0);
    } else {
        kdcom_ev_push(l, KDCOM_EV_RESET, 0, 0, NULL, 0);
    }
    return 0;
}

/* Once per packet, not per byte: kept out of kdcom_feed() so that feeding
 * single bytes does not pay for the registers the decisions use. */
#if defined(__GNUC__)
#define RX_NOINLINE __attribute__((noinline))
#else
#define RX_NOINLINE
#endif

/* Returns 1 when the rest of the input must be discarded. */
static RX_NOINLINE int rx_frame(struct kdcom_link *l,
                                const struct kdcom_frame *f)
{
    switch (f->kind) {
    case KDCOM_FRAME_DATA:
        rx_data(l, f);
        break;
    case KDCOM_FRAME_CONTROL:
        switch (f->type) {
        case KDCOM_TYPE_ACKNOWLEDGE:
            rx_ack(l, f);
            break;
        case KDCOM_TYPE_RESEND:
            rx_resend(l);
            break;
        case KDCOM_TYPE_RESET:
            return rx_reset(l, f);
        default:
            l->stats.unknown_control++;
            break;
        }
        break;
    case KDCOM_FRAME_BREAKIN:
        if (l->role == KDCOM_ROLE_TARGET) {
            /* Sticky, also when a leader follows (Windows behaviour). */
            l->stats.breakins_received++;
            if (!l->breakin_pending) {
                l->breakin_pending = 1;
                kdcom_ev_push(l, KDCOM_EV_BREAKIN, 0, 0, NULL, 0);
            }
        } else {
            l->rx.noise_bytes++;
        }
        break;
    case KDCOM_FRAME_BAD_SIZE:
        rx_bad(l, &l->stats.bad_size);
        break;
    case KDCOM_FRAME_BAD_TRAILER:
        rx_bad(l, &l->stats.bad_trailer);
        break;
    case KDCOM_FRAME_BAD_CHECKSUM:
        rx_bad(l, &l->stats.bad_checksum);
        break;
    default:
        break;
    }
    return 0;
}

/* The parser's own counters, mirrored into the link's. */
static void rx_count(struct kdcom_link *l)
{
    l->stats.noise_bytes = l->rx.noise_bytes;
    l->stats.partial_leaders = l->rx.partial_leaders;
}

void kdcom_rx_init(struct kdcom_link *l)
{
    kdcom_parser_init(&l->rx);
    l->rx_expect = KDCOM_INITIAL_ID;
    l->rx_expect_known = RX_EXPECT_ANY;
}

void kdcom_rx_timers(struct kdcom_link *l)
{
    if (kdcom_parser_busy(&l->rx) &&
        l->now - l->rx_last >= l->cfg.byte_timeout_ms) {
        /* The rest of the packet is not coming: drop it and ask for it
         * again, as kdcom.dll does on a byte timeout inside a packet. */
        kdcom_parser_reset(&l->rx);
        l->stats.rx_stalls++;
        if (l->synced)
            kdcom_ctl_push(l, KDCOM_TYPE_RESEND, 0);
    }
    rx_count(l);
}

uint64_t kdcom_rx_deadline(const struct kdcom_link *l)
{
    if (kdcom_parser_busy(&l->rx))
        return l->rx_last + l->cfg.byte_timeout_ms;
    return UINT64_MAX;
}

static int hold_mode(const struct kdcom_link *l)
{
    return (l->cfg.flags & KDCOM_CFG_HOLD_PACKETS) != 0;
}

static int must_pause(const struct kdcom_link *l)
{
    return (l->rx_hold != KDCOM_RX_FREE && !hold_mode(l)) ||
           l->evq_count >= KDCOM_EVQ_HIGH ||
           l->ctlq_count >= KDCOM_CTLQ_HIGH;
}

KDCOM_API int kdcom_feed(struct kdcom_link *l, uint64_t now,
                         const uint8_t *in, size_t len)
{
    size_t used = 0;
    int rc = kdcom_link_enter(l, now, in, len);

    if (rc != KDCOM_OK)
        return rc;
    len = kdcom_clamp_len(len);

    l->rx_blocked = 0;
    while (used < len && !must_pause(l)) {
        struct kdcom_frame f;
        size_t room = len - used;
        int n;

        if (l->rx_hold != KDCOM_RX_FREE) {
            room = kdcom_parser_span_to_data(&l->rx, in + used, room);
            if (room == 0) {
                /* a data packet (or perhaps one): after the held one */
                l->rx_blocked = 1;
                break;
            }
        }
        n = kdcom_parse(&l->rx, in + used, room, &f);

        if (n < 0)
            return n; /* cannot happen: arguments were checked */
        used += (size_t)n;
        if (f.kind != KDCOM_FRAME_NONE && rx_frame(l, &f)) {
            l->stats.stale_bytes += len - used;
            used = len;
        }
    }
    if (used > 0)
        l->rx_last = l->now;
    l->stats.bytes_in += used;
    rx_count(l);
    /* Only a held packet blocks the feed; the queues keep their bounds. */
    KDCOM_ASSERT(!l->rx_blocked || l->rx_hold != KDCOM_RX_FREE);
    KDCOM_ASSERT(l->ctlq_count <= KDCOM_CTLQ_LEN &&
                 l->evq_count <= KDCOM_EVQ_LEN);
    return (int)used;
}

KDCOM_API int kdcom_packet_held(const struct kdcom_link *l)
{
    int rc = kdcom_link_check(l);

    if (rc != KDCOM_OK)
        return rc;
    return l->rx_hold == KDCOM_RX_FREE ? 0 : 1 + l->rx_blocked;
}

KDCOM_API int kdcom_packet_done(struct kdcom_link *l)
{
    int held = kdcom_packet_held(l);

    if (held < 0)
        return held;
    if (l->rx_hold != KDCOM_RX_HELD)
        return KDCOM_ERR_NO_PACKET; /* none, or its event not taken yet */
    l->rx_hold = KDCOM_RX_FREE;
    l->rx_blocked = 0;
    return KDCOM_OK;
}
