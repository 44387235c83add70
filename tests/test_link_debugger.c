/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_link_debugger.c - conformance of the DEBUGGER role: one test per
 * behaviour of PROTOCOL-FACTS §7 that applies to a debugger (and the
 * "both" rows), through the public API only.
 *
 * Every scenario that feeds bytes runs with the input fed whole and in
 * every chunk size 1..CHUNK_MAX: nothing a DEBUGGER does depends on the
 * split (unlike a TARGET, it never drops the rest of a write).
 */
#include "test_link_common.h"

#define DBG KDCOM_ROLE_DEBUGGER

/* A debugger that has completed its handshake at time `now`. */
static void synced_debugger(uint32_t flags, size_t chunk)
{
    size_t n;

    lc_init(DBG, flags);
    lc_drain(0, chunk);
    lc_out();
    n = lc_ctl(F, KDCOM_TYPE_RESET, 0);
    lc_feed(1, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_SYNCED), 1);
    lc_out();
    E.n = 0;
}

static void debugger_synced(size_t chunk)
{
    synced_debugger(0, chunk);
}

/* For the scenarios both roles share (test_link_common.h): a DEBUGGER
 * synchronised at time 1 takes the target's state changes; it numbers its
 * first packet INITIAL (no SYNC on a debugger). */
static const struct lc_role ROLE = {debugger_synced, 1,
                                    KDCOM_TYPE_STATE_CHANGE64, INIT};

/* §7: ids start at INITIAL; the first drain starts the handshake; no data
 * before it completes. */
static void test_initial_state(void **state)
{
    (void)state;
    lc_init(DBG, 0);
    assert_int_equal(kdcom_tx_id(&L), INIT);
    assert_int_equal(kdcom_is_synced(&L), 0);
    assert_int_equal(kdcom_can_send(&L), 1);
    /* The handshake starts with the first drain or tick: due now. */
    assert_int_equal(kdcom_next_deadline(&L), 0);
    /* The RESET a drain at the latest time seen (0) would write counts. */
    assert_int_equal(kdcom_want_write(&L), 1);
    assert_int_equal(kdcom_tick(&L, 0), KDCOM_OK);
    assert_int_equal(kdcom_want_write(&L), 1);
    lc_send(0, KDCOM_TYPE_STATE_MANIPULATE, "get version");
    assert_int_equal(kdcom_can_send(&L), 0);
    lc_drain(0, 0);
    lc_out();
    assert_int_equal(OUT.n, 1);
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESET, 0);
    assert_int_equal(kdcom_want_write(&L), 0); /* data held back */
    assert_int_equal(kdcom_next_deadline(&L), 1000);

    /* KDCOM_CFG_BREAKIN_ON_SYNC: 'b' first, like radare2 and windbg -b. */
    lc_init(DBG, KDCOM_CFG_BREAKIN_ON_SYNC);
    lc_drain(0, 1);
    lc_out();
    assert_int_equal(OUT.n, 2);
    assert_int_equal(OUT.item[0].kind, KDCOM_FRAME_BREAKIN);
    lc_expect(1, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESET, 0);
    assert_int_equal(lc_stats()->breakins_sent, 1);
}

/* §2/§7: RESET repeated every reset_interval until one comes back, then
 * SYNCED, the held packet goes out, and no RESET after that. */
static void sc_reset_repeat(size_t chunk)
{
    size_t n;
    uint64_t t;

    lc_init(DBG, KDCOM_CFG_BREAKIN_ON_SYNC);
    lc_send(0, KDCOM_TYPE_STATE_MANIPULATE, "request");
    for (t = 0; t <= 3500; t += 250)
        lc_drain(t, chunk);
    lc_out();
    /* 'b' once, RESET at 0, 1000, 2000, 3000. */
    assert_int_equal(OUT.n, 5);
    assert_int_equal(OUT.item[0].kind, KDCOM_FRAME_BREAKIN);
    assert_int_equal(lc_count_out(KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESET), 4);
    assert_int_equal(kdcom_next_deadline(&L), 4000);
    /* Another RESET is queued by the timer but not written yet when the
     * echo arrives: it is not sent (it would only reset the target again). */
    assert_int_equal(kdcom_tick(&L, 4000), KDCOM_OK);
    n = lc_ctl(F, KDCOM_TYPE_RESET, 0x0005F863u); /* any id */
    assert_int_equal(feed_chunked(&L, 4001, F, n, chunk, 0, &E), (long)n);
    lc_drain(4001, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_SYNCED), 1);
    assert_int_equal(kdcom_is_synced(&L), 1);
    lc_out();
    assert_int_equal(OUT.n, 1);
    lc_expect(0, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE, INIT);
    assert_int_equal(lc_stats()->syncs, 1);
    assert_int_equal(lc_stats()->resets_sent, 4);
    assert_int_equal(lc_stats()->breakins_sent, 1);
    /* Quiet from now on, apart from the ACK timer of the request. */
    lc_drain(4500, chunk);
    lc_out();
    assert_int_equal(OUT.n, 0);
    assert_int_equal(lc_stats()->resets_sent, 4);
}

