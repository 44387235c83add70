/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_parser.c - the streaming frame parser and the encoders alone.
 *
 * Input: two bytes giving the length L of a chunk plan, L plan bytes, and
 * the stream.  The stream is parsed twice, in one piece and in the chunks
 * the plan names (a plan byte of 0 makes an empty call), and both runs
 * must yield the same items and counters.  Every item is checked against
 * the bytes it came from, and at the end every byte of the stream must be
 * accounted for exactly once: in an item, or as noise.  Then the tail of
 * the input is encoded as a data and a control packet into buffers of the
 * exact size (guard bytes after) and parsed back.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

struct run {
    struct kdcom_parser p;
    uint64_t hash;     /* FNV-1a over every item */
    uint64_t items;
    uint64_t item_bytes; /* bytes that ended up inside items */
};

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const uint8_t *b = data;

    while (n--)
        h = (h ^ *b++) * 0x100000001b3ull;
    return h;
}

static void check_item(struct run *r, const struct kdcom_frame *f)
{
    r->items++;
    switch (f->kind) {
    case KDCOM_FRAME_DATA:
    case KDCOM_FRAME_BAD_TRAILER:
    case KDCOM_FRAME_BAD_CHECKSUM:
        FZ_CHECK(f->leader == KDCOM_LEADER_DATA, "leader %08x",
                 (unsigned)f->leader);
        FZ_CHECK(f->byte_count <= KDCOM_MAX_PAYLOAD &&
                     f->payload_len == f->byte_count &&
                     (f->payload_len == 0 || f->payload != NULL),
                 "payload %u of %u", (unsigned)f->payload_len,
                 (unsigned)f->byte_count);
        FZ_CHECK(f->computed_checksum ==
                     kdcom_checksum(f->payload, f->payload_len),
                 "computed checksum is not the payload's");
        if (f->kind == KDCOM_FRAME_DATA)
            FZ_CHECK(f->trailer == KDCOM_TRAILER_BYTE &&
                         f->checksum == f->computed_checksum,
                     "DATA with trailer %02x sum %08x/%08x",
                     (unsigned)f->trailer, (unsigned)f->checksum,
                     (unsigned)f->computed_checksum);
        else if (f->kind == KDCOM_FRAME_BAD_TRAILER)
            FZ_CHECK(f->trailer != KDCOM_TRAILER_BYTE, "BAD_TRAILER with AA");
        else
            FZ_CHECK(f->trailer == KDCOM_TRAILER_BYTE &&
                         f->checksum != f->computed_checksum,
                     "BAD_CHECKSUM that is not");
        r->item_bytes += KDCOM_HEADER_SIZE + f->payload_len + 1;
        r->hash = fnv(r->hash, f->payload, f->payload_len);
        break;
    case KDCOM_FRAME_CONTROL:
        FZ_CHECK(f->leader == KDCOM_LEADER_CONTROL && f->payload == NULL &&
                     f->payload_len == 0,
                 "control item");
        r->item_bytes += KDCOM_HEADER_SIZE;
        break;
    case KDCOM_FRAME_BAD_SIZE:
        FZ_CHECK(f->leader == KDCOM_LEADER_DATA &&
                     f->byte_count > KDCOM_MAX_PAYLOAD && f->payload == NULL,
                 "BAD_SIZE with count %u", (unsigned)f->byte_count);
        r->item_bytes += KDCOM_HEADER_SIZE;
        break;
    case KDCOM_FRAME_BREAKIN:
        r->item_bytes += 1;
        break;
    default:
        FZ_CHECK(0, "kind %u", (unsigned)f->kind);
    }
    r->hash = fnv(r->hash, &f->kind, sizeof f->kind);
    r->hash = fnv(r->hash, &f->type, sizeof f->type);
    r->hash = fnv(r->hash, &f->byte_count, sizeof f->byte_count);
    r->hash = fnv(r->hash, &f->id, sizeof f->id);
    r->hash = fnv(r->hash, &f->checksum, sizeof f->checksum);
    r->hash = fnv(r->hash, &f->trailer, sizeof f->trailer);
}

/* One parse call with the progress oracle: consumed <= len, and a call
 * that found nothing used up all its input. */
static size_t step(struct run *r, const uint8_t *in, size_t len)
{
    struct kdcom_frame f;
    int n = kdcom_parse(&r->p, in, len, &f);

    FZ_CHECK(n >= 0 && (size_t)n <= len, "parse(%zu) returned %d", len, n);
    if (f.kind == KDCOM_FRAME_NONE)
        FZ_CHECK((size_t)n == len, "NONE after %d of %zu bytes", n, len);
    else
        FZ_CHECK(n > 0, "an item out of no input");
    if (f.kind != KDCOM_FRAME_NONE)
        check_item(r, &f);
    return (size_t)n;
}

