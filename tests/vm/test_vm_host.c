/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vm_host.c - the VM channel host service, request by request, with
 * a well-behaved guest written by hand: HELLO, SEND (acknowledged, dropped,
 * waiting), RECEIVE (split, wrong type, timeout, RESEND), POLL_BREAKIN and
 * CONTROL_C_PENDING, guest and host restarts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vmh.h"

/* A DEBUG_IO PrintString message header (ApiNumber 0x3230) for text. */
static void put_dbgprint(struct vmh *v, const char *text)
{
    uint8_t *h = v->shm + H_OFF;

    memset(h, 0, 16);
    h[0] = 0x30;
    h[1] = 0x32;
    h[8] = (uint8_t)strlen(text);
    memcpy(v->shm + D_OFF, text, strlen(text));
}

static void test_hello(void **state)
{
    uint32_t seq;

    (void)state;
    seq = vmh_post(V, KDCOM_VM_OP_HELLO, 0, 0, 0, 0, 0, KDCOM_VM_ABI_VERSION);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_OK);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_HOST_ABI), KDCOM_VM_ABI_VERSION);
    assert_true(vmh_ld(V, KDCOM_VM_OFF_HOST_FLAGS) & KDCOM_VM_HF_READY);
    assert_int_not_equal(vmh_ld(V, KDCOM_VM_OFF_HOST_EPOCH), 0);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_EPOCH), 1);
    seq = vmh_post(V, KDCOM_VM_OP_HELLO, 0, 0, 0, 0, 0, 0x00020000);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_ERR_VERSION);
}

static void test_send_acked_and_dropped(void **state)
{
    const char *text = "hello over the VM channel\n";
    uint32_t seq;

    (void)state;
    assert_int_equal(vmh_sync(V), 0);
    put_dbgprint(V, text);
    seq = vmh_post(V, KDCOM_VM_OP_SEND, KDCOM_TYPE_DEBUG_IO, H_OFF, 16, D_OFF,
                   (uint32_t)strlen(text), 20);
    assert_int_equal(vmh_wait(V, seq, 50, 1), KDCOM_VM_ST_OK);
    assert_int_equal(V->n_rx, 1);
    assert_int_equal(V->rx[0].type, KDCOM_TYPE_DEBUG_IO);
    assert_int_equal(V->rx[0].len, 16 + strlen(text));
    assert_memory_equal(V->rx[0].payload + 16, text, strlen(text));
    assert_true(vmh_ld(V, KDCOM_VM_OFF_RSP_FLAGS) &
                KDCOM_VM_RF_DEBUGGER_PRESENT);

    /* The debugger goes silent: a DbgPrint is given up after 3 tries. */
    V->wire_to_dbg_down = 1;
    seq = vmh_post(V, KDCOM_VM_OP_SEND, KDCOM_TYPE_DEBUG_IO, H_OFF, 16, D_OFF,
                   (uint32_t)strlen(text), 3);
    assert_int_equal(vmh_wait(V, seq, 500, 5), KDCOM_VM_ST_DROPPED);
    assert_false(vmh_ld(V, KDCOM_VM_OFF_HOST_FLAGS) &
                 KDCOM_VM_HF_DEBUGGER_PRESENT);
    assert_int_equal(vmh_stats(V)->sends_dropped, 1);
}

static void test_send_state_change_waits(void **state)
{
    uint8_t *h = V->shm + H_OFF;
    uint32_t seq;

    (void)state;
    V->wire_to_dbg_down = 1;
    memset(h, 0, 0xF0);
    h[0] = 0x30; /* Exception state change 0x3030: not droppable */
    h[1] = 0x30;
    seq = vmh_post(V, KDCOM_VM_OP_SEND, KDCOM_TYPE_STATE_CHANGE64, H_OFF, 0xF0,
                   D_OFF, 0, 2);
    /* 2 s of silence at a 20 ms ACK timeout: about 100 retransmissions. */
    assert_int_equal(vmh_wait(V, seq, 400, 5), -1);
    assert_true(vmh_link_stats(V)->retransmits >
                10);
    V->wire_to_dbg_down = 0;
    assert_int_equal(vmh_wait(V, seq, 200, 5), KDCOM_VM_ST_OK);
    assert_int_equal(V->n_rx, 1);
    assert_int_equal(V->rx[0].type, KDCOM_TYPE_STATE_CHANGE64);
}

