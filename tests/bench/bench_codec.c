/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_codec.c - rows 1 and 2: the codec against the minimal work, and
 * the parser fed one byte per call against whole-buffer feeding.
 *
 * Encoding and decoding a payload must at least copy it and sum its
 * bytes: the reference rows do exactly that, on the same bytes, with
 * memcpy and a plain loop the compiler vectorises (ref.c), and memcpy
 * alone is the floor.  Every result is folded into bench_sink.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kdcom.h>

#include "bench.h"

/* The KD message header a memory read answer starts with. */
#define KD_HEAD 56

static const size_t sizes[] = {0, 56, 1024, 4000};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static uint8_t src[KDCOM_MAX_PAYLOAD];
static uint8_t dst[KDCOM_MAX_PAYLOAD];
struct frame_ctx {
    uint8_t bytes[KDCOM_MAX_FRAME];
    size_t len;
};

static struct frame_ctx frames[NSIZES];
static struct kdcom_parser parser;

static size_t size_of(const struct bench_meas *m)
{
    return (size_t)m->bytes_per_op;
}

static void run_ref_copy_sum(struct bench_meas *m, long n)
{
    size_t len = size_of(m);
    uint32_t acc = 0;

    while (n-- > 0)
        acc += ref_copy_sum(dst, src, len);
    bench_sink += acc;
}

static void run_ref_copy(struct bench_meas *m, long n)
{
    size_t len = size_of(m);
    uint32_t acc = 0;

    while (n-- > 0)
        acc += ref_copy(dst, src, len);
    bench_sink += acc;
}

static void run_ref_sum(struct bench_meas *m, long n)
{
    size_t len = size_of(m);
    uint32_t acc = 0;

    while (n-- > 0)
        acc += ref_sum(src, len);
    bench_sink += acc;
}

static void run_checksum(struct bench_meas *m, long n)
{
    size_t len = size_of(m);
    uint32_t acc = 0;

    while (n-- > 0)
        acc += kdcom_checksum(src, len);
    bench_sink += acc;
}

/* What KdSendPacket gets: the message header, then the data. */
static void run_encode(struct bench_meas *m, long n)
{
    size_t len = size_of(m), head = len < KD_HEAD ? len : KD_HEAD;
    uint8_t *out = m->ctx;
    uint32_t acc = 0;

    while (n-- > 0) {
        int rc = kdcom_encode_data(out, KDCOM_MAX_FRAME,
                                   KDCOM_TYPE_STATE_MANIPULATE,
                                   KDCOM_INITIAL_ID, src, head, src + head,
                                   len - head);
        acc += (uint32_t)rc + out[KDCOM_OFF_CHECKSUM];
    }
    bench_sink += acc;
}

static void run_decode(struct bench_meas *m, long n)
{
    const struct frame_ctx *fc = m->ctx;
    uint32_t acc = 0;

    while (n-- > 0) {
        struct kdcom_frame f;
        int used = kdcom_parse(&parser, fc->bytes, fc->len, &f);

        acc += (uint32_t)used + f.kind + f.computed_checksum;
    }
    bench_sink += acc;
}

/* The same frame, one byte per kdcom_parse() call, as a UART driver
 * that hands over each byte as it arrives. */
static void run_decode_bytewise(struct bench_meas *m, long n)
{
    const struct frame_ctx *fc = m->ctx;
    uint32_t acc = 0;

    while (n-- > 0) {
        size_t i;
        struct kdcom_frame f;

        for (i = 0; i < fc->len; i++)
            acc += (uint32_t)kdcom_parse(&parser, fc->bytes + i, 1, &f);
        acc += f.kind + f.computed_checksum;
    }
    bench_sink += acc;
}

/* The figures mean nothing if the fast paths are wrong: check the
 * checksum and the encoder's fused copy+sum against the plain loop for
 * every length and a few misalignments before timing anything. */
