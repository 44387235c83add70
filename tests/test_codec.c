/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_codec.c - the encoders and the streaming parser, through the public
 * API: exact bytes, every error code, every frame kind, noise and partial
 * leaders, oversize ByteCounts refused before any copy, round trips of
 * random payloads, and the same items for every chunking of every input.
 */
#define _DEFAULT_SOURCE /* mmap, sysconf */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kdcom.h"
#include "util.h"

static uint8_t buf[2 * KDCOM_MAX_FRAME + 64];
static struct parse_log plog;

/* The DbgPrint packet ReactOS kddll sent (PROTOCOL-FACTS §6.2). */
static const char *const dbgprint_hex =
    "30 30 30 30 03 00 31 00 00 00 80 80 65 0c 00 00"
    "30 32 00 00 00 00 00 00 21 00 00 00 00 00 00 00"
    "68 65 6c 6c 6f 20 66 72 6f 6d 20 52 65 61 63 74 4f 53 20 6b 64 64 6c"
    "6c 20 68 61 72 6e 65 73 73 0a aa";

static const uint8_t dbgprint_head[16] = {0x30, 0x32, 0, 0, 0, 0, 0, 0,
                                          0x21, 0, 0, 0, 0, 0, 0, 0};
static const char dbgprint_text[] = "hello from ReactOS kddll harness\n";

/* ---- encoders ---- */

static void test_encode_data_exact(void **state)
{
    uint8_t want[128];
    int n = util_hex(dbgprint_hex, want, sizeof want);
    int rc;

    (void)state;
    assert_int_equal(n, 16 + 49 + 1);
    rc = kdcom_encode_data(buf, sizeof buf, KDCOM_TYPE_DEBUG_IO,
                           KDCOM_INITIAL_ID, dbgprint_head, 16,
                           (const uint8_t *)dbgprint_text, 33);
    assert_int_equal(rc, n);
    assert_memory_equal(buf, want, (size_t)n);
}

static void test_encode_data_split_does_not_matter(void **state)
{
    uint8_t all[49], other[sizeof buf];
    size_t cut;

    (void)state;
    memcpy(all, dbgprint_head, 16);
    memcpy(all + 16, dbgprint_text, 33);
    assert_int_equal(kdcom_encode_data(other, sizeof other, 3, 0x80800001u,
                                       all, 49, NULL, 0),
                     66);
    for (cut = 0; cut <= 49; cut++) {
        assert_int_equal(kdcom_encode_data(buf, sizeof buf, 3, 0x80800001u,
                                           all, cut, all + cut, 49 - cut),
                         66);
        assert_memory_equal(buf, other, 66);
    }
}

static void test_encode_data_empty_payload(void **state)
{
    uint8_t want[17];

    (void)state;
    assert_int_equal(util_hex("30303030 0200 0000 01008080 00000000 aa", want,
                              sizeof want),
                     17);
    assert_int_equal(kdcom_encode_data(buf, 17, KDCOM_TYPE_STATE_MANIPULATE,
                                       0x80800001u, NULL, 0, NULL, 0),
                     17);
    assert_memory_equal(buf, want, 17);
}

static void test_encode_data_max_payload(void **state)
{
    static uint8_t big[KDCOM_MAX_PAYLOAD];

    (void)state;
    memset(big, 0xff, sizeof big);
    assert_int_equal(kdcom_encode_data(buf, KDCOM_MAX_FRAME, 2, 0, big, 1000,
                                       big, 3000),
                     KDCOM_MAX_FRAME);
    assert_int_equal(buf[6] | buf[7] << 8, 4000);
    assert_int_equal(buf[12] | buf[13] << 8 | buf[14] << 16, 4000 * 255);
    assert_int_equal(buf[KDCOM_MAX_FRAME - 1], 0xAA);
}

