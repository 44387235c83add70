/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_link_common.h - small helpers the link conformance tests share: build a
 * frame, feed it to the link under test in a given chunk size, drain and
 * parse what the link wrote; and the scenarios that are the same for both
 * roles, parametrised by role, which test_link_target.c and
 * test_link_debugger.c each run.  Header-only (static functions) so that
 * each test executable stays one .c file plus tests/util.c.
 *
 * Every helper asserts through cmocka: a helper failing is a test
 * failing, with the line of the helper and the chunk size in the output.
 */
#ifndef KDCOM_TEST_TEST_LINK_COMMON_H
#define KDCOM_TEST_TEST_LINK_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "kdcom.h"
#include "util.h"

/* The link under test, what it reported and what it wrote. */
static struct kdcom_link L;
static struct ev_log E;
static struct parse_log OUT;
static uint8_t F[4 * KDCOM_MAX_FRAME]; /* frames being built */

/* Chunk sizes every split-invariant scenario runs with (0 = whole). */
#define CHUNK_MAX 40

#define INIT KDCOM_INITIAL_ID
#define SYNC KDCOM_SYNC_BIT

typedef void scenario(size_t chunk);

/* Runs a scenario with the input fed whole, then in every chunk size
 * 1..CHUNK_MAX. */
static inline void run_chunks(scenario *fn)
{
    size_t c;

    for (c = 0; c <= CHUNK_MAX; c++)
        fn(c);
}

static inline void lc_init(uint32_t role, uint32_t flags)
{
    struct kdcom_config cfg;

    assert_int_equal(kdcom_config_init(&cfg, role), KDCOM_OK);
    cfg.flags = flags;
    assert_int_equal(kdcom_link_init(&L, &cfg), KDCOM_OK);
    ev_log_init(&E);
}

static inline void lc_init_cfg(const struct kdcom_config *cfg)
{
    assert_int_equal(kdcom_link_init(&L, cfg), KDCOM_OK);
    ev_log_init(&E);
}

static inline size_t lc_ctl(uint8_t *o, uint32_t type, uint32_t id)
{
    assert_int_equal(mk_control(o, 16, type, id), 16);
    return 16;
}

static inline size_t lc_data(uint8_t *o, uint32_t type, uint32_t id,
                      const char *text)
{
    int n = mk_data(o, KDCOM_MAX_FRAME, type, id, (const uint8_t *)text,
                    strlen(text));

    assert_true(n > 0);
    return (size_t)n;
}

/* Feeds n bytes in pieces of `chunk`, takes the events and drains after
 * every piece; all bytes must be consumed. */
static inline void lc_feed(uint64_t now, const uint8_t *p, size_t n, size_t chunk)
{
    assert_int_equal(feed_chunked(&L, now, p, n, chunk, 1, &E), (long)n);
    assert_false(E.overflow);
}

static inline void lc_events(void)
{
    assert_true(take_events(&L, &E) >= 0);
}

/* Drains (at most `cap` per call) and takes events. */
static inline void lc_drain(uint64_t now, size_t cap)
{
    assert_true(drain_all(&L, now, cap, &E) >= 0);
    lc_events();
}

/* Parses everything the link wrote since the last call into OUT (and
 * forgets it).  The output must always be whole frames: no noise, no
 * broken frame, whatever caps were used. */
static inline void lc_out(void)
{
    size_t i;

    assert_int_equal(parse_chunked(E.out, E.out_len, 0, &OUT), 0);
    assert_int_equal(OUT.noise_bytes, 0);
    assert_int_equal(OUT.partial_leaders, 0);
    for (i = 0; i < OUT.n; i++)
        assert_true(OUT.item[i].kind == KDCOM_FRAME_DATA ||
                    OUT.item[i].kind == KDCOM_FRAME_CONTROL ||
                    OUT.item[i].kind == KDCOM_FRAME_BREAKIN);
    if (OUT.n > 0)
        assert_int_equal(OUT.item[OUT.n - 1].end, E.out_len);
    else
        assert_int_equal(E.out_len, 0);
    E.out_len = 0;
}

static inline void lc_expect(size_t i, uint32_t kind, uint32_t type, uint32_t id)
{
    assert_true(i < OUT.n);
    assert_int_equal(OUT.item[i].kind, kind);
    assert_int_equal(OUT.item[i].type, type);
    assert_int_equal(OUT.item[i].id, id);
}