static void test_reset_repeated_until_echoed(void **state)
{
    (void)state;
    run_chunks(sc_reset_repeat);
}

/* §7: every accepted data packet is ACKed with id & ~SYNC. */
static void sc_ack_masked(size_t chunk)
{
    size_t n;

    synced_debugger(0, chunk);
    n = lc_data(F, KDCOM_TYPE_STATE_CHANGE64, INIT | SYNC, "sc");
    lc_feed(2, F, n, chunk);
    n = lc_data(F, KDCOM_TYPE_DEBUG_IO, INIT + 1, "print");
    lc_feed(3, F, n, chunk);
    lc_out();
    assert_int_equal(OUT.n, 2);
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    lc_expect(1, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, INIT + 1);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 2);
    assert_int_equal(lc_ev(KDCOM_EV_PACKET, 0)->id, INIT | SYNC);
}

static void test_acks_with_sync_masked(void **state)
{
    (void)state;
    run_chunks(sc_ack_masked);
}

/* §7: data before the handshake is dropped without an ACK (the target
 * resends it after the RESET); nothing is asked to be resent either. */
static void sc_drop_unsynced(size_t chunk)
{
    size_t n;

    lc_init(DBG, 0);
    lc_drain(0, chunk);
    lc_out();
    n = lc_data(F, KDCOM_TYPE_STATE_CHANGE64, INIT | SYNC, "early");
    lc_feed(1, F, n, chunk);
    n = lc_data(F, KDCOM_TYPE_STATE_CHANGE64, INIT | SYNC, "broken");
    F[20] ^= 1;
    lc_feed(2, F, n, chunk);
    lc_out();
    assert_int_equal(OUT.n, 0);
    assert_int_equal(E.n, 0);
    assert_int_equal(lc_stats()->dropped_unsynced, 1);
    assert_int_equal(lc_stats()->bad_checksum, 1);
    assert_int_equal(lc_stats()->resends_sent, 0);
    /* A RESEND or an ACK from the target means nothing yet either. */
    n = lc_ctl(F, KDCOM_TYPE_RESEND, 0);
    n += lc_ctl(F + n, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    lc_feed(3, F, n, chunk);
    assert_int_equal(E.n, 0);
    assert_int_equal(lc_stats()->acks_ignored, 1);
}

static void test_drops_data_before_sync(void **state)
{
    (void)state;
    run_chunks(sc_drop_unsynced);
}

/* §7: the target's id is tracked (SYNC masked) to drop duplicates; a
 * packet under INITIAL|SYNC re-bases the expectation (the target gave up
 * and numbers afresh), unless it repeats the packet taken last. */
static void sc_duplicates(size_t chunk)
{
    size_t n, m;

    synced_debugger(0, chunk);
    n = lc_data(F, KDCOM_TYPE_STATE_CHANGE64, INIT, "sc");
    lc_feed(2, F, n, chunk);
    lc_feed(3, F, n, chunk); /* our ACK was lost */
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    assert_int_equal(lc_stats()->duplicates, 1);
    n = lc_data(F, KDCOM_TYPE_DEBUG_IO, INIT + 1, "one");
    lc_feed(4, F, n, chunk);
    lc_feed(5, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 2);
    assert_int_equal(lc_stats()->duplicates, 2);
    lc_out();
    assert_int_equal(OUT.n, 4); /* every copy ACKed */
    assert_int_equal(lc_count_out(KDCOM_FRAME_CONTROL,
                                  KDCOM_TYPE_ACKNOWLEDGE),
                     4);
    /* Expected next: INIT.  An INIT+1 now is an old one. */
    lc_feed(6, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 2);
    /* The target gave up and starts over with SYNC: a new packet. */
    m = lc_data(F, KDCOM_TYPE_DEBUG_IO, INIT | SYNC, "after give-up");
    lc_feed(7, F, m, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 3);
    /* ... its retransmission is not. */
    lc_feed(8, F, m, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 3);
    /* Re-based: INIT+1 is next. */
    n = lc_data(F, KDCOM_TYPE_DEBUG_IO, INIT + 1, "two");
    lc_feed(9, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 4);
    assert_int_equal(lc_stats()->duplicates, 4);
    lc_out();
    lc_expect(1, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, INIT);
}

static void test_duplicate_filtering(void **state)
{
    (void)state;
    run_chunks(sc_duplicates);
}

/* KDCOM_CFG_REPORT_RESTARTS: a new packet under INITIAL|SYNC is announced
 * before it is delivered, with nothing outstanding (our next packet goes
 * out under INITIAL) or with our packet outstanding (it keeps its id);
 * its retransmission and the packets that follow are not. */
static void sc_peer_restarted(size_t chunk)
{
    size_t n;

    synced_debugger(KDCOM_CFG_REPORT_RESTARTS, chunk);
    n = lc_data(F, KDCOM_TYPE_DEBUG_IO, INIT, "zero");
    lc_feed(1, F, n, chunk);
    n = lc_data(F, KDCOM_TYPE_DEBUG_IO, INIT | SYNC, "after give-up");
    lc_feed(2, F, n, chunk);
    lc_feed(3, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PEER_RESTARTED), 1);
    assert_int_equal(lc_ev(KDCOM_EV_PEER_RESTARTED, 0)->id, INIT | SYNC);
    assert_int_equal(lc_ev(KDCOM_EV_PEER_RESTARTED, 0)->type,
                     KDCOM_TYPE_DEBUG_IO);
    assert_true(ev_find(&E, KDCOM_EV_PEER_RESTARTED, 0) <
                ev_find(&E, KDCOM_EV_PACKET, 1));
    assert_int_equal(kdcom_tx_id(&L), INIT);
    lc_send(4, KDCOM_TYPE_STATE_MANIPULATE, "request");
    lc_drain(4, 0);
    n = lc_data(F, KDCOM_TYPE_DEBUG_IO, INIT + 1, "one");
    lc_feed(5, F, n, chunk);
    n = lc_data(F, KDCOM_TYPE_DEBUG_IO, INIT | SYNC, "again");
    lc_feed(6, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PEER_RESTARTED), 2);
    assert_int_equal(kdcom_can_send(&L), 0);
    assert_int_equal(kdcom_tx_id(&L), INIT); /* kept */
}

