/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vectors.c - wire vectors from real KDCOM peers (tests/vectors):
 * they decode to the packets, ids and checksums those peers sent, in every
 * chunk size; and replayed into libkdcom links they get the reactions the
 * real peers expected.
 *
 *   - Each vector's D>T bytes go into a libkdcom TARGET whose upper layer
 *     sends the data packets the real target sent; what the link writes
 *     must be byte for byte what the real target (ReactOS kddll) wrote.
 *   - Each vector's T>D bytes go into a libkdcom DEBUGGER whose upper
 *     layer sends the requests the real debugger sent; what the link
 *     writes must be what the real debugger wrote, up to the differences
 *     docs/protocol.md names (a RESET's PacketId, which receivers ignore,
 *     and radare2/pykdclient also acknowledging the state change sent
 *     before their RESET, which libkdcom drops unacknowledged).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "kdcom.h"
#include "util.h"

#define XP "windbg-xp-capture.txt"
#define R2 "reactos-target_radare2-debugger.txt"
#define PYKD "reactos-target_pykdclient-debugger.txt"

static struct vec_file vf;
static uint8_t stream[VEC_MAX_BYTES];
static struct parse_log plog, ours;
static struct ev_log elog;
static struct kdcom_link link_;

/* ---- decoding ---- */

static int load_stream(const char *name, int dir)
{
    assert_int_equal(vec_load(name, &vf), 0);
    return vec_stream(&vf, dir, stream, sizeof stream);
}

static void expect_item(size_t i, uint32_t kind, uint32_t type, uint32_t id)
{
    assert_true(i < plog.n);
    assert_int_equal(plog.item[i].kind, kind);
    assert_int_equal(plog.item[i].type, type);
    assert_int_equal(plog.item[i].id, id);
    if (kind == KDCOM_FRAME_DATA)
        assert_int_equal(plog.item[i].checksum, plog.item[i].computed);
}

/* The whole stream of one direction, in every chunk size up to its
 * length: same items, no noise, no bad packet. */
static void decode_all_chunkings(const char *name, int dir, size_t items)
{
    int n = load_stream(name, dir);

    assert_true(n > 0);
    assert_int_equal(parse_all_chunkings(stream, (size_t)n, (size_t)n, &plog),
                     0);
    assert_int_equal(plog.n, items);
    assert_int_equal(plog.noise_bytes, 0);
    assert_int_equal(plog.partial_leaders, 0);
}

static void test_xp_decode(void **state)
{
    size_t i;
    int n;
    uint8_t one[64];

    (void)state;
    decode_all_chunkings(XP, VEC_D2T, 5);
    for (i = 0; i < 5; i++)
        expect_item(i, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESET, 0);

    /* T>D holds headers only: as one stream nothing completes (the first
     * header announces 0x10F payload bytes that are not there). */
    n = load_stream(XP, VEC_T2D);
    assert_int_equal(n, 48);
    assert_int_equal(parse_all_chunkings(stream, 48, 48, &plog), 0);
    assert_int_equal(plog.n, 0);

    /* Chunk by chunk, with the missing payload stood in by zeros, the
     * headers read as the dump shows them. */
    for (i = 0; i < vf.n; i++) {
        const struct vec_chunk *c = &vf.chunk[i];
        size_t len = c->len;

        if (c->dir != VEC_T2D)
            continue;
        memcpy(stream, vf.bytes + c->off, len);
        if (stream[0] == KDCOM_LEADER_BYTE_DATA) {
            memset(stream + len, 0, 0x10F);
            stream[len + 0x10F] = 0xAA;
            len += 0x10F + 1;
        }
        assert_int_equal(parse_chunked(stream, len, 0, &plog), 0);
        assert_int_equal(plog.n, 1);
        memcpy(one, vf.bytes + c->off, 16);
        if (one[0] == KDCOM_LEADER_BYTE_DATA) {
            assert_int_equal(plog.item[0].kind, KDCOM_FRAME_BAD_CHECKSUM);
            assert_int_equal(plog.item[0].type, KDCOM_TYPE_STATE_CHANGE64);
            assert_int_equal(plog.item[0].byte_count, 0x10F);
            assert_int_equal(plog.item[0].checksum, 0x3344);
        } else {
            expect_item(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESET,
                        0x0005F863u);
        }
    }
    /* State change under 0x80800800, then again under 0x80800000. */
    assert_int_equal(vf.bytes[vf.chunk[5].off + 8] |
                         vf.bytes[vf.chunk[5].off + 9] << 8,
                     0x0800);
    assert_int_equal(vf.bytes[vf.chunk[7].off + 8] |
                         vf.bytes[vf.chunk[7].off + 9] << 8,
                     0x0000);
}

