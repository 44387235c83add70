/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * faultproxy.c - a TCP proxy that damages KDCOM traffic, for the lossy
 * end-to-end tests: it listens on 127.0.0.1 (prints FAULTPROXY_PORT=N),
 * takes one connection, connects to the target and forwards both ways,
 * one frame per write, flipping one bit in a given share of the writes.
 *
 *   faultproxy [--seed N] [--rate PERCENT] [--damage type|header|any]
 *              [--frames data|control|all] [--skip N] HOST PORT
 *
 * --damage picks the bit:
 *   type    one of the four low bits of the frame's PacketType (the
 *           damage no checksum covers: a request whose type becomes
 *           another data type is acknowledged and dropped by a real
 *           target, docs/protocol.md 5.3; a reply likewise at the
 *           debugger; an ACK becomes a RESEND, a RESET or nothing)
 *   header  any bit of type, count, id or checksum (bytes 4..15)
 *   any     any bit of the frame
 * --frames says which frames may be damaged: data packets (requests,
 * replies, state changes, prints), control packets (ACK, RESEND, RESET),
 * or both (the default).
 * --rate is the share of those frame writes damaged, in percent (default 3),
 * --skip leaves the first N frames of each direction intact (the
 * handshake), --seed makes the choice of frames and bits repeatable.
 *
 * Each direction is cut into frames by libkdcom's own parser on the
 * undamaged stream, and every frame (a data or control packet, a
 * break-in byte, with the noise before it) is written on its own, so a
 * "write" is a frame whatever the sender's chunking; only a frame with a
 * header is damaged.  At the end it prints what it did on stderr.  Exit
 * status 0 when a side closed, 1 on errors.
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

enum damage { DAMAGE_TYPE, DAMAGE_HEADER, DAMAGE_ANY };
enum frames { FRAMES_DATA = 1, FRAMES_CONTROL = 2, FRAMES_ALL = 3 };

struct dir {
    const char *name; /* "D>T" or "T>D" */
    int from, to;
    struct kdcom_parser p;
    uint8_t frame[KDCOM_MAX_FRAME + 4096]; /* bytes of the frame so far */
    size_t len;
    unsigned long frames, damaged, data_damaged, control_damaged;
};

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double rate = 3.0;
static enum damage mode = DAMAGE_TYPE;
static int which = FRAMES_ALL;
static unsigned long skip;

/* xorshift64*: repeatable from the seed, good enough to pick bits. */
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Writes the frame that ends the buffer (hdr_at: where its header starts,
 * or -1 for a frame without one), maybe with one bit flipped. */
static int emit(struct dir *d, long hdr_at, int is_data)
{
    d->frames++;
    if (hdr_at >= 0 && d->frames > skip &&
        (which & (is_data ? FRAMES_DATA : FRAMES_CONTROL)) &&
        (double)(rng() % 1000000u) < rate * 10000.0) {
        size_t byte, lo, n;
        unsigned bit = (unsigned)(rng() % 8u);
        switch (mode) {
        case DAMAGE_TYPE:
            byte = (size_t)hdr_at + 4;
            bit = (unsigned)(rng() % 4u);
            break;
        case DAMAGE_HEADER:
            byte = (size_t)hdr_at + 4 + (size_t)(rng() % 12u);
            break;
        default:
            lo = (size_t)hdr_at;
            n = d->len - lo;
            byte = lo + (size_t)(rng() % n);
            break;
        }
        d->frame[byte] ^= (uint8_t)(1u << bit);
        d->damaged++;
        if (is_data)
            d->data_damaged++;
        else
            d->control_damaged++;
    }
    if (net_write_all(d->to, d->frame, d->len) != 0)
        return -1;
    d->len = 0;
    return 0;
}

/* Forwards what one read brought, frame by frame.  0, or -1 when the
 * other side is gone. */
static int forward(struct dir *d, const uint8_t *b, size_t n)
{
    while (n > 0) {
        struct kdcom_frame f;
        int used = kdcom_parse(&d->p, b, n, &f);
        if (used < 0)
            return -1;
        if ((size_t)used > sizeof d->frame - d->len) {
            /* Only noise gets this long: pass it on as it is. */
            if (net_write_all(d->to, d->frame, d->len) != 0)
                return -1;
            d->len = 0;
            if ((size_t)used > sizeof d->frame) {
                if (net_write_all(d->to, b, (size_t)used) != 0)
                    return -1;
                b += used;
                n -= (size_t)used;
                continue;
            }
        }
        memcpy(d->frame + d->len, b, (size_t)used);
        d->len += (size_t)used;
        b += used;
        n -= (size_t)used;
        switch (f.kind) {
        case KDCOM_FRAME_DATA:
        case KDCOM_FRAME_BAD_CHECKSUM:
        case KDCOM_FRAME_BAD_TRAILER:
            if (emit(d, (long)d->len - (long)(KDCOM_HEADER_SIZE +
                                              f.byte_count + 1), 1) != 0)
                return -1;
            break;
        case KDCOM_FRAME_CONTROL:
            if (emit(d, (long)d->len - KDCOM_HEADER_SIZE, 0) != 0)
                return -1;
            break;
        case KDCOM_FRAME_NONE:
            break;
        default: /* break-in byte, a refused size: unchanged */
            if (emit(d, -1, 0) != 0)
                return -1;
            break;
        }
    }
    return 0;
}