static void test_peer_restarted(void **state)
{
    (void)state;
    run_chunks(sc_peer_restarted);
}

/* A TARGET that gave up (its DbgPrint went unacknowledged, the debugger
 * presumed gone) numbers afresh: send id INITIAL|SYNC, receive id INITIAL.
 * When its next packet, under INITIAL|SYNC, reaches a debugger that was
 * there all along, the debugger re-bases both directions: the request it
 * sends next must carry INITIAL, or the target takes it for a duplicate,
 * ACKs it and drops it, and the debugger waits for an answer for ever. */
static void sc_target_gave_up(size_t chunk)
{
    static struct kdcom_link tgt;
    static struct ev_log te;
    struct kdcom_config cfg;
    size_t n;
    long i;

    kdcom_config_init(&cfg, KDCOM_ROLE_TARGET);
    assert_int_equal(kdcom_link_init(&tgt, &cfg), KDCOM_OK);
    ev_log_init(&te);
    synced_debugger(0, chunk);
    /* Handshake on the target side too (RESET echoed), then one request
     * each way so that both send ids sit at INITIAL+1. */
    n = lc_ctl(F, KDCOM_TYPE_RESET, 0);
    assert_int_equal(feed_chunked(&tgt, 1, F, n, chunk, 1, &te), (long)n);
    te.out_len = 0;
    assert_int_equal(kdcom_send(&tgt, 2, KDCOM_TYPE_STATE_CHANGE64,
                                (const uint8_t *)"sc", 2, NULL, 0),
                     KDCOM_OK);
    assert_true(shuttle(&tgt, &te, &L, &E, 2, 0, chunk, 10) > 0);
    lc_send(3, KDCOM_TYPE_STATE_MANIPULATE, "continue");
    assert_true(shuttle(&tgt, &te, &L, &E, 3, 0, chunk, 10) > 0);
    assert_int_equal(kdcom_tx_id(&L), INIT + 1);
    assert_int_equal(kdcom_tx_id(&tgt), INIT + 1);
    /* The target prints; every ACK is lost; it gives up. */
    assert_int_equal(kdcom_send(&tgt, 4, KDCOM_TYPE_DEBUG_IO,
                                (const uint8_t *)"print", 5, NULL, 0),
                     KDCOM_OK);
    assert_true(drain_all(&tgt, 4, 0, &te) > 0);
    assert_int_equal(feed_chunked(&L, 4, te.out, te.out_len, chunk, 1, &E),
                     (long)te.out_len);
    te.out_len = 0;
    E.out_len = 0; /* the debugger's ACK never arrives */
    assert_int_equal(kdcom_cancel_send(&tgt), KDCOM_OK);
    assert_int_equal(kdcom_tx_id(&tgt), INIT | SYNC);
    /* It stops on a breakpoint: state change under INITIAL|SYNC. */
    assert_int_equal(kdcom_send(&tgt, 5, KDCOM_TYPE_STATE_CHANGE64,
                                (const uint8_t *)"breakpoint", 10, NULL, 0),
                     KDCOM_OK);
    assert_true(shuttle(&tgt, &te, &L, &E, 5, 0, chunk, 10) > 0);
    i = ev_find(&E, KDCOM_EV_PACKET, 2);
    assert_true(i >= 0);
    assert_int_equal(E.ev[i].id, INIT | SYNC);
    assert_int_equal(kdcom_tx_id(&L), INIT);
    /* The debugger's request reaches the target's upper layer. */
    lc_send(6, KDCOM_TYPE_STATE_MANIPULATE, "read memory");
    ev_log_init(&te);
    assert_true(shuttle(&tgt, &te, &L, &E, 6, 0, chunk, 10) > 0);
    assert_int_equal(ev_count(&te, KDCOM_EV_PACKET), 1);
    assert_int_equal(kdcom_get_stats(&tgt)->duplicates, 0);
}