static void test_encode_data_errors(void **state)
{
    static uint8_t big[KDCOM_MAX_PAYLOAD + 1];
    const uint32_t bad_types[] = {0, 4, 5, 6, 8, 12, 13, 0xffff, 0x10001,
                                  0xffffffffu};
    size_t i;

    (void)state;
    assert_int_equal(kdcom_encode_data(NULL, 100, 2, 0, NULL, 0, NULL, 0),
                     KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_encode_data(buf, 100, 2, 0, NULL, 1, NULL, 0),
                     KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_encode_data(buf, 100, 2, 0, NULL, 0, NULL, 1),
                     KDCOM_ERR_INVAL);
    for (i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++)
        assert_int_equal(kdcom_encode_data(buf, sizeof buf, bad_types[i], 0,
                                           big, 1, NULL, 0),
                         KDCOM_ERR_BAD_TYPE);
    assert_int_equal(kdcom_encode_data(buf, sizeof buf, 2, 0, big, 4001, NULL,
                                       0),
                     KDCOM_ERR_TOO_BIG);
    assert_int_equal(kdcom_encode_data(buf, sizeof buf, 2, 0, big, 4000, big,
                                       1),
                     KDCOM_ERR_TOO_BIG);
    /* Lengths whose sum wraps size_t must not slip through. */
    assert_int_equal(kdcom_encode_data(buf, sizeof buf, 2, 0, big, SIZE_MAX,
                                       big, 2),
                     KDCOM_ERR_TOO_BIG);
    assert_int_equal(kdcom_encode_data(buf, sizeof buf, 2, 0, big,
                                       SIZE_MAX / 2 + 1, big,
                                       SIZE_MAX / 2 + 1),
                     KDCOM_ERR_TOO_BIG);
    /* Too small by one: NOBUFS, and not a byte written. */
    memset(buf, 0x5a, sizeof buf);
    assert_int_equal(kdcom_encode_data(buf, 16 + 10, 2, 0, big, 10, NULL, 0),
                     KDCOM_ERR_NOBUFS);
    assert_int_equal(kdcom_encode_data(buf, 0, 2, 0, NULL, 0, NULL, 0),
                     KDCOM_ERR_NOBUFS);
    for (i = 0; i < 64; i++)
        assert_int_equal(buf[i], 0x5a);
    /* An invalid type with a too-small buffer writes nothing either. */
    assert_int_equal(kdcom_encode_data(buf, 3, 6, 0, NULL, 0, NULL, 0),
                     KDCOM_ERR_BAD_TYPE);
    assert_int_equal(buf[0], 0x5a);
}

static void test_encode_control_exact(void **state)
{
    uint8_t want[16];

    (void)state;
    /* PROTOCOL-FACTS §6.2: ACK of 0x80800000, RESEND, RESET. */
    util_hex("69696969 0400 0000 00008080 00000000", want, sizeof want);
    assert_int_equal(kdcom_encode_control(buf, 16, KDCOM_TYPE_ACKNOWLEDGE,
                                          KDCOM_INITIAL_ID),
                     16);
    assert_memory_equal(buf, want, 16);
    util_hex("69696969 0500 0000 00000000 00000000", want, sizeof want);
    assert_int_equal(kdcom_encode_control(buf, 16, KDCOM_TYPE_RESEND, 0), 16);
    assert_memory_equal(buf, want, 16);
    util_hex("69696969 0600 0000 00000000 00000000", want, sizeof want);
    assert_int_equal(kdcom_encode_control(buf, 100, KDCOM_TYPE_RESET, 0), 16);
    assert_memory_equal(buf, want, 16);
}

static void test_encode_control_errors(void **state)
{
    uint32_t t;

    (void)state;
    assert_int_equal(kdcom_encode_control(NULL, 16, 4, 0), KDCOM_ERR_INVAL);
    for (t = 0; t < 16; t++)
        if (t < 4 || t > 6)
            assert_int_equal(kdcom_encode_control(buf, 16, t, 0),
                             KDCOM_ERR_BAD_TYPE);
    memset(buf, 0x5a, 16);
    assert_int_equal(kdcom_encode_control(buf, 15, 4, 0), KDCOM_ERR_NOBUFS);
    assert_int_equal(buf[0], 0x5a);
}

static void test_type_names(void **state)
{
    uint32_t t;

    (void)state;
    assert_string_equal(kdcom_packet_type_name(2), "STATE_MANIPULATE");
    assert_string_equal(kdcom_packet_type_name(4), "ACKNOWLEDGE");
    assert_string_equal(kdcom_packet_type_name(11), "FILE_IO");
    assert_string_equal(kdcom_packet_type_name(12), "UNKNOWN");
    assert_string_equal(kdcom_packet_type_name(0xffffffffu), "UNKNOWN");
    for (t = 0; t < 20; t++) {
        int want = t == 1 || t == 2 || t == 3 || t == 7 || t == 9 ||
                   t == 10 || t == 11;
        assert_int_equal(kdcom_is_data_type(t), want);
        assert_non_null(kdcom_packet_type_name(t));
    }
    assert_int_equal(kdcom_is_data_type(0x10002), 0);
}

