/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_link_target.c - conformance of the TARGET role: one test per
 * behaviour of PROTOCOL-FACTS §7 that applies to a target (and the
 * "both" rows), through the public API only.
 *
 * Every scenario whose outcome does not depend on how the input is split
 * runs with the input fed whole and in every chunk size 1..CHUNK_MAX.  The
 * exception, by design: a TARGET that receives a RESET drops the rest of
 * that write (the bytes were buffered before the RESET was answered and
 * are stale, §7 / §4.1 "resync bounce"), so what follows a RESET in the
 * same write depends on the split.  test_reset_drops_rest_of_write pins
 * that down on its own.
 */
#include "test_link_common.h"

#define T KDCOM_ROLE_TARGET

static void target_init(size_t chunk)
{
    (void)chunk;
    lc_init(T, 0);
}

/* For the scenarios both roles share (test_link_common.h): a fresh TARGET
 * at time 0 takes the debugger's requests; its first packet carries SYNC. */
static const struct lc_role ROLE = {target_init, 0,
                                    KDCOM_TYPE_STATE_MANIPULATE, INIT | SYNC};

/* §1.5/§7: send id starts at INITIAL|SYNC, receive expectation INITIAL. */
static void sc_initial_ids(size_t chunk)
{
    size_t n;

    lc_init(T, 0);
    assert_int_equal(kdcom_tx_id(&L), INIT | SYNC);
    assert_int_equal(kdcom_is_synced(&L), 0);
    assert_int_equal(kdcom_can_send(&L), 1);
    /* A packet with the other id is not the expected one: ACKed with its
     * own id, not delivered. */
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT + 1, "other");
    lc_feed(1, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 0);
    lc_out();
    assert_int_equal(OUT.n, 1);
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, INIT + 1);
    /* The expected one is delivered and ACKed with its exact id. */
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT, "expected");
    lc_feed(2, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    assert_int_equal(lc_ev(KDCOM_EV_PACKET, 0)->id, INIT);
    assert_int_equal(lc_ev(KDCOM_EV_PACKET, 0)->len, 8);
    assert_int_equal(lc_ev(KDCOM_EV_PACKET, 0)->payload_hash,
                     util_hash((const uint8_t *)"expected", 8));
    lc_out();
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    /* Our first packet carries SYNC. */
    lc_send(3, KDCOM_TYPE_STATE_CHANGE64, "state change");
    lc_drain(3, chunk);
    lc_out();
    assert_int_equal(OUT.n, 1);
    lc_expect(0, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_CHANGE64, INIT | SYNC);
    assert_int_equal(lc_stats()->duplicates, 1);
    assert_int_equal(lc_stats()->packets_received, 1);
    /* A SYNC bit on a debugger's packet can only be header damage: the
     * packet is taken (SYNC masked) and ACKed with its exact id. */
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, (INIT + 1) | SYNC, "damaged");
    lc_feed(4, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 2);
    lc_out();
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE,
              (INIT + 1) | SYNC);
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT | SYNC, "again");
    lc_feed(5, F, n, chunk);
    lc_feed(5, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 3);
    assert_int_equal(lc_stats()->duplicates, 2);
}

static void test_initial_ids(void **state)
{
    (void)state;
    run_chunks(sc_initial_ids);
}

/* §7: SYNC is cleared after the first ACK; ids alternate in bit 0. */
static void sc_sync_cleared(size_t chunk)
{
    size_t n;
    const struct logged_event *ev;

    lc_init(T, 0);
    lc_send(0, KDCOM_TYPE_STATE_CHANGE64, "sc");
    lc_drain(0, chunk);
    lc_out();
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    lc_feed(1, F, n, chunk);
    ev = lc_ev(KDCOM_EV_ACKED, 0);
    assert_int_equal(ev->id, INIT | SYNC);
    assert_int_equal(ev->type, KDCOM_TYPE_STATE_CHANGE64);
    assert_int_equal(kdcom_is_synced(&L), 1);
    assert_int_equal(kdcom_tx_id(&L), INIT + 1);
    lc_send(2, KDCOM_TYPE_DEBUG_IO, "print");
    lc_drain(2, chunk);
    lc_out();
    lc_expect(0, KDCOM_FRAME_DATA, KDCOM_TYPE_DEBUG_IO, INIT + 1);
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT + 1);
    lc_feed(3, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 2);
    assert_int_equal(kdcom_tx_id(&L), INIT);
    assert_int_equal(lc_stats()->packets_acked, 2);
    assert_int_equal(lc_stats()->acks_ignored, 0);
}

static void test_sync_cleared_after_first_ack(void **state)
{
    (void)state;
    run_chunks(sc_sync_cleared);
}

/* §7: an ACK matches when ack.id & ~SYNC == current & ~SYNC, so masked
 * (WinDbg, r2, pykd) and unmasked (rizin) ACKs are both accepted. */