static void test_target_gave_up(void **state)
{
    (void)state;
    run_chunks(sc_target_gave_up);
}

/* §7 ACK matching for our own packets: SYNC masked, other ids ignored. */
static void sc_ack_matching(size_t chunk)
{
    size_t n;

    synced_debugger(0, chunk);
    lc_send(2, KDCOM_TYPE_STATE_MANIPULATE, "get version");
    lc_drain(2, chunk);
    lc_out();
    lc_expect(0, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE, INIT);
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT + 1); /* other id */
    lc_feed(3, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 0);
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT | SYNC); /* unmasked */
    lc_feed(4, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 1);
    assert_int_equal(lc_ev(KDCOM_EV_ACKED, 0)->id, INIT);
    assert_int_equal(kdcom_tx_id(&L), INIT + 1);
    lc_send(5, KDCOM_TYPE_STATE_MANIPULATE, "read memory");
    lc_drain(5, chunk);
    lc_out();
    lc_expect(0, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE, INIT + 1);
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT); /* stale */
    n += lc_ctl(F + n, KDCOM_TYPE_ACKNOWLEDGE, INIT + 1);
    lc_feed(6, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 2);
    assert_int_equal(lc_stats()->acks_ignored, 2);
}

static void test_ack_matching(void **state)
{
    (void)state;
    run_chunks(sc_ack_matching);
}

static void test_resend(void **state)
{
    (void)state;
    run_role_chunks(&ROLE, lc_resend);
}

/* §7: retransmit on ACK timeout, RETRIES_EXHAUSTED after retry_limit, the
 * packet stays outstanding; a debugger that cancels keeps its numbering. */
static void test_ack_timeout_and_retries(void **state)
{
    struct kdcom_config cfg;
    uint64_t now;
    size_t n;

    (void)state;
    kdcom_config_init(&cfg, DBG);
    cfg.flags = KDCOM_CFG_PASSIVE;
    cfg.ack_timeout_ms = 50;
    cfg.retry_limit = 2;
    lc_init_cfg(&cfg);
    lc_send(0, KDCOM_TYPE_STATE_MANIPULATE, "continue");
    lc_drain(0, 0);
    for (now = 50; now <= 200; now += 50)
        lc_drain(now, 0);
    lc_out();
    assert_int_equal(OUT.n, 5);
    assert_int_equal(lc_stats()->ack_timeouts, 4);
    assert_int_equal(ev_count(&E, KDCOM_EV_RETRIES_EXHAUSTED), 2);
    assert_int_equal(kdcom_can_send(&L), 0);
    assert_int_equal(kdcom_cancel_send(&L), KDCOM_OK);
    assert_int_equal(kdcom_tx_id(&L), INIT); /* no SYNC on a debugger */
    assert_int_equal(kdcom_is_synced(&L), 1);
    /* A late ACK matches nothing now. */
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    lc_feed(300, F, n, 0);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 0);
    assert_int_equal(lc_stats()->acks_ignored, 1);
}