/* ---- parser: one item at a time ---- */

static struct kdcom_parser parser;

/* Parses `n` bytes from scratch and returns the first item and the count
 * of bytes consumed up to it. */
static int parse_one(const uint8_t *in, size_t n, struct kdcom_frame *f)
{
    kdcom_parser_init(&parser);
    return kdcom_parse(&parser, in, n, f);
}

static void test_parse_data(void **state)
{
    uint8_t in[128];
    int n = util_hex(dbgprint_hex, in, sizeof in);
    struct kdcom_frame f;

    (void)state;
    assert_int_equal(parse_one(in, (size_t)n, &f), n);
    assert_int_equal(f.kind, KDCOM_FRAME_DATA);
    assert_int_equal(f.leader, KDCOM_LEADER_DATA);
    assert_int_equal(f.type, KDCOM_TYPE_DEBUG_IO);
    assert_int_equal(f.byte_count, 49);
    assert_int_equal(f.id, KDCOM_INITIAL_ID);
    assert_int_equal(f.checksum, 0x0C65);
    assert_int_equal(f.computed_checksum, 0x0C65);
    assert_int_equal(f.trailer, 0xAA);
    assert_int_equal(f.payload_len, 49);
    assert_memory_equal(f.payload, in + 16, 49);
    assert_int_equal(parser.bytes_in, (uint64_t)n);
    assert_int_equal(parser.noise_bytes, 0);
    assert_int_equal(kdcom_parser_busy(&parser), 0);
}

static void test_parse_control_and_breakin(void **state)
{
    uint8_t in[64];
    int n = util_hex("62 69696969 0600 0000 63f80500 00000000 62", in,
                     sizeof in);
    struct kdcom_frame f;
    int k;

    (void)state;
    k = parse_one(in, (size_t)n, &f);
    assert_int_equal(k, 1);
    assert_int_equal(f.kind, KDCOM_FRAME_BREAKIN);
    k += kdcom_parse(&parser, in + k, (size_t)(n - k), &f);
    assert_int_equal(k, 17);
    assert_int_equal(f.kind, KDCOM_FRAME_CONTROL);
    assert_int_equal(f.leader, KDCOM_LEADER_CONTROL);
    assert_int_equal(f.type, KDCOM_TYPE_RESET);
    assert_int_equal(f.id, 0x0005F863u); /* the XP capture's garbage id */
    assert_null(f.payload);
    k += kdcom_parse(&parser, in + k, (size_t)(n - k), &f);
    assert_int_equal(k, n);
    assert_int_equal(f.kind, KDCOM_FRAME_BREAKIN);
    assert_int_equal(kdcom_parse(&parser, in, 0, &f), 0);
    assert_int_equal(f.kind, KDCOM_FRAME_NONE);
    assert_int_equal(parser.noise_bytes, 0);
}