static void sc_ack_masked_unmasked(size_t chunk)
{
    size_t n;

    lc_init(T, 0);
    lc_send(0, KDCOM_TYPE_STATE_CHANGE64, "sc");
    lc_drain(0, chunk);
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT | SYNC); /* unmasked */
    lc_feed(1, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 1);
    lc_send(2, KDCOM_TYPE_DEBUG_IO, "x");
    lc_drain(2, chunk);
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT + 1); /* masked */
    lc_feed(3, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 2);
    lc_send(4, KDCOM_TYPE_DEBUG_IO, "y");
    lc_drain(4, chunk);
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT | SYNC); /* SYNC set, id ok */
    lc_feed(5, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 3);
    assert_int_equal(lc_stats()->acks_received, 3);
    assert_int_equal(lc_stats()->acks_ignored, 0);
}

static void test_ack_masked_and_unmasked(void **state)
{
    (void)state;
    run_chunks(sc_ack_masked_unmasked);
}

/* §3.4: an ACK with another id, or with nothing outstanding, or for a
 * packet that is not on the wire yet, is ignored. */
static void sc_ack_stale(size_t chunk)
{
    size_t n = 0;

    lc_init(T, 0);
    /* Not on the wire yet: an ACK cannot be for it. */
    lc_send(0, KDCOM_TYPE_STATE_CHANGE64, "sc");
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    assert_int_equal(feed_chunked(&L, 0, F, n, chunk, 0, &E), (long)n);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 0);
    lc_drain(0, chunk);
    lc_out();
    lc_expect(0, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_CHANGE64, INIT | SYNC);
    /* The other id, and garbage. */
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT + 1);
    n += lc_ctl(F + n, KDCOM_TYPE_ACKNOWLEDGE, 0x12345678u);
    n += lc_ctl(F + n, KDCOM_TYPE_ACKNOWLEDGE, 0);
    lc_feed(1, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 0);
    assert_int_equal(kdcom_can_send(&L), 0);
    /* The right one. */
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    lc_feed(2, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 1);
    /* The same ACK again: nothing outstanding any more. */
    lc_feed(3, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 1);
    assert_int_equal(lc_stats()->acks_received, 6);
    assert_int_equal(lc_stats()->acks_ignored, 5);
    lc_out();
    assert_int_equal(OUT.n, 0); /* ACKs are never answered */
}

static void test_stale_and_other_id_ack_ignored(void **state)
{
    (void)state;
    run_chunks(sc_ack_stale);
}

/* §7 RESET: echo (id 0), both ids to INITIAL without SYNC, queued control
 * packets dropped, the outstanding packet resent under the new id, an
 * event for the upper layer. */
static void sc_reset(size_t chunk)
{
    size_t n;
    const struct kdcom_stats *st;

    lc_init(T, 0);
    lc_send(0, KDCOM_TYPE_STATE_CHANGE64, "load symbols");
    lc_drain(0, chunk);
    lc_out();
    lc_expect(0, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_CHANGE64, INIT | SYNC);
    /* A request arrives and its ACK is queued but not written yet. */
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT + 1, "stray");
    assert_int_equal(feed_chunked(&L, 1, F, n, chunk, 0, &E), (long)n);
    n = lc_ctl(F, KDCOM_TYPE_RESET, 0x0005F863u); /* id is ignored */
    assert_int_equal(feed_chunked(&L, 2, F, n, chunk, 0, &E), (long)n);
    assert_int_equal(ev_count(&E, KDCOM_EV_RESET), 1);
    assert_int_equal(kdcom_tx_id(&L), INIT);
    lc_drain(2, chunk);
    lc_out();
    /* The stale ACK is gone: RESET echo, then the state change again. */
    assert_int_equal(OUT.n, 2);
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESET, 0);
    lc_expect(1, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_CHANGE64, INIT);
    assert_int_equal(OUT.item[1].payload_hash,
                     util_hash((const uint8_t *)"load symbols", 12));
    st = lc_stats();
    assert_int_equal(st->resets_received, 1);
    assert_int_equal(st->resets_sent, 1);
    assert_int_equal(st->retransmits, 1);
    assert_int_equal(st->acks_sent, 0);
    /* The receive side expects INITIAL again. */
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    n += lc_data(F + n, KDCOM_TYPE_STATE_MANIPULATE, INIT, "get version");
    lc_feed(3, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 1);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    assert_int_equal(lc_ev(KDCOM_EV_PACKET, 0)->id, INIT);
    assert_int_equal(kdcom_is_synced(&L), 1);
}

static void test_reset(void **state)
{
    (void)state;
    run_chunks(sc_reset);
}

/* §7 / §4.1: bytes that follow a RESET in the same write were buffered
 * before the RESET was answered; a TARGET drops them (stats.stale_bytes).
 * The same bytes in a later write are handled normally.  This is the one
 * TARGET behaviour that depends on the split, on purpose. */
static void test_reset_drops_rest_of_write(void **state)
{
    size_t n, r;

    (void)state;
    lc_init(T, 0);
    r = lc_ctl(F, KDCOM_TYPE_RESET, 0);
    n = r + lc_data(F + r, KDCOM_TYPE_STATE_MANIPULATE, INIT, "old");
    n += lc_ctl(F + n, KDCOM_TYPE_RESET, 0);
    lc_feed(0, F, n, 0);
    assert_int_equal(lc_stats()->stale_bytes, n - r);
    assert_int_equal(lc_stats()->resets_received, 1);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 0);
    lc_out();
    assert_int_equal(OUT.n, 1);

    lc_init(T, 0);
    lc_feed(0, F, r, 0);
    lc_feed(1, F + r, n - r, 0);
    assert_int_equal(lc_stats()->stale_bytes, 0);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    assert_int_equal(lc_stats()->resets_received, 2);
}

