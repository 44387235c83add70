/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_link.c - row 3 (a DEBUGGER and a TARGET link back to back) and
 * the link half of row 2 (kdcom_feed() one byte per call).
 *
 * One loopback operation is one data packet from the TARGET (a memory
 * read answer: 56-byte KD header plus data) delivered to the DEBUGGER and
 * its ACK delivered back: kdcom_send, kdcom_drain, kdcom_feed,
 * kdcom_next_event on one side, kdcom_drain of the ACK, kdcom_feed and
 * kdcom_next_event on the other.  The wire is a plain buffer, so the row
 * shows what the engine costs, not what a socket costs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kdcom.h>

#include "bench.h"

#define KD_HEAD 56

static struct kdcom_link tgt, dbg, rx;
static uint8_t payload[KDCOM_MAX_PAYLOAD];
static uint8_t wire[KDCOM_MAX_FRAME + 64];

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench: %s: %s\n", what, kdcom_strerror(rc));
    exit(1);
}

/* Moves everything `from` has to send into `to`, taking events on the
 * way (a waiting PACKET event pauses feeding).  Returns the events seen
 * on `to`, as a bit mask of kinds. */
static unsigned shuttle(struct kdcom_link *from, struct kdcom_link *to)
{
    unsigned seen = 0;
    int n;

    while ((n = kdcom_drain(from, 0, wire, sizeof wire)) > 0) {
        int off = 0;

        while (off < n) {
            struct kdcom_event ev;
            int used = kdcom_feed(to, 0, wire + off, (size_t)(n - off));

            if (used < 0)
                die("kdcom_feed", used);
            off += used;
            while (kdcom_next_event(to, &ev) > 0)
                seen |= 1u << ev.kind;
        }
    }
    if (n < 0)
        die("kdcom_drain", n);
    while (1) {
        struct kdcom_event ev;

        if (kdcom_next_event(to, &ev) <= 0)
            break;
        seen |= 1u << ev.kind;
    }
    return seen;
}

void bench_link_setup_pair(void)
{
    struct kdcom_config cfg;
    int i, synced = 0, rc;

    for (i = 0; i < KDCOM_MAX_PAYLOAD; i++)
        payload[i] = (uint8_t)(i * 17 + 1);
    kdcom_config_init(&cfg, KDCOM_ROLE_DEBUGGER);
    if ((rc = kdcom_link_init(&dbg, &cfg)) != KDCOM_OK)
        die("kdcom_link_init", rc);
    kdcom_config_init(&cfg, KDCOM_ROLE_TARGET);
    if ((rc = kdcom_link_init(&tgt, &cfg)) != KDCOM_OK)
        die("kdcom_link_init", rc);
    /* The RESET handshake: the debugger's RESET, the target's echo. */
    for (i = 0; i < 8 && !synced; i++) {
        shuttle(&dbg, &tgt);
        synced = (shuttle(&tgt, &dbg) >> KDCOM_EV_SYNCED) & 1;
    }
    if (!synced) {
        fprintf(stderr, "bench: link handshake did not complete\n");
        exit(1);
    }
}

/* n packets target -> debugger, each acknowledged. */
void bench_link_exchange(size_t len, long n)
{
    size_t head = len < KD_HEAD ? len : KD_HEAD;

    while (n-- > 0) {
        int rc = kdcom_send(&tgt, 0, KDCOM_TYPE_STATE_MANIPULATE, payload,
                            head, payload + head, len - head);

        if (rc != KDCOM_OK)
            die("kdcom_send", rc);
        if (!((shuttle(&tgt, &dbg) >> KDCOM_EV_PACKET) & 1)) {
            fprintf(stderr, "bench: packet not delivered\n");
            exit(1);
        }
        if (!((shuttle(&dbg, &tgt) >> KDCOM_EV_ACKED) & 1)) {
            fprintf(stderr, "bench: packet not acknowledged\n");
            exit(1);
        }
    }
}

/* n KD memory reads as on the wire: the debugger's 56-byte request, its
 * ACK, the target's answer of len payload bytes (the 56-byte KD header and
 * len - 56 bytes of memory: 4000 is the most one packet carries), its
 * ACK. */
static double read_wire_bytes; /* wire bytes per read, both directions */