static void test_radare2_decode(void **state)
{
    (void)state;
    decode_all_chunkings(R2, VEC_D2T, 19);
    /* The lone 'b' before the RESET, and the one before the last
     * continue. */
    expect_item(0, KDCOM_FRAME_BREAKIN, 0, 0);
    expect_item(1, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESET, 0);
    /* Both ACKs of the state change carry the SYNC bit cleared. */
    expect_item(2, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE,
                KDCOM_INITIAL_ID);
    expect_item(3, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE,
                KDCOM_INITIAL_ID);
    expect_item(4, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE,
                KDCOM_INITIAL_ID);
    assert_int_equal(plog.item[4].byte_count, 56);
    assert_int_equal(plog.item[4].checksum, 0x77);
    expect_item(6, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE,
                KDCOM_INITIAL_ID + 1);
    expect_item(16, KDCOM_FRAME_BREAKIN, 0, 0);
    expect_item(18, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE,
                KDCOM_INITIAL_ID);

    decode_all_chunkings(R2, VEC_T2D, 17);
    expect_item(0, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_CHANGE64,
                KDCOM_INITIAL_ID | KDCOM_SYNC_BIT);
    assert_int_equal(plog.item[0].checksum, 0x728);
    /* ReactOS echoes the RESET with id 0 and resends under INITIAL. */
    expect_item(1, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESET, 0);
    expect_item(2, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_CHANGE64,
                KDCOM_INITIAL_ID);
    assert_int_equal(plog.item[2].payload_hash, plog.item[0].payload_hash);
    /* The DbgPrint of PROTOCOL-FACTS §6.2. */
    expect_item(14, KDCOM_FRAME_DATA, KDCOM_TYPE_DEBUG_IO, KDCOM_INITIAL_ID);
    assert_int_equal(plog.item[14].checksum, 0x0C65);
    assert_int_equal(plog.item[14].byte_count, 49);
    expect_item(15, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_CHANGE64,
                KDCOM_INITIAL_ID + 1);
}

static void test_pykdclient_decode(void **state)
{
    (void)state;
    decode_all_chunkings(PYKD, VEC_D2T, 5);
    /* pykdclient's RESET carries a SYNC id. */
    expect_item(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESET,
                KDCOM_INITIAL_ID | KDCOM_SYNC_BIT);
    expect_item(1, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE,
                KDCOM_INITIAL_ID);
    expect_item(3, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE,
                KDCOM_INITIAL_ID);
    decode_all_chunkings(PYKD, VEC_T2D, 5);
    expect_item(0, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_CHANGE64,
                KDCOM_INITIAL_ID | KDCOM_SYNC_BIT);
    expect_item(1, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESET, 0);
    expect_item(2, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_CHANGE64,
                KDCOM_INITIAL_ID);
    expect_item(4, KDCOM_FRAME_DATA, KDCOM_TYPE_DEBUG_IO,
                KDCOM_INITIAL_ID + 1);
    assert_int_equal(plog.item[4].checksum, 0x0C65);
}

/* Every chunk of every file on its own, and the chunk boundaries of the
 * recording do not matter: each chunk holds whole items only. */
static void test_chunks_are_whole(void **state)
{
    const char *files[] = {R2, PYKD};
    size_t f, i;

    (void)state;
    for (f = 0; f < 2; f++) {
        assert_int_equal(vec_load(files[f], &vf), 0);
        for (i = 0; i < vf.n; i++) {
            const struct vec_chunk *c = &vf.chunk[i];
            assert_int_equal(parse_all_chunkings(vf.bytes + c->off, c->len,
                                                 c->len, &plog),
                             0);
            assert_true(plog.n >= 1);
            assert_int_equal(plog.item[plog.n - 1].end, c->len);
            assert_int_equal(plog.noise_bytes, 0);
        }
    }
}

/* ---- replay into a link ---- */

static struct kdcom_parser vp; /* reads the recorded packets */

/* The frames of a recorded chunk p..p+n one at a time (vp initialised
 * before the first): 1 with the next in *f, 0 when the chunk is used up. */