/* A DEBUGGER that has sent its RESET and is waiting for the echo. */
static struct kdcom_link D;
static struct ev_log DE;

static void debugger_waiting(void)
{
    struct kdcom_config cfg;

    kdcom_config_init(&cfg, KDCOM_ROLE_DEBUGGER);
    assert_int_equal(kdcom_link_init(&D, &cfg), KDCOM_OK);
    ev_log_init(&DE);
    assert_int_equal(drain_all(&D, 0, 0, &DE), 16);
    DE.out_len = 0;
}

/* RESET storms (§6.1: WinDbg opened with five RESETs in a row): five
 * RESETs in one write and in five writes.  The target ends in step, the
 * state change reaches the debugger exactly once, and nothing bounces. */
static void storm(size_t chunk, int one_write)
{
    size_t n = 0, i;
    long moved;

    lc_init(T, 0);
    debugger_waiting();
    lc_send(0, KDCOM_TYPE_STATE_CHANGE64, "load symbols");
    lc_drain(0, 0);
    /* The debugger is not synced yet: it drops the packet, no ACK. */
    assert_int_equal(feed_chunked(&D, 0, E.out, E.out_len, chunk, 1, &DE),
                     (long)E.out_len);
    assert_int_equal(DE.out_len, 0);
    E.out_len = 0;
    for (i = 0; i < 5; i++)
        n += lc_ctl(F + n, KDCOM_TYPE_RESET, 0);
    if (one_write) {
        lc_feed(1, F, n, 0);
        assert_int_equal(lc_stats()->stale_bytes, 64);
    } else {
        for (i = 0; i < 5; i++)
            lc_feed(1, F + 16 * i, 16, chunk);
    }
    assert_int_equal(ev_count(&E, KDCOM_EV_RESET), one_write ? 1 : 5);
    /* What the target wrote goes to the debugger, and back and forth
     * until both are quiet. */
    moved = shuttle(&L, &E, &D, &DE, 2, 0, chunk, 20);
    assert_true(moved > 0);
    lc_events();
    assert_int_equal(ev_count(&DE, KDCOM_EV_SYNCED), 1);
    assert_int_equal(ev_count(&DE, KDCOM_EV_PACKET), 1);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 1);
    assert_int_equal(kdcom_is_synced(&L), 1);
    assert_int_equal(kdcom_is_synced(&D), 1);
    /* No bounce: the debugger sent one RESET and never another, the
     * target no RESET of its own beyond the echoes. */
    assert_int_equal(kdcom_get_stats(&D)->resets_sent, 1);
    assert_int_equal(lc_stats()->resets_sent, one_write ? 1 : 5);
    assert_int_equal(drain_all(&D, 100000, 0, &DE) >= 0, 1);
    assert_int_equal(kdcom_get_stats(&D)->resets_sent, 1);
    assert_int_equal(kdcom_get_stats(&D)->duplicates +
                         kdcom_get_stats(&D)->packets_received,
                     one_write ? 1 : 5);
}

static void sc_storm_one_write(size_t chunk)
{
    storm(chunk, 1);
}

static void sc_storm_separate(size_t chunk)
{
    storm(chunk, 0);
}

static void test_reset_storm_one_write(void **state)
{
    (void)state;
    run_chunks(sc_storm_one_write);
}

static void test_reset_storm_separate_writes(void **state)
{
    (void)state;
    run_chunks(sc_storm_separate);
}

static void test_resend_mid_send(void **state)
{
    (void)state;
    run_role_chunks(&ROLE, lc_resend);
}

/* §3.5/§7: a duplicate (our ACK was lost, the debugger sent the packet
 * again) is ACKed with the same id and not delivered twice. */
static void sc_lost_ack(size_t chunk)
{
    size_t n;

    lc_init(T, 0);
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT, "read memory");
    lc_feed(0, F, n, chunk);
    lc_out();
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    /* That ACK is lost; the debugger retransmits. */
    lc_feed(1000, F, n, chunk);
    lc_out();
    assert_int_equal(OUT.n, 1);
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    assert_int_equal(lc_stats()->duplicates, 1);
    assert_int_equal(lc_stats()->acks_sent, 2);
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT + 1, "next");
    lc_feed(1001, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 2);
}

static void test_lost_ack_then_duplicate(void **state)
{
    (void)state;
    run_chunks(sc_lost_ack);
}

/* §3.4/§7: while our packet waits for its ACK, a data packet with the
 * expected id acknowledges it implicitly (the debugger answers only what
 * it received); one with another id is ACKed and we keep waiting. */