/* A read on one side, forwarded to the other: non-zero when it ends the
 * relay (a side closed, or the forwarding failed). */
static int on_ready(void *ctx, int k)
{
    struct dir *d = (struct dir *)ctx + k;
    uint8_t buf[16384];
    ssize_t n = read(d->from, buf, sizeof buf);

    if (n < 0 && errno == EINTR)
        return 0;
    return n <= 0 || forward(d, buf, (size_t)n) != 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: faultproxy [--seed N] [--rate PERCENT] "
            "[--damage type|header|any] [--frames data|control|all] "
            "[--skip N] HOST PORT\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct dir d[2];
    int lfd, cfd, tfd, i, one = 1, fds[2];

    for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        char *end;
        if (strcmp(argv[i], "--seed") == 0) {
            rng_state ^= strtoull(argv[i + 1], &end, 0) * 0xD1B54A32D192ED03ull;
        } else if (strcmp(argv[i], "--rate") == 0) {
            rate = strtod(argv[i + 1], &end);
            if (rate < 0 || rate > 100)
                return usage();
        } else if (strcmp(argv[i], "--skip") == 0) {
            skip = strtoul(argv[i + 1], &end, 0);
        } else if (strcmp(argv[i], "--frames") == 0) {
            end = argv[i + 1] + strlen(argv[i + 1]);
            if (strcmp(argv[i + 1], "data") == 0)
                which = FRAMES_DATA;
            else if (strcmp(argv[i + 1], "control") == 0)
                which = FRAMES_CONTROL;
            else if (strcmp(argv[i + 1], "all") == 0)
                which = FRAMES_ALL;
            else
                return usage();
        } else if (strcmp(argv[i], "--damage") == 0) {
            end = argv[i + 1] + strlen(argv[i + 1]);
            if (strcmp(argv[i + 1], "type") == 0)
                mode = DAMAGE_TYPE;
            else if (strcmp(argv[i + 1], "header") == 0)
                mode = DAMAGE_HEADER;
            else if (strcmp(argv[i + 1], "any") == 0)
                mode = DAMAGE_ANY;
            else
                return usage();
        } else {
            return usage();
        }
        if (*end != '\0')
            return usage();
    }
    if (argc - i != 2)
        return usage();
    if (rng_state == 0)
        rng_state = 1;
    signal(SIGPIPE, SIG_IGN);
    lfd = net_listen_announce("FAULTPROXY_PORT");
    if (lfd < 0) {
        fprintf(stderr, "faultproxy: listen: %s\n", strerror(errno));
        return 1;
    }
    cfd = accept(lfd, NULL, NULL);
    close(lfd);
    if (cfd < 0) {
        fprintf(stderr, "faultproxy: accept: %s\n", strerror(errno));
        return 1;
    }
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    tfd = net_connect(argv[i], argv[i + 1], NET_NODELAY);
    if (tfd < 0) {
        fprintf(stderr, "faultproxy: cannot connect to %s:%s\n", argv[i],
                argv[i + 1]);
        close(cfd);
        return 1;
    }
    memset(d, 0, sizeof d);
    d[0].name = "D>T";
    d[0].from = cfd;
    d[0].to = tfd;
    d[1].name = "T>D";
    d[1].from = tfd;
    d[1].to = cfd;
    kdcom_parser_init(&d[0].p);
    kdcom_parser_init(&d[1].p);
    fds[0] = cfd;
    fds[1] = tfd;
    net_relay(fds, -1, NULL, on_ready, d);
    for (i = 0; i < 2; i++)
        fprintf(stderr, "faultproxy: %s frames=%lu damaged=%lu (data %lu, "
                "control %lu)\n", d[i].name, d[i].frames, d[i].damaged,
                d[i].data_damaged, d[i].control_damaged);
    close(cfd);
    close(tfd);
    return 0;
}
