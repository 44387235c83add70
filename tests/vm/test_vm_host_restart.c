/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vm_host_restart.c - the host service across changes on either
 * side: a guest restarting on a fresh zeroed region (with or without the
 * host seeing the region invalid in between, with its predecessor's epoch
 * or not), a packet held for a guest that has gone (region invalid, or
 * still valid but silent for too long), a RESET from the
 * debugger while a packet is held, a new debugger connection
 * (kdcom_vm_host_wire_reset) cutting half-parsed input and a half-drained
 * frame, and the doorbell API (take_kick, guest flags, HF_DOORBELL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vmh.h"

/* A fresh zeroed file: both halves zero, as a new memory-backend-file. */
static void zero_region(void)
{
    memset(V->shm, 0, VMH_REGION);
}

/* Raw bytes of a data packet from the debugger's side. */
static int data_frame(uint8_t *out, uint32_t id, uint32_t len)
{
    static uint8_t p[KDCOM_MAX_PAYLOAD];

    memset(p, 0x42, len);
    return kdcom_encode_data(out, KDCOM_MAX_FRAME, KDCOM_TYPE_STATE_MANIPULATE,
                             id, p, len, NULL, 0);
}

/* The old guest's last request was number 1; the new one, on a zeroed
 * region with the same epoch, numbers its first request 1 again.  The
 * host saw the region invalid in between: a new guest, served. */
static void test_same_epoch_fresh_region(void **state)
{
    uint32_t seq;

    (void)state;
    seq = vmh_hello(V);
    assert_int_equal(seq, 1);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_OK);
    zero_region();
    assert_int_equal(vmh_step(V, 1), KDCOM_VM_POLL_NO_GUEST);
    vmh_guest_init(V, 1);
    seq = vmh_hello(V);
    assert_int_equal(seq, 1);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_OK);
    assert_int_equal(vmh_stats(V)->guest_restarts, 1);
    assert_int_equal(vmh_stats(V)->hellos, 2);
}

/* The same, but the host never polls while the region is invalid (it was
 * replaced between two polls): the new epoch tells. */
static void test_new_epoch_fresh_region(void **state)
{
    uint32_t seq;

    (void)state;
    seq = vmh_hello(V);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_OK);
    zero_region();
    vmh_guest_init(V, 0x9e3779b9u);
    seq = vmh_hello(V);
    assert_int_equal(seq, 1);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_OK);
    assert_int_equal(vmh_stats(V)->guest_restarts, 1);
}

/* A packet held for a guest that never asks for it: a RESET behind it is
 * still answered (and drops it), and so is a break-in. */
static void test_reset_passes_held_packet(void **state)
{
    uint8_t buf[2 * KDCOM_MAX_FRAME];
    uint8_t echo[64];
    int n, m;

    (void)state;
    assert_int_equal(vmh_sync(V), 0);
    n = data_frame(buf, KDCOM_INITIAL_ID, 100);
    assert_true(n > 0);
    assert_int_equal(kdcom_vm_host_feed(&V->host, V->now, buf, (size_t)n),
                     n);
    assert_int_equal(kdcom_vm_host_want_read(&V->host), 0);
    /* drain the ACK */
    while (kdcom_vm_host_drain(&V->host, V->now, echo, sizeof echo) > 0)
        ;
    /* a second data packet waits; noise, a break-in and a RESET in front
     * of it do not */
    buf[0] = 0x11;
    buf[1] = KDCOM_BREAKIN_BYTE;
    m = kdcom_encode_control(buf + 2, 16, KDCOM_TYPE_RESET, 0);
    assert_int_equal(m, 16);
    n = data_frame(buf + 18, KDCOM_INITIAL_ID, 10);
    assert_true(n > 0);
    assert_int_equal(kdcom_vm_host_feed(&V->host, V->now, buf, 18), 18);
    assert_int_equal(vmh_stats(V)->rx_dropped, 1);
    assert_int_equal(kdcom_vm_host_want_read(&V->host), 1);
    n = kdcom_vm_host_drain(&V->host, V->now, echo, sizeof echo);
    assert_int_equal(n, 16); /* the RESET echo */
    assert_int_equal(echo[0], KDCOM_LEADER_BYTE_CONTROL);
    assert_int_equal(echo[4], KDCOM_TYPE_RESET);
    /* the break-in is kept for the kernel */
    assert_int_equal(vmh_step(V, 1), KDCOM_VM_POLL_IDLE);
    assert_true(vmh_ld(V, KDCOM_VM_OFF_HOST_FLAGS) &
                KDCOM_VM_HF_BREAKIN_PENDING);
}