static void sc_implicit_ack(size_t chunk)
{
    size_t n;

    lc_init(T, 0);
    /* After the handshake (ids without SYNC), as in every session. */
    n = lc_ctl(F, KDCOM_TYPE_RESET, 0);
    lc_feed(0, F, n, chunk);
    lc_out();
    ev_log_init(&E);
    lc_send(0, KDCOM_TYPE_STATE_CHANGE64, "sc");
    lc_drain(0, chunk);
    lc_out();
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT, "get version");
    lc_feed(1, F, n, chunk);
    assert_int_equal(E.n, 2);
    assert_int_equal(E.ev[0].kind, KDCOM_EV_ACKED); /* ACKED first */
    assert_int_equal(E.ev[0].id, INIT);
    assert_int_equal(E.ev[1].kind, KDCOM_EV_PACKET);
    assert_int_equal(lc_stats()->implicit_acks, 1);
    assert_int_equal(kdcom_is_synced(&L), 1);
    lc_out();
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, INIT);

    /* Our answer goes out; the debugger's old request comes again (its
     * ACK was lost): ACK it, keep waiting for ours. */
    lc_send(2, KDCOM_TYPE_STATE_MANIPULATE, "version");
    lc_drain(2, chunk);
    lc_out();
    lc_expect(0, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE, INIT + 1);
    lc_feed(3, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 1);
    assert_int_equal(kdcom_can_send(&L), 0);
    assert_int_equal(lc_stats()->duplicates, 1);
    lc_out();
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    /* The next request does acknowledge it. */
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT + 1, "read");
    lc_feed(4, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 2);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 2);
    assert_int_equal(lc_stats()->implicit_acks, 2);

    /* A request with the expected id but the length and checksum of the
     * one taken last ("read" again, or a retransmission of it whose id was
     * damaged): delivered, but it acknowledges nothing; ours waits for the
     * explicit ACK. */
    lc_send(4, KDCOM_TYPE_STATE_MANIPULATE, "data");
    lc_drain(4, chunk);
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT, "read");
    lc_feed(4, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 3);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 2);
    assert_int_equal(lc_stats()->implicit_acks, 2);
    assert_int_equal(kdcom_can_send(&L), 0);
    lc_feed(4, F, lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT), chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 3);

    /* While our id carries SYNC (we gave up on the debugger, or have not
     * heard from it yet) a packet with the expected id proves nothing:
     * it can be an old retransmission.  Delivered, ours still waits. */
    assert_int_equal(kdcom_cancel_send(&L), KDCOM_ERR_NO_PACKET);
    lc_send(5, KDCOM_TYPE_DEBUG_IO, "print");
    lc_drain(5, chunk);
    assert_int_equal(kdcom_cancel_send(&L), KDCOM_OK); /* gave up */
    lc_send(6, KDCOM_TYPE_STATE_CHANGE64, "breakpoint");
    lc_drain(6, chunk);
    lc_out();
    lc_expect(OUT.n - 1, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_CHANGE64,
              INIT | SYNC);
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT, "old request");
    lc_feed(7, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 4);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 3);
    assert_int_equal(kdcom_can_send(&L), 0);
    assert_int_equal(lc_stats()->implicit_acks, 2);
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    lc_feed(8, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 4);
    assert_int_equal(kdcom_is_synced(&L), 1);

    /* With KDCOM_CFG_NO_IMPLICIT_ACK the packet is delivered and ours
     * still waits. */
    lc_init(T, KDCOM_CFG_NO_IMPLICIT_ACK);
    n = lc_ctl(F, KDCOM_TYPE_RESET, 0);
    lc_feed(0, F, n, chunk);
    ev_log_init(&E);
    lc_send(0, KDCOM_TYPE_STATE_CHANGE64, "sc");
    lc_drain(0, chunk);
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT, "get version");
    lc_feed(1, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 0);
    assert_int_equal(kdcom_can_send(&L), 0);
    assert_int_equal(lc_stats()->implicit_acks, 0);
}

static void test_implicit_ack(void **state)
{
    (void)state;
    run_chunks(sc_implicit_ack);
}

static void test_bad_packets_resend(void **state)
{
    (void)state;
    run_role_chunks(&ROLE, lc_bad_packets);
}

/* §3.2/§7: noise and partial leaders are skipped and counted, no RESEND. */
static void sc_noise(size_t chunk)
{
    size_t n;

    lc_init(T, 0);
    n = (size_t)util_hex("00 13 30 30 69 69 ff", F, 16);
    n += lc_data(F + n, KDCOM_TYPE_STATE_MANIPULATE, INIT, "after noise");
    lc_feed(0, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    assert_int_equal(lc_stats()->noise_bytes, 7);
    assert_int_equal(lc_stats()->partial_leaders, 2);
    assert_int_equal(lc_stats()->resends_sent, 0);
    lc_out();
    assert_int_equal(OUT.n, 1);
}

static void test_noise_and_partial_leaders(void **state)
{
    (void)state;
    run_chunks(sc_noise);
}

/* §7: 'b' is sticky until kdcom_take_breakin(), also when a leader
 * follows (Windows behaviour); reported once per request. */
static void sc_breakin(size_t chunk)
{
    size_t n;

    lc_init(T, 0);
    lc_send(0, KDCOM_TYPE_DEBUG_IO, "print");
    lc_drain(0, chunk);
    lc_out();
    F[0] = KDCOM_BREAKIN_BYTE;
    n = 1 + lc_ctl(F + 1, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    lc_feed(1, F, n, chunk);
    /* The ACK right after the 'b' still counts... */
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 1);
    /* ...and so does the 'b'. */
    assert_int_equal(ev_count(&E, KDCOM_EV_BREAKIN), 1);
    /* More 'b's before it is taken: no new event. */
    F[1] = F[2] = KDCOM_BREAKIN_BYTE;
    lc_feed(2, F, 3, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_BREAKIN), 1);
    assert_int_equal(lc_stats()->breakins_received, 4);
    assert_int_equal(kdcom_take_breakin(&L), 1);
    assert_int_equal(kdcom_take_breakin(&L), 0);
    lc_feed(3, F, 1, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_BREAKIN), 2);
    assert_int_equal(kdcom_take_breakin(&L), 1);
    lc_out();
    assert_int_equal(OUT.n, 0);
}

