/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vm_host_session.c - the host service against requests too short
 * for the message header the guest receives into: a RECEIVE's header
 * capacity is the shortest packet the link accepts (PROTOCOL-FACTS §3.5
 * step 1); a shorter one gets RESEND, never an ACK, during the RECEIVE
 * and after it, across a wire reset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vmh.h"

#define H_OFF KDCOM_VM_DEF_HEAD_OFF
#define D_OFF KDCOM_VM_DEF_DATA_OFF
#define MANIP KDCOM_TYPE_STATE_MANIPULATE

static struct vmh *V;

static int setup(void **state)
{
    (void)state;
    return vmh_setup(&V);
}

static int teardown(void **state)
{
    (void)state;
    free(V);
    return 0;
}

static const struct kdcom_vm_stats *stats(void)
{
    return kdcom_vm_host_stats(&V->host);
}

static const struct kdcom_stats *hlink(void)
{
    return kdcom_get_stats(kdcom_vm_host_link(&V->host));
}

/* A new debugger on the same wire: a fresh DEBUGGER link. */
static void new_debugger(void)
{
    struct kdcom_config dc;

    kdcom_config_init(&dc, KDCOM_ROLE_DEBUGGER);
    dc.ack_timeout_ms = 100;
    dc.reset_interval_ms = 50;
    assert_int_equal(kdcom_link_init(&V->dbg, &dc), KDCOM_OK);
    V->to_host_len = 0;
    V->n_rx = 0;
    V->wire_to_dbg_down = 0;
}

/* Synchronised, and the handshake's RESEND consumed by a break-in poll
 * (as a running kernel's clock tick would). */
static void sync_and_poll(void)
{
    uint32_t seq;

    assert_int_equal(vmh_sync(V), 0);
    seq = vmh_post(V, KDCOM_VM_OP_POLL_BREAKIN, 0, 0, 0, 0, 0, 0);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_TIMEOUT);
}

static uint32_t post_receive(uint32_t head_cap)
{
    return vmh_post(V, KDCOM_VM_OP_RECEIVE, MANIP, H_OFF, head_cap, D_OFF,
                    4000, 0);
}

static void test_short_request_refused(void **state)
{
    uint8_t req[56 + 8];
    uint64_t acked;
    uint32_t seq;
    unsigned i;

    (void)state;
    for (i = 0; i < sizeof req; i++)
        req[i] = (uint8_t)(i + 1);
    sync_and_poll();
    seq = post_receive(56);
    vmh_step(V, 1);
    /* 20 bytes where 56 are expected: RESEND, no ACK, no answer. */
    acked = kdcom_get_stats(&V->dbg)->packets_acked;
    assert_int_equal(kdcom_send(&V->dbg, V->now, MANIP, req, 20, NULL, 0),
                     KDCOM_OK);
    for (i = 0; i < 5; i++)
        vmh_step(V, 1);
    assert_int_not_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_SEQ), seq);
    assert_true(hlink()->bad_short >= 1);
    assert_int_equal(hlink()->packets_received, 0);
    assert_int_equal(kdcom_get_stats(&V->dbg)->packets_acked, acked);
    assert_true(kdcom_get_stats(&V->dbg)->resends_received >= 1);
    /* The whole request is taken. */
    assert_int_equal(kdcom_cancel_send(&V->dbg), KDCOM_OK);
    assert_int_equal(kdcom_send(&V->dbg, V->now, MANIP, req, 56, req + 56, 8),
                     KDCOM_OK);
    assert_int_equal(vmh_wait(V, seq, 20, 1), KDCOM_VM_ST_RECEIVED);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_HEAD_LEN), 56);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_DATA_LEN), 8);
    assert_int_equal(stats()->rx_too_short, 0);

    /* Between requests and across a new connection the last RECEIVE's
     * capacity still holds. */
    assert_int_equal(kdcom_vm_host_wire_reset(&V->host, V->now), KDCOM_OK);
    new_debugger();
    sync_and_poll();
    acked = hlink()->bad_short;
    assert_int_equal(kdcom_send(&V->dbg, V->now, MANIP, req, 20, NULL, 0),
                     KDCOM_OK);
    for (i = 0; i < 5; i++)
        vmh_step(V, 1);
    assert_true(hlink()->bad_short > acked);
    assert_int_equal(kdcom_vm_host_want_read(&V->host), 1); /* not held */
    /* A RECEIVE into 16 bytes takes the retransmission. */
    seq = post_receive(16);
    assert_int_equal(vmh_wait(V, seq, 20, 1), KDCOM_VM_ST_RECEIVED);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_HEAD_LEN), 16);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_DATA_LEN), 4);
    assert_memory_equal(V->shm + H_OFF, req, 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_short_request_refused, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
