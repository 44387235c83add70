/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vm_guest_hostile.c - a dead and a hostile host against the guest
 * transport's vm back end.  The "host" here is the test's main thread
 * writing the host half of the region by hand: it stops beating, never
 * answers, or answers with wrong epochs, statuses, types and lengths.
 * The kernel's calls must all return in bounded time with a defined
 * result (KdPacketTimedOut, a dropped or abandoned send, NeedsResend
 * afterwards), count what they saw, and never write past the buffers the
 * kernel passed in (guard bytes are checked).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>

#include "vmt.h"

enum mode {
    M_SILENT = 0,   /* never answer */
    M_OK,           /* a correct answer */
    M_BAD_EPOCH,
    M_HEAD_BIG,     /* RECEIVED, head_len above the capacity */
    M_DATA_BIG,
    M_TYPE,         /* RECEIVED with another packet type */
    M_HUGE,         /* RECEIVED, lengths 0xFFFFFFFF */
    M_SUM,          /* RECEIVED, head + data > 4000 within capacities */
    M_STATUS_JUNK,  /* a status that does not exist */
    M_STATUS_ERR,   /* an error status */
    M_NONSENSE      /* RECEIVED to a SEND, OK to a RECEIVE */
};

struct evil {
    int mode;  /* atomic, set by the kernel before each call */
    int beat;  /* atomic: 1 while HOST_BEAT moves */
    int epoch_bump; /* atomic, set by the kernel */
    uint32_t last, beats;
};

static struct vmt *T;

static uint32_t ld(uint32_t off)
{
    return __atomic_load_n((uint32_t *)(void *)(T->host_map + off),
                           __ATOMIC_ACQUIRE);
}

static void st(uint32_t off, uint32_t v)
{
    __atomic_store_n((uint32_t *)(void *)(T->host_map + off), v,
                     __ATOMIC_RELEASE);
}

static void evil_host(struct vmt *v, const struct kdcom_event *ev)
{
    struct evil *e = v->user;
    uint32_t seq, op, type, hcap, dcap, epoch, status, hl = 0, dl = 0;
    int mode;

    if (ev != NULL)
        return;
    if (vmt_get(&e->beat))
        st(KDCOM_VM_OFF_HOST_BEAT, ++e->beats);
    st(KDCOM_VM_OFF_HOST_EPOCH, 100u + (uint32_t)vmt_get(&e->epoch_bump));
    seq = ld(KDCOM_VM_OFF_REQ_SEQ);
    if (seq == 0 || seq == e->last)
        return;
    mode = vmt_get(&e->mode);
    if (mode == M_SILENT)
        return;
    e->last = seq;
    op = ld(KDCOM_VM_OFF_REQ_OP);
    type = ld(KDCOM_VM_OFF_REQ_TYPE);
    hcap = ld(KDCOM_VM_OFF_REQ_HEAD_LEN);
    dcap = ld(KDCOM_VM_OFF_REQ_DATA_LEN);
    epoch = ld(KDCOM_VM_OFF_GUEST_EPOCH);
    /* Fill both buffers completely: an over-copy would show. */
    memset(v->host_map + KDCOM_VM_DEF_HEAD_OFF, 0x11, KDCOM_VM_BUF_SIZE);
    memset(v->host_map + KDCOM_VM_DEF_DATA_OFF, 0x22, KDCOM_VM_BUF_SIZE);
    switch (op) {
    case KDCOM_VM_OP_SEND:
    case KDCOM_VM_OP_HELLO:
        status = KDCOM_VM_ST_OK;
        break;
    case KDCOM_VM_OP_POLL_BREAKIN:
        status = KDCOM_VM_ST_RECEIVED;
        break;
    default:
        status = KDCOM_VM_ST_RECEIVED;
        hl = hcap;
        dl = dcap < 10 ? dcap : 10;
        break;
    }
    switch (mode) {
    case M_BAD_EPOCH: epoch ^= 0x5555; break;
    case M_HEAD_BIG: hl = hcap + 1; break;
    case M_DATA_BIG: dl = dcap + 1; break;
    case M_TYPE: type ^= 1; break;
    case M_HUGE: hl = dl = 0xFFFFFFFF; break;
    case M_SUM: hl = hcap; dl = KDCOM_MAX_PAYLOAD + 1 - hcap; break;
    case M_STATUS_JUNK: status = 0x42; break;
    case M_STATUS_ERR: status = KDCOM_VM_ST_ERR_BUFFER; break;
    case M_NONSENSE:
        status = op == KDCOM_VM_OP_SEND ? KDCOM_VM_ST_RECEIVED : KDCOM_VM_ST_OK;
        break;
    default: break;
    }
    st(KDCOM_VM_OFF_RSP_STATUS, status);
    st(KDCOM_VM_OFF_RSP_TYPE, type);
    st(KDCOM_VM_OFF_RSP_HEAD_LEN, hl);
    st(KDCOM_VM_OFF_RSP_DATA_LEN, dl);
    st(KDCOM_VM_OFF_RSP_FLAGS, KDCOM_VM_RF_DEBUGGER_PRESENT);
    st(KDCOM_VM_OFF_RSP_EPOCH, epoch);
    st(KDCOM_VM_OFF_RSP_SEQ, seq);
}