/* A RESET echo that arrives when the handshake is already complete (a
 * late or doubled answer to one of our RESETs): reported, our numbering
 * back to INITIAL with the outstanding packet resent, and the target's
 * retransmission of the packet we took last is not delivered again. */
static void sc_reset_while_synced(size_t chunk)
{
    size_t n, r;

    synced_debugger(0, chunk);
    n = lc_data(F, KDCOM_TYPE_STATE_CHANGE64, INIT, "load symbols");
    lc_feed(2, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    lc_send(2, KDCOM_TYPE_STATE_MANIPULATE, "get version");
    lc_drain(2, chunk);
    lc_out();
    r = lc_ctl(F + n, KDCOM_TYPE_RESET, 0);
    lc_feed(3, F + n, r, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_RESET), 1);
    assert_int_equal(ev_count(&E, KDCOM_EV_SYNCED), 0);
    lc_feed(3, F, n, chunk); /* the target's retransmission */
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    assert_int_equal(lc_stats()->duplicates, 1);
    lc_out();
    /* No RESET back (a debugger never echoes), our request again under
     * INITIAL, and the duplicate ACKed. */
    assert_int_equal(lc_count_out(KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESET), 0);
    assert_int_equal(lc_count_out(KDCOM_FRAME_DATA, 0), 1);
    assert_int_equal(lc_count_out(KDCOM_FRAME_CONTROL,
                                  KDCOM_TYPE_ACKNOWLEDGE),
                     1);
    /* A genuinely new packet under INITIAL+1 is delivered. */
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT + 1, "version");
    lc_feed(4, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 2);
    /* The packet taken last (under INITIAL+1) comes back under INITIAL
     * after another late echo: still a duplicate. */
    lc_feed(5, F + 200, lc_ctl(F + 200, KDCOM_TYPE_RESET, 0), chunk);
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT, "version");
    lc_feed(5, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 2);
    /* A different packet under INITIAL is new. */
    n = lc_data(F, KDCOM_TYPE_DEBUG_IO, INIT, "new after reset");
    lc_feed(6, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 3);
    assert_int_equal(ev_count(&E, KDCOM_EV_RESET), 2);
}

static void test_reset_while_synced(void **state)
{
    (void)state;
    run_chunks(sc_reset_while_synced);
}

/* SYNC with bit 0 set follows no give-up (a give-up numbers from
 * INITIAL|SYNC, and the first ACK clears SYNC as it toggles the id): a
 * damaged header, or a target clearing the wrong bit.  The numbering goes
 * on with SYNC masked; the send id is left alone. */
static void sc_sync_on_odd_id(size_t chunk)
{
    size_t n;

    synced_debugger(0, chunk);
    n = lc_data(F, KDCOM_TYPE_STATE_CHANGE64, INIT, "state change");
    lc_feed(2, F, n, chunk);
    lc_send(2, KDCOM_TYPE_STATE_MANIPULATE, "get version");
    lc_drain(2, chunk);
    lc_feed(2, F, lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT), chunk);
    assert_int_equal(kdcom_tx_id(&L), INIT + 1);
    /* The answer, its SYNC bit damaged: new (INIT + 1 was expected). */
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, (INIT + 1) | SYNC, "answer");
    lc_feed(3, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 2);
    assert_int_equal(kdcom_tx_id(&L), INIT + 1); /* no re-base */
    lc_out();
    lc_expect(OUT.n - 1, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, INIT + 1);
    /* Again: now a duplicate. */
    lc_feed(4, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 2);
    assert_int_equal(lc_stats()->duplicates, 1);
    /* INITIAL|SYNC still re-bases (a give-up): new, and our next packet
     * goes out under INITIAL. */
    n = lc_data(F, KDCOM_TYPE_STATE_CHANGE64, INIT | SYNC, "after give-up");
    lc_feed(5, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 3);
    assert_int_equal(kdcom_tx_id(&L), INIT);
}

