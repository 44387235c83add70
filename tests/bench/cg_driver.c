/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cg_driver.c - the program callgrind.sh runs under
 * `valgrind --tool=callgrind --toggle-collect=cg_op_*` to count the
 * instructions one operation costs, a figure that does not depend on what
 * else the machine is doing.
 *
 *   bench_cg OP N     OP: memcpy sum encode decode send recv
 *
 * Each operation is a function of its own, never inlined, named cg_op_*:
 * callgrind collects only while one of them runs.  send and recv are the
 * two halves of one exchange of a 4000-byte packet and its ACK between a
 * TARGET and a DEBUGGER link; the warm-up exchange runs outside them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kdcom.h>

#include "bench.h"

#if defined(__GNUC__)
#define CG_OP __attribute__((noinline))
#else
#define CG_OP
#endif

#define LEN KDCOM_MAX_PAYLOAD
#define KD_HEAD 56

volatile uint32_t bench_sink;

static uint8_t src[LEN], dst[LEN], frame[KDCOM_MAX_FRAME];
static uint8_t wire[KDCOM_MAX_FRAME], ackbuf[64];
static size_t frame_len, wire_len, ack_len;
static struct kdcom_parser parser;
static struct kdcom_link tgt, dbg;

void cg_op_memcpy(void);
void cg_op_sum(void);
void cg_op_encode(void);
void cg_op_decode(void);
void cg_op_send_a(void);
void cg_op_send_b(void);
void cg_op_recv(void);

CG_OP void cg_op_memcpy(void)
{
    bench_sink += ref_copy(dst, src, LEN);
}

CG_OP void cg_op_sum(void)
{
    bench_sink += ref_sum(src, LEN);
}

CG_OP void cg_op_encode(void)
{
    bench_sink += (uint32_t)kdcom_encode_data(
        frame, sizeof frame, KDCOM_TYPE_STATE_MANIPULATE, KDCOM_INITIAL_ID,
        src, KD_HEAD, src + KD_HEAD, LEN - KD_HEAD);
}

CG_OP void cg_op_decode(void)
{
    struct kdcom_frame f;

    bench_sink += (uint32_t)kdcom_parse(&parser, frame, frame_len, &f);
    bench_sink += f.kind;
}

/* The sender's half of an exchange: queue, write out ... */
CG_OP void cg_op_send_a(void)
{
    int rc = kdcom_send(&tgt, 0, KDCOM_TYPE_STATE_MANIPULATE, src, KD_HEAD,
                        src + KD_HEAD, LEN - KD_HEAD);

    wire_len = (size_t)kdcom_drain(&tgt, 0, wire, sizeof wire);
    bench_sink += (uint32_t)rc;
}

/* ... and take the ACK. */
CG_OP void cg_op_send_b(void)
{
    struct kdcom_event ev;

    bench_sink += (uint32_t)kdcom_feed(&tgt, 0, ackbuf, ack_len);
    bench_sink += (uint32_t)kdcom_next_event(&tgt, &ev);
}

/* The receiver's half: parse, deliver, write the ACK. */
CG_OP void cg_op_recv(void)
{
    struct kdcom_event ev;

    bench_sink += (uint32_t)kdcom_feed(&dbg, 0, wire, wire_len);
    bench_sink += (uint32_t)kdcom_next_event(&dbg, &ev);
    ack_len = (size_t)kdcom_drain(&dbg, 0, ackbuf, sizeof ackbuf);
}

static void exchange(void)
{
    cg_op_send_a();
    cg_op_recv();
    cg_op_send_b();
    if (wire_len != KDCOM_HEADER_SIZE + LEN + 1 || ack_len != 16 ||
        kdcom_get_stats(&tgt)->packets_acked !=
            kdcom_get_stats(&dbg)->packets_received) {
        fprintf(stderr, "bench_cg: exchange failed\n");
        exit(1);
    }
}

static void setup(void)
{
    struct kdcom_config cfg;
    size_t i;

    for (i = 0; i < LEN; i++)
        src[i] = (uint8_t)(i * 131u + 7u);
    frame_len = (size_t)kdcom_encode_data(
        frame, sizeof frame, KDCOM_TYPE_STATE_MANIPULATE, KDCOM_INITIAL_ID,
        src, KD_HEAD, src + KD_HEAD, LEN - KD_HEAD);
    kdcom_parser_init(&parser);
    /* Links already in step: a passive debugger, a target whose SYNC bit
     * the first exchange (outside the count) clears. */
    kdcom_config_init(&cfg, KDCOM_ROLE_DEBUGGER);
    cfg.flags |= KDCOM_CFG_PASSIVE;
    kdcom_link_init(&dbg, &cfg);
    kdcom_config_init(&cfg, KDCOM_ROLE_TARGET);
    kdcom_link_init(&tgt, &cfg);
}

int main(int argc, char **argv)
{
    long n, i;
    const char *op;

    if (argc != 3) {
        fprintf(stderr, "usage: bench_cg memcpy|sum|encode|decode|send|recv "
                        "N\n");
        return 2;
    }
    op = argv[1];
    n = atol(argv[2]);
    setup();
    for (i = 0; i < n; i++) {
        if (strcmp(op, "memcpy") == 0)
            cg_op_memcpy();
        else if (strcmp(op, "sum") == 0)
            cg_op_sum();
        else if (strcmp(op, "encode") == 0)
            cg_op_encode();
        else if (strcmp(op, "decode") == 0)
            cg_op_decode();
        else if (strcmp(op, "send") == 0 || strcmp(op, "recv") == 0)
            exchange();
        else {
            fprintf(stderr, "bench_cg: unknown op %s\n", op);
            return 2;
        }
    }
    printf("%s %ld done, sink %u\n", op, n, (unsigned)bench_sink);
    return 0;
}