/* Synchronised, then two data packets from the debugger in one feed: the
 * host takes the first (held for the guest, which posted no RECEIVE) and
 * leaves the second.  Returns the first's length, the second's in *m. */
static int feed_two_packets(uint8_t *buf, int *m)
{
    int n;

    assert_int_equal(vmh_sync(V), 0);
    n = data_frame(buf, KDCOM_INITIAL_ID, 200);
    *m = data_frame(buf + n, KDCOM_INITIAL_ID ^ 1, 300);
    assert_int_equal(kdcom_vm_host_feed(&V->host, V->now, buf,
                                        (size_t)(n + *m)), n);
    return n;
}

/* A packet held for a guest whose region then reads invalid: dropped, the
 * wire flows again; while there is no guest, packets are dropped as they
 * come. */
static void test_held_packet_guest_gone(void **state)
{
    uint8_t buf[2 * KDCOM_MAX_FRAME];
    int n, m;

    (void)state;
    n = feed_two_packets(buf, &m);
    assert_int_equal(kdcom_vm_host_want_read(&V->host), 0);
    vmh_st(V, KDCOM_VM_OFF_MAGIC, 0); /* the guest is gone */
    assert_int_equal(vmh_step(V, 1), KDCOM_VM_POLL_NO_GUEST);
    assert_int_equal(vmh_stats(V)->rx_dropped, 1);
    assert_int_equal(kdcom_vm_host_want_read(&V->host), 1);
    assert_int_equal(kdcom_vm_host_feed(&V->host, V->now, buf + n,
                                        (size_t)m), m);
    assert_int_equal(vmh_stats(V)->rx_dropped, 2);
    assert_int_equal(kdcom_vm_host_want_read(&V->host), 1);
    assert_int_equal(vmh_stats(V)->rx_overrun, 0);
}

/* A guest that is gone but left a valid region: a packet held for it is
 * dropped once it has waited twice the receive timeout (2 s at least)
 * with another data packet behind it. */
static void test_held_too_long(void **state)
{
    uint8_t buf[2 * KDCOM_MAX_FRAME];
    int n, m;

    (void)state;
    n = feed_two_packets(buf, &m);
    V->now += 1999;
    assert_int_equal(kdcom_vm_host_feed(&V->host, V->now, buf + n,
                                        (size_t)m), 0);
    assert_int_equal(vmh_stats(V)->rx_dropped, 0);
    V->now += 1;
    assert_int_equal(kdcom_vm_host_feed(&V->host, V->now, buf + n,
                                        (size_t)m), m);
    assert_int_equal(vmh_stats(V)->rx_dropped, 1);
    assert_int_equal(kdcom_vm_host_want_read(&V->host), 0); /* the new one */
    assert_int_equal(vmh_stats(V)->rx_overrun, 0);
}

/* A new debugger connection: the old one left half a packet in the
 * host's parser and half a frame in its output; the new one synchronises
 * and receives the kernel's state change whole. */
