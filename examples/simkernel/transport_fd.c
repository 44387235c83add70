/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport_fd.c - KdSendPacket / KdReceivePacket over a TARGET-role
 * kdcom_link on a file descriptor (see transport_fd.h).
 *
 * Semantics are kdcom.dll's (docs/protocol.md, "Target role"):
 *   - KdSendPacket returns when the debugger acknowledged the packet.  A
 *     DbgPrint, LoadSymbols or CreateFile nobody acknowledges is given up
 *     after KdpDefaultRetries ACK timeouts; anything else waits for a
 *     debugger as long as it takes.
 *   - KdReceivePacket waits about a second for a packet of the wanted
 *     type (others are acknowledged and dropped), and reports RESEND when
 *     the debugger sent RESEND or RESET, so the caller resends its state
 *     change.  POLL_BREAKIN only looks at bytes already waiting.  The
 *     header buffer's MaximumLength is the shortest packet the link
 *     accepts while the receive runs: a shorter one gets RESEND, not an
 *     ACK (kdcom_expect_header(), docs/protocol.md 5.8).
 *   - A RESET while a reply (a STATE_MANIPULATE send) waits for its ACK:
 *     the reply is retransmitted under the new ids, and the next
 *     KdReceivePacket reports RESEND, so the kernel sends its state
 *     change to the debugger that replaced the one that asked
 *     (docs/protocol.md 6.2).
 *   - A 'b' seen during an exchange sets KdpControlCPending when the
 *     exchange ends.  A break-in belongs to the debugger that sent it: a
 *     new connection, or a RESET while a reply waits for its ACK, drops
 *     one the kernel has not taken yet (docs/protocol.md 5.6).
 * A packet that arrives while we wait for an ACK is kept for the next
 * KdReceivePacket (it is the debugger's answer; the link took it as an
 * implicit ACK): the link holds it (KDCOM_CFG_HOLD_PACKETS) until
 * kdcom_packet_done().  Meanwhile the link still reads control packets
 * (the ACK the kernel waits for, RESEND, RESET) and break-ins, and stops
 * in front of the next data packet, as in the VM host service.  A RESET
 * drops the kept packet (the debugger started over), and so does a data
 * packet waiting behind it for HOLD_MS (the kernel is not asking).
 */
#define _POSIX_C_SOURCE 200809L
#include "transport_fd.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <kdcom.h>
#include <kdcom_kd.h>

#include "../common/exutil.h"
#include "backend.h"
#include "kdapi.h"
#include "simep.h"

#define RECEIVE_WAIT_MS 1000
/* A kept packet blocks the data behind it this long at most. */
#define HOLD_MS (2 * RECEIVE_WAIT_MS)

static struct kdcom_link tlink;
static int lfd = -1, cfd = -1, keep_slave = -1;
static int is_listen;
static struct wiretrace *trace;
static uint8_t outbuf[4096];
static size_t out_len, out_off;
static uint8_t inbuf[4096]; /* read but not yet consumed by the link */
static size_t in_len, in_off;
/* the packet the link holds for the next KdReceivePacket */
static const uint8_t *kept;
static uint32_t kept_type, kept_len;
static uint64_t kept_at;
static int resend_seen, breakin_seen;
/* KdSendPacket is sending a reply; a RESET came meanwhile. */
static int sending_reply, reply_reset;

int fdtr_setup(const struct ep_spec *sp, struct wiretrace *wt)
{
    char err[256];
    struct kdcom_config cfg;

    trace = wt;
    kdcom_config_init(&cfg, KDCOM_ROLE_TARGET);
    cfg.flags |= KDCOM_CFG_HOLD_PACKETS;
    kdcom_link_init(&tlink, &cfg);
    if (simep_open(sp, &lfd, &cfd, &keep_slave, err, sizeof err) != 0) {
        fprintf(stderr, "kdcom-simkernel: %s\n", err);
        return -1;
    }
    is_listen = lfd >= 0;
    return 0;
}

void fdtr_close(void)
{
    simep_close(&lfd, &cfd, &keep_slave);
}

/* Gives the kept packet back to the link. */
static void drop_kept(void)
{
    if (kept != NULL) {
        kept = NULL;
        kdcom_packet_done(&tlink);
    }
}

/* Forgets a pending break-in: handed to the kernel, or left by a
 * debugger that is gone. */
static void clear_breakin(void)
{
    breakin_seen = 0;
    kdcom_take_breakin(&tlink);
}

static void take_events(void)
{
    struct kdcom_event ev;

    while (kdcom_next_event(&tlink, &ev) > 0) {
        switch (ev.kind) {
        case KDCOM_EV_PACKET:
            kept = ev.payload; /* the link holds one at a time */
            kept_type = ev.type;
            kept_len = ev.len;
            kept_at = ex_now_ms();
            break;
        case KDCOM_EV_RESET:
            drop_kept(); /* the debugger started over */
            if (sending_reply) {
                /* The debugger that asked is gone: its break-in too. */
                reply_reset = 1;
                clear_breakin();
            }
            resend_seen = 1;
            break;
        case KDCOM_EV_RESEND:
            resend_seen = 1;
            break;
        case KDCOM_EV_BREAKIN:
            breakin_seen = 1;
            break;
        default:
            break;
        }
    }
}