static void test_breakin_sticky(void **state)
{
    (void)state;
    run_chunks(sc_breakin);
}

/* §3.7/§7: retransmit on ACK timeout; after retry_limit timeouts report
 * RETRIES_EXHAUSTED, keep the packet outstanding; kdcom_cancel_send()
 * gives up and re-arms SYNC. */
static void test_retries_exhausted_and_cancel(void **state)
{
    struct kdcom_config cfg;
    uint64_t now = 0;
    int i;
    size_t n;

    (void)state;
    kdcom_config_init(&cfg, T);
    cfg.retry_limit = 3;
    cfg.ack_timeout_ms = 100;
    lc_init_cfg(&cfg);
    lc_send(0, KDCOM_TYPE_DEBUG_IO, "nobody listens");
    lc_drain(0, 0);
    lc_out();
    assert_int_equal(kdcom_next_deadline(&L), 100);
    for (i = 1; i <= 3; i++) {
        lc_drain(now + 99, 0); /* not yet */
        lc_out();
        assert_int_equal(OUT.n, 0);
        now += 100;
        lc_drain(now, 0);
        lc_out();
        assert_int_equal(OUT.n, 1);
        lc_expect(0, KDCOM_FRAME_DATA, KDCOM_TYPE_DEBUG_IO, INIT | SYNC);
        assert_int_equal(lc_stats()->ack_timeouts, (uint64_t)i);
    }
    assert_int_equal(ev_count(&E, KDCOM_EV_RETRIES_EXHAUSTED), 1);
    assert_int_equal(lc_ev(KDCOM_EV_RETRIES_EXHAUSTED, 0)->retries, 3);
    assert_int_equal(lc_ev(KDCOM_EV_RETRIES_EXHAUSTED, 0)->type,
                     KDCOM_TYPE_DEBUG_IO);
    assert_int_equal(kdcom_can_send(&L), 0); /* still outstanding */
    assert_int_equal(lc_stats()->retries_exhausted, 1);
    assert_int_equal(lc_stats()->retransmits, 3);
    /* Three more: reported again (every retry_limit timeouts). */
    for (i = 0; i < 3; i++) {
        now += 100;
        lc_drain(now, 0);
    }
    assert_int_equal(ev_count(&E, KDCOM_EV_RETRIES_EXHAUSTED), 2);
    /* Give up, as kdcom.dll does with a DbgPrint. */
    assert_int_equal(kdcom_cancel_send(&L), KDCOM_OK);
    assert_int_equal(kdcom_cancel_send(&L), KDCOM_ERR_NO_PACKET);
    assert_int_equal(kdcom_can_send(&L), 1);
    assert_int_equal(kdcom_tx_id(&L), INIT | SYNC);
    assert_int_equal(kdcom_is_synced(&L), 0);
    assert_int_equal(lc_stats()->packets_cancelled, 1);
    assert_int_equal(kdcom_next_deadline(&L), UINT64_MAX);
    /* A late ACK for it matches nothing. */
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    lc_feed(now, F, n, 0);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 0);
    /* The receive side expects INITIAL again. */
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT, "hello again");
    lc_feed(now, F, n, 0);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);

    /* retry_limit 0: retried for ever, never reported. */
    cfg.retry_limit = 0;
    lc_init_cfg(&cfg);
    lc_send(0, KDCOM_TYPE_STATE_CHANGE64, "sc");
    for (now = 0; now <= 100 * 100; now += 100)
        lc_drain(now, 0);
    assert_int_equal(lc_stats()->ack_timeouts, 100);
    assert_int_equal(ev_count(&E, KDCOM_EV_RETRIES_EXHAUSTED), 0);
}

static void sc_unknown_control(size_t chunk)
{
    lc_init(T, 0);
    lc_unknown_control(chunk);
}

static void test_unknown_control_ignored(void **state)
{
    (void)state;
    run_chunks(sc_unknown_control);
}

static void test_byte_timeout_resend(void **state)
{
    (void)state;
    run_role_chunks(&ROLE, lc_byte_timeout);
}

/* next_deadline / tick: UINT64_MAX when idle, the ACK deadline starts when
 * the last byte is drained, time going backwards is "no time passed". */