static void test_receive_split(void **state)
{
    uint8_t req[56 + 100];
    uint32_t seq;
    int i;

    (void)state;
    /* The handshake's RESET waits for the next RECEIVE, as its bytes would
     * in a UART FIFO; the kernel's break-in poll consumes it. */
    assert_int_equal(vmh_sync_poll(V), KDCOM_VM_ST_TIMEOUT);
    for (i = 0; i < (int)sizeof req; i++)
        req[i] = (uint8_t)(i * 7);
    seq = vmh_post(V, KDCOM_VM_OP_RECEIVE, KDCOM_TYPE_STATE_MANIPULATE, H_OFF,
                   56, D_OFF, 4000, 0);
    vmh_step(V, 1);
    /* A packet of another type first: ACKed and dropped (long enough
     * for the header capacity, or the link refuses it before its type
     * counts: test_vm_host_session.c). */
    assert_int_equal(kdcom_send(&V->dbg, V->now, KDCOM_TYPE_DEBUG_IO, req, 60,
                                NULL, 0), KDCOM_OK);
    vmh_steps(V, 5, 1);
    assert_int_not_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_SEQ), seq);
    assert_int_equal(kdcom_send(&V->dbg, V->now, KDCOM_TYPE_STATE_MANIPULATE,
                                req, 56, req + 56, 100), KDCOM_OK);
    assert_int_equal(vmh_wait(V, seq, 20, 1), KDCOM_VM_ST_RECEIVED);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_TYPE),
                     KDCOM_TYPE_STATE_MANIPULATE);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_HEAD_LEN), 56);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_DATA_LEN), 100);
    assert_memory_equal(V->shm + H_OFF, req, 56);
    assert_memory_equal(V->shm + D_OFF, req + 56, 100);
    assert_int_equal(vmh_stats(V)->rx_wrong_type, 1);

    /* Nothing comes: TIMEOUT after receive_timeout_ms. */
    seq = vmh_post(V, KDCOM_VM_OP_RECEIVE, KDCOM_TYPE_STATE_MANIPULATE, H_OFF,
                   56, D_OFF, 4000, 0);
    assert_int_equal(vmh_wait(V, seq, 100, 5), KDCOM_VM_ST_TIMEOUT);

    /* The debugger resynchronises: RESEND. */
    seq = vmh_post(V, KDCOM_VM_OP_RECEIVE, KDCOM_TYPE_STATE_MANIPULATE, H_OFF,
                   56, D_OFF, 4000, 0);
    vmh_step(V, 1);
    kdcom_resync(&V->dbg, V->now);
    assert_int_equal(vmh_wait(V, seq, 20, 1), KDCOM_VM_ST_RESEND);
}

static void test_breakin(void **state)
{
    uint32_t seq;

    (void)state;
    assert_int_equal(vmh_sync_poll(V), KDCOM_VM_ST_TIMEOUT);
    kdcom_send_breakin(&V->dbg);
    vmh_step(V, 1);
    vmh_step(V, 1);
    assert_true(vmh_ld(V, KDCOM_VM_OFF_HOST_FLAGS) &
                KDCOM_VM_HF_BREAKIN_PENDING);
    seq = vmh_post(V, KDCOM_VM_OP_POLL_BREAKIN, 0, 0, 0, 0, 0, 0);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_RECEIVED);
    seq = vmh_post(V, KDCOM_VM_OP_POLL_BREAKIN, 0, 0, 0, 0, 0, 0);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_TIMEOUT);

    /* A break-in during a RECEIVE comes back as CONTROL_C_PENDING. */
    seq = vmh_post(V, KDCOM_VM_OP_RECEIVE, KDCOM_TYPE_STATE_MANIPULATE, H_OFF,
                   56, D_OFF, 4000, 0);
    kdcom_send_breakin(&V->dbg);
    assert_int_equal(vmh_wait(V, seq, 100, 5), KDCOM_VM_ST_TIMEOUT);
    assert_true(vmh_ld(V, KDCOM_VM_OFF_RSP_FLAGS) &
                KDCOM_VM_RF_CONTROL_C_PENDING);
}

static void test_guest_restart(void **state)
{
    uint32_t seq, epoch;

    (void)state;
    V->wire_to_dbg_down = 1;
    memset(V->shm + H_OFF, 0x30, 4); /* 0x3030: waits forever */
    seq = vmh_post(V, KDCOM_VM_OP_SEND, KDCOM_TYPE_STATE_CHANGE64, H_OFF, 16,
                   D_OFF, 0, 20);
    assert_int_equal(vmh_wait(V, seq, 20, 5), -1);
    assert_true(vmh_link_stats(V)->packets_sent >
                0);
    epoch = vmh_ld(V, KDCOM_VM_OFF_HOST_EPOCH);
    vmh_guest_init(V, 2);
    seq = vmh_post(V, KDCOM_VM_OP_HELLO, 0, 0, 0, 0, 0, KDCOM_VM_ABI_VERSION);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_OK);
    assert_int_equal(vmh_stats(V)->guest_restarts, 1);
    assert_int_equal(vmh_stats(V)->abandoned, 1);
    /* The link restarted like a freshly loaded kdcom.dll: the abandoned
     * state change is gone. */
    assert_int_equal(vmh_link_stats(V)->packets_sent,
                     0);
    assert_int_equal(kdcom_can_send(kdcom_vm_host_link(&V->host)), 1);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_HOST_EPOCH), epoch);

    /* A new host service on the same region: new epoch, keeps serving. */
    assert_int_equal(kdcom_vm_host_init(&V->host, NULL), KDCOM_OK);
    seq = vmh_post(V, KDCOM_VM_OP_POLL_BREAKIN, 0, 0, 0, 0, 0, 0);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_TIMEOUT);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_HOST_EPOCH), epoch + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        VMH_TEST(test_hello),
        VMH_TEST(test_send_acked_and_dropped),
        VMH_TEST(test_send_state_change_waits),
        VMH_TEST(test_receive_split),
        VMH_TEST(test_breakin),
        VMH_TEST(test_guest_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
