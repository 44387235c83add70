/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vm_host_session.c - the host service across debugger sessions and
 * against short requests:
 *
 *   - a RECEIVE's header capacity is the shortest packet the link accepts
 *     (PROTOCOL-FACTS §3.5 step 1): a shorter one gets RESEND, never an
 *     ACK, during the RECEIVE and after it, across a wire reset;
 *   - a debugger that dies while the kernel's reply waits for its ACK: the
 *     next one's RESET makes the next RECEIVE answer RESEND, so the kernel
 *     sends its state change again (docs/protocol.md 6.2); not after a
 *     RESET during a state change, which goes out again by itself;
 *   - a break-in the dead debugger sent is not handed to the kernel after
 *     a new connection (kdcom_vm_host_wire_reset) or after the RESET that
 *     replaced it during a reply; one sent after it is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vmh.h"

#define MANIP KDCOM_TYPE_STATE_MANIPULATE

/* A new debugger on the same wire: a fresh DEBUGGER link. */
static void new_debugger(void)
{
    assert_int_equal(vmh_dbg_init(V), KDCOM_OK);
    V->to_host_len = 0;
    V->n_rx = 0;
    V->wire_to_dbg_down = 0;
}

static uint32_t post_receive(uint32_t head_cap)
{
    return vmh_post(V, KDCOM_VM_OP_RECEIVE, MANIP, H_OFF, head_cap, D_OFF,
                    4000, 0);
}

/* The kernel receives a request (api) and starts its reply; the
 * debugger is cut off before it hears anything of the reply.  Returns
 * the SEND's sequence number. */
static uint32_t reply_to_dead_debugger(uint32_t api)
{
    uint8_t req[56] = {0};
    uint32_t seq;

    req[0] = (uint8_t)api;
    req[1] = (uint8_t)(api >> 8);
    seq = post_receive(56);
    vmh_step(V, 1);
    assert_int_equal(kdcom_send(&V->dbg, V->now, MANIP, req, sizeof req,
                                NULL, 0), KDCOM_OK);
    assert_int_equal(vmh_wait(V, seq, 20, 1), KDCOM_VM_ST_RECEIVED);
    V->wire_to_dbg_down = 1;
    memcpy(V->shm + H_OFF, req, sizeof req);
    V->shm[H_OFF + 8] = 0; /* STATUS_SUCCESS */
    seq = vmh_post(V, KDCOM_VM_OP_SEND, MANIP, H_OFF, 56, D_OFF, 0, 20);
    assert_int_equal(vmh_wait(V, seq, 50, 5), -1); /* nobody ACKs it */
    return seq;
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
    assert_int_equal(vmh_sync_poll(V), KDCOM_VM_ST_TIMEOUT);
    seq = post_receive(56);
    vmh_step(V, 1);
    /* 20 bytes where 56 are expected: RESEND, no ACK, no answer. */
    acked = kdcom_get_stats(&V->dbg)->packets_acked;
    assert_int_equal(kdcom_send(&V->dbg, V->now, MANIP, req, 20, NULL, 0),
                     KDCOM_OK);
    vmh_steps(V, 5, 1);
    assert_int_not_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_SEQ), seq);
    assert_true(vmh_link_stats(V)->bad_short >= 1);
    assert_int_equal(vmh_link_stats(V)->packets_received, 0);
    assert_int_equal(kdcom_get_stats(&V->dbg)->packets_acked, acked);
    assert_true(kdcom_get_stats(&V->dbg)->resends_received >= 1);
    /* The whole request is taken. */
    assert_int_equal(kdcom_cancel_send(&V->dbg), KDCOM_OK);
    assert_int_equal(kdcom_send(&V->dbg, V->now, MANIP, req, 56, req + 56, 8),
                     KDCOM_OK);
    assert_int_equal(vmh_wait(V, seq, 20, 1), KDCOM_VM_ST_RECEIVED);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_HEAD_LEN), 56);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_DATA_LEN), 8);
    assert_int_equal(vmh_stats(V)->rx_too_short, 0);

    /* Between requests and across a new connection the last RECEIVE's
     * capacity still holds. */
    assert_int_equal(kdcom_vm_host_wire_reset(&V->host, V->now), KDCOM_OK);
    new_debugger();
    assert_int_equal(vmh_sync_poll(V), KDCOM_VM_ST_TIMEOUT);
    acked = vmh_link_stats(V)->bad_short;
    assert_int_equal(kdcom_send(&V->dbg, V->now, MANIP, req, 20, NULL, 0),
                     KDCOM_OK);
    vmh_steps(V, 5, 1);
    assert_true(vmh_link_stats(V)->bad_short > acked);
    assert_int_equal(kdcom_vm_host_want_read(&V->host), 1); /* not held */
    /* A RECEIVE into 16 bytes takes the retransmission. */
    seq = post_receive(16);
    assert_int_equal(vmh_wait(V, seq, 20, 1), KDCOM_VM_ST_RECEIVED);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_HEAD_LEN), 16);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_DATA_LEN), 4);
    assert_memory_equal(V->shm + H_OFF, req, 16);
}

