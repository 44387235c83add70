/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vm_host_hostile.c - a hostile guest against the host service:
 * every length, offset, type, sequence number, op, reserved field and
 * control field out of range, fields changed under a request in progress,
 * and a thread that rewrites the whole guest half at random while the
 * host serves.  The host must answer with an error status (or ignore what
 * is not a request), keep serving, and never read or write outside the
 * region it was told about nor outside the buffers it validated.  The
 * region is a heap block of exactly the mapped size, so the sanitizer
 * build (make B=build-asan CFLAGS=-fsanitize=address,undefined check)
 * catches any access past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "vmh.h"

#define MAPPED 0x10000u  /* what the host is told */
#define DECLARED 0x8000u /* what the guest declares: the bound */
#define CANARY 0xA5

/* The region is the test's own heap block (freed by vmh_fixture_teardown). */
static int setup(void **state)
{
    (void)state;
    V = vmh_new(50);
    if (V == NULL)
        return -1;
    V->mem = malloc(MAPPED); /* exactly the mapped size: ASan sees past it */
    if (V->mem == NULL)
        return -1;
    memset(V->mem, 0, MAPPED);
    memset(V->mem + DECLARED, CANARY, MAPPED - DECLARED);
    V->size = MAPPED;
    vmh_guest_init(V, 7);
    vmh_st(V, KDCOM_VM_OFF_SIZE, DECLARED);
    return 0;
}

#define HOSTILE_TEST(f)                                                      \
    cmocka_unit_test_setup_teardown(f, setup, vmh_fixture_teardown)

static int canary_intact(void)
{
    uint32_t i;

    for (i = DECLARED; i < MAPPED; i++)
        if (V->mem[i] != CANARY)
            return 0;
    return 1;
}

/* A good request still works: the host kept serving. */
static void assert_serving(void)
{
    assert_int_equal(vmh_wait(V, vmh_hello(V), 5, 1), KDCOM_VM_ST_OK);
}

static int post_wait(uint32_t op, uint32_t type, uint32_t hoff, uint32_t hlen,
                     uint32_t doff, uint32_t dlen, uint32_t arg)
{
    uint32_t seq = vmh_post(V, op, type, hoff, hlen, doff, dlen, arg);
    return vmh_wait(V, seq, 5, 1);
}

static void test_bad_arguments(void **state)
{
    uint8_t small[KDCOM_VM_MIN_SIZE + 4];

    (void)state;
    assert_int_equal(kdcom_vm_host_poll(NULL, V->mem, MAPPED, 1),
                     KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_vm_host_poll(&V->host, NULL, MAPPED, 1),
                     KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_vm_host_poll(&V->host, V->mem + 1, MAPPED - 1, 1),
                     KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_vm_host_poll(&V->host, V->mem,
                                        KDCOM_VM_MIN_SIZE - 4, 1),
                     KDCOM_ERR_INVAL);
    (void)small;
    assert_int_equal(kdcom_vm_host_feed(&V->host, 1, NULL, 1),
                     KDCOM_ERR_INVAL);
    assert_int_equal(kdcom_vm_host_init(NULL, NULL), KDCOM_ERR_INVAL);
    assert_serving();
}