static void test_parse_noise_and_partial_leaders(void **state)
{
    uint8_t in[64];
    int n;

    (void)state;
    /* PROTOCOL-FACTS §3.2 (observed): noise and partial leaders before a
     * good packet are skipped. */
    n = util_hex("00 13 30 30 69 69 69 69 04 00 00 00 00 00 80 80 00 00 00 00",
                 in, sizeof in);
    assert_int_equal(parse_all_chunkings(in, (size_t)n, (size_t)n, &plog), 0);
    assert_int_equal(plog.n, 1);
    assert_int_equal(plog.item[0].kind, KDCOM_FRAME_CONTROL);
    assert_int_equal(plog.item[0].type, KDCOM_TYPE_ACKNOWLEDGE);
    assert_int_equal(plog.item[0].id, KDCOM_INITIAL_ID);
    assert_int_equal(plog.noise_bytes, 4);
    assert_int_equal(plog.partial_leaders, 1);

    /* "00iiii": a leader byte that differs restarts the run with itself. */
    n = util_hex("30 30 69 69 69 69 05 00 00 00 00 00 00 00 00 00 00 00", in,
                 sizeof in);
    assert_int_equal(parse_all_chunkings(in, (size_t)n, (size_t)n, &plog), 0);
    assert_int_equal(plog.n, 1);
    assert_int_equal(plog.item[0].type, KDCOM_TYPE_RESEND);
    assert_int_equal(plog.noise_bytes, 2);
    assert_int_equal(plog.partial_leaders, 1);

    /* Three leader bytes then silence: nothing yet, not busy. */
    n = util_hex("69 69 69", in, sizeof in);
    assert_int_equal(parse_chunked(in, (size_t)n, 0, &plog), 0);
    assert_int_equal(plog.n, 0);
    assert_int_equal(plog.noise_bytes, 0);

    /* 'b' inside a leader run breaks it and is still a break-in. */
    n = util_hex("30 30 62 62 62 62 30 30 30", in, sizeof in);
    assert_int_equal(parse_all_chunkings(in, (size_t)n, (size_t)n, &plog), 0);
    assert_int_equal(plog.n, 4);
    assert_int_equal(plog.item[0].kind, KDCOM_FRAME_BREAKIN);
    assert_int_equal(plog.item[3].kind, KDCOM_FRAME_BREAKIN);
    assert_int_equal(plog.noise_bytes, 2);
    assert_int_equal(plog.partial_leaders, 1);

    /* Five identical leader bytes: the fifth belongs to the header. */
    n = util_hex("69 69 69 69 69 04 00 00 00 00 80 80 00 00 00 00", in,
                 sizeof in);
    assert_int_equal(parse_all_chunkings(in, (size_t)n, (size_t)n, &plog), 0);
    assert_int_equal(plog.n, 1);
    assert_int_equal(plog.item[0].type, 0x0469); /* an unknown control */
    assert_int_equal(plog.item[0].id, KDCOM_INITIAL_ID);
}

/* ByteCount above 4000: refused as soon as the header is complete, before
 * a single payload byte is read; what follows is hunted through as noise. */
static void check_bad_size(uint32_t byte_count)
{
    uint8_t *in = buf;
    size_t n = 0, i;
    struct kdcom_frame f;

    n += (size_t)util_hex("30303030 0200", in, 16);
    in[n++] = (uint8_t)byte_count;
    in[n++] = (uint8_t)(byte_count >> 8);
    n += (size_t)util_hex("00008080 12345678", in + n, 16);
    for (i = 0; i < 100; i++)
        in[n++] = 0x41; /* what the peer claims is payload */
    n += (size_t)util_hex("69696969 0400 0000 00008080 00000000", in + n, 16);

    assert_int_equal(parse_one(in, n, &f), 16);
    assert_int_equal(f.kind, KDCOM_FRAME_BAD_SIZE);
    assert_int_equal(f.byte_count, byte_count);
    assert_int_equal(f.type, 2);
    assert_int_equal(f.id, KDCOM_INITIAL_ID);
    assert_null(f.payload);
    assert_int_equal(f.payload_len, 0);
    assert_int_equal(kdcom_parser_busy(&parser), 0);

    assert_int_equal(parse_all_chunkings(in, n, 40, &plog), 0);
    assert_int_equal(plog.n, 2);
    assert_int_equal(plog.item[0].kind, KDCOM_FRAME_BAD_SIZE);
    assert_int_equal(plog.item[1].kind, KDCOM_FRAME_CONTROL);
    assert_int_equal(plog.noise_bytes, 100);
}

static void test_parse_bad_size(void **state)
{
    (void)state;
    check_bad_size(4001);
    check_bad_size(65535);
    check_bad_size(0x8000);
}

static void test_parse_bad_trailer_and_checksum(void **state)
{
    uint8_t in[128];
    int n = util_hex(dbgprint_hex, in, sizeof in);
    struct kdcom_frame f;

    (void)state;
    in[n - 1] = 0x00;
    assert_int_equal(parse_one(in, (size_t)n, &f), n);
    assert_int_equal(f.kind, KDCOM_FRAME_BAD_TRAILER);
    assert_int_equal(f.trailer, 0x00);
    assert_int_equal(f.computed_checksum, 0x0C65);
    assert_int_equal(f.payload_len, 49);

    in[n - 1] = 0xAA;
    in[20] ^= 0x01; /* a payload bit */
    assert_int_equal(parse_one(in, (size_t)n, &f), n);
    assert_int_equal(f.kind, KDCOM_FRAME_BAD_CHECKSUM);
    assert_int_equal(f.checksum, 0x0C65);
    assert_int_equal(f.computed_checksum, 0x0C66);
    in[20] ^= 0x01;

    in[12] = 0x66; /* the checksum field itself */
    assert_int_equal(parse_one(in, (size_t)n, &f), n);
    assert_int_equal(f.kind, KDCOM_FRAME_BAD_CHECKSUM);
    assert_int_equal(f.checksum, 0x0C66);
    assert_int_equal(f.computed_checksum, 0x0C65);
}