static inline size_t lc_count_out(uint32_t kind, uint32_t type)
{
    size_t i, n = 0;

    for (i = 0; i < OUT.n; i++)
        if (OUT.item[i].kind == kind &&
            (kind != KDCOM_FRAME_CONTROL || OUT.item[i].type == type))
            n++;
    return n;
}

static inline void lc_send(uint64_t now, uint32_t type, const char *text)
{
    assert_int_equal(kdcom_send(&L, now, type, (const uint8_t *)text,
                                strlen(text) / 2, (const uint8_t *)text +
                                strlen(text) / 2, strlen(text) - strlen(text) / 2),
                     KDCOM_OK);
}

static inline const struct kdcom_stats *lc_stats(void)
{
    return kdcom_get_stats(&L);
}

/* The index of the n-th event of a kind (asserts that it exists). */
static inline const struct logged_event *lc_ev(uint32_t kind, size_t nth)
{
    long i = ev_find(&E, kind, nth);

    assert_true(i >= 0);
    return &E.ev[i];
}

/* The same scenario for both roles (§3.4/§7): control packets of unknown
 * types, data types among them, are counted and ignored: no event, no
 * answer.  L is ready (initialised, a DEBUGGER synced) at time 1. */
static inline void lc_unknown_control(size_t chunk)
{
    size_t n;

    E.n = 0;
    n = (size_t)util_hex("69696969 0200 0000 00008080 00000000"
                         "69696969 0700 0000 00008080 00000000"
                         "69696969 0000 0000 00008080 00000000"
                         "69696969 0c00 0000 00008080 00000000"
                         "69696969 ffff 0000 00008080 00000000",
                         F, 80);
    lc_feed(2, F, n, chunk);
    assert_int_equal(lc_stats()->unknown_control, 5);
    assert_int_equal(E.n, 0);
    lc_out();
    assert_int_equal(OUT.n, 0);
}

/* The same scenario for both roles: drain with every cap while ACKs, a
 * RESEND's retransmission and (DEBUGGER) a break-in queue up in the middle
 * of our data frame; the wire must carry whole frames, in order.  ready()
 * makes L a link that can send; `ours` is the id our frame carries, in1
 * and in2 those of the peer's two packets, ack1 and ack2 the ids the link
 * acknowledges them with. */
struct lc_drain_case {
    void (*ready)(void);
    uint32_t ours, in1, in2, ack1, ack2;
    int breakin;
};

static inline void lc_drain_caps_never_interleave(const struct lc_drain_case *c)
{
    static char big[601];
    size_t cap, n, i;

    memset(big, 'i', 600); /* leader bytes inside the payload, for spite */
    for (cap = 1; cap <= 700; cap++) {
        uint8_t part[700];
        int k;

        c->ready();
        lc_send(2, KDCOM_TYPE_STATE_MANIPULATE, big);
        k = kdcom_drain(&L, 2, part, cap);
        assert_int_equal(k, (int)(cap < 617 ? cap : 617));
        memcpy(E.out, part, (size_t)k);
        E.out_len = (size_t)k;
        n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, c->in1, "a");
        n += lc_data(F + n, KDCOM_TYPE_STATE_MANIPULATE, c->in2, "b");
        n += lc_ctl(F + n, KDCOM_TYPE_RESEND, 0);
        assert_int_equal(feed_chunked(&L, 3, F, n, 0, 0, &E), (long)n);
        if (c->breakin)
            assert_int_equal(kdcom_send_breakin(&L), KDCOM_OK);
        lc_drain(3, cap);
        lc_out();
        /* our frame, the two ACKs, ['b',] our frame again (the RESEND) */
        i = 3 + (c->breakin != 0);
        assert_int_equal(OUT.n, i + 1);
        lc_expect(0, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE, c->ours);
        lc_expect(1, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, c->ack1);
        lc_expect(2, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, c->ack2);
        if (c->breakin)
            assert_int_equal(OUT.item[3].kind, KDCOM_FRAME_BREAKIN);
        lc_expect(i, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE, c->ours);
        assert_int_equal(OUT.item[i].payload_hash, OUT.item[0].payload_hash);
        assert_int_equal(ev_count(&E, KDCOM_EV_RESEND), 1);
        assert_true(kdcom_want_write(&L) == 0);
    }
}

/* ---- scenarios written once for both roles ----
 *
 * The role under test, as they need it: ready(chunk) makes L a link that
 * takes the peer's data packets and can send (initialised; a DEBUGGER
 * also synchronised, its handshake fed in `chunk`s), ready at time t0 with
 * an empty event log; the peer's data packets are of type peer_type; L
 * numbers its first packet first_id. */