static void test_bad_control_fields(void **state)
{
    static const struct {
        uint32_t off, val;
    } bad[] = {
        {KDCOM_VM_OFF_MAGIC, 0},
        {KDCOM_VM_OFF_MAGIC, KDCOM_VM_MAGIC ^ 1},
        {KDCOM_VM_OFF_ABI, 0x00020000},
        {KDCOM_VM_OFF_ABI, 0xFFFFFFFF},
        {KDCOM_VM_OFF_SIZE, 0},
        {KDCOM_VM_OFF_SIZE, KDCOM_VM_MIN_SIZE - 1},
        {KDCOM_VM_OFF_SIZE, MAPPED + 1},
        {KDCOM_VM_OFF_SIZE, 0xFFFFFFFF},
        {KDCOM_VM_OFF_GUEST_EPOCH, 0},
    };
    uint8_t guest_half[0x80];
    size_t i;

    (void)state;
    assert_serving();
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t old = vmh_ld(V, bad[i].off), seq;
        uint64_t no_guest = vmh_stats(V)->no_guest;

        vmh_st(V, bad[i].off, bad[i].val);
        seq = vmh_post(V, KDCOM_VM_OP_HELLO, 0, 0, 0, 0, 0,
                       KDCOM_VM_ABI_VERSION);
        memcpy(guest_half, V->mem, sizeof guest_half);
        assert_int_equal(vmh_step(V, 1), KDCOM_VM_POLL_NO_GUEST);
        /* Nothing answered, the guest half untouched. */
        assert_int_not_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_SEQ), seq);
        assert_memory_equal(guest_half, V->mem, sizeof guest_half);
        assert_true(vmh_stats(V)->no_guest > no_guest);
        vmh_st(V, bad[i].off, old);
        assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_OK);
    }
    /* A guest that comes back after the region read invalid is taken as
     * a new one (it re-initialised), each time; its posted request is
     * still served. */
    assert_int_equal(vmh_stats(V)->guest_restarts,
                     sizeof bad / sizeof bad[0]);
    /* An epoch change is a guest restart, not an error. */
    vmh_st(V, KDCOM_VM_OFF_GUEST_EPOCH, 0xFFFFFFFF);
    assert_serving();
    assert_int_equal(vmh_stats(V)->guest_restarts,
                     sizeof bad / sizeof bad[0] + 1);
    assert_true(canary_intact());
}