/* ---- kernel side helpers ---- */

#define GUARD 32
static uint8_t hbuf[56 + GUARD], dbuf[4000 + GUARD];
static KD_CONTEXT ctx;

static KDP_STATUS receive(struct vmt *v, uint16_t dcap)
{
    STRING hs = {0, 56, (CHAR *)hbuf}, ds = {0, dcap, (CHAR *)dbuf};
    ULONG dl = 777;
    KDP_STATUS st;
    size_t i;

    memset(hbuf, 0xEE, sizeof hbuf);
    memset(dbuf, 0xEE, sizeof dbuf);
    st = KdReceivePacket(KDCOM_TYPE_STATE_MANIPULATE, &hs, &ds, &dl, &ctx);
    for (i = 56; i < sizeof hbuf; i++)
        VMT_CHECK(v, hbuf[i] == 0xEE);
    for (i = dcap; i < sizeof dbuf; i++)
        VMT_CHECK(v, dbuf[i] == 0xEE);
    if (st != KdPacketReceived) {
        VMT_CHECK(v, dl == 777);      /* untouched */
        VMT_CHECK(v, hbuf[0] == 0xEE); /* nothing copied */
    }
    return st;
}

static void send(uint32_t api, uint32_t type, ULONG retries)
{
    uint8_t h[16] = {0};
    STRING hs = {16, 16, (CHAR *)h};

    h[0] = (uint8_t)api;
    h[1] = (uint8_t)(api >> 8);
    ctx.KdpDefaultRetries = retries;
    KdSendPacket(type, &hs, NULL, &ctx);
}

static void set_mode(struct vmt *v, int m)
{
    vmt_set(&((struct evil *)v->user)->mode, m);
}

/* ---- the cases ---- */

/* 1 once HOST_BEAT differs from what it was at the first call. */
static int kdg_beat_moved(struct vmt *v)
{
    static uint32_t first;
    static int have;
    uint32_t b = __atomic_load_n(
        (uint32_t *)(void *)(v->host_map + KDCOM_VM_OFF_HOST_BEAT),
        __ATOMIC_ACQUIRE);

    if (!have) {
        first = b;
        have = 1;
    }
    return b != first;
}