static int next_frame(const uint8_t *p, size_t n, size_t *used,
                      struct kdcom_frame *f)
{
    int k;

    if (*used >= n)
        return 0;
    k = kdcom_parse(&vp, p + *used, n - *used, f);
    assert_true(k >= 0);
    *used += (size_t)k;
    return 1;
}

/* The link's turn: it is made to send what the recorded peer sent in the
 * chunk p..p+n (first: on its first turn). */
typedef void send_fn(struct kdcom_link *l, uint64_t now, const uint8_t *p,
                     size_t n, int first);
/* What the link wrote on its turn (elog.out) against the recording. */
typedef void check_fn(const uint8_t *p, size_t n);

/* Replays a vector into link_, initialised with cfg: the recorded chunks
 * in direction `in` are fed in pieces of `chunk`; on each of the others
 * the link sends what the real peer sent, is drained `chunk` bytes at a
 * time, and what it wrote is checked. */
static void replay(const char *name, const struct kdcom_config *cfg, int in,
                   size_t chunk, send_fn *send, check_fn *check)
{
    size_t i;
    uint64_t now = 0;
    int first = 1;

    assert_int_equal(vec_load(name, &vf), 0);
    assert_int_equal(kdcom_link_init(&link_, cfg), KDCOM_OK);
    ev_log_init(&elog);
    for (i = 0; i < vf.n; i++) {
        const struct vec_chunk *c = &vf.chunk[i];
        const uint8_t *p = vf.bytes + c->off;

        now += 10;
        if (c->dir == in) {
            assert_int_equal(feed_chunked(&link_, now, p, c->len, chunk, 0,
                                          &elog),
                             (long)c->len);
            continue;
        }
        send(&link_, now, p, c->len, first);
        first = 0;
        assert_true(drain_all(&link_, now, chunk, &elog) >= 0);
        check(p, c->len);
        elog.out_len = 0;
    }
}

/* ---- replay into a TARGET ---- */

/* Sends, through the link, the data packets of a recorded T>D chunk that
 * are new (a packet the link still has outstanding is a retransmission,
 * which the link produces on its own). */
static void send_recorded_data(struct kdcom_link *l, uint64_t now,
                               const uint8_t *p, size_t n, int first)
{
    struct kdcom_frame f;
    size_t used = 0;

    (void)first;
    kdcom_parser_init(&vp);
    while (next_frame(p, n, &used, &f)) {
        if (f.kind == KDCOM_FRAME_DATA && kdcom_can_send(l) == 1) {
            /* Split the payload as a KD caller would: the receiver's
             * header size does not matter to the framing. */
            size_t head = f.payload_len < 16 ? f.payload_len : 16;
            assert_int_equal(kdcom_send(l, now, f.type, f.payload, head,
                                        f.payload + head,
                                        f.payload_len - head),
                             KDCOM_OK);
        }
    }
}

/* What ReactOS wrote, byte for byte. */
static void same_bytes(const uint8_t *p, size_t n)
{
    assert_int_equal(elog.out_len, n);
    assert_memory_equal(elog.out, p, n);
}

static void replay_target(const char *name, size_t chunk)
{
    replay(name, NULL, VEC_D2T, chunk, send_recorded_data, same_bytes);
    /* Whatever is still queued was answered by the real target after the
     * recording ended (its last line is a T>D ACK). */
    assert_false(elog.overflow);
}

static void test_radare2_into_target(void **state)
{
    size_t chunk;
    const struct kdcom_stats *st;

    (void)state;
    for (chunk = 0; chunk <= 80; chunk++) {
        replay_target(R2, chunk);
        st = kdcom_get_stats(&link_);
        /* The lone 'b' before the RESET and the one before the last
         * continue: reported once each (taken in between by nobody, so the
         * second is absorbed by the sticky request). */
        assert_int_equal(st->breakins_received, 2);
        assert_int_equal(ev_count(&elog, KDCOM_EV_BREAKIN), 1);
        assert_int_equal(kdcom_take_breakin(&link_), 1);
        assert_int_equal(kdcom_take_breakin(&link_), 0);
        assert_int_equal(ev_count(&elog, KDCOM_EV_RESET), 1);
        assert_int_equal(ev_count(&elog, KDCOM_EV_PACKET), 7);
        /* The second ACK of the state change matches nothing. */
        assert_int_equal(st->acks_ignored, 1);
        assert_int_equal(st->resets_sent, 1);
        assert_int_equal(st->retransmits, 1);
        assert_int_equal(st->duplicates, 0);
        assert_int_equal(st->stale_bytes, 0);
        assert_int_equal(kdcom_is_synced(&link_), 1);
    }
}