static void test_bad_requests(void **state)
{
    static const struct {
        uint32_t op, type, hoff, hlen, doff, dlen, arg, expect;
    } bad[] = {
        {0, 0, 0, 0, 0, 0, 0, KDCOM_VM_ST_ERR_OP},
        {5, 0, 0, 0, 0, 0, 0, KDCOM_VM_ST_ERR_OP},
        {0xFFFFFFFF, 0, 0, 0, 0, 0, 0, KDCOM_VM_ST_ERR_OP},
        {KDCOM_VM_OP_HELLO, 0, 0, 0, 0, 0, 0, KDCOM_VM_ST_ERR_VERSION},
        {KDCOM_VM_OP_HELLO, 0, 0, 0, 0, 0, 0xFFFF0000, KDCOM_VM_ST_ERR_VERSION},
        /* SEND: types */
        {KDCOM_VM_OP_SEND, 0, H_OFF, 4, D_OFF, 0, 1, KDCOM_VM_ST_ERR_TYPE},
        {KDCOM_VM_OP_SEND, 4, H_OFF, 4, D_OFF, 0, 1, KDCOM_VM_ST_ERR_TYPE},
        {KDCOM_VM_OP_SEND, 6, H_OFF, 4, D_OFF, 0, 1, KDCOM_VM_ST_ERR_TYPE},
        {KDCOM_VM_OP_SEND, 8, H_OFF, 4, D_OFF, 0, 1, KDCOM_VM_ST_ERR_TYPE},
        {KDCOM_VM_OP_SEND, 12, H_OFF, 4, D_OFF, 0, 1, KDCOM_VM_ST_ERR_TYPE},
        {KDCOM_VM_OP_SEND, 0x10002, H_OFF, 4, D_OFF, 0, 1, KDCOM_VM_ST_ERR_TYPE},
        {KDCOM_VM_OP_SEND, 0xFFFFFFFF, H_OFF, 4, D_OFF, 0, 1, KDCOM_VM_ST_ERR_TYPE},
        /* SEND: lengths, wrapping sums included */
        {KDCOM_VM_OP_SEND, 2, H_OFF, 4001, D_OFF, 0, 1, KDCOM_VM_ST_ERR_LENGTH},
        {KDCOM_VM_OP_SEND, 2, H_OFF, 0, D_OFF, 4001, 1, KDCOM_VM_ST_ERR_LENGTH},
        {KDCOM_VM_OP_SEND, 2, H_OFF, 2000, D_OFF, 2001, 1, KDCOM_VM_ST_ERR_LENGTH},
        {KDCOM_VM_OP_SEND, 2, H_OFF, 0xFFFFFFFF, D_OFF, 1, 1, KDCOM_VM_ST_ERR_LENGTH},
        {KDCOM_VM_OP_SEND, 2, H_OFF, 1, D_OFF, 0xFFFFFFFF, 1, KDCOM_VM_ST_ERR_LENGTH},
        {KDCOM_VM_OP_SEND, 2, H_OFF, 0x80000000, D_OFF, 0x80000000, 1, KDCOM_VM_ST_ERR_LENGTH},
        /* SEND: offsets */
        {KDCOM_VM_OP_SEND, 2, 0, 56, D_OFF, 0, 1, KDCOM_VM_ST_ERR_BUFFER},
        {KDCOM_VM_OP_SEND, 2, 0x80, 56, D_OFF, 0, 1, KDCOM_VM_ST_ERR_BUFFER},
        {KDCOM_VM_OP_SEND, 2, KDCOM_VM_BUF_BASE - 1, 56, D_OFF, 0, 1, KDCOM_VM_ST_ERR_BUFFER},
        {KDCOM_VM_OP_SEND, 2, DECLARED - 55, 56, D_OFF, 0, 1, KDCOM_VM_ST_ERR_BUFFER},
        {KDCOM_VM_OP_SEND, 2, DECLARED, 1, D_OFF, 0, 1, KDCOM_VM_ST_ERR_BUFFER},
        {KDCOM_VM_OP_SEND, 2, MAPPED - 56, 56, D_OFF, 0, 1, KDCOM_VM_ST_ERR_BUFFER},
        {KDCOM_VM_OP_SEND, 2, 0xFFFFFFFF, 56, D_OFF, 0, 1, KDCOM_VM_ST_ERR_BUFFER},
        {KDCOM_VM_OP_SEND, 2, 0xFFFFFFC8, 56, D_OFF, 0, 1, KDCOM_VM_ST_ERR_BUFFER},
        {KDCOM_VM_OP_SEND, 2, H_OFF, 56, 0xFFFFFF00, 0x100, 1, KDCOM_VM_ST_ERR_BUFFER},
        {KDCOM_VM_OP_SEND, 2, H_OFF, 56, DECLARED - 10, 11, 1, KDCOM_VM_ST_ERR_BUFFER},
        /* RECEIVE */
        {KDCOM_VM_OP_RECEIVE, 0, H_OFF, 56, D_OFF, 4000, 0, KDCOM_VM_ST_ERR_TYPE},
        {KDCOM_VM_OP_RECEIVE, 8, H_OFF, 56, D_OFF, 4000, 0, KDCOM_VM_ST_ERR_TYPE},
        {KDCOM_VM_OP_RECEIVE, 5, H_OFF, 56, D_OFF, 4000, 0, KDCOM_VM_ST_ERR_TYPE},
        {KDCOM_VM_OP_RECEIVE, 2, H_OFF, 56, H_OFF + 55, 4000, 0, KDCOM_VM_ST_ERR_BUFFER},
        {KDCOM_VM_OP_RECEIVE, 2, D_OFF + 10, 56, D_OFF, 4000, 0, KDCOM_VM_ST_ERR_BUFFER},
        {KDCOM_VM_OP_RECEIVE, 2, H_OFF, 56, D_OFF, 0xFFFFFFFF, 0, KDCOM_VM_ST_ERR_BUFFER},
        {KDCOM_VM_OP_RECEIVE, 2, H_OFF, 0xFFFFFFFF, D_OFF, 4000, 0, KDCOM_VM_ST_ERR_BUFFER},
        {KDCOM_VM_OP_RECEIVE, 2, H_OFF, 56, DECLARED - 3999, 4000, 0, KDCOM_VM_ST_ERR_BUFFER},
        {KDCOM_VM_OP_RECEIVE, 2, 4, 56, D_OFF, 4000, 0, KDCOM_VM_ST_ERR_BUFFER},
    };
    size_t i;

    (void)state;
    assert_int_equal(vmh_sync(V), 0);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t sent = (uint32_t)vmh_link_stats(V)
                            ->packets_sent;
        int st = post_wait(bad[i].op, bad[i].type, bad[i].hoff, bad[i].hlen,
                           bad[i].doff, bad[i].dlen, bad[i].arg);
        if (st != (int)bad[i].expect)
            fail_msg("case %zu: status %#x (%s), expected %#x", i, st,
                     kdcom_vm_status_name((uint32_t)st), bad[i].expect);
        /* nothing went on the wire */
        assert_int_equal(vmh_link_stats(V)
                             ->packets_sent,
                         sent);
        assert_serving();
    }
    /* reserved field */
    vmh_st(V, KDCOM_VM_OFF_REQ_RESERVED, 1);
    {
        uint32_t seq = V->guest_seq + 1;
        vmh_st(V, KDCOM_VM_OFF_REQ_OP, KDCOM_VM_OP_HELLO);
        vmh_st(V, KDCOM_VM_OFF_REQ_ARG, KDCOM_VM_ABI_VERSION);
        vmh_st(V, KDCOM_VM_OFF_REQ_SEQ, seq);
        V->guest_seq = seq;
        assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_ERR_RESERVED);
    }
    assert_serving();
    assert_true(vmh_stats(V)->errors >= sizeof bad / sizeof bad[0]);
    /* Exact fits at the end of the declared region are fine. */
    memset(V->mem + DECLARED - 100, 0x30, 4);
    assert_int_equal(post_wait(KDCOM_VM_OP_SEND, KDCOM_TYPE_DEBUG_IO,
                               DECLARED - 100, 100, D_OFF, 0, 1),
                     KDCOM_VM_ST_OK);
    /* The offset of an empty buffer is never used, whatever it is. */
    memset(V->mem + D_OFF, 0x31, 8);
    assert_int_equal(post_wait(KDCOM_VM_OP_SEND, KDCOM_TYPE_DEBUG_IO,
                               0xFFFFFFFF, 0, D_OFF, 8, 1),
                     KDCOM_VM_ST_OK);
    assert_true(canary_intact());
}