static void kernel_dead_host(struct vmt *v)
{
    struct kd_guest_stats s0;

    KdGuestHostTimeoutMs = 100;
    KdGuestAnswerTimeoutMs = 400;
    VMT_CHECK(v, KdDebuggerInitialize0(NULL) == KDAPI_STATUS_SUCCESS);
    s0 = KdGuestStats;
    VMT_CHECK(v, receive(v, 100) == KdPacketTimedOut);
    VMT_CHECK(v, KdReceivePacket(KDCOM_TYPE_POLL_BREAKIN, NULL, NULL, NULL,
                                 &ctx) == KdPacketTimedOut);
    send(0x3230, KDCOM_TYPE_DEBUG_IO, 3); /* DbgPrint: dropped */
    VMT_CHECK(v, KdGuestStats.sends_dropped == s0.sends_dropped + 1);
    send(0x3030, KDCOM_TYPE_STATE_CHANGE64, 2); /* abandoned ... */
    VMT_CHECK(v, KdGuestStats.sends_abandoned == s0.sends_abandoned + 1);
    /* ... and the kernel is told to send it again. */
    VMT_CHECK(v, receive(v, 100) == KdPacketNeedsResend);
    VMT_CHECK(v, !KdGuestDebuggerPresent());
    /* 1 (receive) + 2 (state change); the DbgPrint after a wait that
     * found the host dead is dropped without waiting. */
    VMT_CHECK(v, KdGuestStats.host_timeouts == s0.host_timeouts + 1 + 2);
    /* Known dead: the next DbgPrint and break-in polls cost no wait, even
     * with a stale BREAKIN_PENDING left in the region. */
    s0 = KdGuestStats;
    *(volatile uint32_t *)(void *)(v->host_map + KDCOM_VM_OFF_HOST_FLAGS) =
        KDCOM_VM_HF_READY | KDCOM_VM_HF_BREAKIN_PENDING;
    send(0x3230, KDCOM_TYPE_DEBUG_IO, 3);
    VMT_CHECK(v, KdReceivePacket(KDCOM_TYPE_POLL_BREAKIN, NULL, NULL, NULL,
                                 &ctx) == KdPacketTimedOut);
    VMT_CHECK(v, KdGuestStats.host_timeouts == s0.host_timeouts);
    VMT_CHECK(v, KdGuestStats.sends_dropped == s0.sends_dropped + 1);
    /* The host beats again: waits resume (a RECEIVE waits, and times out
     * since this host answers nothing). */
    vmt_set(&((struct evil *)v->user)->beat, 1);
    {
        uint64_t end = vmt_ms() + 5000;
        while (kdg_beat_moved(v) == 0 && vmt_ms() < end)
            ;
    }
    VMT_CHECK(v, receive(v, 100) == KdPacketTimedOut);
    VMT_CHECK(v, KdGuestStats.host_timeouts > s0.host_timeouts);
}

static void test_dead_host(void **state)
{
    struct evil e = {M_SILENT, 0, 0, 0, 0};

    (void)state;
    T->user = &e;
    vmt_run_ok(T, kernel_dead_host, evil_host, 30000);
}

static void kernel_beating_silent_host(struct vmt *v)
{
    struct evil *e = v->user;
    uint64_t t0;

    KdGuestHostTimeoutMs = 100;
    KdGuestAnswerTimeoutMs = 300;
    VMT_CHECK(v, KdDebuggerInitialize0(NULL) == KDAPI_STATUS_SUCCESS);
    /* A RECEIVE is bounded even while the host beats. */
    VMT_CHECK(v, receive(v, 100) == KdPacketTimedOut);
    /* A SEND waits while the host beats (a state change waits for the
     * debugger as long as it takes); the main thread stops the beat after
     * a while, and the send then ends within its retry budget. */
    t0 = vmt_ms();
    vmt_set(&v->phase, 1);
    send(0x3030, KDCOM_TYPE_STATE_CHANGE64, 2);
    VMT_CHECK(v, vmt_get(&e->beat) == 0); /* returned only after the stop */
    VMT_CHECK(v, vmt_ms() >= t0);
    VMT_CHECK(v, receive(v, 100) == KdPacketNeedsResend);
}

static void beat_then_stop(struct vmt *v, const struct kdcom_event *ev)
{
    struct evil *e = v->user;
    static uint64_t stop_at;

    evil_host(v, ev);
    if (ev == NULL && vmt_get(&v->phase) == 1 && vmt_get(&e->beat)) {
        if (stop_at == 0)
            stop_at = vmt_ms() + 500;
        else if (vmt_ms() >= stop_at)
            vmt_set(&e->beat, 0);
    }
}

static void test_beating_silent_host(void **state)
{
    struct evil e = {M_SILENT, 1, 0, 0, 0};

    (void)state;
    T->user = &e;
    vmt_run_ok(T, kernel_beating_silent_host, beat_then_stop, 30000);
}