static void test_wire_reset(void **state)
{
    static uint8_t sc[240];
    uint8_t buf[KDCOM_MAX_FRAME];
    struct kdcom_config dc;
    uint64_t out_before;
    uint32_t seq;
    unsigned i;
    int n;

    (void)state;
    assert_int_equal(vmh_sync(V), 0);
    for (i = 0; i < sizeof sc; i++)
        sc[i] = (uint8_t)(i * 7 + 1);
    sc[0] = 0x30; /* a state change (0x3030), not droppable */
    sc[1] = 0x30;
    sc[2] = sc[3] = 0;
    memcpy(V->shm + H_OFF, sc, sizeof sc);
    seq = vmh_post(V, KDCOM_VM_OP_SEND, KDCOM_TYPE_STATE_CHANGE64, H_OFF,
                   sizeof sc, D_OFF, 0, 20);
    assert_int_equal(kdcom_vm_host_poll(&V->host, V->shm, V->size, V->now),
                     KDCOM_VM_POLL_BUSY);
    /* the old peer got 100 bytes of the frame, and sent 30 of a packet */
    assert_int_equal(kdcom_vm_host_drain(&V->host, V->now, buf, 100), 100);
    n = data_frame(buf, KDCOM_INITIAL_ID, 500);
    assert_int_equal(kdcom_vm_host_feed(&V->host, V->now, buf, 30), 30);
    out_before = vmh_link_stats(V)->bytes_out;
    assert_int_equal(kdcom_vm_host_wire_reset(&V->host, V->now), KDCOM_OK);
    assert_int_equal(vmh_stats(V)->wire_resets, 1);
    assert_true(vmh_link_stats(V)->bytes_out >=
                out_before);
    assert_int_equal(kdcom_vm_host_debugger_present(&V->host), 0);
    /* a new debugger: fresh link, fresh wire */
    kdcom_config_init(&dc, KDCOM_ROLE_DEBUGGER);
    dc.ack_timeout_ms = 100;
    dc.reset_interval_ms = 50;
    assert_int_equal(kdcom_link_init(&V->dbg, &dc), KDCOM_OK);
    V->to_host_len = 0;
    V->n_rx = 0;
    assert_int_equal(vmh_wait(V, seq, 200, 5), KDCOM_VM_ST_OK);
    assert_true(V->n_rx >= 1);
    assert_int_equal(V->rx[0].type, KDCOM_TYPE_STATE_CHANGE64);
    assert_int_equal(V->rx[0].len, sizeof sc);
    assert_memory_equal(V->rx[0].payload, sc, sizeof sc);
    assert_int_equal(kdcom_get_stats(&V->dbg)->bad_checksum, 0);
    assert_int_equal(kdcom_vm_host_wire_reset(NULL, 0), KDCOM_ERR_INVAL);
    (void)n;
}

/* Doorbells: an answer owes the guest one kick; the flags the guest
 * declares are reported; HF_DOORBELL follows the configuration. */
static void test_doorbell_api(void **state)
{
    struct kdcom_vm_config cfg;
    uint32_t seq;

    (void)state;
    assert_int_equal(kdcom_vm_host_take_kick(&V->host), 0);
    assert_int_equal(kdcom_vm_host_guest_flags(&V->host), 0);
    vmh_st(V, KDCOM_VM_OFF_GUEST_FLAGS, KDCOM_VM_GF_DOORBELL);
    seq = vmh_hello(V);
    assert_int_equal(kdcom_vm_host_poll(&V->host, V->shm, V->size, V->now),
                     KDCOM_VM_POLL_IDLE);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_SEQ), seq);
    assert_int_equal(kdcom_vm_host_take_kick(&V->host), 1);
    assert_int_equal(kdcom_vm_host_take_kick(&V->host), 0);
    assert_int_equal(kdcom_vm_host_guest_flags(&V->host),
                     KDCOM_VM_GF_DOORBELL);
    assert_int_equal(vmh_stats(V)->kicks, 1);
    assert_false(vmh_ld(V, KDCOM_VM_OFF_HOST_FLAGS) & KDCOM_VM_HF_DOORBELL);
    /* a host that kicks says so */
    kdcom_vm_config_init(&cfg);
    cfg.flags = KDCOM_VM_CFG_KICKS_GUEST;
    assert_int_equal(kdcom_vm_host_init(&V->host, &cfg), KDCOM_OK);
    assert_int_equal(kdcom_vm_host_poll(&V->host, V->shm, V->size, V->now),
                     KDCOM_VM_POLL_IDLE);
    assert_true(vmh_ld(V, KDCOM_VM_OFF_HOST_FLAGS) & KDCOM_VM_HF_DOORBELL);
    /* no guest: no flags */
    vmh_st(V, KDCOM_VM_OFF_MAGIC, 0);
    assert_int_equal(kdcom_vm_host_poll(&V->host, V->shm, V->size, V->now),
                     KDCOM_VM_POLL_NO_GUEST);
    assert_int_equal(kdcom_vm_host_guest_flags(&V->host), 0);
    assert_int_equal(kdcom_vm_host_take_kick(NULL), KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_vm_host_guest_flags(NULL), KDCOM_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        VMH_TEST(test_same_epoch_fresh_region),
        VMH_TEST(test_new_epoch_fresh_region),
        VMH_TEST(test_reset_passes_held_packet),
        VMH_TEST(test_held_packet_guest_gone),
        VMH_TEST(test_held_too_long),
        VMH_TEST(test_wire_reset),
        VMH_TEST(test_doorbell_api),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