/* The debugger went away (n, err: the read or write that said so). */
static void drop_connection(long n, int err)
{
    char why[160];

    if (cfd >= 0 && is_listen) {
        if (!backend_quiet)
            fprintf(stderr, "kdcom-simkernel: debugger %s\n",
                    ep_end_reason(n, err, why, sizeof why));
        close(cfd);
        cfd = -1;
        out_len = out_off = 0;
        in_len = in_off = 0;
        if (trace != NULL)
            wt_reset(trace);
    }
}

/* Gives the bytes read to the link, up to the next data packet while one
 * is kept. */
static void feed(uint64_t now)
{
    while (in_off < in_len) {
        int used = kdcom_feed(&tlink, now, inbuf + in_off, in_len - in_off);

        if (used < 0)
            break;
        in_off += (size_t)used;
        take_events();
        if (used > 0)
            continue;
        if (kept != NULL && kdcom_packet_held(&tlink) == 2 &&
            now >= kept_at + HOLD_MS) {
            drop_kept(); /* the kernel is not asking for it */
            continue;
        }
        break; /* a data packet waits, or the control queue is full */
    }
}

/* One round of I/O, waiting at most wait_ms. */
static void pump(int wait_ms)
{
    struct pollfd p;
    uint64_t now = ex_now_ms();
    uint8_t buf[4096];
    ssize_t n;
    int r, tmo;


    if (cfd < 0 && lfd >= 0) {
        cfd = ep_accept(lfd, NULL, 0);
        if (cfd >= 0)
            clear_breakin(); /* a new debugger inherits none */
        if (cfd < 0) {
            /* No debugger: bytes the tlink wants to send go nowhere. */
            while (kdcom_drain(&tlink, now, buf, sizeof buf) > 0) {
            }
            p.fd = lfd;
            p.events = POLLIN;
            p.revents = 0;
            tmo = ex_poll_timeout(now, kdcom_next_deadline(&tlink), wait_ms);
            poll(&p, 1, tmo);
            kdcom_tick(&tlink, ex_now_ms());
            take_events();
            return;
        }
    }
    if (cfd < 0)
        return;
    for (;;) {
        if (out_off == out_len) {
            int k = kdcom_drain(&tlink, now, outbuf, sizeof outbuf);
            if (k <= 0)
                break;
            out_len = (size_t)k;
            out_off = 0;
        }
        n = write(cfd, outbuf + out_off, out_len - out_off);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                drop_connection(-1, errno);
            break;
        }
        wt_bytes(trace, 0, outbuf + out_off, (size_t)n);
        out_off += (size_t)n;
    }
    if (cfd < 0)
        return;
    /* Bytes the link left (a data packet behind the kept one, or leader
     * bytes it must see more of) move to the front; more are read behind
     * them. */
    memmove(inbuf, inbuf + in_off, in_len - in_off);
    in_len -= in_off;
    in_off = 0;
    p.fd = cfd;
    p.events = (in_len < sizeof inbuf ? POLLIN : 0) |
               (out_off < out_len ? POLLOUT : 0);
    p.revents = 0;
    /* Left bytes wait for the kernel only while a packet is kept; else
     * the link paused for its control queue, drained above. */
    tmo = in_len != 0 && kept == NULL
              ? 0
              : ex_poll_timeout(now, kdcom_next_deadline(&tlink), wait_ms);
    r = poll(&p, 1, tmo);
    now = ex_now_ms();
    if (r > 0 && in_len < sizeof inbuf &&
        (p.revents & (POLLIN | POLLHUP | POLLERR))) {
        n = read(cfd, inbuf + in_len, sizeof inbuf - in_len);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR &&
                       errno != EWOULDBLOCK)) {
            drop_connection((long)n, n < 0 ? errno : 0);
        } else if (n > 0) {
            wt_bytes(trace, 1, inbuf + in_len, (size_t)n);
            in_len += (size_t)n;
        }
    }
    feed(now);
    kdcom_tick(&tlink, now);
    take_events();
}

NTSTATUS KdDebuggerInitialize0(struct _LOADER_PARAMETER_BLOCK *lb)
{
    (void)lb;
    return KDAPI_STATUS_SUCCESS;
}

NTSTATUS KdDebuggerInitialize1(struct _LOADER_PARAMETER_BLOCK *lb)
{
    (void)lb;
    return KDAPI_STATUS_SUCCESS;
}

