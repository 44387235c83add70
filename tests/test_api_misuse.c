/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_api_misuse.c - every way to call the API wrong gets a distinct,
 * documented error code (and a kdcom_strerror() text): NULL pointers,
 * oversize payloads, bad types, a send while a packet is outstanding,
 * calls that do not exist in a role, uninitialised or overwritten link
 * memory, a closed link, configuration values out of range, and time
 * going backwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "kdcom.h"
#include "util.h"

static struct kdcom_link L;
static uint8_t buf[KDCOM_MAX_FRAME + 1];

static const int all_codes[] = {
    KDCOM_OK,          KDCOM_ERR_INVAL,     KDCOM_ERR_ROLE,
    KDCOM_ERR_TOO_BIG, KDCOM_ERR_BAD_TYPE,  KDCOM_ERR_NOBUFS,
    KDCOM_ERR_CONFIG,  KDCOM_ERR_WRONG_ROLE, KDCOM_ERR_BUSY,
    KDCOM_ERR_NO_PACKET, KDCOM_ERR_NOT_INIT, KDCOM_ERR_CLOSED};
#define NCODES (sizeof all_codes / sizeof all_codes[0])

/* Every entry point of the link API on one link; each must return
 * `want` (or its documented equivalent for functions that cannot return
 * an error code). */
static void all_calls_return(struct kdcom_link *l, int want)
{
    struct kdcom_event ev;
    uint8_t in[4] = {0x62, 0x62, 0x62, 0x62};

    assert_int_equal(kdcom_link_close(l), want);
    assert_int_equal(kdcom_feed(l, 0, in, sizeof in), want);
    assert_int_equal(kdcom_drain(l, 0, buf, sizeof buf), want);
    assert_int_equal(kdcom_want_write(l), want);
    assert_int_equal(kdcom_send(l, 0, 2, in, 4, NULL, 0), want);
    assert_int_equal(kdcom_can_send(l), want);
    assert_int_equal(kdcom_cancel_send(l), want);
    memset(&ev, 0x5a, sizeof ev);
    assert_int_equal(kdcom_next_event(l, &ev), want);
    assert_int_equal(ev.kind, KDCOM_EV_NONE); /* always written */
    assert_null(ev.payload);
    assert_int_equal(kdcom_next_deadline(l), 0);
    assert_int_equal(kdcom_tick(l, 0), want);
    assert_int_equal(kdcom_send_breakin(l), want);
    assert_int_equal(kdcom_resync(l, 0), want);
    assert_int_equal(kdcom_take_breakin(l), want);
    assert_int_equal(kdcom_expect_header(l, 56), want);
    assert_int_equal(kdcom_is_synced(l), want);
}

static void test_null_everywhere(void **state)
{
    struct kdcom_config cfg;
    struct kdcom_event ev;

    (void)state;
    all_calls_return(NULL, KDCOM_ERR_INVAL);
    assert_null(kdcom_get_stats(NULL));
    assert_int_equal(kdcom_tx_id(NULL), 0);
    assert_int_equal(kdcom_link_init(NULL, NULL), KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_config_init(NULL, KDCOM_ROLE_TARGET),
                     KDCOM_ERR_INVAL);

    assert_int_equal(kdcom_config_init(&cfg, KDCOM_ROLE_TARGET), KDCOM_OK);
    assert_int_equal(kdcom_link_init(&L, &cfg), KDCOM_OK);
    assert_int_equal(kdcom_next_event(&L, NULL), KDCOM_ERR_INVAL);
    /* A length without a buffer is an error; no length, no buffer is
     * fine. */
    assert_int_equal(kdcom_feed(&L, 0, NULL, 1), KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_feed(&L, 0, NULL, 0), 0);
    assert_int_equal(kdcom_drain(&L, 0, NULL, 1), KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_drain(&L, 0, NULL, 0), 0);
    assert_int_equal(kdcom_send(&L, 0, 2, NULL, 1, NULL, 0),
                     KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_send(&L, 0, 2, NULL, 0, NULL, 1),
                     KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_send(&L, 0, 2, NULL, 0, NULL, 0), KDCOM_OK);
    assert_int_equal(kdcom_next_event(&L, &ev), KDCOM_EV_NONE);
    /* Nothing above left a mark on the link. */
    assert_int_equal(kdcom_get_stats(&L)->bytes_in, 0);
}

