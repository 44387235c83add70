/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * parser.c - the streaming KDCOM frame parser (docs/protocol.md "Wire
 * format" and "Receiving").
 *
 * THEORY OF OPERATION
 *
 *   Four states, one job each:
 *
 *     HUNT     look for four identical leader bytes, "0000" or "iiii".  A
 *              leader byte that differs from the current run starts a new
 *              run with itself (so "00iiii" is a control leader); any other
 *              byte ends the run.  Broken runs and stray bytes are counted
 *              as noise.  A 'b' outside a run is reported as a break-in.
 *     HEADER   collect the remaining 12 header bytes.  A control header is
 *              complete here.  A data header whose ByteCount exceeds 4000
 *              is reported BAD_SIZE and the parser hunts again: no payload
 *              byte is stored, so no length the peer chooses can overflow
 *              the payload buffer.
 *     PAYLOAD  copy the payload in runs as large as the input allows,
 *              summing while copying.
 *     TRAILER  one byte, which must be 0xAA; then the checksum decides
 *              between DATA and BAD_CHECKSUM.
 *
 *   The parser stops after each complete item, so the caller sees items one
 *   at a time and the payload buffer is never overwritten under its feet.
 *   State only depends on bytes already consumed, which is why any split of
 *   the input yields the same items.
 *
 *   Invariants: hdr_have <= 16; pay_have <= byte_count <= 4000;
 *   run_len < KDCOM_LEADER_LEN.
 */
#include "internal.h"

enum parser_state { ST_HUNT = 0, ST_HEADER, ST_PAYLOAD, ST_TRAILER };

/* What kdcom_parse() reports when no item is complete: all zero. */
static const struct kdcom_frame no_frame;

static int is_leader_byte(uint8_t b)
{
    return b == KDCOM_LEADER_BYTE_DATA || b == KDCOM_LEADER_BYTE_CONTROL;
}

/* A leader run that ended early: its bytes were noise. */
static void drop_run(struct kdcom_parser *p)
{
    if (p->run_len != 0) {
        p->noise_bytes += p->run_len;
        p->partial_leaders++;
        p->run_len = 0;
    }
}

KDCOM_API void kdcom_parser_init(struct kdcom_parser *p)
{
    if (p == NULL)
        return;
    memset(p, 0, sizeof(*p));
    p->state = ST_HUNT;
}

KDCOM_API void kdcom_parser_reset(struct kdcom_parser *p)
{
    if (p == NULL)
        return;
    if (p->state == ST_HEADER)
        p->noise_bytes += p->hdr_have;
    else if (p->state != ST_HUNT)
        p->noise_bytes += KDCOM_HEADER_SIZE + p->pay_have;
    drop_run(p);
    p->state = ST_HUNT;
    p->hdr_have = 0;
    p->pay_have = 0;
}

KDCOM_API int kdcom_parser_busy(const struct kdcom_parser *p)
{
    /* A partial leader run is not a packet yet: if it never completes,
     * its bytes are noise and nothing needs to be resent. */
    return p != NULL && p->state != ST_HUNT;
}

static void header_fields(const struct kdcom_parser *p, struct kdcom_frame *f)
{
    f->leader = kdcom_kd_ld32(p->hdr + KDCOM_OFF_LEADER);
    f->type = kdcom_kd_ld16(p->hdr + KDCOM_OFF_TYPE);
    f->byte_count = kdcom_kd_ld16(p->hdr + KDCOM_OFF_BYTE_COUNT);
    f->id = kdcom_kd_ld32(p->hdr + KDCOM_OFF_ID);
    f->checksum = kdcom_kd_ld32(p->hdr + KDCOM_OFF_CHECKSUM);
}

/* HUNT: returns bytes consumed; sets f->kind to BREAKIN when a 'b' ends
 * the call.  Leaves the state at HEADER once a full leader is seen. */
static size_t st_hunt(struct kdcom_parser *p, const uint8_t *in, size_t len,
                      struct kdcom_frame *f)
{
    size_t i;

    for (i = 0; i < len; i++) {
        uint8_t b = in[i];

        if (is_leader_byte(b)) {
            if (p->run_len == 0 || b != p->run_byte) {
                drop_run(p);
                p->run_byte = b;
            }
            if (++p->run_len == KDCOM_LEADER_LEN) {
                /* Four stores, not memset(): a real call when built
                 * freestanding, once per packet. */
                p->hdr[0] = p->hdr[1] = p->hdr[2] = p->hdr[3] = b;
                p->hdr_have = KDCOM_LEADER_LEN;
                p->run_len = 0;
                p->state = ST_HEADER;
                return i + 1;
            }
        } else if (b == KDCOM_BREAKIN_BYTE) {
            drop_run(p);
            f->kind = KDCOM_FRAME_BREAKIN;
            return i + 1;
        } else {
            drop_run(p);
            p->noise_bytes++;
        }
    }
    return len;
}

/* HEADER: collect up to 16 bytes; on completion decide what comes next. */
static size_t st_header(struct kdcom_parser *p, const uint8_t *in, size_t len,
                        struct kdcom_frame *f)
{
    size_t n = KDCOM_HEADER_SIZE - p->hdr_have;

    if (n > len)
        n = len;
    memcpy(p->hdr + p->hdr_have, in, n);
    p->hdr_have = (uint8_t)(p->hdr_have + n);
    if (p->hdr_have < KDCOM_HEADER_SIZE)
        return n;

    p->hdr_have = 0;
    p->byte_count = kdcom_kd_ld16(p->hdr + KDCOM_OFF_BYTE_COUNT);
    if (p->hdr[0] == KDCOM_LEADER_BYTE_CONTROL) {
        /* Control packets end with their header: no payload, no trailer,
         * whatever their ByteCount says. */
        header_fields(p, f);
        f->kind = KDCOM_FRAME_CONTROL;
        p->state = ST_HUNT;
    } else if (p->byte_count > KDCOM_MAX_PAYLOAD) {
        header_fields(p, f);
        f->kind = KDCOM_FRAME_BAD_SIZE;
        p->state = ST_HUNT;
    } else {
        p->pay_have = 0;
        p->pay_sum = 0;
        p->state = p->byte_count ? ST_PAYLOAD : ST_TRAILER;
    }
    return n;
}

static size_t st_payload(struct kdcom_parser *p, const uint8_t *in, size_t len)
{
    size_t n = p->byte_count - p->pay_have;

    if (n > len)
        n = len;
    if (n == 1) {
        /* A UART driver hands bytes over one at a time: no call for
         * those. */
        p->payload[p->pay_have] = in[0];
        p->pay_sum += in[0];
    } else {
        p->pay_sum =
            kdcom_copy_sum(p->payload + p->pay_have, in, n, p->pay_sum);
    }
    p->pay_have += (uint32_t)n;
    if (p->pay_have == p->byte_count)
        p->state = ST_TRAILER;
    return n;
}

static void st_trailer(struct kdcom_parser *p, uint8_t b,
                       struct kdcom_frame *f)
{
    /* The header was copied out of p->hdr before the payload arrived;
     * p->hdr still holds it, as nothing overwrites it until the next
     * leader. */
    header_fields(p, f);
    f->trailer = b;
    f->computed_checksum = p->pay_sum;
    f->payload = p->payload;
    f->payload_len = p->byte_count;
    if (b != KDCOM_TRAILER_BYTE)
        f->kind = KDCOM_FRAME_BAD_TRAILER;
    else if (p->pay_sum != f->checksum)
        f->kind = KDCOM_FRAME_BAD_CHECKSUM;
    else
        f->kind = KDCOM_FRAME_DATA;
    p->state = ST_HUNT;
    p->pay_have = 0;
}

/* How many bytes of in the parser can take without beginning a data
 * packet: those before a run of four data leader bytes (counting a run the
 * parser holds already), or before a shorter run that reaches the end of
 * the input and may still become one (the caller offers them again with
 * the bytes that follow).  A control header in progress is taken whole;
 * inside a data packet nothing is.  The state is not changed. */
size_t kdcom_parser_span_to_data(const struct kdcom_parser *p,
                                 const uint8_t *in, size_t len)
{
    size_t i, start = 0;
    uint32_t run;

    if (p->state == ST_HEADER && p->hdr[0] == KDCOM_LEADER_BYTE_CONTROL) {
        size_t n = KDCOM_HEADER_SIZE - p->hdr_have;
        return n < len ? n : len;
    }
    if (p->state != ST_HUNT)
        return 0;
    run = p->run_byte == KDCOM_LEADER_BYTE_DATA ? p->run_len : 0;
    for (i = 0; i < len; i++) {
        if (in[i] != KDCOM_LEADER_BYTE_DATA) {
            run = 0;
            continue;
        }
        if (run++ == 0)
            start = i;
        if (run == KDCOM_LEADER_LEN)
            return start;
    }
    return run != 0 ? start : len;
}

/* Keeps the general path out of kdcom_parse(), so that the one-byte fast
 * path does not pay for the registers the state machine saves. */
#if defined(__GNUC__)
#define PARSER_NOINLINE __attribute__((noinline))
#else
#define PARSER_NOINLINE
#endif

/* The state machine proper: items, state changes, the general case. */
static PARSER_NOINLINE size_t parse_items(struct kdcom_parser *p, const uint8_t *in,
                          size_t len, struct kdcom_frame *frame)
{
    size_t used = 0;

    while (used < len && frame->kind == KDCOM_FRAME_NONE) {
        switch (p->state) {
        case ST_HUNT:
            used += st_hunt(p, in + used, len - used, frame);
            break;
        case ST_HEADER:
            used += st_header(p, in + used, len - used, frame);
            break;
        case ST_PAYLOAD:
            used += st_payload(p, in + used, len - used);
            break;
        case ST_TRAILER:
            st_trailer(p, in[used], frame);
            used++;
            break;
        default:
            /* Only reachable if the struct was overwritten: start over. */
            p->state = ST_HUNT;
            p->hdr_have = 0;
            p->pay_have = 0;
            p->run_len = 0;
            break;
        }
    }
    return used;
}

KDCOM_API int kdcom_parse(struct kdcom_parser *p, const uint8_t *in,
                          size_t len, struct kdcom_frame *frame)
{
    size_t used;

    if (p == NULL || frame == NULL || (in == NULL && len != 0))
        return KDCOM_ERR_INVAL;
    /* An assignment, not memset(): the core is built freestanding, where
     * memset is a real call, and this runs once per call, so once per byte
     * for a caller that feeds single bytes. */
    *frame = no_frame;
    if (p->state == ST_PAYLOAD && len == 1 &&
        p->pay_have + 1 < p->byte_count) {
        /* One byte inside a payload, not its last: what a UART driver
         * hands over most of the time.  Same effect as the general path,
         * a fraction of its cost. */
        p->payload[p->pay_have++] = in[0];
        p->pay_sum += in[0];
        p->bytes_in++;
        return 1;
    }
    len = kdcom_clamp_len(len);
    used = parse_items(p, in, len, frame);
    p->bytes_in += used;
    return (int)used;
}
