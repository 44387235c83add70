/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_int_tx.c - white-box tests of the transmit state machine
 * (libkdcom/link_tx.c): its transition table against the diagram checked
 * in beside it (libkdcom/link_tx.dot), and properties of the table.
 *
 * The source is included, so its static table is in reach; the rest of
 * the core comes from the test library as usual.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#ifndef KDCOM_DEBUG
#define KDCOM_DEBUG 1
#endif
#include "../libkdcom/link_tx.c"

static const char *const state_name[KDCOM_TX_NSTATES] = {
    "IDLE",    "QUEUED",   "SENDING", "SENDING_AGAIN", "SENDING_STALE",
    "WAIT_ACK", "RESEND", "RENUMBERED", "DRAIN_ONLY",
};

static const char *const event_name[KDCOM_TXE_NEVENTS] = {
    "send", "start", "end", "ack", "cancel", "timeout", "again", "renumber",
};

/* Index of name in names[0..n), or -1. */
static int index_of(const char *const *names, int n, const char *name)
{
    int i;

    for (i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

/* dot[s][e]: the state the diagram says event e leads to from s, or -1. */
static void read_dot(int dot[KDCOM_TX_NSTATES][KDCOM_TXE_NEVENTS])
{
    char line[256];
    FILE *f = fopen(KDCOM_SOURCE_DIR "/link_tx.dot", "r");
    int s, e, edges = 0;

    assert_non_null(f);
    for (s = 0; s < KDCOM_TX_NSTATES; s++)
        for (e = 0; e < KDCOM_TXE_NEVENTS; e++)
            dot[s][e] = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        char from[32], to[32], labels[64], *tok, *save = NULL;
        int fs, ts;

        if (sscanf(line, " %31s -> %31s [label=\"%63[^\"]\"];", from, to,
                   labels) != 3)
            continue;
        fs = index_of(state_name, KDCOM_TX_NSTATES, from);
        ts = index_of(state_name, KDCOM_TX_NSTATES, to);
        if (fs < 0 || ts < 0)
            fail_msg("link_tx.dot: unknown state in \"%s\"", line);
        for (tok = strtok_r(labels, ", ", &save); tok != NULL;
             tok = strtok_r(NULL, ", ", &save)) {
            e = index_of(event_name, KDCOM_TXE_NEVENTS, tok);
            if (e < 0)
                fail_msg("link_tx.dot: unknown event \"%s\"", tok);
            if (dot[fs][e] != -1)
                fail_msg("link_tx.dot: %s has two \"%s\" edges", from, tok);
            dot[fs][e] = ts;
            edges++;
        }
    }
    fclose(f);
    assert_true(edges > 0);
}

static void test_dot_matches_table(void **state)
{
    int dot[KDCOM_TX_NSTATES][KDCOM_TXE_NEVENTS];
    int s, e;

    (void)state;
    read_dot(dot);
    for (s = 0; s < KDCOM_TX_NSTATES; s++) {
        for (e = 0; e < KDCOM_TXE_NEVENTS; e++) {
            int next = tx_next[s][e];
            int want = next == BAD || next == s ? -1 : next;

            if (dot[s][e] != want)
                fail_msg("%s --%s--> table %s, link_tx.dot %s", state_name[s],
                         event_name[e], want < 0 ? "-" : state_name[want],
                         dot[s][e] < 0 ? "-" : state_name[dot[s][e]]);
        }
    }
}

/* Every state is reached from IDLE and leads back to it. */
static void test_every_state_reachable_and_ends(void **state)
{
    int reach[KDCOM_TX_NSTATES] = {0}, back[KDCOM_TX_NSTATES] = {0};
    int changed = 1, s, e;

    (void)state;
    reach[KDCOM_TX_IDLE] = back[KDCOM_TX_IDLE] = 1;
    while (changed) {
        changed = 0;
        for (s = 0; s < KDCOM_TX_NSTATES; s++) {
            for (e = 0; e < KDCOM_TXE_NEVENTS; e++) {
                int n = tx_next[s][e];
                if (n == BAD)
                    continue;
                if (reach[s] && !reach[n])
                    reach[n] = changed = 1;
                if (back[n] && !back[s])
                    back[s] = changed = 1;
            }
        }
    }
    for (s = 0; s < KDCOM_TX_NSTATES; s++) {
        if (!reach[s] || !back[s])
            fail_msg("%s: reached %d, returns %d", state_name[s], reach[s],
                     back[s]);
    }
}

/* The properties agree with the edges: start and send only where the
 * packet is due or idle, end only on the wire, an ACK only where one
 * counts, a cancel only where something is outstanding; on-wire states
 * are entered only by start or stay on the wire. */
static void test_properties_agree(void **state)
{
    int s, e;

    (void)state;
    for (s = 0; s < KDCOM_TX_NSTATES; s++) {
        uint8_t p = tx_props[s];

        assert_int_equal(tx_next[s][KDCOM_TXE_SEND] != BAD,
                         s == KDCOM_TX_IDLE);
        assert_int_equal(tx_next[s][KDCOM_TXE_START] != BAD,
                         (p & DUE) != 0);
        assert_int_equal(tx_next[s][KDCOM_TXE_END] != BAD,
                         (p & ON_WIRE) != 0);
        assert_int_equal(tx_next[s][KDCOM_TXE_ACK] != BAD,
                         (p & ACKABLE) != 0);
        assert_int_equal(tx_next[s][KDCOM_TXE_CANCEL] != BAD,
                         (p & OUTSTANDING) != 0);
        assert_int_equal(tx_next[s][KDCOM_TXE_TIMEOUT] != BAD,
                         s == KDCOM_TX_WAIT_ACK);
        for (e = 0; e < KDCOM_TXE_NEVENTS; e++) {
            int n = tx_next[s][e];
            if (n == BAD || !(tx_props[n] & ON_WIRE))
                continue;
            assert_true(e == KDCOM_TXE_START || (p & ON_WIRE));
        }
        /* Again and renumber may come in any state. */
        assert_int_not_equal(tx_next[s][KDCOM_TXE_AGAIN], BAD);
        assert_int_not_equal(tx_next[s][KDCOM_TXE_RENUMBER], BAD);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dot_matches_table),
        cmocka_unit_test(test_every_state_reachable_and_ends),
        cmocka_unit_test(test_properties_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