struct lc_role {
    void (*ready)(size_t chunk);
    uint64_t t0;
    uint32_t peer_type;
    uint32_t first_id;
};

typedef void role_scenario(const struct lc_role *r, size_t chunk);

/* run_chunks for a scenario of this kind. */
static inline void run_role_chunks(const struct lc_role *r, role_scenario *fn)
{
    size_t c;

    for (c = 0; c <= CHUNK_MAX; c++)
        fn(r, c);
}

/* §7 RESEND: our frame is retransmitted at once, no retry spent, and never
 * inside the frame being written; a RESEND while the ACK is awaited
 * retransmits again, with no timer; one with nothing outstanding is only
 * reported (a target's kernel resends its state change from its wait
 * loop, §3.4). */
static inline void lc_resend(const struct lc_role *r, size_t chunk)
{
    static char big[3001];
    uint8_t part[100];
    uint64_t t = r->t0;
    size_t n;
    int k;

    memset(big, '0', 3000); /* leader bytes in the payload */
    r->ready(chunk);
    lc_send(t + 1, KDCOM_TYPE_STATE_MANIPULATE, big);
    k = kdcom_drain(&L, t + 1, part, sizeof part); /* frame half written */
    assert_int_equal(k, 100);
    memcpy(E.out, part, 100);
    E.out_len = 100;
    n = lc_ctl(F, KDCOM_TYPE_RESEND, 0);
    lc_feed(t + 2, F, n, chunk); /* drains the rest of the frame, then again */
    assert_int_equal(ev_count(&E, KDCOM_EV_RESEND), 1);
    lc_out();
    assert_int_equal(OUT.n, 2);
    lc_expect(0, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE, r->first_id);
    lc_expect(1, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE, r->first_id);
    assert_int_equal(lc_stats()->retransmits, 1);
    assert_int_equal(lc_stats()->ack_timeouts, 0);
    /* Waiting for the ACK now: RESEND again, retransmitted with no timer. */
    lc_feed(t + 3, F, n, chunk);
    lc_out();
    assert_int_equal(OUT.n, 1);
    assert_int_equal(lc_stats()->retransmits, 2);
    assert_int_equal(lc_stats()->ack_timeouts, 0);
    assert_int_equal(lc_stats()->resends_received, 2);
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    lc_feed(t + 4, F, n, chunk);
    assert_int_equal(lc_ev(KDCOM_EV_ACKED, 0)->retries, 0);
    /* Nothing outstanding: the RESEND is only reported. */
    n = lc_ctl(F, KDCOM_TYPE_RESEND, 0);
    lc_feed(t + 5, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_RESEND), 3);
    lc_out();
    assert_int_equal(OUT.n, 0);
}

/* §7 "both": bad checksums (two payload bytes damaged), bad trailers, and
 * ByteCounts 4001 and 65535 get RESEND; the parser finds the next good
 * packet, and the retransmission is accepted. */
static inline void lc_bad_packets(const struct lc_role *r, size_t chunk)
{
    static const uint32_t sizes[] = {4001, 65535};
    static const struct {
        size_t at;
        uint8_t flip;
    } sums[] = {{20, 0x40}, {18, 0x80}};
    static const uint8_t trailers[] = {0x55, 0};
    const struct kdcom_stats *st;
    uint64_t t = r->t0;
    size_t n, i;

    r->ready(chunk);
    for (i = 0; i < 2; i++) {
        n = lc_data(F, r->peer_type, INIT, "checksum");
        F[sums[i].at] ^= sums[i].flip;
        lc_feed(t + 1, F, n, chunk);
    }
    for (i = 0; i < 2; i++) {
        n = lc_data(F, r->peer_type, INIT, "trailer");
        F[n - 1] = trailers[i];
        lc_feed(t + 2, F, n, chunk);
    }
    /* oversize ByteCounts, followed by what the peer claims is payload */
    for (i = 0; i < 2; i++) {
        n = lc_data(F, r->peer_type, INIT, "size size");
        F[6] = (uint8_t)sizes[i];
        F[7] = (uint8_t)(sizes[i] >> 8);
        lc_feed(t + 3, F, n, chunk);
    }
    lc_out();
    assert_int_equal(OUT.n, 6);
    for (i = 0; i < 6; i++)
        lc_expect(i, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESEND, 0);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 0);
    st = lc_stats();
    assert_int_equal(st->bad_checksum, 2);
    assert_int_equal(st->bad_trailer, 2);
    assert_int_equal(st->bad_size, 2);
    assert_int_equal(st->resends_sent, 6);
    assert_int_equal(st->noise_bytes, 2 * (9 + 1));
    /* Resynchronised: the retransmission is accepted. */
    n = lc_data(F, r->peer_type, INIT, "good");
    lc_feed(t + 4, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
}