static void test_reset_during_reply(void **state)
{
    uint32_t seq;

    (void)state;
    assert_int_equal(vmh_sync_poll(V), KDCOM_VM_ST_TIMEOUT);
    seq = reply_to_dead_debugger(0x3146); /* GetVersion */
    /* The next debugger: its RESET reaches the kernel's reply. */
    new_debugger();
    assert_int_equal(vmh_wait(V, seq, 100, 5), KDCOM_VM_ST_OK);
    assert_int_equal(vmh_stats(V)->reply_resets, 1);
    assert_true(V->n_rx >= 1);
    assert_int_equal(V->rx[0].type, MANIP); /* the old reply, under INITIAL */
    /* ... and the kernel is told to send its state change again. */
    seq = post_receive(56);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_RESEND);
    memset(V->shm + H_OFF, 0, 0xF0);
    V->shm[H_OFF] = 0x30; /* exception state change, 0x3030 */
    V->shm[H_OFF + 1] = 0x30;
    seq = vmh_post(V, KDCOM_VM_OP_SEND, KDCOM_TYPE_STATE_CHANGE64, H_OFF,
                   0xF0, D_OFF, 0, 20);
    assert_int_equal(vmh_wait(V, seq, 50, 5), KDCOM_VM_ST_OK);
    assert_int_equal(V->rx[V->n_rx - 1].type, KDCOM_TYPE_STATE_CHANGE64);
    /* Once: the next RECEIVE waits for a request. */
    seq = post_receive(56);
    assert_int_equal(vmh_wait(V, seq, 100, 5), KDCOM_VM_ST_TIMEOUT);

    /* A RESET during a state change is not a reply's: the state change
     * itself goes out again, the next RECEIVE waits. */
    V->wire_to_dbg_down = 1;
    seq = vmh_post(V, KDCOM_VM_OP_SEND, KDCOM_TYPE_STATE_CHANGE64, H_OFF,
                   0xF0, D_OFF, 0, 20);
    assert_int_equal(vmh_wait(V, seq, 20, 5), -1);
    new_debugger();
    assert_int_equal(vmh_wait(V, seq, 100, 5), KDCOM_VM_ST_OK);
    assert_int_equal(vmh_stats(V)->reply_resets, 1);
    seq = post_receive(56);
    assert_int_equal(vmh_wait(V, seq, 100, 5), KDCOM_VM_ST_TIMEOUT);
}

/* The dead debugger's break-in, on a new connection (the shim) and on
 * the RESET that replaced it (a serial line, where the host sees no
 * connection). */
static void breakin_left_behind(int new_connection)
{
    uint32_t seq;

    assert_int_equal(vmh_sync_poll(V), KDCOM_VM_ST_TIMEOUT);
    seq = reply_to_dead_debugger(0x3146);
    assert_int_equal(kdcom_send_breakin(&V->dbg), KDCOM_OK);
    vmh_step(V, 1);
    vmh_step(V, 1);
    assert_true(vmh_ld(V, KDCOM_VM_OFF_HOST_FLAGS) &
                KDCOM_VM_HF_BREAKIN_PENDING);
    if (new_connection) {
        assert_int_equal(kdcom_vm_host_wire_reset(&V->host, V->now),
                         KDCOM_OK);
        vmh_step(V, 1);
        assert_false(vmh_ld(V, KDCOM_VM_OFF_HOST_FLAGS) &
                     KDCOM_VM_HF_BREAKIN_PENDING);
        assert_int_equal(vmh_stats(V)->breakins_dropped, 1);
    }
    new_debugger();
    assert_int_equal(vmh_wait(V, seq, 100, 5), KDCOM_VM_ST_OK);
    assert_false(vmh_ld(V, KDCOM_VM_OFF_RSP_FLAGS) &
                 KDCOM_VM_RF_CONTROL_C_PENDING);
    assert_false(vmh_ld(V, KDCOM_VM_OFF_HOST_FLAGS) &
                 KDCOM_VM_HF_BREAKIN_PENDING);
    assert_int_equal(vmh_stats(V)->breakins_dropped, 1);
    assert_int_equal(vmh_stats(V)->breakins, 0);
    seq = vmh_post(V, KDCOM_VM_OP_POLL_BREAKIN, 0, 0, 0, 0, 0, 0);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_TIMEOUT);

    /* The new debugger's own break-in during a reply comes through. */
    seq = reply_to_dead_debugger(0x3146);
    V->wire_to_dbg_down = 0;
    assert_int_equal(kdcom_send_breakin(&V->dbg), KDCOM_OK);
    assert_int_equal(vmh_wait(V, seq, 100, 5), KDCOM_VM_ST_OK);
    assert_true(vmh_ld(V, KDCOM_VM_OFF_RSP_FLAGS) &
                KDCOM_VM_RF_CONTROL_C_PENDING);
    assert_int_equal(vmh_stats(V)->breakins, 1);
    assert_int_equal(vmh_stats(V)->breakins_dropped, 1);
}

static void test_breakin_dropped_by_wire_reset(void **state)
{
    (void)state;
    breakin_left_behind(1);
}

static void test_breakin_dropped_by_reset_during_reply(void **state)
{
    (void)state;
    breakin_left_behind(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        VMH_TEST(test_short_request_refused),
        VMH_TEST(test_reset_during_reply),
        VMH_TEST(test_breakin_dropped_by_wire_reset),
        VMH_TEST(test_breakin_dropped_by_reset_during_reply),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