static void test_pykdclient_into_target(void **state)
{
    size_t chunk;
    const struct kdcom_stats *st;

    (void)state;
    for (chunk = 0; chunk <= 40; chunk++) {
        replay_target(PYKD, chunk);
        st = kdcom_get_stats(&link_);
        /* A RESET with id 0x80800800 is a RESET: PacketId ignored. */
        assert_int_equal(ev_count(&elog, KDCOM_EV_RESET), 1);
        assert_int_equal(ev_count(&elog, KDCOM_EV_PACKET), 1);
        assert_int_equal(elog.ev[ev_find(&elog, KDCOM_EV_PACKET, 0)].type,
                         KDCOM_TYPE_STATE_MANIPULATE);
        assert_int_equal(st->resets_sent, 1);
        assert_int_equal(st->acks_ignored, 1);
        assert_int_equal(st->breakins_received, 0);
    }
}

/* A LoadSymbols state change standing in for the one in the XP dump: the
 * dump shows its header (0x10F bytes, checksum 0x3344) and its path; the
 * rest of the 0xF0-byte header is made up to give the same checksum. */
static size_t xp_state_change(uint8_t *pl)
{
    static const char path[] = "\\WINDOWS\\system32\\ntkrnlpa.exe";
    uint32_t sum, want = 0x3344;
    size_t i;

    memset(pl, 0, 0x10F);
    pl[0] = 0x31; /* NewState 0x3031 (DbgKdLoadSymbolsStateChange) */
    pl[1] = 0x30;
    memcpy(pl + 0xF0, path, sizeof path); /* with its NUL: 31 bytes */
    sum = kdcom_checksum(pl, 0x10F);
    for (i = 16; sum < want && i < 0xF0; i++) {
        uint32_t add = want - sum > 0xFF ? 0xFF : want - sum;
        pl[i] = (uint8_t)add;
        sum += add;
    }
    assert_int_equal(kdcom_checksum(pl, 0x10F), want);
    return 0x10F;
}

static void test_xp_into_target(void **state)
{
    static uint8_t pl[0x10F];
    size_t len = xp_state_change(pl), i;
    int together;

    (void)state;
    assert_int_equal(vec_load(XP, &vf), 0);
    for (together = 0; together < 2; together++) {
        const struct kdcom_stats *st;
        uint8_t resets[5 * 16];

        assert_int_equal(kdcom_link_init(&link_, NULL), KDCOM_OK);
        ev_log_init(&elog);
        /* The target's state change is on the wire before the RESETs. */
        assert_int_equal(kdcom_send(&link_, 0, KDCOM_TYPE_STATE_CHANGE64, pl,
                                    0xF0, pl + 0xF0, len - 0xF0),
                         KDCOM_OK);
        assert_int_equal(drain_all(&link_, 0, 0, &elog), 16 + 0x10F + 1);
        assert_memory_equal(elog.out, vf.bytes + vf.chunk[5].off, 16);
        elog.out_len = 0;
        for (i = 0; i < 5; i++)
            memcpy(resets + 16 * i, vf.bytes + vf.chunk[i].off, 16);
        if (together) {
            /* One write: the first RESET is answered, the other four were
             * buffered before it and are dropped as stale (§7, the
             * resync-bounce cure). */
            assert_int_equal(feed_chunked(&link_, 5, resets, 80, 0, 0, &elog),
                             80);
        } else {
            for (i = 0; i < 5; i++)
                assert_int_equal(feed_chunked(&link_, 5, resets + 16 * i, 16,
                                              0, 0, &elog),
                                 16);
        }
        assert_true(drain_all(&link_, 5, 0, &elog) > 0);
        st = kdcom_get_stats(&link_);
        assert_int_equal(st->resets_received, together ? 1 : 5);
        assert_int_equal(st->stale_bytes, together ? 64 : 0);
        assert_int_equal(ev_count(&elog, KDCOM_EV_RESET), together ? 1 : 5);
        /* Output: RESET echo(es), each id 0, then the state change once
         * more under 0x80800000 with the same checksum, as XP did. */
        assert_int_equal(parse_chunked(elog.out, elog.out_len, 0, &ours), 0);
        assert_true(ours.n >= 2);
        for (i = 0; i + 1 < ours.n; i++)
            if (ours.item[i].kind == KDCOM_FRAME_CONTROL)
                assert_int_equal(ours.item[i].type, KDCOM_TYPE_RESET);
        assert_int_equal(ours.item[ours.n - 1].kind, KDCOM_FRAME_DATA);
        assert_int_equal(ours.item[ours.n - 1].id, KDCOM_INITIAL_ID);
        assert_int_equal(ours.item[ours.n - 1].checksum, 0x3344);
        {
            /* The last frame's header equals the dump's third T>D line. */
            size_t start = elog.out_len - (16 + 0x10F + 1);
            assert_memory_equal(elog.out + start,
                                vf.bytes + vf.chunk[7].off, 16);
        }
    }
}

