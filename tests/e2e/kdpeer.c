/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdpeer.c - a KD debugger for end-to-end tests, on libkdcom's DEBUGGER
 * role, with two things kdcom-client deliberately does not do:
 *
 *   - it synchronises once and never again: a target that does not send
 *     its state change after the RESET handshake keeps it waiting, as it
 *     keeps WinDbg waiting (kdcom-client resynchronises after a while);
 *   - it can die in the middle of a request: GetVersion sent, the reply
 *     seen on the wire but not acknowledged, optionally a break-in byte
 *     after it, and then SIGKILL with the reply's retransmission unread
 *     (so the peer sees the connection reset).
 *
 *   kdpeer HOST PORT COMMAND...
 *
 *   stop MS          wait for the target to stop (a state change; a
 *                    LoadSymbols stop is continued) within MS ms, on the
 *                    one handshake made at connect time
 *   stop-resync MS   the same, but start a new handshake after every
 *                    1.5 s without a stop (kdcom-client's behaviour)
 *   version          DbgKdGetVersionApi; the reply must come within 5 s
 *   go               DbgKdContinueApi2; its ACK must come within 5 s
 *   no-stop MS       serve the link for MS ms; fails if the target stops
 *   short            a STATE_MANIPULATE packet of 4 bytes (GetVersion's
 *                    ApiNumber alone) under the id the target expects:
 *                    the target must answer RESEND within 2 s and must not
 *                    acknowledge it (PROTOCOL-FACTS §3.5 step 1)
 *   die [break]      GetVersion, wait for the reply's frame (5 s), do not
 *                    acknowledge it, send 'b' if asked, wait for the
 *                    reply's retransmission to arrive unread, SIGKILL
 *
 * Exit status: 0 every command succeeded, 1 one failed (the line on
 * stderr says which and why), 2 usage, 3 connection.
 */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kdcom.h>
#include <kdcom_kd.h>

#include "netutil.h"

static struct kdcom_link dbg;
static int fd = -1;
static unsigned stops;        /* exception (and other) state changes */
static unsigned loads;        /* LoadSymbols state changes */
static int load_pending;      /* a LoadSymbols stop waits for a continue */
static int have_reply;
static uint8_t reply[KDCOM_MAX_PAYLOAD];
static uint32_t reply_len;
static unsigned acked;

static void say(const char *what)
{
    fprintf(stderr, "kdpeer: %s\n", what);
}

static void take_events(void)
{
    struct kdcom_event ev;

    while (kdcom_next_event(&dbg, &ev) > 0) {
        if (ev.kind == KDCOM_EV_ACKED) {
            acked++;
        } else if (ev.kind == KDCOM_EV_PACKET) {
            if ((ev.type == KDCOM_TYPE_STATE_CHANGE64 ||
                 ev.type == KDCOM_TYPE_STATE_CHANGE32) && ev.len >= 4) {
                if (kdcom_kd_ld32(ev.payload) == KDCOM_KD_STATE_LOAD_SYMBOLS) {
                    loads++;
                    load_pending = 1;
                } else {
                    stops++;
                }
            } else if (ev.type == KDCOM_TYPE_STATE_MANIPULATE) {
                memcpy(reply, ev.payload, ev.len);
                reply_len = ev.len;
                have_reply = 1;
            }
        }
    }
}

/* One round: write what the link has, wait for input until `until` (or
 * the link's next deadline), feed it.  Returns 0, or -1 when the
 * connection is gone. */
static int pump(uint64_t until)
{
    return net_pump(&dbg, fd, until, take_events);
}

/* Queues a packet once the link takes one; 0, or -1 (gone or timeout). */
static int send_pkt(uint32_t type, const uint8_t *p, size_t n, uint64_t end)
{
    while (kdcom_can_send(&dbg) != 1 || !kdcom_is_synced(&dbg)) {
        if (net_now_ms() >= end || pump(end) != 0)
            return -1;
    }
    return kdcom_send(&dbg, net_now_ms(), type, p, n, NULL, 0) == KDCOM_OK
               ? 0 : -1;
}

static int send_continue(uint64_t end)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};

    kdcom_kd_st32(req, KDCOM_KD_CONTINUE2);
    kdcom_kd_st32(req + KDCOM_KD_CONTINUE_STATUS, KDCOM_KD_DBG_CONTINUE);
    return send_pkt(KDCOM_TYPE_STATE_MANIPULATE, req, sizeof req, end);
}