static void test_deadlines_and_tick(void **state)
{
    uint8_t part[10];

    (void)state;
    lc_init(T, 0);
    assert_int_equal(kdcom_next_deadline(&L), UINT64_MAX);
    assert_int_equal(kdcom_tick(&L, 5), KDCOM_OK);
    lc_send(100, KDCOM_TYPE_DEBUG_IO, "tick tock");
    assert_int_equal(kdcom_next_deadline(&L), UINT64_MAX); /* not sent */
    assert_int_equal(kdcom_drain(&L, 100, part, sizeof part), 10);
    memcpy(E.out, part, 10);
    E.out_len = 10;
    assert_int_equal(kdcom_next_deadline(&L), UINT64_MAX); /* not all */
    lc_drain(200, 0);
    assert_int_equal(kdcom_next_deadline(&L), 1200);
    /* Backwards: ignored. */
    assert_int_equal(kdcom_tick(&L, 50), KDCOM_OK);
    lc_drain(0, 0);
    lc_out();
    assert_int_equal(lc_stats()->ack_timeouts, 0);
    assert_int_equal(kdcom_next_deadline(&L), 1200);
    assert_int_equal(kdcom_tick(&L, 1199), KDCOM_OK);
    assert_int_equal(lc_stats()->ack_timeouts, 0);
    assert_int_equal(kdcom_want_write(&L), 0);
    assert_int_equal(kdcom_tick(&L, 1200), KDCOM_OK);
    assert_int_equal(lc_stats()->ack_timeouts, 1);
    assert_int_equal(kdcom_want_write(&L), 1);
    /* Until drained again, no ACK timer runs. */
    assert_int_equal(kdcom_next_deadline(&L), UINT64_MAX);
    lc_drain(1300, 0);
    assert_int_equal(kdcom_next_deadline(&L), 2300);
}

static void target_ready(void)
{
    lc_init(T, 0);
}

/* Drain with every cap 1..N while control packets are queued in the
 * middle of a data frame: frames come out whole and in order.  Our id
 * carries SYNC, so the second request (the new one: the first is
 * a duplicate) does not acknowledge ours implicitly. */
static void test_drain_caps_never_interleave(void **state)
{
    const struct lc_drain_case c = {target_ready, INIT | SYNC, INIT + 1,
                                    INIT, INIT + 1, INIT, 0};

    (void)state;
    lc_drain_caps_never_interleave(&c);
}

static void test_bad_type_resend(void **state)
{
    (void)state;
    run_role_chunks(&ROLE, lc_bad_type);
}

/* Bad ids (lc_bad_id), then the expectation did not move: INITIAL is new;
 * valid ids with SYNC set are still ACKed with their own id. */
static void sc_bad_id(size_t chunk)
{
    uint64_t t = lc_bad_id(&ROLE, chunk);
    size_t n;

    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT, "odd id");
    lc_feed(t + 1, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT | KDCOM_SYNC_BIT, "x");
    lc_feed(t + 1, F, n, chunk);
    assert_int_equal(lc_stats()->duplicates, 1);
    lc_out();
    assert_int_equal(OUT.n, 2);
    lc_expect(1, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE,
              INIT | KDCOM_SYNC_BIT);
}

static void test_bad_id_resend(void **state)
{
    (void)state;
    run_chunks(sc_bad_id);
}

/* §3.5 step 1, §3.6, §7: with kdcom_expect_header(), a new data packet
 * shorter than the message header the receiver expects gets RESEND, not
 * an ACK, and the expected id stays; the bytes from the issue, then
 * duplicates, the boundary, a RESET, and the implicit ACK
 * (docs/protocol.md 5.8). */