static void test_oversize_and_bad_types(void **state)
{
    static uint8_t big[KDCOM_MAX_PAYLOAD + 1];
    const uint32_t bad[] = {0, 4, 5, 6, 8, 12, 0x10002, 0xffffffffu};
    size_t i;

    (void)state;
    assert_int_equal(kdcom_link_init(&L, NULL), KDCOM_OK);
    assert_int_equal(kdcom_send(&L, 0, 2, big, 4001, NULL, 0),
                     KDCOM_ERR_TOO_BIG);
    assert_int_equal(kdcom_send(&L, 0, 2, big, 2000, big, 2001),
                     KDCOM_ERR_TOO_BIG);
    assert_int_equal(kdcom_send(&L, 0, 2, big, SIZE_MAX, big, 1),
                     KDCOM_ERR_TOO_BIG);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(kdcom_send(&L, 0, bad[i], big, 1, NULL, 0),
                         KDCOM_ERR_BAD_TYPE);
    /* Refused sends leave the link idle. */
    assert_int_equal(kdcom_can_send(&L), 1);
    assert_int_equal(kdcom_want_write(&L), 0);
    assert_int_equal(kdcom_send(&L, 0, 2, big, 2000, big, 2000), KDCOM_OK);
}

static void test_busy(void **state)
{
    uint8_t part[8];
    struct kdcom_event ev;
    uint8_t ack[16];

    (void)state;
    assert_int_equal(kdcom_link_init(&L, NULL), KDCOM_OK);
    assert_int_equal(kdcom_cancel_send(&L), KDCOM_ERR_NO_PACKET);
    assert_int_equal(kdcom_send(&L, 0, 3, (const uint8_t *)"a", 1, NULL, 0),
                     KDCOM_OK);
    assert_int_equal(kdcom_send(&L, 0, 3, (const uint8_t *)"b", 1, NULL, 0),
                     KDCOM_ERR_BUSY);
    assert_int_equal(kdcom_can_send(&L), 0);
    /* Half written, then acknowledged (a peer may ACK early): still BUSY
     * until the frame has left, so the wire stays framed. */
    assert_int_equal(kdcom_drain(&L, 0, part, sizeof part), 8);
    kdcom_encode_control(ack, sizeof ack, KDCOM_TYPE_ACKNOWLEDGE,
                         KDCOM_INITIAL_ID);
    assert_int_equal(kdcom_feed(&L, 0, ack, 16), 16);
    assert_int_equal(kdcom_next_event(&L, &ev), KDCOM_EV_ACKED);
    assert_int_equal(kdcom_send(&L, 0, 3, (const uint8_t *)"b", 1, NULL, 0),
                     KDCOM_ERR_BUSY);
    assert_int_equal(kdcom_cancel_send(&L), KDCOM_ERR_NO_PACKET);
    assert_int_equal(kdcom_drain(&L, 0, buf, sizeof buf), 16 + 1 + 1 - 8);
    assert_int_equal(kdcom_can_send(&L), 1);
    assert_int_equal(kdcom_send(&L, 0, 3, (const uint8_t *)"b", 1, NULL, 0),
                     KDCOM_OK);
}

static void test_wrong_role(void **state)
{
    struct kdcom_config cfg;

    (void)state;
    assert_int_equal(kdcom_link_init(&L, NULL), KDCOM_OK); /* TARGET */
    assert_int_equal(kdcom_send_breakin(&L), KDCOM_ERR_WRONG_ROLE);
    assert_int_equal(kdcom_resync(&L, 0), KDCOM_ERR_WRONG_ROLE);
    assert_int_equal(kdcom_take_breakin(&L), 0);
    assert_int_equal(kdcom_expect_header(&L, 56), KDCOM_OK);
    kdcom_config_init(&cfg, KDCOM_ROLE_DEBUGGER);
    assert_int_equal(kdcom_link_init(&L, &cfg), KDCOM_OK);
    assert_int_equal(kdcom_take_breakin(&L), KDCOM_ERR_WRONG_ROLE);
    assert_int_equal(kdcom_expect_header(&L, 56), KDCOM_ERR_WRONG_ROLE);
    assert_int_equal(kdcom_send_breakin(&L), KDCOM_OK);
    assert_int_equal(kdcom_resync(&L, 0), KDCOM_OK);
    assert_false(kdcom_is_fatal(KDCOM_ERR_WRONG_ROLE));
}