/* ---- replay into a DEBUGGER ---- */

/* Reduces a debugger's output for comparison: a RESET's id is not
 * compared (receivers ignore it, §1.5), and ACKs repeated back to back
 * count once. */
static void normalise(struct parse_log *l)
{
    size_t i, k = 0;

    for (i = 0; i < l->n; i++) {
        struct parsed *it = &l->item[i];

        if (it->kind == KDCOM_FRAME_CONTROL && it->type == KDCOM_TYPE_RESET)
            it->id = 0;
        if (k > 0 && it->kind == KDCOM_FRAME_CONTROL &&
            it->type == KDCOM_TYPE_ACKNOWLEDGE &&
            l->item[k - 1].kind == KDCOM_FRAME_CONTROL &&
            l->item[k - 1].type == KDCOM_TYPE_ACKNOWLEDGE &&
            l->item[k - 1].id == it->id)
            continue;
        it->end = 0;
        l->item[k++] = *it;
    }
    l->n = k;
}

/* Same items (counters differ when a repeated ACK was left out). */
static int items_equal(const struct parse_log *a, const struct parse_log *b)
{
    size_t i;

    if (a->n != b->n)
        return 0;
    for (i = 0; i < a->n; i++) {
        const struct parsed *x = &a->item[i], *y = &b->item[i];

        if (x->kind != y->kind || x->type != y->type || x->id != y->id ||
            x->byte_count != y->byte_count || x->checksum != y->checksum ||
            x->payload_hash != y->payload_hash || x->trailer != y->trailer)
            return 0;
    }
    return 1;
}

static void send_recorded_requests(struct kdcom_link *l, uint64_t now,
                                   const uint8_t *p, size_t n, int first)
{
    struct kdcom_frame f;
    size_t used = 0;

    kdcom_parser_init(&vp);
    while (next_frame(p, n, &used, &f)) {
        if (f.kind == KDCOM_FRAME_DATA) {
            assert_int_equal(kdcom_can_send(l), 1);
            assert_int_equal(kdcom_send(l, now, f.type, f.payload,
                                        f.payload_len, NULL, 0),
                             KDCOM_OK);
        } else if (f.kind == KDCOM_FRAME_BREAKIN && !first) {
            /* The first 'b' is the link's own (BREAKIN_ON_SYNC). */
            assert_int_equal(kdcom_send_breakin(l), KDCOM_OK);
        }
    }
}

/* What the real debugger wrote, up to normalise(). */
static void same_requests(const uint8_t *p, size_t n)
{
    assert_int_equal(parse_chunked(elog.out, elog.out_len, 0, &ours), 0);
    assert_int_equal(parse_chunked(p, n, 0, &plog), 0);
    normalise(&ours);
    normalise(&plog);
    assert_true(items_equal(&ours, &plog));
}

static void replay_debugger(const char *name, uint32_t flags, size_t chunk)
{
    struct kdcom_config cfg;

    kdcom_config_init(&cfg, KDCOM_ROLE_DEBUGGER);
    cfg.flags = flags;
    replay(name, &cfg, VEC_T2D, chunk, send_recorded_requests, same_requests);
}