void KdSendPacket(ULONG type, PSTRING head, PSTRING data, PKD_CONTEXT kc)
{
    size_t hl = head != NULL ? head->Length : 0;
    size_t dl = data != NULL ? data->Length : 0;
    const uint8_t *hb = hl ? (const uint8_t *)head->Buffer : NULL;
    const uint8_t *db = dl ? (const uint8_t *)data->Buffer : NULL;
    int droppable = kdcom_kd_droppable(type, hb, hl);
    unsigned retries =
        kc != NULL && kc->KdpDefaultRetries ? kc->KdpDefaultRetries : 20;
    uint64_t timeouts0 = kdcom_get_stats(&tlink)->ack_timeouts;

    while (kdcom_send(&tlink, ex_now_ms(), type, hb, hl, db, dl) ==
           KDCOM_ERR_BUSY) {
        pump(10); /* the previous packet is still being written out */
        if (ex_stop_requested())
            return;
    }
    sending_reply = type == KDCOM_TYPE_STATE_MANIPULATE;
    reply_reset = 0;
    for (;;) {
        pump(100);
        resend_seen = 0; /* the link retransmits on RESEND and RESET */
        /* ACKED is consumed in take_events via kdcom_can_send(). */
        if (kdcom_can_send(&tlink) == 1)
            break;
        if (droppable &&
            kdcom_get_stats(&tlink)->ack_timeouts - timeouts0 >= retries) {
            kdcom_cancel_send(&tlink);
            break;
        }
        if (ex_stop_requested())
            break;
    }
    sending_reply = 0;
    /* A 'b' seen during the exchange (PROTOCOL-FACTS §3.2). */
    if (breakin_seen && kc != NULL) {
        kc->KdpControlCPending = 1;
        clear_breakin();
    }
    if (reply_reset) {
        /* The next KdReceivePacket says RESEND: the state change goes to
         * the new debugger (PROTOCOL-FACTS §7). */
        reply_reset = 0;
        resend_seen = 1;
    }
}

/* KdReceivePacket's wait for a packet of the wanted type. */
static KDP_STATUS receive(ULONG type, PSTRING head, PSTRING data, PULONG dlen,
                          PKD_CONTEXT kc)
{
    uint64_t end = ex_now_ms() + RECEIVE_WAIT_MS;

    for (;;) {
        if (breakin_seen && kc != NULL) {
            kc->KdpControlCPending = 1;
            breakin_seen = 0;
            kdcom_take_breakin(&tlink);
        }
        if (resend_seen) {
            resend_seen = 0;
            return KdPacketNeedsResend;
        }
        if (kept != NULL) {
            int fits = kept_type == type && head != NULL &&
                       kept_len >= head->MaximumLength &&
                       kept_len - head->MaximumLength <=
                           (data != NULL ? data->MaximumLength : 0u);

            if (fits) {
                size_t hl = head->MaximumLength;
                memcpy(head->Buffer, kept, hl);
                head->Length = (USHORT)hl;
                if (data != NULL) {
                    memcpy(data->Buffer, kept + hl, kept_len - hl);
                    data->Length = (USHORT)(kept_len - hl);
                }
                if (dlen != NULL)
                    *dlen = (ULONG)(kept_len - hl);
            }
            drop_kept(); /* copied, or of the wrong type or size:
                            acknowledged and dropped */
            if (fits)
                return KdPacketReceived;
            continue;
        }
        if (ex_now_ms() >= end || ex_stop_requested())
            return KdPacketTimedOut;
        pump((int)(end - ex_now_ms()));
    }
}

KDP_STATUS KdReceivePacket(ULONG type, PSTRING head, PSTRING data,
                           PULONG dlen, PKD_CONTEXT kc)
{
    KDP_STATUS st;

    if (type == KDCOM_TYPE_POLL_BREAKIN) {
        pump(0);
        if (breakin_seen || kdcom_take_breakin(&tlink) == 1) {
            breakin_seen = 0;
            kdcom_take_breakin(&tlink);
            return KdPacketReceived;
        }
        return KdPacketTimedOut;
    }
    /* PROTOCOL-FACTS §3.5 step 1: shorter than the header buffer is
     * refused with RESEND.  The minimum belongs to this receive: a packet
     * that arrives after it (while the kernel sends) is for the next one,
     * whose header buffer is not known yet. */
    if (head != NULL)
        kdcom_expect_header(&tlink, head->MaximumLength);
    st = receive(type, head, data, dlen, kc);
    kdcom_expect_header(&tlink, 0);
    return st;
}

NTSTATUS KdD0Transition(void)
{
    return KDAPI_STATUS_SUCCESS;
}

NTSTATUS KdD3Transition(void)
{
    return KDAPI_STATUS_SUCCESS;
}

NTSTATUS KdSave(BOOLEAN sleep)
{
    (void)sleep;
    return KDAPI_STATUS_SUCCESS;
}

NTSTATUS KdRestore(BOOLEAN sleep)
{
    (void)sleep;
    return KDAPI_STATUS_SUCCESS;
}

void KdSetHiberRange(void)
{
}