static void test_sequence_numbers(void **state)
{
    uint32_t seq, sent;
    int i;

    (void)state;
    assert_int_equal(vmh_sync(V), 0);
    memset(V->mem + H_OFF, 0x41, 16);
    seq = vmh_post(V, KDCOM_VM_OP_SEND, KDCOM_TYPE_DEBUG_IO, H_OFF, 16, D_OFF,
                   0, 5);
    assert_int_equal(vmh_wait(V, seq, 50, 1), KDCOM_VM_ST_OK);
    sent = (uint32_t)vmh_link_stats(V)->packets_sent;
    /* Re-posting the answered number is not a new request. */
    vmh_st(V, KDCOM_VM_OFF_REQ_SEQ, 0);
    vmh_st(V, KDCOM_VM_OFF_REQ_SEQ, seq);
    vmh_steps(V, 20, 1);
    assert_int_equal(vmh_link_stats(V)->packets_sent,
                     sent);
    /* 0 is "being written": never taken. */
    vmh_st(V, KDCOM_VM_OFF_REQ_OP, KDCOM_VM_OP_HELLO);
    vmh_st(V, KDCOM_VM_OFF_REQ_ARG, KDCOM_VM_ABI_VERSION);
    vmh_st(V, KDCOM_VM_OFF_REQ_SEQ, 0);
    vmh_steps(V, 5, 1);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_SEQ), seq);
    /* Any other number is a new request, going backwards included. */
    vmh_st(V, KDCOM_VM_OFF_REQ_SEQ, seq - 1000);
    assert_int_equal(vmh_wait(V, seq - 1000, 5, 1), KDCOM_VM_ST_OK);
    vmh_st(V, KDCOM_VM_OFF_REQ_SEQ, 0xFFFFFFFF);
    assert_int_equal(vmh_wait(V, 0xFFFFFFFF, 5, 1), KDCOM_VM_ST_OK);
    V->guest_seq = 0xFFFFFFFF;
    /* A flood of new numbers, one per poll: each abandons the last. */
    for (i = 0; i < 200; i++) {
        vmh_post(V, KDCOM_VM_OP_RECEIVE, KDCOM_TYPE_STATE_MANIPULATE, H_OFF,
                 56, D_OFF, 4000, 0);
        vmh_step(V, 1);
    }
    assert_true(vmh_stats(V)->abandoned >= 150);
    assert_serving();
    assert_true(canary_intact());
}

/* Fields changed under a request in progress: the host works from its
 * copy and writes only into the buffers it validated. */