static void test_radare2_into_debugger(void **state)
{
    size_t chunk;
    const struct kdcom_stats *st;

    (void)state;
    for (chunk = 0; chunk <= 80; chunk++) {
        replay_debugger(R2, KDCOM_CFG_BREAKIN_ON_SYNC, chunk);
        st = kdcom_get_stats(&link_);
        assert_int_equal(ev_count(&elog, KDCOM_EV_SYNCED), 1);
        /* The state change sent before the RESET is dropped, not ACKed;
         * every later one is delivered once. */
        assert_int_equal(st->dropped_unsynced, 1);
        assert_int_equal(ev_count(&elog, KDCOM_EV_PACKET), 8);
        assert_int_equal(st->duplicates, 0);
        assert_int_equal(st->breakins_sent, 2);
        assert_int_equal(elog.ev[ev_find(&elog, KDCOM_EV_PACKET, 6)].type,
                         KDCOM_TYPE_DEBUG_IO);
        assert_int_equal(kdcom_is_synced(&link_), 1);
    }
}

static void test_pykdclient_into_debugger(void **state)
{
    size_t chunk;
    const struct kdcom_stats *st;

    (void)state;
    for (chunk = 0; chunk <= 40; chunk++) {
        replay_debugger(PYKD, 0, chunk);
        st = kdcom_get_stats(&link_);
        assert_int_equal(ev_count(&elog, KDCOM_EV_SYNCED), 1);
        assert_int_equal(st->dropped_unsynced, 1);
        assert_int_equal(ev_count(&elog, KDCOM_EV_PACKET), 2);
        assert_int_equal(st->breakins_sent, 0);
    }
}

static void test_xp_into_debugger(void **state)
{
    static uint8_t pl[0x10F], in[2 * (16 + 0x10F + 1) + 16];
    size_t len = xp_state_change(pl), n = 0, chunk;
    int k;
    const struct kdcom_stats *st;

    (void)state;
    assert_int_equal(vec_load(XP, &vf), 0);
    /* The target's side of the dump, with whole frames. */
    k = kdcom_encode_data(in, sizeof in, KDCOM_TYPE_STATE_CHANGE64,
                          KDCOM_INITIAL_ID | KDCOM_SYNC_BIT, pl, len, NULL, 0);
    assert_memory_equal(in, vf.bytes + vf.chunk[5].off, 16);
    n += (size_t)k;
    memcpy(in + n, vf.bytes + vf.chunk[6].off, 16); /* garbage-id echo */
    n += 16;
    k = kdcom_encode_data(in + n, sizeof in - n, KDCOM_TYPE_STATE_CHANGE64,
                          KDCOM_INITIAL_ID, pl, len, NULL, 0);
    assert_memory_equal(in + n, vf.bytes + vf.chunk[7].off, 16);
    n += (size_t)k;

    for (chunk = 0; chunk <= 64; chunk++) {
        struct kdcom_config cfg;

        kdcom_config_init(&cfg, KDCOM_ROLE_DEBUGGER);
        assert_int_equal(kdcom_link_init(&link_, &cfg), KDCOM_OK);
        ev_log_init(&elog);
        /* WinDbg opens with RESET: the same 16 bytes as the dump's. */
        assert_int_equal(drain_all(&link_, 0, chunk, &elog), 16);
        assert_memory_equal(elog.out, vf.bytes + vf.chunk[0].off, 16);
        elog.out_len = 0;
        assert_int_equal(feed_chunked(&link_, 1, in, n, chunk, 1, &elog),
                         (long)n);
        st = kdcom_get_stats(&link_);
        assert_int_equal(st->dropped_unsynced, 1);
        assert_int_equal(ev_count(&elog, KDCOM_EV_SYNCED), 1);
        assert_int_equal(ev_count(&elog, KDCOM_EV_PACKET), 1);
        assert_int_equal(elog.ev[ev_find(&elog, KDCOM_EV_PACKET, 0)].id,
                         KDCOM_INITIAL_ID);
        /* Answer: one ACK of 0x80800000, no RESET bounce. */
        assert_int_equal(elog.out_len, 16);
        assert_int_equal(elog.out[4], KDCOM_TYPE_ACKNOWLEDGE);
        assert_int_equal(st->resets_sent, 1);
        /* And no further RESET later: the handshake is over. */
        assert_int_equal(drain_all(&link_, 100000, 0, &elog), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xp_decode),
        cmocka_unit_test(test_radare2_decode),
        cmocka_unit_test(test_pykdclient_decode),
        cmocka_unit_test(test_chunks_are_whole),
        cmocka_unit_test(test_radare2_into_target),
        cmocka_unit_test(test_pykdclient_into_target),
        cmocka_unit_test(test_xp_into_target),
        cmocka_unit_test(test_radare2_into_debugger),
        cmocka_unit_test(test_pykdclient_into_debugger),
        cmocka_unit_test(test_xp_into_debugger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