/* docs/protocol.md "Checksum": what the byte sum cannot see.  These pass
 * as DATA; the tests pin the limit down so nobody relies on more. */
static void test_checksum_limits(void **state)
{
    uint8_t in[128];
    int n = util_hex(dbgprint_hex, in, sizeof in);
    struct kdcom_frame f;
    uint8_t t;

    (void)state;
    /* Two payload bytes swapped. */
    t = in[16 + 33];
    in[16 + 33] = in[16 + 34];
    in[16 + 34] = t;
    assert_int_equal(parse_one(in, (size_t)n, &f), n);
    assert_int_equal(f.kind, KDCOM_FRAME_DATA);
    /* Compensating errors: +1 in one byte, -1 in another. */
    in[40]++;
    in[41]--;
    assert_int_equal(parse_one(in, (size_t)n, &f), n);
    assert_int_equal(f.kind, KDCOM_FRAME_DATA);
    /* Type and id are not covered at all. */
    in[4] = KDCOM_TYPE_FILE_IO;
    in[8] = 0x01;
    assert_int_equal(parse_one(in, (size_t)n, &f), n);
    assert_int_equal(f.kind, KDCOM_FRAME_DATA);
    assert_int_equal(f.type, KDCOM_TYPE_FILE_IO);
    assert_int_equal(f.id, 0x80800001u);
}

static void test_parse_zero_length_and_control_bytecount(void **state)
{
    uint8_t in[64];
    int n;

    (void)state;
    /* Zero-length data packet: header, then the trailer at once. */
    n = util_hex("30303030 0300 0000 00008080 00000000 aa", in, sizeof in);
    assert_int_equal(parse_all_chunkings(in, (size_t)n, (size_t)n, &plog), 0);
    assert_int_equal(plog.n, 1);
    assert_int_equal(plog.item[0].kind, KDCOM_FRAME_DATA);
    assert_int_equal(plog.item[0].payload_len, 0);
    /* ... and with a wrong trailer. */
    in[16] = 0x30;
    assert_int_equal(parse_chunked(in, (size_t)n, 0, &plog), 0);
    assert_int_equal(plog.item[0].kind, KDCOM_FRAME_BAD_TRAILER);
    assert_int_equal(plog.item[0].trailer, 0x30);

    /* A control packet ends with its header, whatever ByteCount says: the
     * bytes after it are hunted through, not read as payload. */
    n = util_hex("69696969 0400 0500 00008080 00000000 41 42 43 44 45 aa",
                 in, sizeof in);
    assert_int_equal(parse_chunked(in, (size_t)n, 0, &plog), 0);
    assert_int_equal(plog.n, 1);
    assert_int_equal(plog.item[0].kind, KDCOM_FRAME_CONTROL);
    assert_int_equal(plog.item[0].byte_count, 5);
    assert_int_equal(plog.noise_bytes, 6);
}

static void test_parse_leaders_inside_payload(void **state)
{
    uint8_t pl[64], in[128];
    int n;

    (void)state;
    /* Leader, break-in and trailer bytes inside a payload are payload. */
    memset(pl, 0x69, 16);
    memset(pl + 16, 0x30, 16);
    memset(pl + 32, 0x62, 16);
    memset(pl + 48, 0xAA, 16);
    n = mk_data(in, sizeof in, 2, KDCOM_INITIAL_ID, pl, sizeof pl);
    assert_int_equal(parse_all_chunkings(in, (size_t)n, (size_t)n, &plog), 0);
    assert_int_equal(plog.n, 1);
    assert_int_equal(plog.item[0].kind, KDCOM_FRAME_DATA);
    assert_int_equal(plog.item[0].payload_hash, util_hash(pl, sizeof pl));
}