static void sc_short(size_t chunk)
{
    /* STATE_MANIPULATE, ByteCount 4, id 0x80800000: DbgKdGetVersionApi's
     * number and nothing else, to a target that expects 56 bytes. */
    static const char short_req[] =
        "30 30 30 30 02 00 04 00 00 00 80 80 77 00 00 00 46 31 00 00 aa";
    static uint8_t big[KDCOM_MAX_PAYLOAD];
    size_t n;

    lc_init(T, 0);
    n = lc_ctl(F, KDCOM_TYPE_RESET, 0); /* synced, expecting INITIAL */
    lc_feed(0, F, n, chunk);
    lc_out();
    ev_log_init(&E);
    assert_int_equal(kdcom_expect_header(&L, 56), KDCOM_OK);
    n = (size_t)util_hex(short_req, F, sizeof F);
    assert_int_equal(n, 21);
    lc_feed(1, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 0);
    assert_int_equal(lc_stats()->bad_short, 1);
    assert_int_equal(lc_stats()->acks_sent, 0);
    assert_int_equal(lc_stats()->packets_received, 0);
    lc_out();
    assert_int_equal(OUT.n, 1);
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESEND, 0);
    /* Its retransmission: the same answer, the expectation unmoved. */
    lc_feed(2, F, n, chunk);
    assert_int_equal(lc_stats()->bad_short, 2);
    lc_out();
    assert_int_equal(OUT.n, 1);
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESEND, 0);
    /* Exactly the header: taken under the id the short one had. */
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT,
                "0123456789012345678901234567890123456789012345678901234_");
    assert_int_equal(n, 16 + 56 + 1);
    lc_feed(3, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    assert_int_equal(lc_ev(KDCOM_EV_PACKET, 0)->id, INIT);
    lc_out();
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    /* A short packet under the old id is a duplicate: ACKed, so its
     * sender stops, whatever its length. */
    n = (size_t)util_hex(short_req, F, sizeof F);
    lc_feed(4, F, n, chunk);
    assert_int_equal(lc_stats()->duplicates, 1);
    assert_int_equal(lc_stats()->bad_short, 2);
    lc_out();
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    /* A RESET keeps the minimum. */
    n = lc_ctl(F, KDCOM_TYPE_RESET, 0);
    lc_feed(5, F, n, chunk);
    lc_out();
    n = lc_data(F, KDCOM_TYPE_DEBUG_IO, INIT, "sixteen bytes...");
    lc_feed(6, F, n, chunk);
    assert_int_equal(lc_stats()->bad_short, 3);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    lc_out();
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESEND, 0);
    /* A short packet with the expected id is no implicit ACK of ours. */
    lc_send(7, KDCOM_TYPE_STATE_MANIPULATE, "reply");
    lc_drain(7, chunk);
    lc_out();
    lc_feed(8, F, n, chunk);
    assert_int_equal(lc_stats()->bad_short, 4);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 0);
    assert_int_equal(lc_stats()->implicit_acks, 0);
    assert_int_equal(kdcom_can_send(&L), 0);
    lc_feed(9, F, lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT), chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 1);
    /* The upper layer now receives into 16 bytes: accepted. */
    assert_int_equal(kdcom_expect_header(&L, 16), KDCOM_OK);
    n = lc_data(F, KDCOM_TYPE_DEBUG_IO, INIT, "sixteen bytes...");
    lc_feed(10, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 2);
    /* Above KDCOM_MAX_PAYLOAD nothing can fill the header: even a
     * 4000-byte packet is refused.  0 accepts everything again. */
    assert_int_equal(kdcom_expect_header(&L, KDCOM_MAX_PAYLOAD + 1),
                     KDCOM_OK);
    n = (size_t)mk_data(F, sizeof F, KDCOM_TYPE_STATE_MANIPULATE, INIT + 1,
                        big, sizeof big);
    lc_feed(11, F, n, chunk);
    assert_int_equal(lc_stats()->bad_short, 5);
    assert_int_equal(kdcom_expect_header(&L, 0), KDCOM_OK);
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT + 1, "");
    lc_feed(12, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 3);
    assert_int_equal(lc_stats()->bad_short, 5);
    lc_out();
    assert_int_equal(lc_count_out(KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESEND),
                     2);
    /* Bad checksums are refused as before, whatever the length. */
    assert_int_equal(lc_stats()->bad_checksum, 0);
}

static void test_short_packet_resend(void **state)
{
    (void)state;
    run_chunks(sc_short);
}

/* kdcom_feed() stops after a delivered packet until its event is taken;
 * the payload stays valid until then. */
static void test_feed_pauses_on_packet(void **state)
{
    size_t n, a;
    int k;
    struct kdcom_event ev;

    (void)state;
    lc_init(T, 0);
    a = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT, "first");
    n = a + lc_data(F + a, KDCOM_TYPE_STATE_MANIPULATE, INIT + 1, "second");
    k = kdcom_feed(&L, 0, F, n);
    assert_int_equal(k, (int)a);
    assert_int_equal(kdcom_feed(&L, 0, F + a, n - a), 0);
    assert_int_equal(kdcom_next_event(&L, &ev), KDCOM_EV_PACKET);
    assert_int_equal(ev.len, 5);
    assert_memory_equal(ev.payload, "first", 5);
    assert_int_equal(kdcom_feed(&L, 0, F + a, n - a), (int)(n - a));
    assert_int_equal(kdcom_next_event(&L, &ev), KDCOM_EV_PACKET);
    assert_memory_equal(ev.payload, "second", 6);
    assert_int_equal(kdcom_next_event(&L, &ev), KDCOM_EV_NONE);
    assert_int_equal(ev.kind, KDCOM_EV_NONE);
    assert_null(ev.payload);
}

/* KDCOM_CFG_HOLD_PACKETS: a delivered packet stays valid until
 * kdcom_packet_done(); meanwhile a stray '0', control packets and
 * break-ins are still taken, and the feed stops at the next data packet's
 * leader, whatever the split of the input. */