static void self_check(void)
{
    static uint8_t out[KDCOM_MAX_FRAME];
    size_t len, off;

    for (off = 0; off < 4; off++) {
        for (len = 0; len + off <= KDCOM_MAX_PAYLOAD; len++) {
            uint32_t want = ref_sum(src + off, len);
            size_t head = len / 3;
            int n = kdcom_encode_data(out, sizeof out,
                                      KDCOM_TYPE_STATE_MANIPULATE, 0,
                                      src + off, head, src + off + head,
                                      len - head);

            if (kdcom_checksum(src + off, len) != want ||
                kdcom_checksum_update(7, src + off, len) != want + 7 ||
                n != (int)(len + KDCOM_HEADER_SIZE + 1) ||
                memcmp(out + KDCOM_HEADER_SIZE, src + off, len) != 0 ||
                (uint32_t)(out[12] | out[13] << 8 | out[14] << 16 |
                           (uint32_t)out[15] << 24) != want) {
                fprintf(stderr, "bench: checksum self-check failed at "
                                "length %zu offset %zu\n", len, off);
                exit(1);
            }
        }
    }
}

static void prepare(void)
{
    size_t i;

    for (i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 131u + 7u) | 0x80; /* wide lanes get full */
    self_check();
    for (i = 0; i < NSIZES; i++) {
        size_t head = sizes[i] < KD_HEAD ? sizes[i] : KD_HEAD;

        frames[i].len = (size_t)kdcom_encode_data(
            frames[i].bytes, sizeof frames[i].bytes,
            KDCOM_TYPE_STATE_MANIPULATE, KDCOM_INITIAL_ID, src, head,
            src + head, sizes[i] - head);
    }
    kdcom_parser_init(&parser);
}

void bench_codec_rows(void)
{
    static uint8_t enc_out[KDCOM_MAX_FRAME];
    static const char ids[NSIZES][6][4] = {
        {"1a", "1b", "1c", "1d", "1e", "1f"},
        {"1g", "1h", "1i", "1j", "1k", "1l"},
        {"1m", "1n", "1o", "1p", "1q", "1r"},
        {"1s", "1t", "1u", "1v", "1w", "1x"}};
    size_t i;

    prepare();
    for (i = 0; i < NSIZES; i++) {
        double len = (double)sizes[i];
        struct bench_meas *m;

        bench_add(ids[i][0], "", len, run_ref_copy_sum, NULL,
                  "ref memcpy+sum %zu B", sizes[i]);
        bench_add(ids[i][1], ids[i][0], len, run_ref_copy, NULL,
                  "ref memcpy %zu B", sizes[i]);
        m = bench_add(ids[i][2], ids[i][0], len, run_encode, enc_out,
                      "encode %zu B", sizes[i]);
        if (sizes[i] == KDCOM_MAX_PAYLOAD)
            snprintf(m->note, sizeof m->note, "target >= 0.5");
        m = bench_add(ids[i][3], ids[i][0], len, run_decode, &frames[i],
                      "decode %zu B", sizes[i]);
        if (sizes[i] == KDCOM_MAX_PAYLOAD)
            snprintf(m->note, sizeof m->note, "target >= 0.5");
        bench_add(ids[i][4], "", len, run_ref_sum, NULL, "ref sum %zu B",
                  sizes[i]);
        bench_add(ids[i][5], ids[i][4], len, run_checksum, NULL,
                  "kdcom_checksum %zu B", sizes[i]);
    }
}

static void run_call_per_byte(struct bench_meas *m, long n)
{
    const struct frame_ctx *fc = m->ctx;
    uint32_t acc = 0;

    while (n-- > 0) {
        size_t i;

        for (i = 0; i < fc->len; i++)
            acc += ref_take_byte(fc->bytes + i, 1);
    }
    bench_sink += acc;
}

void bench_trickle_rows(void)
{
    struct bench_meas *m;

    bench_add("2a", "", KDCOM_MAX_PAYLOAD, run_decode, &frames[NSIZES - 1],
              "parse 4000 B frame, whole buffer");
    m = bench_add("2b", "2a", KDCOM_MAX_PAYLOAD, run_decode_bytewise,
                  &frames[NSIZES - 1], "parse 4000 B frame, 1 B/call");
    snprintf(m->note, sizeof m->note, "target >= 0.1");
    m = bench_add("2e", "2a", KDCOM_MAX_PAYLOAD, run_call_per_byte,
                  &frames[NSIZES - 1], "ref: bare call per byte, 4017 B");
    snprintf(m->note, sizeof m->note, "floor of any 1 B/call API");
}