static void test_parse_args_and_reset(void **state)
{
    uint8_t in[128];
    struct kdcom_frame f;
    int n;

    (void)state;
    kdcom_parser_init(&parser);
    assert_int_equal(kdcom_parse(NULL, in, 1, &f), KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_parse(&parser, NULL, 1, &f), KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_parse(&parser, in, 1, NULL), KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_parse(&parser, NULL, 0, &f), 0);
    kdcom_parser_init(NULL);
    kdcom_parser_reset(NULL);
    assert_int_equal(kdcom_parser_busy(NULL), 0);

    /* Reset in the middle of a packet: its bytes become noise, counters
     * stay, and a packet after it parses. */
    n = util_hex(dbgprint_hex, in, sizeof in);
    assert_int_equal(kdcom_parse(&parser, in, 20, &f), 20);
    assert_int_equal(kdcom_parser_busy(&parser), 1);
    kdcom_parser_reset(&parser);
    assert_int_equal(kdcom_parser_busy(&parser), 0);
    assert_int_equal(parser.noise_bytes, 20);
    assert_int_equal(kdcom_parse(&parser, in, (size_t)n, &f), n);
    assert_int_equal(f.kind, KDCOM_FRAME_DATA);
    assert_int_equal(parser.bytes_in, 20 + (uint64_t)n);

    /* Reset in the header: the header bytes are noise. */
    assert_int_equal(kdcom_parse(&parser, in, 9, &f), 9);
    kdcom_parser_reset(&parser);
    assert_int_equal(parser.noise_bytes, 29);

    /* A garbage parser state falls back to hunting. */
    memset(&parser, 0xee, sizeof parser);
    parser.bytes_in = 0;
    n = util_hex("69696969 0400 0000 00008080 00000000", in, sizeof in);
    {
        int used = 0, items = 0;
        while (used < n) {
            int k = kdcom_parse(&parser, in + used, (size_t)(n - used), &f);
            assert_true(k >= 0);
            used += k;
            if (f.kind != KDCOM_FRAME_NONE)
                items++;
            if (k == 0 && f.kind == KDCOM_FRAME_NONE)
                break;
        }
        assert_int_equal(used, n);
    }
}

/* ---- round trips and chunkings ---- */

static uint64_t rng_state = 0x1234567887654321ULL;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

#define RT_FRAMES 40

static void test_round_trip_random(void **state)
{
    static const uint32_t types[] = {1, 2, 3, 7, 9, 10, 11};
    static uint8_t stream[RT_FRAMES * (KDCOM_MAX_FRAME + 8)];
    static uint8_t pl[KDCOM_MAX_PAYLOAD];
    uint32_t want_hash[RT_FRAMES], want_len[RT_FRAMES], want_id[RT_FRAMES],
        want_type[RT_FRAMES];
    size_t n = 0, i, c;
    size_t sizes[] = {4000, 4017, 4018, 8191, 65536};

    (void)state;
    for (i = 0; i < RT_FRAMES; i++) {
        size_t len = i == 0 ? 0 : i == 1 ? 4000 : (size_t)(rnd() % 4001);
        size_t head = len ? (size_t)(rnd() % (len + 1)) : 0, k, noise;
        int rc;

        for (k = 0; k < len; k++)
            pl[k] = (uint8_t)rnd();
        want_type[i] = types[rnd() % 7];
        want_id[i] = KDCOM_INITIAL_ID | (uint32_t)(rnd() & 0x801);
        want_len[i] = (uint32_t)len;
        want_hash[i] = util_hash(pl, len);
        rc = kdcom_encode_data(stream + n, sizeof stream - n, want_type[i],
                               want_id[i], pl, head, pl + head, len - head);
        assert_int_equal(rc, (int)(KDCOM_HEADER_SIZE + len + 1));
        n += (size_t)rc;
        /* Noise between frames: anything but leader and break-in bytes. */
        noise = (size_t)(rnd() % 4);
        for (k = 0; k < noise; k++) {
            uint8_t b = (uint8_t)rnd();
            stream[n++] = b == 0x30 || b == 0x69 || b == 0x62 ? 0x00 : b;
        }
    }
    assert_int_equal(parse_chunked(stream, n, 0, &plog), 0);
    assert_int_equal(plog.n, RT_FRAMES);
    for (i = 0; i < RT_FRAMES; i++) {
        assert_int_equal(plog.item[i].kind, KDCOM_FRAME_DATA);
        assert_int_equal(plog.item[i].type, want_type[i]);
        assert_int_equal(plog.item[i].id, want_id[i]);
        assert_int_equal(plog.item[i].payload_len, want_len[i]);
        assert_int_equal(plog.item[i].payload_hash, want_hash[i]);
        assert_int_equal(plog.item[i].checksum, plog.item[i].computed);
    }
    /* Same items for small chunk sizes and a few around frame sizes. */
    assert_int_equal(parse_all_chunkings(stream, n, 17, &plog), 0);
    {
        static struct parse_log other;
        for (c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
            assert_int_equal(parse_chunked(stream, n, sizes[c], &other), 0);
            assert_true(parse_logs_equal(&plog, &other));
        }
    }
}