static void kernel_garbage(struct vmt *v)
{
    static const int bad[] = {M_BAD_EPOCH, M_HEAD_BIG, M_DATA_BIG, M_TYPE,
                              M_HUGE, M_SUM, M_STATUS_JUNK, M_STATUS_ERR,
                              M_NONSENSE};
    struct kd_guest_stats s0;
    size_t i;

    KdGuestHostTimeoutMs = 100;
    KdGuestAnswerTimeoutMs = 300;
    set_mode(v, M_OK);
    VMT_CHECK(v, KdDebuggerInitialize0(NULL) == KDAPI_STATUS_SUCCESS);
    /* Sanity: a correct answer is taken. */
    VMT_CHECK(v, receive(v, 100) == KdPacketReceived);
    VMT_CHECK(v, hbuf[0] == 0x11 && hbuf[55] == 0x11 && dbuf[0] == 0x22 &&
                     dbuf[9] == 0x22 && dbuf[10] == 0xEE);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s0 = KdGuestStats;
        set_mode(v, bad[i]);
        VMT_CHECK(v, receive(v, 100) == KdPacketTimedOut);
        VMT_CHECK(v, KdGuestStats.bad_answers + KdGuestStats.errors >
                         s0.bad_answers + s0.errors);
        /* A SEND answered with garbage ends too. */
        send(0x3030, KDCOM_TYPE_STATE_CHANGE64, 2);
        set_mode(v, M_OK);
        (void)receive(v, 100); /* consumes a NeedsResend if one is due */
    }
    /* A break-in poll answered with junk is no break-in. */
    set_mode(v, M_STATUS_JUNK);
    VMT_CHECK(v, KdReceivePacket(KDCOM_TYPE_POLL_BREAKIN, NULL, NULL, NULL,
                                 &ctx) == KdPacketTimedOut);
    /* The host restarted (new epoch): counted. */
    vmt_set(&((struct evil *)v->user)->epoch_bump, 1);
    set_mode(v, M_OK);
    s0 = KdGuestStats;
    VMT_CHECK(v, receive(v, 100) == KdPacketReceived);
    VMT_CHECK(v, KdGuestStats.host_restarts == s0.host_restarts + 1);
}

static void breakin_flag_host(struct vmt *v, const struct kdcom_event *ev)
{
    evil_host(v, ev);
    if (ev == NULL)
        st(KDCOM_VM_OFF_HOST_FLAGS, KDCOM_VM_HF_READY |
                                        KDCOM_VM_HF_BREAKIN_PENDING);
}

static void test_garbage_answers(void **state)
{
    struct evil e = {M_OK, 1, 0, 0, 0};

    (void)state;
    T->user = &e;
    vmt_run_ok(T, kernel_garbage, breakin_flag_host, 60000);
}

static void kernel_bad_calls(struct vmt *v)
{
    uint8_t h[16] = {0x30, 0x32};
    STRING big = {4001, 4001, (CHAR *)dbuf}, hs = {16, 16, (CHAR *)h};
    STRING nobuf = {5, 5, NULL};
    struct kd_guest_stats s0;

    KdGuestHostTimeoutMs = 100;
    KdGuestAnswerTimeoutMs = 300;
    set_mode(v, M_OK);
    VMT_CHECK(v, KdDebuggerInitialize0(NULL) == KDAPI_STATUS_SUCCESS);
    s0 = KdGuestStats;
    /* Refused locally, nothing posted: too big, NULL buffers, bad types. */
    KdSendPacket(KDCOM_TYPE_DEBUG_IO, &hs, &big, &ctx);
    KdSendPacket(KDCOM_TYPE_DEBUG_IO, &nobuf, NULL, &ctx);
    KdSendPacket(KDCOM_TYPE_ACKNOWLEDGE, &hs, NULL, &ctx);
    KdSendPacket(0xFFFF, &hs, NULL, &ctx);
    VMT_CHECK(v, KdReceivePacket(KDCOM_TYPE_RESET, &hs, NULL, NULL, &ctx) ==
                     KdPacketTimedOut);
    VMT_CHECK(v, KdReceivePacket(KDCOM_TYPE_STATE_MANIPULATE, NULL, NULL,
                                 NULL, &ctx) == KdPacketTimedOut);
    VMT_CHECK(v, KdGuestStats.refused == s0.refused + 6);
    VMT_CHECK(v, KdGuestStats.sends == s0.sends);
    /* A NULL context and NULL data are fine. */
    KdSendPacket(KDCOM_TYPE_DEBUG_IO, &hs, NULL, NULL);
    VMT_CHECK(v, KdGuestStats.sends_acked == s0.sends_acked + 1);
    VMT_CHECK(v, KdSave(0) == KDAPI_STATUS_SUCCESS);
    VMT_CHECK(v, KdRestore(0) == KDAPI_STATUS_SUCCESS);
    KdSetHiberRange();
}