static void test_sync_on_odd_id(void **state)
{
    (void)state;
    run_chunks(sc_sync_on_odd_id);
}

/* A RESET that carries a packet id reaching a synced debugger: targets
 * echo with id 0 or stack garbage, while an ACK is one bit flip from a
 * RESET.  It is ignored and counted; numbering and the outstanding packet
 * stay as they were, and the ACK it replaced is made up for by the
 * retransmission (docs/protocol.md 6.3). */
static void sc_reset_with_packet_id(size_t chunk)
{
    static const uint32_t ids[] = {INIT, INIT + 1, INIT | KDCOM_SYNC_BIT,
                                   (INIT + 1) | KDCOM_SYNC_BIT};
    size_t n, i;

    synced_debugger(0, chunk);
    n = lc_data(F, KDCOM_TYPE_STATE_CHANGE64, INIT, "state change");
    lc_feed(2, F, n, chunk);
    lc_send(2, KDCOM_TYPE_STATE_MANIPULATE, "get version");
    lc_drain(2, chunk);
    lc_out();
    for (i = 0; i < sizeof ids / sizeof ids[0]; i++)
        lc_feed(3, F + n, lc_ctl(F + n, KDCOM_TYPE_RESET, ids[i]), chunk);
    assert_int_equal(lc_stats()->resets_received, 1 + 4); /* + handshake */
    assert_int_equal(lc_stats()->resets_ignored, 4);
    assert_int_equal(ev_count(&E, KDCOM_EV_RESET), 0);
    lc_drain(3, chunk);
    lc_out();
    assert_int_equal(OUT.n, 0); /* nothing retransmitted, nothing echoed */
    /* The request is still outstanding under INITIAL: its ACK completes
     * it, and the target's next packet (INITIAL + 1) is new. */
    lc_feed(4, F + n, lc_ctl(F + n, KDCOM_TYPE_ACKNOWLEDGE, INIT), chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_ACKED), 1);
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT + 1, "version");
    lc_feed(4, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 2);
    /* An echo with id 0 or garbage is obeyed, as before. */
    lc_feed(5, F + n, lc_ctl(F + n, KDCOM_TYPE_RESET, 0x0005f863u), chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_RESET), 1);
    assert_int_equal(lc_stats()->resets_ignored, 4);
}

static void test_reset_with_packet_id_ignored(void **state)
{
    (void)state;
    run_chunks(sc_reset_with_packet_id);
}