/* Every hand-made input of this file, in every chunk size up to its
 * length: the items (and the counters) never depend on the split. */
static void test_every_input_every_chunking(void **state)
{
    static const char *const inputs[] = {
        "00 13 30 30 69 69 69 69 04 00 00 00 00 00 80 80 00 00 00 00",
        "62 69696969 0600 0000 63f80500 00000000 62",
        "30303030 0300 0000 00008080 00000000 aa",
        "30303030 0300 0000 00008080 00000000 30",
        "30303030 0200 a10f 00008080 12345678 41 41 41 69696969 0400 0000 "
        "00008080 00000000",
        "30303030 0200 ffff 00008080 12345678 30 30 30 30 aa",
        "69696969 0400 0500 00008080 00000000 41 42 43 44 45 aa",
        "30 30 62 62 62 62 30 30 30 69 69 69 69 69 04 00 00 00 00 80 80 00 "
        "00 00 00 00",
        "30303030 0300 0100 00008080 01000000 01 aa 30303030 0300 0100 "
        "01008080 02000000 01 aa",
        "30303030 0300 0200 00008080 03000000 01 02 55",
        "aa aa aa 62 00 ff 30 69 30 69 30 30 30",
    };
    uint8_t in[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        int n = util_hex(inputs[i], in, sizeof in);
        assert_true(n > 0);
        assert_int_equal(parse_all_chunkings(in, (size_t)n, (size_t)n, &plog),
                         0);
        assert_int_equal(plog.bytes_in, (uint64_t)n);
    }
    {
        int n = util_hex(dbgprint_hex, in, sizeof in);
        assert_int_equal(parse_all_chunkings(in, (size_t)n, (size_t)n, &plog),
                         0);
    }
}

/* The parser reads exactly what it is given: a frame that ends at a page
 * boundary, followed by an unmapped page, parses in every chunking. */
static void test_guard_page(void **state)
{
    long page = sysconf(_SC_PAGESIZE);
    uint8_t *map, *end, in[128];
    int n = util_hex(dbgprint_hex, in, sizeof in), c;
    struct kdcom_frame f;

    (void)state;
    map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
    end = map + page;
    memcpy(end - n, in, (size_t)n);
    for (c = 1; c <= n; c++) {
        int used = 0, data = 0;
        kdcom_parser_init(&parser);
        while (used < n) {
            int len = n - used < c ? n - used : c;
            int k = kdcom_parse(&parser, end - n + used, (size_t)len, &f);
            assert_true(k > 0 || f.kind != KDCOM_FRAME_NONE);
            used += k;
            if (f.kind == KDCOM_FRAME_DATA)
                data++;
        }
        assert_int_equal(data, 1);
    }
    munmap(map, (size_t)page * 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_data_exact),
        cmocka_unit_test(test_encode_data_split_does_not_matter),
        cmocka_unit_test(test_encode_data_empty_payload),
        cmocka_unit_test(test_encode_data_max_payload),
        cmocka_unit_test(test_encode_data_errors),
        cmocka_unit_test(test_encode_control_exact),
        cmocka_unit_test(test_encode_control_errors),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_parse_data),
        cmocka_unit_test(test_parse_control_and_breakin),
        cmocka_unit_test(test_parse_noise_and_partial_leaders),
        cmocka_unit_test(test_parse_bad_size),
        cmocka_unit_test(test_parse_bad_trailer_and_checksum),
        cmocka_unit_test(test_checksum_limits),
        cmocka_unit_test(test_parse_zero_length_and_control_bytecount),
        cmocka_unit_test(test_parse_leaders_inside_payload),
        cmocka_unit_test(test_parse_args_and_reset),
        cmocka_unit_test(test_round_trip_random),
        cmocka_unit_test(test_every_input_every_chunking),
        cmocka_unit_test(test_guard_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