static void test_uninitialised_and_garbage(void **state)
{
    (void)state;
    memset(&L, 0, sizeof L);
    all_calls_return(&L, KDCOM_ERR_NOT_INIT);
    memset(&L, 0xA5, sizeof L);
    all_calls_return(&L, KDCOM_ERR_NOT_INIT);
    /* The magic survived but the role did not: still refused. */
    assert_int_equal(kdcom_link_init(&L, NULL), KDCOM_OK);
    L.role = 77;
    all_calls_return(&L, KDCOM_ERR_NOT_INIT);
    assert_true(kdcom_is_fatal(KDCOM_ERR_NOT_INIT));
    /* kdcom_link_init() needs no zeroing beforehand. */
    memset(&L, 0xA5, sizeof L);
    assert_int_equal(kdcom_link_init(&L, NULL), KDCOM_OK);
    assert_int_equal(kdcom_can_send(&L), 1);
    assert_int_equal(kdcom_get_stats(&L)->bytes_in, 0);
}

static void test_closed(void **state)
{
    (void)state;
    assert_int_equal(kdcom_link_init(&L, NULL), KDCOM_OK);
    assert_int_equal(kdcom_link_close(&L), KDCOM_OK);
    all_calls_return(&L, KDCOM_ERR_CLOSED);
    assert_true(kdcom_is_fatal(KDCOM_ERR_CLOSED));
    /* Stats stay readable; init brings it back. */
    assert_non_null(kdcom_get_stats(&L));
    assert_int_equal(kdcom_link_init(&L, NULL), KDCOM_OK);
    assert_int_equal(kdcom_can_send(&L), 1);
}

/* The counters by index agree with the structure and its X-macro list. */
static void test_stats_by_index(void **state)
{
    (void)state;
    CHECK_COUNTER_TABLE(struct kdcom_stats, KDCOM_STATS_FIELDS,
                        kdcom_stats_name, kdcom_stats_value);
}

static void lc_debugger_init(uint32_t flags)
{
    struct kdcom_config cfg;

    assert_int_equal(kdcom_config_init(&cfg, KDCOM_ROLE_DEBUGGER), KDCOM_OK);
    cfg.flags = flags;
    assert_int_equal(kdcom_link_init(&L, &cfg), KDCOM_OK);
}

/* kdcom_link_restart(): a fresh link with the counters kept. */
static void test_restart_keeps_counters(void **state)
{
    uint8_t out[64], noise[3] = {1, 2, 3};
    uint64_t sent;

    (void)state;
    memset(&L, 0xA5, sizeof L);
    assert_int_equal(kdcom_link_restart(&L), KDCOM_ERR_NOT_INIT);
    assert_int_equal(kdcom_link_restart(NULL), KDCOM_ERR_INVAL);
    lc_debugger_init(KDCOM_CFG_BREAKIN_ON_SYNC);
    assert_true(kdcom_drain(&L, 0, out, sizeof out) > 0);
    assert_int_equal(kdcom_feed(&L, 0, noise, sizeof noise), 3);
    sent = kdcom_get_stats(&L)->bytes_out;
    assert_int_equal(kdcom_link_close(&L), KDCOM_OK);
    assert_int_equal(kdcom_link_restart(&L), KDCOM_OK);
    assert_int_equal(kdcom_is_synced(&L), 0);
    assert_int_equal(kdcom_get_stats(&L)->bytes_out, sent);
    assert_int_equal(kdcom_get_stats(&L)->noise_bytes, 3);
    /* The configuration too: break-in, then RESET again. */
    assert_int_equal(kdcom_drain(&L, 0, out, sizeof out), 17);
    assert_int_equal(out[0], KDCOM_BREAKIN_BYTE);
    assert_int_equal(kdcom_get_stats(&L)->bytes_out, sent + 17);
    assert_int_equal(kdcom_feed(&L, 0, noise, 1), 1);
    assert_int_equal(kdcom_get_stats(&L)->noise_bytes, 4);
}