static void test_bad_calls(void **state)
{
    struct evil e = {M_OK, 1, 0, 0, 0};

    (void)state;
    T->user = &e;
    vmt_run_ok(T, kernel_bad_calls, evil_host, 30000);
}

/* Epochs, guest flags and the relax hook. */
static volatile uint32_t *relax_word;
static unsigned relax_calls;

static void count_relax(volatile uint32_t *word, uint32_t seen, ULONG round)
{
    (void)seen;
    (void)round;
    relax_word = word;
    relax_calls++;
    sched_yield();
}

static uint32_t guest_ld(struct vmt *v, uint32_t off)
{
    return __atomic_load_n((uint32_t *)(void *)(v->guest_map + off),
                           __ATOMIC_ACQUIRE);
}

static void kernel_epochs(struct vmt *v)
{
    uint32_t e1, e2, e3;

    VMT_CHECK(v, KdDebuggerInitialize0(NULL) == KDAPI_STATUS_SUCCESS);
    e1 = guest_ld(v, KDCOM_VM_OFF_GUEST_EPOCH);
    VMT_CHECK(v, e1 != 0);
    VMT_CHECK(v, guest_ld(v, KDCOM_VM_OFF_GUEST_FLAGS) == 0);
    /* A zeroed guest half (as on a fresh region): the new epoch is not
     * the old one, as "old + 1" would have made it (1 both times). */
    memset(v->guest_map, 0, 0x80);
    KdGuestChannelFlags = KDCOM_VM_GF_DOORBELL | 0x80;
    VMT_CHECK(v, KdDebuggerInitialize0(NULL) == KDAPI_STATUS_SUCCESS);
    e2 = guest_ld(v, KDCOM_VM_OFF_GUEST_EPOCH);
    VMT_CHECK(v, e2 != 0 && e2 != e1);
    VMT_CHECK(v, guest_ld(v, KDCOM_VM_OFF_GUEST_FLAGS) ==
                     KDCOM_VM_GF_DOORBELL);
    KdGuestChannelFlags = 0;
    /* A re-open over the same region: a new epoch too. */
    KdGuestEpochSeed = 12345;
    VMT_CHECK(v, KdDebuggerInitialize0(NULL) == KDAPI_STATUS_SUCCESS);
    e3 = guest_ld(v, KDCOM_VM_OFF_GUEST_EPOCH);
    VMT_CHECK(v, e3 != 0 && e3 != e2);
    KdGuestEpochSeed = 0;
    /* The relax hook is called while waiting, on RSP_SEQ. */
    KdVmPlatformRelax = count_relax;
    relax_calls = 0;
    set_mode(v, M_SILENT);
    KdGuestAnswerTimeoutMs = 200;
    VMT_CHECK(v, receive(v, 100) == KdPacketTimedOut);
    KdGuestAnswerTimeoutMs = 5000;
    set_mode(v, M_OK);
    VMT_CHECK(v, relax_calls > 0);
    VMT_CHECK(v, relax_word ==
                     (volatile uint32_t *)(void *)(v->guest_map +
                                                   KDCOM_VM_OFF_RSP_SEQ));
    KdVmPlatformRelax = NULL;
}

static void test_epochs_and_relax(void **state)
{
    struct evil e = {M_OK, 1, 0, 0, 0};

    (void)state;
    T->user = &e;
    vmt_run_ok(T, kernel_epochs, evil_host, 30000);
}

static int setup(void **state)
{
    (void)state;
    T = calloc(1, sizeof(*T));
    if (T == NULL || vmt_open(T, VMT_VM) != 0)
        return -1;
    T->host_down = 1; /* the main thread is the host, by hand */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vmt_close(T);
    free(T);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dead_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_beating_silent_host, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_garbage_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epochs_and_relax, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