static void hold_scenario(size_t chunk)
{
    size_t a, b, n, used = 0, have;
    struct kdcom_event ev;
    int k;

    lc_init(T, KDCOM_CFG_HOLD_PACKETS);
    a = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT, "first");
    F[a] = KDCOM_LEADER_BYTE_DATA; /* noise that is no leader */
    F[a + 1] = KDCOM_BREAKIN_BYTE;
    b = a + 2 + lc_ctl(F + a + 2, KDCOM_TYPE_RESEND, 0);
    n = b + lc_data(F + b, KDCOM_TYPE_STATE_MANIPULATE, INIT + 1, "second");
    assert_int_equal(kdcom_packet_held(&L), 0);
    assert_int_equal(kdcom_packet_done(&L), KDCOM_ERR_NO_PACKET);
    /* Bytes arrive `chunk` at a time; what the link leaves is offered
     * again with the next ones, as a caller keeps them. */
    for (have = 0; have < n || used < have;) {
        have = chunk == 0 || chunk > n - have ? n : have + chunk;
        k = kdcom_feed(&L, 0, F + used, have - used);
        assert_true(k >= 0);
        used += (size_t)k;
        if (k == 0 && have == n)
            break;
    }
    assert_int_equal(used, b);
    assert_int_equal(kdcom_packet_held(&L), 2);
    assert_int_equal(kdcom_next_event(&L, &ev), KDCOM_EV_PACKET);
    assert_memory_equal(ev.payload, "first", 5);
    assert_int_equal(kdcom_next_event(&L, &ev), KDCOM_EV_BREAKIN);
    assert_int_equal(kdcom_next_event(&L, &ev), KDCOM_EV_RESEND);
    assert_int_equal(kdcom_packet_done(&L), KDCOM_OK);
    assert_int_equal(kdcom_packet_held(&L), 0);
    assert_int_equal(kdcom_packet_done(&L), KDCOM_ERR_NO_PACKET);
    assert_int_equal(kdcom_feed(&L, 0, F + b, n - b), (int)(n - b));
    assert_int_equal(kdcom_packet_held(&L), 1);
    assert_int_equal(kdcom_next_event(&L, &ev), KDCOM_EV_PACKET);
    assert_memory_equal(ev.payload, "second", 6);
    assert_int_equal(kdcom_packet_held(&L), 1);
    assert_int_equal(kdcom_packet_done(&L), KDCOM_OK);
    assert_int_equal(lc_stats()->noise_bytes, 1);
    assert_int_equal(lc_stats()->packets_received, 2);
}

static void test_hold_packets(void **state)
{
    (void)state;
    run_chunks(hold_scenario);
}

/* A long run of packets with nobody draining: the feed pauses before the
 * control queue overflows, and nothing is lost once drained. */
static void test_feed_pauses_when_queue_full(void **state)
{
    static const uint32_t first[] = {
        0x80800000u, /* new: ACK 0x80800000 */
        0x80800800u, /* SYNC masked, a duplicate: ACK 0x80800800 */
        0x00001000u, /* not a valid id: RESEND */
        0x80800001u, /* new: ACK 0x80800001; four different answers queued */
    };
    size_t n = 0, i, used = 0;

    (void)state;
    lc_init(T, 0);
    /* Identical control packets coalesce, so the first four packets get
     * four different answers; sixteen duplicates follow. */
    for (i = 0; i < 20; i++) {
        uint32_t id = i < 4 ? first[i] : (i & 1) ? 0x80800001u : 0x80800801u;

        n += lc_data(F + n, KDCOM_TYPE_STATE_MANIPULATE, id, "x");
    }
    /* Nobody drains: after a few answers queued the feed stops. */
    while (used < n) {
        int k = kdcom_feed(&L, 0, F + used, n - used);
        assert_true(k >= 0);
        lc_events();
        if (k == 0)
            break;
        used += (size_t)k;
    }
    assert_true(used < n);
    assert_int_equal(lc_stats()->packets_received, 2);
    lc_drain(0, 0);
    lc_out();
    assert_int_equal(OUT.n, 4);
    lc_feed(0, F + used, n - used, 0);
    assert_int_equal(lc_stats()->packets_received, 2);
    assert_int_equal(lc_stats()->duplicates, 17);
    assert_int_equal(lc_stats()->bad_id, 1);
    assert_int_equal(lc_stats()->resends_sent, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_ids),
        cmocka_unit_test(test_sync_cleared_after_first_ack),
        cmocka_unit_test(test_ack_masked_and_unmasked),
        cmocka_unit_test(test_stale_and_other_id_ack_ignored),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_reset_drops_rest_of_write),
        cmocka_unit_test(test_reset_storm_one_write),
        cmocka_unit_test(test_reset_storm_separate_writes),
        cmocka_unit_test(test_resend_mid_send),
        cmocka_unit_test(test_lost_ack_then_duplicate),
        cmocka_unit_test(test_implicit_ack),
        cmocka_unit_test(test_bad_packets_resend),
        cmocka_unit_test(test_noise_and_partial_leaders),
        cmocka_unit_test(test_breakin_sticky),
        cmocka_unit_test(test_retries_exhausted_and_cancel),
        cmocka_unit_test(test_unknown_control_ignored),
        cmocka_unit_test(test_byte_timeout_resend),
        cmocka_unit_test(test_deadlines_and_tick),
        cmocka_unit_test(test_drain_caps_never_interleave),
        cmocka_unit_test(test_bad_type_resend),
        cmocka_unit_test(test_bad_id_resend),
        cmocka_unit_test(test_short_packet_resend),
        cmocka_unit_test(test_feed_pauses_on_packet),
        cmocka_unit_test(test_feed_pauses_when_queue_full),
        cmocka_unit_test(test_hold_packets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
