/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdproxy.c - a recording TCP proxy for the capture tests: it sits
 * between a KDCOM debugger (which connects to it) and a target (which it
 * connects to), forwards the bytes both ways and writes them into a
 * pcapng file with examples/common/pcapng.c, exactly as they cross the
 * debugger's end of the wire: what the debugger sent, and what the
 * debugger received.
 *
 * On request it damages the stream, at frame boundaries found with
 * libkdcom's own parser, so that tests get sessions with known faults:
 *
 *   --corrupt-t2d N   flips a bit in the last payload byte of the Nth data
 *                     packet to the debugger (bad checksum, RESEND,
 *                     retransmission)
 *   --noise-t2d N     puts 3 bytes of noise ("zzz") before that packet
 *   --drop-ack-d2t N  does not pass on the debugger's Nth ACK (the target
 *                     times out and retransmits; the debugger sees a
 *                     duplicate)
 *
 * usage: kdproxy --connect HOST:PORT --pcap FILE [--side S] [faults]
 * Listens on 127.0.0.1, a free port, prints KDPROXY_PORT=N, serves one
 * debugger and exits when either side closes (or on SIGTERM/SIGINT).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kdcom.h>

#include "netutil.h"
#include "pcapng.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* One direction: bytes read, parsed, passed on at frame boundaries. */
struct dir {
    const char *name;
    int to_target;
    int in_fd, out_fd;
    struct kdcom_parser p;
    uint8_t pend[1 << 17];
    size_t pend_len;      /* bytes read, not yet passed on */
    size_t parsed;        /* of which the parser has consumed */
    unsigned data_items, acks;
    unsigned corrupt_n, noise_n, drop_ack_n;
};

static struct pcapng_writer pc;

/* Passes on pend[0..n) (recording it for T>D) and drops it. */
static int pass(struct dir *d, size_t n, int record)
{
    if (record)
        pcapng_bytes(&pc, d->to_target, d->pend, n);
    if (net_write_all(d->out_fd, d->pend, n) != 0)
        return -1;
    memmove(d->pend, d->pend + n, d->pend_len - n);
    d->pend_len -= n;
    d->parsed -= n;
    return 0;
}

static int forward(struct dir *d)
{
    /* D>T is recorded as the debugger wrote it (see on_read); T>D as the
     * debugger gets it, after any damage. */
    int record = !d->to_target;

    while (d->parsed < d->pend_len) {
        struct kdcom_frame f;
        int used = kdcom_parse(&d->p, d->pend + d->parsed,
                               d->pend_len - d->parsed, &f);
        if (used < 0)
            return -1;
        d->parsed += (size_t)used;
        if (f.kind == KDCOM_FRAME_NONE)
            break;
        if (f.kind == KDCOM_FRAME_DATA && !d->to_target) {
            d->data_items++;
            if (d->data_items == d->noise_n) {
                static const uint8_t noise[3] = {'z', 'z', 'z'};
                size_t start = d->parsed - (KDCOM_HEADER_SIZE +
                                            f.payload_len + 1);
                /* whatever preceded the frame, then the noise */
                if (start > 0 && pass(d, start, record) != 0)
                    return -1;
                if (record)
                    pcapng_bytes(&pc, 0, noise, sizeof noise);
                if (net_write_all(d->out_fd, noise, sizeof noise) != 0)
                    return -1;
            }
            if (d->data_items == d->corrupt_n && f.payload_len > 0)
                d->pend[d->parsed - 2] ^= 0x01;
        }
        if (f.kind == KDCOM_FRAME_CONTROL && d->to_target &&
            f.type == KDCOM_TYPE_ACKNOWLEDGE && ++d->acks == d->drop_ack_n) {
            size_t start = d->parsed - KDCOM_HEADER_SIZE;
            if (start > 0 && pass(d, start, record) != 0)
                return -1;
            /* the ACK itself: recorded by on_read, not passed on */
            memmove(d->pend, d->pend + KDCOM_HEADER_SIZE,
                    d->pend_len - KDCOM_HEADER_SIZE);
            d->pend_len -= KDCOM_HEADER_SIZE;
            d->parsed -= KDCOM_HEADER_SIZE;
            continue;
        }
        if (pass(d, d->parsed, record) != 0)
            return -1;
    }
    /* Never hold more than half the buffer of unframed bytes. */
    if (d->pend_len > sizeof d->pend / 2)
        return pass(d, d->pend_len, record);
    return 0;
}