static void test_strerror_every_code(void **state)
{
    size_t i, j;

    (void)state;
    for (i = 0; i < NCODES; i++) {
        const char *s = kdcom_strerror(all_codes[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 3);
        assert_string_not_equal(s, kdcom_strerror(-999));
        for (j = 0; j < i; j++)
            assert_string_not_equal(s, kdcom_strerror(all_codes[j]));
        assert_int_equal(kdcom_is_fatal(all_codes[i]),
                         all_codes[i] <= KDCOM_ERR_FATAL);
    }
    assert_non_null(kdcom_strerror(1));
    assert_non_null(kdcom_strerror(-12345));
    assert_non_null(kdcom_strerror(-2147483647 - 1));
    assert_false(kdcom_is_fatal(0));
    assert_false(kdcom_is_fatal(5));
    assert_false(kdcom_is_fatal(KDCOM_ERR_BUSY));
    assert_true(kdcom_is_fatal(-100));
}

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(kdcom_version(), KDCOM_VERSION_NUM);
    assert_string_equal(kdcom_version_string(), KDCOM_VERSION_STRING);
    assert_int_equal(KDCOM_VERSION_NUM, (KDCOM_VERSION_MAJOR << 16) |
                                            (KDCOM_VERSION_MINOR << 8) |
                                            KDCOM_VERSION_PATCH);
}

static void test_config_ranges(void **state)
{
    struct kdcom_config cfg, good;

    (void)state;
    assert_int_equal(kdcom_config_init(&cfg, 0), KDCOM_ERR_ROLE);
    assert_int_equal(kdcom_config_init(&cfg, 3), KDCOM_ERR_ROLE);
    assert_int_equal(kdcom_config_init(&good, KDCOM_ROLE_TARGET), KDCOM_OK);
    assert_int_equal(good.ack_timeout_ms, 1000);
    assert_int_equal(good.retry_limit, 20);
    assert_int_equal(good.reset_interval_ms, 1000);
    assert_int_equal(good.byte_timeout_ms, 1000);

    cfg = good;
    cfg.role = 0;
    assert_int_equal(kdcom_link_init(&L, &cfg), KDCOM_ERR_ROLE);
    cfg.role = 0xffffffffu;
    assert_int_equal(kdcom_link_init(&L, &cfg), KDCOM_ERR_ROLE);
#define CHECK_FIELD(field, bad, ok)                                          \
    do {                                                                     \
        cfg = good;                                                          \
        cfg.field = (bad);                                                   \
        assert_int_equal(kdcom_link_init(&L, &cfg), KDCOM_ERR_CONFIG);      \
        cfg.field = (ok);                                                    \
        assert_int_equal(kdcom_link_init(&L, &cfg), KDCOM_OK);              \
    } while (0)
    CHECK_FIELD(ack_timeout_ms, 0, 1);
    CHECK_FIELD(ack_timeout_ms, 3600001, 3600000);
    CHECK_FIELD(reset_interval_ms, 0, 1);
    CHECK_FIELD(reset_interval_ms, 0xffffffffu, 3600000);
    CHECK_FIELD(byte_timeout_ms, 0, 1);
    CHECK_FIELD(byte_timeout_ms, 3600001, 3600000);
    CHECK_FIELD(flags, 0x20, KDCOM_CFG_BREAKIN_ON_SYNC | KDCOM_CFG_PASSIVE |
                                 KDCOM_CFG_NO_IMPLICIT_ACK |
                                 KDCOM_CFG_HOLD_PACKETS |
                                 KDCOM_CFG_REPORT_RESTARTS);
    CHECK_FIELD(flags, 0x80000000u, 0);
#undef CHECK_FIELD
    /* Any retry_limit is valid; 0 means "never report". */
    cfg = good;
    cfg.retry_limit = 0;
    assert_int_equal(kdcom_link_init(&L, &cfg), KDCOM_OK);
    cfg.retry_limit = 0xffffffffu;
    assert_int_equal(kdcom_link_init(&L, &cfg), KDCOM_OK);
    /* NULL config: a TARGET with the defaults. */
    assert_int_equal(kdcom_link_init(&L, NULL), KDCOM_OK);
    assert_int_equal(kdcom_take_breakin(&L), 0);
    assert_int_equal(kdcom_tx_id(&L), KDCOM_INITIAL_ID | KDCOM_SYNC_BIT);
}