void bench_link_reads(size_t len, long n)
{
    static const uint8_t request[KD_HEAD] = {0x30, 0x31}; /* ReadVirtualMemory */
    uint64_t before = kdcom_get_stats(&tgt)->bytes_out +
                      kdcom_get_stats(&dbg)->bytes_out;
    long i;

    for (i = 0; i < n; i++) {
        int rc = kdcom_send(&dbg, 0, KDCOM_TYPE_STATE_MANIPULATE, request,
                            sizeof request, NULL, 0);

        if (rc != KDCOM_OK)
            die("kdcom_send", rc);
        if (!((shuttle(&dbg, &tgt) >> KDCOM_EV_PACKET) & 1) ||
            !((shuttle(&tgt, &dbg) >> KDCOM_EV_ACKED) & 1)) {
            fprintf(stderr, "bench: request not exchanged\n");
            exit(1);
        }
        bench_link_exchange(len, 1);
    }
    if (n > 0)
        read_wire_bytes = (double)(kdcom_get_stats(&tgt)->bytes_out +
                                   kdcom_get_stats(&dbg)->bytes_out -
                                   before) /
                          (double)n;
}

double bench_link_read_wire_bytes(void)
{
    return read_wire_bytes;
}

static void run_reads(struct bench_meas *m, long n)
{
    bench_link_reads((size_t)m->bytes_per_op, n);
    bench_sink += (uint32_t)kdcom_get_stats(&dbg)->packets_received;
}

static void run_exchange(struct bench_meas *m, long n)
{
    bench_link_exchange((size_t)m->bytes_per_op, n);
    bench_sink += (uint32_t)kdcom_get_stats(&dbg)->packets_received;
}

/* ---- row 2: a DEBUGGER link fed a stream of packets ---- */

struct stream {
    uint8_t frame[2][KDCOM_MAX_FRAME]; /* alternating ids: new packets */
    size_t len;
    unsigned long k;
};

static struct stream stream;

static void take_and_ack(struct kdcom_link *l)
{
    struct kdcom_event ev;
    uint8_t ack[32];

    while (kdcom_next_event(l, &ev) > 0)
        bench_sink += ev.len;
    bench_sink += (uint32_t)kdcom_drain(l, 0, ack, sizeof ack);
}

static void run_feed_whole(struct bench_meas *m, long n)
{
    struct stream *s = m->ctx;

    while (n-- > 0) {
        const uint8_t *f = s->frame[s->k++ & 1];
        size_t off = 0;

        while (off < s->len) {
            int used = kdcom_feed(&rx, 0, f + off, s->len - off);

            if (used < 0)
                die("kdcom_feed", used);
            off += (size_t)used;
            take_and_ack(&rx);
        }
    }
}

static void run_feed_bytewise(struct bench_meas *m, long n)
{
    struct stream *s = m->ctx;

    while (n-- > 0) {
        const uint8_t *f = s->frame[s->k++ & 1];
        size_t i;

        for (i = 0; i < s->len; i++) {
            int used;

            while ((used = kdcom_feed(&rx, 0, f + i, 1)) == 0)
                take_and_ack(&rx);
            if (used < 0)
                die("kdcom_feed", used);
        }
        take_and_ack(&rx);
    }
}

static void setup_stream(void)
{
    struct kdcom_config cfg;
    int i;

    kdcom_config_init(&cfg, KDCOM_ROLE_DEBUGGER);
    cfg.flags |= KDCOM_CFG_PASSIVE; /* no handshake: a stream in progress */
    kdcom_link_init(&rx, &cfg);
    for (i = 0; i < 2; i++)
        stream.len = (size_t)kdcom_encode_data(
            stream.frame[i], KDCOM_MAX_FRAME, KDCOM_TYPE_STATE_MANIPULATE,
            KDCOM_INITIAL_ID ^ (uint32_t)i, payload, KD_HEAD,
            payload + KD_HEAD, KDCOM_MAX_PAYLOAD - KD_HEAD);
}

void bench_link_rows(void)
{
    struct bench_meas *m;

    bench_link_setup_pair();
    setup_stream();
    bench_add("2c", "", KDCOM_MAX_PAYLOAD, run_feed_whole, &stream,
              "kdcom_feed 4000 B frame, whole");
    m = bench_add("2d", "2c", KDCOM_MAX_PAYLOAD, run_feed_bytewise, &stream,
                  "kdcom_feed 4000 B frame, 1 B/call");
    snprintf(m->note, sizeof m->note, "target >= 0.1");
    m = bench_add("3a", "1g", 56, run_exchange, NULL,
                  "link loopback 56 B + ACK");
    m->per_second = 1;
    m = bench_add("3b", "1s", KDCOM_MAX_PAYLOAD, run_exchange, NULL,
                  "link loopback 4000 B + ACK");
    m->per_second = 1;
    m = bench_add("3c", "1s", KDCOM_MAX_PAYLOAD, run_reads, NULL,
                  "link loopback 4000 B memory read");
    m->per_second = 2;
    snprintf(m->note, sizeof m->note, "request, answer, 2 ACKs");
}