/* Bad ids (lc_bad_id), then the expectation did not move. */
static void sc_bad_id(size_t chunk)
{
    uint64_t t = lc_bad_id(&ROLE, chunk);
    size_t n;

    n = lc_data(F, KDCOM_TYPE_STATE_CHANGE64, INIT | KDCOM_SYNC_BIT, "ok");
    lc_feed(t + 1, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
}

static void test_bad_id_resend(void **state)
{
    (void)state;
    run_chunks(sc_bad_id);
}

static void test_bad_packets_resend(void **state)
{
    (void)state;
    run_role_chunks(&ROLE, lc_bad_packets);
}

static void test_bad_type_resend(void **state)
{
    (void)state;
    run_role_chunks(&ROLE, lc_bad_type);
}

/* "both": noise and partial leaders skipped and counted; a 'b' reaching a
 * debugger is noise. */
static void sc_noise(size_t chunk)
{
    size_t n;

    synced_debugger(0, chunk);
    n = (size_t)util_hex("00 13 30 30 69 69 69 62 01", F, 16);
    n += lc_data(F + n, KDCOM_TYPE_DEBUG_IO, INIT, "after noise");
    lc_feed(2, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    assert_int_equal(ev_count(&E, KDCOM_EV_BREAKIN), 0);
    assert_int_equal(lc_stats()->noise_bytes, 9);
    assert_int_equal(lc_stats()->partial_leaders, 2);
    assert_int_equal(lc_stats()->breakins_received, 0);
    lc_out();
    assert_int_equal(OUT.n, 1);
}

static void test_noise_and_partial_leaders(void **state)
{
    (void)state;
    run_chunks(sc_noise);
}

/* §7: a break-in request goes out between frames, never inside one. */
static void test_breakin_request(void **state)
{
    static char big[1001];
    size_t cap;

    (void)state;
    memset(big, 'b', 1000);
    for (cap = 1; cap <= 1100; cap += (cap < 40 ? 1 : 37)) {
        uint8_t part[1100];
        int k;

        synced_debugger(0, 0);
        lc_send(2, KDCOM_TYPE_STATE_MANIPULATE, big);
        k = kdcom_drain(&L, 2, part, cap);
        assert_true(k > 0);
        memcpy(E.out, part, (size_t)k);
        E.out_len = (size_t)k;
        assert_int_equal(kdcom_send_breakin(&L), KDCOM_OK);
        lc_drain(2, cap);
        lc_out();
        assert_int_equal(OUT.n, 2);
        assert_int_equal(OUT.item[0].kind, KDCOM_FRAME_DATA);
        assert_int_equal(OUT.item[1].kind, KDCOM_FRAME_BREAKIN);
        assert_int_equal(lc_stats()->breakins_sent, 1);
    }
    /* Before the handshake too (it goes ahead of the RESET). */
    lc_init(DBG, 0);
    assert_int_equal(kdcom_send_breakin(&L), KDCOM_OK);
    lc_drain(0, 0);
    lc_out();
    assert_int_equal(OUT.item[0].kind, KDCOM_FRAME_BREAKIN);
}

/* Ctrl+R: kdcom_resync() starts a new handshake; the outstanding packet
 * waits and then goes out under INITIAL. */
static void sc_resync(size_t chunk)
{
    size_t n;

    synced_debugger(KDCOM_CFG_BREAKIN_ON_SYNC, chunk);
    lc_send(2, KDCOM_TYPE_STATE_MANIPULATE, "first");
    lc_drain(2, chunk);
    lc_out();
    n = lc_ctl(F, KDCOM_TYPE_ACKNOWLEDGE, INIT);
    lc_feed(3, F, n, chunk);
    lc_send(4, KDCOM_TYPE_STATE_MANIPULATE, "second");
    lc_drain(4, chunk);
    lc_out();
    lc_expect(0, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE, INIT + 1);
    assert_int_equal(kdcom_resync(&L, 5), KDCOM_OK);
    assert_int_equal(kdcom_is_synced(&L), 0);
    lc_drain(5, chunk);
    lc_out();
    assert_int_equal(OUT.n, 2);
    assert_int_equal(OUT.item[0].kind, KDCOM_FRAME_BREAKIN);
    lc_expect(1, KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESET, 0);
    /* Data from the target before the echo: dropped. */
    n = lc_data(F, KDCOM_TYPE_DEBUG_IO, INIT, "print");
    lc_feed(6, F, n, chunk);
    assert_int_equal(lc_stats()->dropped_unsynced, 1);
    n = lc_ctl(F, KDCOM_TYPE_RESET, 0);
    lc_feed(7, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_SYNCED), 1);
    lc_out();
    assert_int_equal(OUT.n, 1);
    lc_expect(0, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE, INIT);
    assert_int_equal(OUT.item[0].payload_hash,
                     util_hash((const uint8_t *)"second", 6));
    assert_int_equal(lc_stats()->syncs, 2);
}

static void test_resync(void **state)
{
    (void)state;
    run_chunks(sc_resync);
}

static void sc_unknown_control(size_t chunk)
{
    synced_debugger(0, chunk);
    lc_unknown_control(chunk);
}

static void test_unknown_control_ignored(void **state)
{
    (void)state;
    run_chunks(sc_unknown_control);
}

/* A packet whose bytes stop coming: abandoned after byte_timeout_ms with a
 * RESEND once synced; before the handshake only counted. */
static void sc_byte_timeout(size_t chunk)
{
    lc_init(DBG, 0);
    lc_drain(0, chunk);
    lc_out();
    lc_data(F, KDCOM_TYPE_STATE_CHANGE64, INIT, "cut short");
    lc_feed(10, F, 18, chunk);
    lc_drain(1010, chunk); /* also the RESET repeat */
    lc_out();
    assert_int_equal(lc_count_out(KDCOM_FRAME_CONTROL, KDCOM_TYPE_RESEND), 0);
    assert_int_equal(lc_stats()->rx_stalls, 1);

    /* Once synced, as a TARGET (lc_byte_timeout). */
    lc_byte_timeout(&ROLE, chunk);
}

static void test_byte_timeout_resend(void **state)
{
    (void)state;
    run_chunks(sc_byte_timeout);
}

/* §7: never block forever: a silent target gives deadlines and events,
 * not a hang. */
static void test_silent_peer(void **state)
{
    struct kdcom_config cfg;
    uint64_t now = 0, d;
    int steps = 0;

    (void)state;
    kdcom_config_init(&cfg, DBG);
    cfg.retry_limit = 3;
    lc_init_cfg(&cfg);
    /* Unsynced: RESET after RESET, each deadline one interval later. */
    while (steps++ < 10) {
        lc_drain(now, 0);
        d = kdcom_next_deadline(&L);
        assert_int_equal(d, now + 1000);
        now = d;
    }
    lc_out();
    assert_int_equal(OUT.n, 10);
    /* Synced with a request nobody answers: timeouts and a report. */
    synced_debugger(0, 0);
    lc_init_cfg(&cfg);
    lc_drain(0, 0);
    lc_feed(0, F, lc_ctl(F, KDCOM_TYPE_RESET, 0), 0);
    lc_send(0, KDCOM_TYPE_STATE_MANIPULATE, "anyone?");
    for (now = 0, steps = 0; steps < 10; steps++) {
        lc_drain(now, 0);
        d = kdcom_next_deadline(&L);
        assert_true(d > now && d != UINT64_MAX);
        now = d;
    }
    assert_true(ev_count(&E, KDCOM_EV_RETRIES_EXHAUSTED) >= 2);
}

/* KDCOM_CFG_PASSIVE: synced from the start, no RESET, any first id. */
static void sc_passive(size_t chunk)
{
    size_t n;

    lc_init(DBG, KDCOM_CFG_PASSIVE);
    assert_int_equal(kdcom_is_synced(&L), 1);
    assert_int_equal(kdcom_next_deadline(&L), UINT64_MAX);
    lc_drain(0, chunk);
    lc_out();
    assert_int_equal(OUT.n, 0);
    n = lc_data(F, KDCOM_TYPE_STATE_MANIPULATE, INIT + 1, "mid-stream");
    lc_feed(1, F, n, chunk);
    assert_int_equal(ev_count(&E, KDCOM_EV_PACKET), 1);
    lc_send(2, KDCOM_TYPE_STATE_MANIPULATE, "req");
    lc_drain(2, chunk);
    lc_out();
    assert_int_equal(OUT.n, 2);
    lc_expect(0, KDCOM_FRAME_CONTROL, KDCOM_TYPE_ACKNOWLEDGE, INIT + 1);
    lc_expect(1, KDCOM_FRAME_DATA, KDCOM_TYPE_STATE_MANIPULATE, INIT);
}

static void test_passive(void **state)
{
    (void)state;
    run_chunks(sc_passive);
}

static void debugger_ready(void)
{
    synced_debugger(0, 0);
}

/* A break-in queued meanwhile goes out between frames too. */
static void test_drain_caps_never_interleave(void **state)
{
    const struct lc_drain_case c = {debugger_ready, INIT, INIT, INIT + 1,
                                    INIT, INIT + 1, 1};

    (void)state;
    lc_drain_caps_never_interleave(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_state),
        cmocka_unit_test(test_reset_repeated_until_echoed),
        cmocka_unit_test(test_acks_with_sync_masked),
        cmocka_unit_test(test_drops_data_before_sync),
        cmocka_unit_test(test_duplicate_filtering),
        cmocka_unit_test(test_target_gave_up),
        cmocka_unit_test(test_ack_matching),
        cmocka_unit_test(test_resend),
        cmocka_unit_test(test_ack_timeout_and_retries),
        cmocka_unit_test(test_reset_while_synced),
        cmocka_unit_test(test_bad_packets_resend),
        cmocka_unit_test(test_bad_type_resend),
        cmocka_unit_test(test_bad_id_resend),
        cmocka_unit_test(test_reset_with_packet_id_ignored),
        cmocka_unit_test(test_sync_on_odd_id),
        cmocka_unit_test(test_noise_and_partial_leaders),
        cmocka_unit_test(test_breakin_request),
        cmocka_unit_test(test_resync),
        cmocka_unit_test(test_unknown_control_ignored),
        cmocka_unit_test(test_byte_timeout_resend),
        cmocka_unit_test(test_silent_peer),
        cmocka_unit_test(test_passive),
        cmocka_unit_test(test_drain_caps_never_interleave),
        cmocka_unit_test(test_peer_restarted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