static int cmd_stop(uint32_t ms, int resync)
{
    uint64_t end = net_now_ms() + ms, next_resync = net_now_ms() + 1500;
    unsigned seen = stops;

    while (stops == seen) {
        if (net_now_ms() >= end) {
            say("stop: no state change came");
            return 1;
        }
        if (load_pending) {
            load_pending = 0;
            if (send_continue(end) != 0)
                return 3;
        }
        if (resync && net_now_ms() >= next_resync && kdcom_is_synced(&dbg)) {
            kdcom_resync(&dbg, net_now_ms());
            next_resync = net_now_ms() + 1500;
        }
        if (pump(end) != 0)
            return 3;
    }
    say("stop: the target stopped");
    return 0;
}

static int cmd_version(void)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0};
    uint64_t end = net_now_ms() + 5000;

    kdcom_kd_st32(req, KDCOM_KD_GET_VERSION);
    have_reply = 0;
    if (send_pkt(KDCOM_TYPE_STATE_MANIPULATE, req, sizeof req, end) != 0)
        return 3;
    while (!(have_reply && reply_len >= KDCOM_KD_MS_SIZE &&
             kdcom_kd_ld32(reply) == KDCOM_KD_GET_VERSION)) {
        if (net_now_ms() >= end) {
            say("version: no reply");
            return 1;
        }
        if (pump(end) != 0)
            return 3;
    }
    if (!kdcom_kd_nt_success(
            kdcom_kd_ld32(reply + KDCOM_KD_MS_RETURN_STATUS))) {
        say("version: failure status");
        return 1;
    }
    say("version: answered");
    return 0;
}

static int cmd_go(void)
{
    uint64_t end = net_now_ms() + 5000;
    unsigned before;

    if (send_continue(end) != 0)
        return 3;
    before = acked;
    while (acked == before) {
        if (net_now_ms() >= end) {
            say("go: continue not acknowledged");
            return 1;
        }
        if (pump(end) != 0)
            return 3;
    }
    say("go: continued");
    return 0;
}

static int cmd_no_stop(uint32_t ms)
{
    uint64_t end = net_now_ms() + ms;
    unsigned seen = stops;

    while (net_now_ms() < end) {
        if (pump(end) != 0)
            return 3;
        if (stops != seen) {
            say("no-stop: the target stopped again");
            return 1;
        }
    }
    say("no-stop: the target kept running");
    return 0;
}

/* Written past the link, which sends only what its caller gives it; the
 * answer comes back through the link (it counts RESENDs and ACKs). */
static int cmd_short(void)
{
    static const uint8_t api[4] = {0x46, 0x31, 0, 0};
    uint8_t frame[KDCOM_HEADER_SIZE + sizeof api + 1];
    const struct kdcom_stats *st = kdcom_get_stats(&dbg);
    uint64_t resends = st->resends_received, acks = st->acks_received;
    uint64_t end = net_now_ms() + 2000;
    int n;

    if (kdcom_can_send(&dbg) != 1) {
        say("short: a packet is outstanding");
        return 1;
    }
    n = kdcom_encode_data(frame, sizeof frame, KDCOM_TYPE_STATE_MANIPULATE,
                          kdcom_tx_id(&dbg), api, sizeof api, NULL, 0);
    if (n < 0 || net_write_all(fd, frame, (size_t)n) != 0)
        return 3;
    while (st->resends_received == resends) {
        if (net_now_ms() >= end) {
            say("short: no RESEND");
            return 1;
        }
        if (pump(end) != 0)
            return 3;
    }
    if (st->acks_received != acks) {
        say("short: acknowledged");
        return 1;
    }
    say("short: RESEND, not acknowledged");
    return 0;
}