static void test_fields_change_in_flight(void **state)
{
    static uint8_t before[MAPPED];
    uint8_t req[56 + 300];
    uint32_t seq, i;

    (void)state;
    assert_int_equal(vmh_sync_poll(V), KDCOM_VM_ST_TIMEOUT);
    seq = vmh_post(V, KDCOM_VM_OP_RECEIVE, KDCOM_TYPE_STATE_MANIPULATE, H_OFF,
                   56, D_OFF, 300, 0);
    vmh_step(V, 1);
    assert_int_equal(V->host.cur.seq, seq);
    /* Now the guest rewrites everything but the sequence number. */
    vmh_st(V, KDCOM_VM_OFF_REQ_OP, KDCOM_VM_OP_SEND);
    vmh_st(V, KDCOM_VM_OFF_REQ_TYPE, 0xFFFF);
    vmh_st(V, KDCOM_VM_OFF_REQ_HEAD_OFF, 0);
    vmh_st(V, KDCOM_VM_OFF_REQ_HEAD_LEN, 0xFFFFFFFF);
    vmh_st(V, KDCOM_VM_OFF_REQ_DATA_OFF, DECLARED - 1);
    vmh_st(V, KDCOM_VM_OFF_REQ_DATA_LEN, 0xFFFFFFFF);
    for (i = 0; i < sizeof req; i++)
        req[i] = (uint8_t)(i + 1);
    memcpy(before, V->mem, MAPPED);
    assert_int_equal(kdcom_send(&V->dbg, V->now, KDCOM_TYPE_STATE_MANIPULATE,
                                req, 56, req + 56, 300), KDCOM_OK);
    assert_int_equal(vmh_wait(V, seq, 20, 1), KDCOM_VM_ST_RECEIVED);
    assert_memory_equal(V->mem + H_OFF, req, 56);
    assert_memory_equal(V->mem + D_OFF, req + 56, 300);
    /* Nothing else changed but the host half. */
    assert_memory_equal(before, V->mem, 0x80);
    assert_memory_equal(before + 0x100, V->mem + 0x100, H_OFF - 0x100);
    assert_memory_equal(before + H_OFF + 56, V->mem + H_OFF + 56,
                        D_OFF - H_OFF - 56);
    assert_memory_equal(before + D_OFF + 300, V->mem + D_OFF + 300,
                        MAPPED - D_OFF - 300);
}

/* Received packets that do not fit what the guest asked for. */
static void test_receive_misfits(void **state)
{
    uint8_t req[4000];
    uint32_t seq;

    (void)state;
    memset(req, 0x77, sizeof req);
    assert_int_equal(vmh_sync_poll(V), KDCOM_VM_ST_TIMEOUT);
    /* Shorter than the header: taken while no RECEIVE had set a minimum
     * (acknowledged), it is dropped by the RECEIVE that finds it. */
    assert_int_equal(kdcom_send(&V->dbg, V->now, KDCOM_TYPE_STATE_MANIPULATE,
                                req, 55, NULL, 0), KDCOM_OK);
    vmh_steps(V, 5, 1);
    assert_int_equal(kdcom_can_send(&V->dbg), 1);
    seq = vmh_post(V, KDCOM_VM_OP_RECEIVE, KDCOM_TYPE_STATE_MANIPULATE, H_OFF,
                   56, D_OFF, 100, 0);
    vmh_steps(V, 5, 1);
    assert_int_equal(vmh_stats(V)->rx_too_short, 1);
    /* Under the RECEIVE's minimum the link refuses it instead (RESEND,
     * test_vm_host_session.c); the debugger gives it up. */
    assert_int_equal(kdcom_send(&V->dbg, V->now, KDCOM_TYPE_STATE_MANIPULATE,
                                req, 55, NULL, 0), KDCOM_OK);
    vmh_steps(V, 5, 1);
    assert_true(vmh_link_stats(V)->bad_short >= 1);
    assert_int_equal(kdcom_cancel_send(&V->dbg), KDCOM_OK);
    /* Longer than both buffers. */
    assert_int_equal(kdcom_send(&V->dbg, V->now, KDCOM_TYPE_STATE_MANIPULATE,
                                req, 56, req, 101), KDCOM_OK);
    vmh_steps(V, 5, 1);
    assert_int_not_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_SEQ), seq);
    assert_int_equal(vmh_stats(V)->rx_too_short, 1);
    assert_int_equal(vmh_stats(V)->rx_too_long, 1);
    assert_int_equal(vmh_wait(V, seq, 100, 1), KDCOM_VM_ST_TIMEOUT);
    /* A packet that exactly fills the header, no data buffer at all (its
     * offset is garbage and must not matter). */
    seq = vmh_post(V, KDCOM_VM_OP_RECEIVE, KDCOM_TYPE_STATE_MANIPULATE, H_OFF,
                   56, 0xFFFFFFF0, 0, 0);
    assert_int_equal(kdcom_send(&V->dbg, V->now, KDCOM_TYPE_STATE_MANIPULATE,
                                req, 56, NULL, 0), KDCOM_OK);
    assert_int_equal(vmh_wait(V, seq, 20, 1), KDCOM_VM_ST_RECEIVED);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_HEAD_LEN), 56);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_DATA_LEN), 0);
    assert_serving();
    assert_true(canary_intact());
}