static int on_read(struct dir *d)
{
    ssize_t n;

    if (d->pend_len == sizeof d->pend)
        return forward(d);
    n = read(d->in_fd, d->pend + d->pend_len, sizeof d->pend - d->pend_len);
    if (n < 0 && errno == EINTR)
        return 0;
    if (n <= 0)
        return -1;
    if (d->to_target)
        pcapng_bytes(&pc, 1, d->pend + d->pend_len, (size_t)n);
    d->pend_len += (size_t)n;
    return forward(d);
}

static int split_hostport(const char *s, char *host, size_t hcap,
                          char *port, size_t pcap)
{
    const char *colon = strrchr(s, ':');

    if (colon == NULL || (size_t)(colon - s) >= hcap ||
        strlen(colon + 1) >= pcap || colon[1] == '\0')
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    strcpy(port, colon + 1);
    return 0;
}

static int connect_to(const char *hostport)
{
    char host[128], port[16];

    if (split_hostport(hostport, host, sizeof host, port, sizeof port) != 0)
        return -1;
    return net_connect(host, port, NET_NODELAY);
}

/* The debugger's side (k 0) or the target's (k 1) has bytes, or closed:
 * non-zero ends the session. */
static int on_ready(void *ctx, int k)
{
    struct dir **d = ctx;

    return on_read(d[k]) != 0;
}

static unsigned num(const char *s)
{
    return (unsigned)strtoul(s, NULL, 10);
}

int main(int argc, char **argv)
{
    static struct dir d2t, t2d;
    const char *up = NULL, *file = NULL;
    int side = PCAPNG_SIDE_DEBUGGER, i, lfd, cfd, ufd, one = 1, fds[2];
    struct dir *dirs[2];
    struct sigaction act;
    char err[256];

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--connect") == 0)
            up = argv[i + 1];
        else if (strcmp(argv[i], "--pcap") == 0)
            file = argv[i + 1];
        else if (strcmp(argv[i], "--side") == 0)
            side = strcmp(argv[i + 1], "target") == 0 ? PCAPNG_SIDE_TARGET
                   : strcmp(argv[i + 1], "none") == 0 ? PCAPNG_SIDE_NONE
                                                      : PCAPNG_SIDE_DEBUGGER;
        else if (strcmp(argv[i], "--corrupt-t2d") == 0)
            t2d.corrupt_n = num(argv[i + 1]);
        else if (strcmp(argv[i], "--noise-t2d") == 0)
            t2d.noise_n = num(argv[i + 1]);
        else if (strcmp(argv[i], "--drop-ack-d2t") == 0)
            d2t.drop_ack_n = num(argv[i + 1]);
        else
            break;
    }
    if (i < argc || up == NULL || file == NULL) {
        fprintf(stderr, "usage: kdproxy --connect HOST:PORT --pcap FILE "
                "[--side debugger|target|none] [--corrupt-t2d N] "
                "[--noise-t2d N] [--drop-ack-d2t N]\n");
        return 2;
    }
    memset(&act, 0, sizeof act);
    act.sa_handler = on_signal;
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (pcapng_open(&pc, file, "kdproxy", side, err, sizeof err) != 0) {
        fprintf(stderr, "kdproxy: %s\n", err);
        return 1;
    }
    lfd = net_listen_announce("KDPROXY_PORT");
    if (lfd < 0) {
        perror("kdproxy: listen");
        return 1;
    }
    cfd = accept(lfd, NULL, NULL);
    if (cfd < 0) {
        pcapng_close(&pc);
        return stop ? 0 : 1;
    }
    close(lfd);
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ufd = connect_to(up);
    if (ufd < 0) {
        fprintf(stderr, "kdproxy: cannot connect to %s\n", up);
        return 1;
    }
    d2t.name = "D>T";
    d2t.to_target = 1;
    d2t.in_fd = cfd;
    d2t.out_fd = ufd;
    t2d.name = "T>D";
    t2d.in_fd = ufd;
    t2d.out_fd = cfd;
    kdcom_parser_init(&d2t.p);
    kdcom_parser_init(&t2d.p);
    fds[0] = cfd;
    fds[1] = ufd;
    dirs[0] = &d2t;
    dirs[1] = &t2d;
    net_relay(fds, 1000, &stop, on_ready, dirs);
    /* What is still held goes out as it is. */
    if (d2t.pend_len > 0)
        pass(&d2t, d2t.pend_len, 0);
    if (t2d.pend_len > 0)
        pass(&t2d, t2d.pend_len, 1);
    close(cfd);
    close(ufd);
    return pcapng_close(&pc) == 0 ? 0 : 1;
}