/* Time going backwards is "no time has passed": no timer fires early or
 * late because of it, and nothing breaks. */
static void test_time_backwards(void **state)
{
    struct kdcom_config cfg;
    struct kdcom_event ev;
    uint8_t in[32];
    int n;

    (void)state;
    kdcom_config_init(&cfg, KDCOM_ROLE_TARGET);
    cfg.retry_limit = 1;
    assert_int_equal(kdcom_link_init(&L, &cfg), KDCOM_OK);
    assert_int_equal(kdcom_send(&L, 5000, 3, (const uint8_t *)"x", 1, NULL, 0),
                     KDCOM_OK);
    assert_int_equal(kdcom_drain(&L, 5000, buf, sizeof buf), 18);
    assert_int_equal(kdcom_next_deadline(&L), 6000);
    /* Going back to 0 and forth to 5999: still no timeout. */
    assert_int_equal(kdcom_tick(&L, 0), KDCOM_OK);
    assert_int_equal(kdcom_drain(&L, 10, buf, sizeof buf), 0);
    n = util_hex("30303030 0300 0000 00008080", in, sizeof in);
    assert_int_equal(kdcom_feed(&L, 1, in, (size_t)n), n); /* half packet */
    assert_int_equal(kdcom_next_deadline(&L), 6000);
    assert_int_equal(kdcom_tick(&L, 5999), KDCOM_OK);
    assert_int_equal(kdcom_get_stats(&L)->ack_timeouts, 0);
    /* The byte timeout counts from the latest time seen (5000), not 1. */
    assert_int_equal(kdcom_get_stats(&L)->rx_stalls, 0);
    assert_int_equal(kdcom_tick(&L, 6000), KDCOM_OK);
    assert_int_equal(kdcom_get_stats(&L)->ack_timeouts, 1);
    assert_int_equal(kdcom_get_stats(&L)->rx_stalls, 1);
    assert_int_equal(kdcom_next_event(&L, &ev),
                     KDCOM_EV_RETRIES_EXHAUSTED);
    /* A huge jump forward is fine too. */
    assert_int_equal(kdcom_tick(&L, UINT64_MAX - 1), KDCOM_OK);
    assert_true(kdcom_drain(&L, UINT64_MAX, buf, sizeof buf) >= 0);
}

/* Drain never writes past cap, whatever cap is. */
static void test_drain_respects_cap(void **state)
{
    size_t cap;

    (void)state;
    for (cap = 0; cap < 40; cap++) {
        int k;

        assert_int_equal(kdcom_link_init(&L, NULL), KDCOM_OK);
        assert_int_equal(kdcom_send(&L, 0, 3, (const uint8_t *)"0123456789",
                                    10, NULL, 0),
                         KDCOM_OK);
        memset(buf, 0xee, 64);
        k = kdcom_drain(&L, 0, buf, cap);
        assert_int_equal(k, (int)(cap < 27 ? cap : 27));
        assert_int_equal(buf[cap], 0xee);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_everywhere),
        cmocka_unit_test(test_oversize_and_bad_types),
        cmocka_unit_test(test_busy),
        cmocka_unit_test(test_wrong_role),
        cmocka_unit_test(test_uninitialised_and_garbage),
        cmocka_unit_test(test_closed),
        cmocka_unit_test(test_stats_by_index),
        cmocka_unit_test(test_restart_keeps_counters),
        cmocka_unit_test(test_strerror_every_code),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_config_ranges),
        cmocka_unit_test(test_time_backwards),
        cmocka_unit_test(test_drain_respects_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