static void finish(struct run *r, size_t total)
{
    FZ_CHECK(r->p.bytes_in == total, "bytes_in %llu of %zu",
             (unsigned long long)r->p.bytes_in, total);
    kdcom_parser_reset(&r->p);
    FZ_CHECK(!kdcom_parser_busy(&r->p), "busy after reset");
    /* Conservation: each byte is in exactly one item or is noise. */
    FZ_CHECK(r->item_bytes + r->p.noise_bytes == total,
             "items %llu + noise %llu != %zu bytes",
             (unsigned long long)r->item_bytes,
             (unsigned long long)r->p.noise_bytes, total);
}

static void roundtrip(struct fz_in *in)
{
    static uint8_t buf[KDCOM_MAX_FRAME + 16];
    uint32_t type = fz_u8(in) % 16u, id = fz_u32(in);
    size_t head_len = fz_u16(in) % 200u, data_len, got;
    const uint8_t *head = fz_bytes(in, head_len, &got);
    const uint8_t *data;
    size_t cap, i;
    struct kdcom_parser p;
    struct kdcom_frame f;
    int rc, n;

    head_len = got;
    data = fz_bytes(in, KDCOM_MAX_PAYLOAD, &data_len);
    cap = KDCOM_HEADER_SIZE + head_len + data_len + 1;
    cap -= fz_u8(in) & 1; /* sometimes one byte too small */
    memset(buf, 0xA5, sizeof buf);
    rc = kdcom_encode_data(buf, cap, type, id, head, head_len, data,
                           data_len);
    for (i = cap; i < sizeof buf; i++)
        FZ_CHECK(buf[i] == 0xA5, "encoder wrote past cap");
    if (!kdcom_is_data_type(type)) {
        FZ_CHECK(rc == KDCOM_ERR_BAD_TYPE, "encode type %u: %d",
                 (unsigned)type, rc);
    } else if (head_len + data_len > KDCOM_MAX_PAYLOAD) {
        FZ_CHECK(rc == KDCOM_ERR_TOO_BIG, "encode big: %d", rc);
    } else if (cap < KDCOM_HEADER_SIZE + head_len + data_len + 1) {
        FZ_CHECK(rc == KDCOM_ERR_NOBUFS, "encode small: %d", rc);
        for (i = 0; i < sizeof buf; i++)
            FZ_CHECK(buf[i] == 0xA5, "failed encode wrote");
    } else {
        FZ_CHECK(rc == (int)cap, "encode returned %d for %zu", rc, cap);
        kdcom_parser_init(&p);
        n = kdcom_parse(&p, buf, cap, &f);
        FZ_CHECK(n == rc && f.kind == KDCOM_FRAME_DATA && f.type == type &&
                     f.id == id && f.payload_len == head_len + data_len &&
                     memcmp(f.payload, head, head_len) == 0 &&
                     memcmp(f.payload + head_len, data, data_len) == 0,
                 "data packet does not parse back");
    }
    memset(buf, 0xA5, sizeof buf);
    rc = kdcom_encode_control(buf, 16, 4u + type % 4u, id);
    for (i = 16; i < sizeof buf; i++)
        FZ_CHECK(buf[i] == 0xA5, "control encoder wrote past cap");
    if (4u + type % 4u == 7u) {
        FZ_CHECK(rc == KDCOM_ERR_BAD_TYPE, "encode control 7: %d", rc);
    } else {
        kdcom_parser_init(&p);
        n = kdcom_parse(&p, buf, 16, &f);
        FZ_CHECK(rc == 16 && n == 16 && f.kind == KDCOM_FRAME_CONTROL &&
                     f.type == 4u + type % 4u && f.id == id,
                 "control packet does not parse back");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run whole, chunked;
    struct fz_in in = {data, size, 0};
    size_t plan_len = fz_u16(&in), off, k = 0;
    const uint8_t *plan, *stream;
    size_t len;

    plan_len %= 64;
    plan = fz_bytes(&in, plan_len, &plan_len);
    stream = in.p + in.off;
    len = in.n - in.off;

    memset(&whole, 0, sizeof whole);
    memset(&chunked, 0, sizeof chunked);
    kdcom_parser_init(&whole.p);
    kdcom_parser_init(&chunked.p);
    for (off = 0; off < len;)
        off += step(&whole, stream + off, len - off);
    for (off = 0; off < len;) {
        size_t c = plan_len ? plan[k++ % plan_len] : 1;
        size_t end;

        if (c == 0) {
            step(&chunked, stream + off, 0); /* an empty call is legal */
            c = 1;
        }
        if (c > len - off)
            c = len - off;
        end = off + c;
        /* The parser stops after each item: call until the chunk is used. */
        do
            off += step(&chunked, stream + off, end - off);
        while (off < end);
    }
    FZ_CHECK(whole.items == chunked.items && whole.hash == chunked.hash &&
                 whole.p.noise_bytes == chunked.p.noise_bytes &&
                 whole.p.partial_leaders == chunked.p.partial_leaders &&
                 kdcom_parser_busy(&whole.p) ==
                     kdcom_parser_busy(&chunked.p),
             "split changed the result: %llu vs %llu items",
             (unsigned long long)whole.items,
             (unsigned long long)chunked.items);
    finish(&whole, len);
    finish(&chunked, len);

    /* The stream doubles as encoder input. */
    in.off = 2 + plan_len;
    roundtrip(&in);
    return 0;
}