/* ---- a random and a racing guest ---- */

struct racer {
    struct vmh *v;
    int stop;
    uint64_t rng;
};

static uint32_t rnd(struct racer *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return (uint32_t)r->rng;
}

static uint32_t wild(struct racer *r)
{
    static const uint32_t edge[] = {0,          1,          4,
                                    55,         56,         4000,
                                    4001,       KDCOM_VM_BUF_BASE - 1,
                                    KDCOM_VM_BUF_BASE,      DECLARED - 1,
                                    DECLARED,   MAPPED,     0x7FFFFFFF,
                                    0x80000000, 0xFFFFFFFF, 0xFFFFF000};
    uint32_t k = rnd(r);

    if (k & 1)
        return edge[(k >> 1) % (sizeof edge / sizeof edge[0])];
    return rnd(r) % (DECLARED + 0x100);
}

/* A value the host may well accept for the request field at off. */
static uint32_t plausible(struct racer *r, uint32_t off)
{
    switch (off) {
    case KDCOM_VM_OFF_REQ_OP:
        return 1 + rnd(r) % 4;
    case KDCOM_VM_OFF_REQ_TYPE:
        return 1 + rnd(r) % 11;
    case KDCOM_VM_OFF_REQ_HEAD_OFF:
    case KDCOM_VM_OFF_REQ_DATA_OFF:
        return KDCOM_VM_BUF_BASE + rnd(r) % (DECLARED - KDCOM_VM_BUF_BASE);
    case KDCOM_VM_OFF_REQ_HEAD_LEN:
    case KDCOM_VM_OFF_REQ_DATA_LEN:
        return rnd(r) % 2100;
    case KDCOM_VM_OFF_REQ_ARG:
        return (rnd(r) & 1) ? KDCOM_VM_ABI_VERSION : rnd(r) % 4;
    default:
        return 0;
    }
}

/* One random write into the guest half (or the host half).  Control
 * fields are broken only briefly, so most polls see a guest. */
static void scribble(struct racer *r)
{
    uint32_t *w = (uint32_t *)(void *)r->v->mem;
    uint32_t k = rnd(r) % 256, off;
    int bad = rnd(r) % 8 == 0;

    if (k < 160) {
        off = KDCOM_VM_OFF_REQ_OP + 4 * (rnd(r) % 8);
        __atomic_store_n(&w[off / 4], (rnd(r) % 3) ? plausible(r, off) : wild(r),
                         __ATOMIC_RELAXED);
    } else if (k < 230) {
        __atomic_store_n(&w[KDCOM_VM_OFF_REQ_SEQ / 4], rnd(r) % 64,
                         __ATOMIC_RELEASE);
    } else if (k < 234) {
        __atomic_store_n(&w[KDCOM_VM_OFF_GUEST_EPOCH / 4],
                         bad ? 0 : 1 + rnd(r) % 3, __ATOMIC_RELEASE);
    } else if (k < 238) {
        __atomic_store_n(&w[KDCOM_VM_OFF_MAGIC / 4],
                         bad ? rnd(r) : KDCOM_VM_MAGIC, __ATOMIC_RELEASE);
    } else if (k < 242) {
        __atomic_store_n(&w[KDCOM_VM_OFF_SIZE / 4], bad ? wild(r) : DECLARED,
                         __ATOMIC_RELEASE);
    } else if (k < 246) {
        __atomic_store_n(&w[KDCOM_VM_OFF_ABI / 4],
                         bad ? rnd(r) : KDCOM_VM_ABI_VERSION, __ATOMIC_RELEASE);
    } else {
        /* scribble over the host half too */
        off = 0x80 + 4 * (rnd(r) % 32);
        __atomic_store_n(&w[off / 4], rnd(r), __ATOMIC_RELAXED);
    }
}