/* A data packet whose type is not a data type had its header damaged
 * (the checksum does not cover it): RESEND, not ACK, so the sender
 * retransmits instead of believing it delivered (docs/protocol.md 5.3).
 * The expectation does not move: the intact retransmission is new. */
static inline void lc_bad_type(const struct lc_role *r, size_t chunk)
{
    static const uint8_t bad[] = {KDCOM_TYPE_RESET, 0, 12,
                                  KDCOM_TYPE_ACKNOWLEDGE};
    uint64_t t = r->t0;
    size_t n, i;

    r->ready(chunk);
    n = lc_data(F, r->peer_type, INIT, "odd type");
    for (i = 0; i < sizeof bad; i++) {
        F[4] = bad[i];
        lc_feed(t + 1, F, n, chunk);
    }
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 0);
    assert_int_equal(lc_stats()->bad_type, sizeof bad);
    assert_int_equal(lc_stats()->acks_sent, 0);
    lc_out();
    assert_int_equal(OUT.n, sizeof bad);
    for (i = 0; i < sizeof bad; i++)
        lc_expect(i, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESEND, 0);
    F[4] = (uint8_t)r->peer_type;
    lc_feed(t + 2, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    lc_out();
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, INIT);
}

/* Nor does the checksum cover the id: one outside the four valid ids is
 * header damage, asked for again (docs/protocol.md 5.5), never ACKed nor
 * taken for a duplicate.  Returns the time of the last feed: the caller
 * goes on to check that its expectation did not move. */
static inline uint64_t lc_bad_id(const struct lc_role *r, size_t chunk)
{
    static const uint32_t bad[] = {0x81800000u, 0x80800002u, 0x00800000u,
                                   0x80000001u, 0,           0x80810800u};
    const size_t nbad = sizeof bad / sizeof bad[0];
    uint64_t t = r->t0;
    size_t n, i;

    r->ready(chunk);
    for (i = 0; i < nbad; i++) {
        n = lc_data(F, r->peer_type, bad[i], "odd id");
        lc_feed(t + 1 + i, F, n, chunk);
    }
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 0);
    assert_int_equal(lc_stats()->bad_id, nbad);
    assert_int_equal(lc_stats()->acks_sent, 0);
    assert_int_equal(lc_stats()->duplicates, 0);
    lc_out();
    assert_int_equal(OUT.n, nbad);
    for (i = 0; i < nbad; i++)
        lc_expect(i, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESEND, 0);
    return t + nbad;
}

/* §2/§3.5: a timeout inside a packet gets RESEND; the retransmission is
 * taken whole; a partial leader alone is not a packet and times nothing
 * out. */
static inline void lc_byte_timeout(const struct lc_role *r, size_t chunk)
{
    uint64_t t = r->t0;
    size_t n;

    r->ready(chunk);
    n = lc_data(F, r->peer_type, INIT, "interrupted packet");
    lc_feed(t + 10, F, 20, chunk);
    assert_int_equal(kdcom_next_deadline(&L), t + 10 + 1000);
    lc_drain(t + 1009, 0);
    lc_out();
    assert_int_equal(OUT.n, 0);
    assert_int_equal(kdcom_tick(&L, t + 1010), KDCOM_OK);
    lc_drain(t + 1010, 0);
    lc_out();
    assert_int_equal(OUT.n, 1);
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESEND, 0);
    assert_int_equal(lc_stats()->rx_stalls, 1);
    assert_int_equal(kdcom_next_deadline(&L), UINT64_MAX);
    /* The retransmission is whole. */
    lc_feed(t + 1500, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    /* Three leader bytes and silence. */
    lc_feed(t + 2000, F, 3, chunk);
    assert_int_equal(kdcom_next_deadline(&L), UINT64_MAX);
    lc_drain(t + 100000, 0);
    lc_out();
    assert_int_equal(OUT.n, 1); /* just the ACK of the packet above */
    assert_int_equal(lc_stats()->rx_stalls, 1);
}

#endif /* KDCOM_TEST_TEST_LINK_COMMON_H */