/* GetVersion, then die with its reply unacknowledged. */
static int cmd_die(int breakin)
{
    uint8_t req[KDCOM_KD_MS_SIZE] = {0}, buf[8192];
    uint64_t end = net_now_ms() + 5000;
    struct kdcom_parser p;
    int found = 0, n;

    kdcom_kd_st32(req, KDCOM_KD_GET_VERSION);
    if (send_pkt(KDCOM_TYPE_STATE_MANIPULATE, req, sizeof req, end) != 0)
        return 3;
    /* Write the request out; from now on the link is not fed, so nothing
     * we read is acknowledged. */
    while ((n = kdcom_drain(&dbg, net_now_ms(), buf, sizeof buf)) > 0)
        if (net_write_all(fd, buf, (size_t)n) != 0)
            return 3;
    kdcom_parser_init(&p);
    while (!found) {
        struct pollfd pf = {fd, POLLIN, 0};
        ssize_t r;
        size_t off = 0;

        if (net_now_ms() >= end) {
            say("die: the reply never came");
            return 1;
        }
        if (poll(&pf, 1, 100) <= 0)
            continue;
        r = read(fd, buf, sizeof buf);
        if (r <= 0)
            return 3;
        while (off < (size_t)r) {
            struct kdcom_frame f;
            int used = kdcom_parse(&p, buf + off, (size_t)r - off, &f);
            if (used < 0)
                return 1;
            off += (size_t)used;
            if (f.kind == KDCOM_FRAME_DATA &&
                f.type == KDCOM_TYPE_STATE_MANIPULATE)
                found = 1;
        }
    }
    if (breakin) {
        uint8_t b = KDCOM_BREAKIN_BYTE;
        if (net_write_all(fd, &b, 1) != 0)
            return 3;
    }
    say("die: reply on the wire, not acknowledged; waiting for its "
        "retransmission");
    /* The target retransmits after its ACK timeout: leave that unread, so
     * closing the socket resets the connection. */
    end = net_now_ms() + 5000;
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 100) > 0 || net_now_ms() >= end)
            break;
    }
    say("die: killed");
    fflush(stderr);
    raise(SIGKILL);
    return 1;
}

static int parse_ms(const char *s, uint32_t *out)
{
    char *e;
    unsigned long v;

    if (s == NULL)
        return -1;
    v = strtoul(s, &e, 10);
    if (*e != '\0' || e == s || v > 600000)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    struct kdcom_config cfg;
    uint64_t end;
    int i, rc = 0;

    if (argc < 4) {
        fprintf(stderr, "usage: kdpeer HOST PORT COMMAND...\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    fd = net_connect(argv[1], argv[2], NET_NONBLOCK);
    if (fd < 0) {
        fprintf(stderr, "kdpeer: cannot connect to %s:%s\n", argv[1],
                argv[2]);
        return 3;
    }
    kdcom_config_init(&cfg, KDCOM_ROLE_DEBUGGER);
    kdcom_link_init(&dbg, &cfg);
    end = net_now_ms() + 10000;
    while (!kdcom_is_synced(&dbg)) {
        if (net_now_ms() >= end) {
            say("no RESET echo");
            return 3;
        }
        if (pump(end) != 0)
            return 3;
    }
    say("synchronised");
    for (i = 3; i < argc && rc == 0; i++) {
        uint32_t ms;
        const char *c = argv[i];

        if (strcmp(c, "stop") == 0 || strcmp(c, "stop-resync") == 0 ||
            strcmp(c, "no-stop") == 0) {
            if (parse_ms(argv[i + 1], &ms) != 0)
                return 2;
            i++;
            rc = c[0] == 'n' ? cmd_no_stop(ms) : cmd_stop(ms, c[4] == '-');
        } else if (strcmp(c, "version") == 0) {
            rc = cmd_version();
        } else if (strcmp(c, "go") == 0) {
            rc = cmd_go();
        } else if (strcmp(c, "short") == 0) {
            rc = cmd_short();
        } else if (strcmp(c, "die") == 0) {
            int b = i + 1 < argc && strcmp(argv[i + 1], "break") == 0;
            rc = cmd_die(b);
        } else {
            fprintf(stderr, "kdpeer: unknown command '%s'\n", c);
            return 2;
        }
    }
    close(fd);
    return rc;
}