static void *race(void *arg)
{
    struct racer *r = arg;

    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
        scribble(r);
    return NULL;
}

static void debugger_chatter(int i)
{
    uint8_t m[64];

    if (i % 50 != 0 || kdcom_can_send(&V->dbg) != 1)
        return;
    memset(m, i & 0xFF, sizeof m);
    kdcom_send(&V->dbg, V->now, (i / 50) % 2 ? 2 : 3, m, 56, m, 8);
}

/* After the random writes: nothing past the declared region was touched,
 * and the guest, come back to its senses, is served after a clean
 * restart.  What the host counted on the way is printed. */
static void guest_recovers(const char *who, uint32_t epoch)
{
    const struct kdcom_vm_stats *hs = vmh_stats(V);

    assert_true(canary_intact());
    vmh_guest_init(V, epoch);
    vmh_st(V, KDCOM_VM_OFF_SIZE, DECLARED);
    assert_serving();
    print_message("%s: %llu requests, %llu errors, %llu torn, %llu abandoned, "
                  "%llu late, %llu restarts, %llu no_guest, %llu received, "
                  "%llu sent\n",
                  who, (unsigned long long)hs->requests,
                  (unsigned long long)hs->errors,
                  (unsigned long long)hs->torn_requests,
                  (unsigned long long)hs->abandoned,
                  (unsigned long long)hs->late_answers,
                  (unsigned long long)hs->guest_restarts,
                  (unsigned long long)hs->no_guest,
                  (unsigned long long)hs->received,
                  (unsigned long long)hs->sends);
}

/* Deterministic: between every two polls the guest writes a few random
 * fields, so thousands of random requests meet the validation. */
static void test_random_guest(void **state)
{
    struct racer r = {V, 0, 0x2545F4914F6CDD1Dull};
    int i, k;

    (void)state;
    assert_int_equal(vmh_sync(V), 0);
    for (i = 0; i < 30000; i++) {
        for (k = rnd(&r) % 4; k >= 0; k--)
            scribble(&r);
        assert_true(vmh_step(V, 1) >= 0);
        debugger_chatter(i);
    }
    guest_recovers("random guest", 0x4321);
    assert_true(vmh_stats(V)->requests > 1000);
    assert_true(vmh_stats(V)->sends > 10);
    assert_true(vmh_stats(V)->errors > 100);
}

static void test_racing_guest(void **state)
{
    struct racer r = {V, 0, 0x9E3779B97F4A7C15ull};
    pthread_t th;
    int i;

    (void)state;
    assert_int_equal(vmh_sync(V), 0);
    assert_int_equal(pthread_create(&th, NULL, race, &r), 0);
    for (i = 0; i < 20000; i++) {
        assert_true(vmh_step(V, 1) >= 0);
        debugger_chatter(i);
        if (i % 16 == 0)
            sched_yield(); /* let the racer run on a busy machine */
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);

    guest_recovers("racing guest", 0x1234);
    /* How much the race hits depends on scheduling; what must hold does
     * not: no access outside the region (ASan), canary intact, serving. */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HOSTILE_TEST(test_bad_arguments),
        HOSTILE_TEST(test_bad_control_fields),
        HOSTILE_TEST(test_bad_requests),
        HOSTILE_TEST(test_sequence_numbers),
        HOSTILE_TEST(test_fields_change_in_flight),
        HOSTILE_TEST(test_receive_misfits),
        HOSTILE_TEST(test_random_guest),
        HOSTILE_TEST(test_racing_guest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
