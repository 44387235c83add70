/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vm_host_api.c - the host service's smaller API surface and the
 * corners of its event handling: deadlines, want_read/want_write,
 * debugger presence, status names, a RESEND from the debugger during a
 * RECEIVE and during a SEND, a reply that arrives before the ACK
 * (implicit ACK, packet held for the next RECEIVE), a packet held while
 * the kernel runs and dropped by its break-in poll.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"
#include "vmh.h"

/* Feeds raw bytes to the host as if the debugger had sent them. */
static void inject(const uint8_t *p, size_t n)
{
    assert_int_equal(kdcom_vm_host_feed(&V->host, V->now, p, n), (int)n);
}

static void inject_control(uint32_t type)
{
    uint8_t f[16];

    assert_int_equal(kdcom_encode_control(f, sizeof f, type, 0), 16);
    inject(f, sizeof f);
}

/* The ABI is frozen: these are the numbers docs/vm-channel.md gives. */
/* The size kdcom_vm.h promises ("about 13 KiB"), whatever the build. */
typedef char vm_host_size_check[sizeof(struct kdcom_vm_host) >= 12 * 1024 &&
                                        sizeof(struct kdcom_vm_host) <=
                                            14 * 1024
                                    ? 1
                                    : -1];

/* The VM counters by index agree with the structure and its X-macro
 * list. */
static void test_vm_stats_by_index(void **state)
{
    (void)state;
    CHECK_COUNTER_TABLE(struct kdcom_vm_stats, KDCOM_VM_STATS_FIELDS,
                        kdcom_vm_stats_name, kdcom_vm_stats_value);
}

static void test_abi_constants(void **state)
{
    (void)state;
    assert_int_equal(KDCOM_VM_MAGIC, 0x4D56444B);
    {
        static const uint8_t le[4] = {0x4B, 0x44, 0x56, 0x4D};
        assert_memory_equal(le, "KDVM", 4);
    }
    assert_int_equal(KDCOM_VM_ABI_VERSION,
                     (KDCOM_VM_ABI_MAJOR << 16) | KDCOM_VM_ABI_MINOR);
    assert_int_equal(KDCOM_VM_ABI_VERSION, 0x00010001);
    assert_int_equal(KDCOM_VM_OFF_GUEST_FLAGS, 0x14);
    assert_int_equal(KDCOM_VM_GF_DOORBELL, 0x1);
    assert_int_equal(KDCOM_VM_HF_DOORBELL, 0x8);
    assert_int_equal(KDCOM_VM_MIN_SIZE, 0x3000);
    assert_int_equal(KDCOM_VM_BUF_BASE, 0x1000);
    assert_int_equal(KDCOM_VM_DEF_HEAD_OFF, 0x1000);
    assert_int_equal(KDCOM_VM_DEF_DATA_OFF, 0x2000);
    assert_true(KDCOM_VM_BUF_SIZE >= KDCOM_MAX_PAYLOAD);
    assert_int_equal(KDCOM_VM_OFF_MAGIC, 0x00);
    assert_int_equal(KDCOM_VM_OFF_ABI, 0x04);
    assert_int_equal(KDCOM_VM_OFF_SIZE, 0x08);
    assert_int_equal(KDCOM_VM_OFF_GUEST_EPOCH, 0x0C);
    assert_int_equal(KDCOM_VM_OFF_REQ_SEQ, 0x10);
    assert_int_equal(KDCOM_VM_OFF_REQ_OP, 0x20);
    assert_int_equal(KDCOM_VM_OFF_REQ_TYPE, 0x24);
    assert_int_equal(KDCOM_VM_OFF_REQ_HEAD_OFF, 0x28);
    assert_int_equal(KDCOM_VM_OFF_REQ_HEAD_LEN, 0x2C);
    assert_int_equal(KDCOM_VM_OFF_REQ_DATA_OFF, 0x30);
    assert_int_equal(KDCOM_VM_OFF_REQ_DATA_LEN, 0x34);
    assert_int_equal(KDCOM_VM_OFF_REQ_ARG, 0x38);
    assert_int_equal(KDCOM_VM_OFF_REQ_RESERVED, 0x3C);
    assert_int_equal(KDCOM_VM_OFF_RSP_SEQ, 0x80);
    assert_int_equal(KDCOM_VM_OFF_HOST_EPOCH, 0x84);
    assert_int_equal(KDCOM_VM_OFF_HOST_FLAGS, 0x88);
    assert_int_equal(KDCOM_VM_OFF_HOST_BEAT, 0x8C);
    assert_int_equal(KDCOM_VM_OFF_HOST_ABI, 0x90);
    assert_int_equal(KDCOM_VM_OFF_RSP_STATUS, 0xA0);
    assert_int_equal(KDCOM_VM_OFF_RSP_TYPE, 0xA4);
    assert_int_equal(KDCOM_VM_OFF_RSP_HEAD_LEN, 0xA8);
    assert_int_equal(KDCOM_VM_OFF_RSP_DATA_LEN, 0xAC);
    assert_int_equal(KDCOM_VM_OFF_RSP_FLAGS, 0xB0);
    assert_int_equal(KDCOM_VM_OFF_RSP_EPOCH, 0xB4);
    assert_int_equal(KDCOM_VM_OP_HELLO, 1);
    assert_int_equal(KDCOM_VM_OP_SEND, 2);
    assert_int_equal(KDCOM_VM_OP_RECEIVE, 3);
    assert_int_equal(KDCOM_VM_OP_POLL_BREAKIN, 4);
    assert_int_equal(KDCOM_VM_ST_RECEIVED, 3);
    assert_int_equal(KDCOM_VM_ST_TIMEOUT, 4);
    assert_int_equal(KDCOM_VM_ST_RESEND, 5);
    assert_int_equal(KDCOM_VM_ST_ERR_RESERVED, 0x86);
    assert_int_equal(KDCOM_VM_ST_ERR_HOST, 0x87);
    assert_int_equal(KDCOM_VM_HF_BREAKIN_PENDING, 4);
    assert_int_equal(KDCOM_VM_RF_CONTROL_C_PENDING, 1);
}

static void test_config_and_names(void **state)
{
    struct kdcom_vm_config cfg;
    struct kdcom_vm_host *h = calloc(1, sizeof(*h));
    uint32_t st;

    (void)state;
    assert_non_null(h);
    assert_int_equal(kdcom_vm_config_init(NULL), KDCOM_ERR_INVAL);
    kdcom_vm_config_init(&cfg);
    cfg.receive_timeout_ms = 0;
    assert_int_equal(kdcom_vm_host_init(h, &cfg), KDCOM_ERR_CONFIG);
    kdcom_vm_config_init(&cfg);
    cfg.flags = 2; /* only KDCOM_VM_CFG_KICKS_GUEST is defined */
    assert_int_equal(kdcom_vm_host_init(h, &cfg), KDCOM_ERR_CONFIG);
    cfg.flags = KDCOM_VM_CFG_KICKS_GUEST;
    assert_int_equal(kdcom_vm_host_init(h, &cfg), KDCOM_OK);
    kdcom_vm_config_init(&cfg);
    cfg.ack_timeout_ms = 0; /* refused by the link */
    assert_int_equal(kdcom_vm_host_init(h, &cfg), KDCOM_ERR_CONFIG);
    /* a host that failed to initialise refuses every call */
    assert_int_equal(kdcom_vm_host_poll(h, V->shm, V->size, 1),
                     KDCOM_ERR_NOT_INIT);
    assert_int_equal(kdcom_vm_host_drain(h, 1, NULL, 0), KDCOM_ERR_NOT_INIT);
    assert_int_equal(kdcom_vm_host_want_read(h), KDCOM_ERR_NOT_INIT);
    assert_int_equal(kdcom_vm_host_want_write(h), KDCOM_ERR_NOT_INIT);
    assert_int_equal(kdcom_vm_host_debugger_present(h), KDCOM_ERR_NOT_INIT);
    assert_int_equal(kdcom_vm_host_next_deadline(h), 0);
    assert_null(kdcom_vm_host_stats(NULL));
    assert_null(kdcom_vm_host_link(NULL));
    free(h);
    for (st = 0; st < 0x100; st++) {
        const char *n = kdcom_vm_status_name(st);
        assert_non_null(n);
        if ((st >= 1 && st <= 5) || (st >= 0x81 && st <= 0x87) || st == 0)
            assert_string_not_equal(n, "UNKNOWN");
        else
            assert_string_equal(n, "UNKNOWN");
    }
    assert_string_equal(kdcom_vm_status_name(KDCOM_VM_ST_ERR_BUFFER),
                        "ERR_BUFFER");
}

static void test_deadlines_and_flow(void **state)
{
    uint8_t req[56];
    uint32_t seq;

    (void)state;
    memset(req, 0x5a, sizeof req);
    assert_int_equal(kdcom_vm_host_debugger_present(&V->host), 0);
    assert_int_equal(vmh_sync(V), 0);
    assert_int_equal(kdcom_vm_host_debugger_present(&V->host), 1);
    seq = vmh_post(V, KDCOM_VM_OP_POLL_BREAKIN, 0, 0, 0, 0, 0, 0);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_TIMEOUT);
    /* idle: no timed work */
    assert_int_equal(kdcom_vm_host_next_deadline(&V->host), UINT64_MAX);
    assert_int_equal(kdcom_vm_host_want_write(&V->host), 0);
    /* a RECEIVE in progress: its timeout is the deadline */
    seq = vmh_post(V, KDCOM_VM_OP_RECEIVE, KDCOM_TYPE_STATE_MANIPULATE, H_OFF,
                   56, D_OFF, 100, 0);
    assert_int_equal(kdcom_vm_host_poll(&V->host, V->shm, V->size, V->now),
                     KDCOM_VM_POLL_BUSY);
    assert_int_equal(kdcom_vm_host_next_deadline(&V->host), V->now + 200);
    /* a packet arrives: answerable now; nothing more is read meanwhile */
    assert_int_equal(kdcom_send(&V->dbg, V->now, KDCOM_TYPE_STATE_MANIPULATE,
                                req, 56, NULL, 0), KDCOM_OK);
    {
        uint8_t buf[256];
        int n = kdcom_drain(&V->dbg, V->now, buf, sizeof buf);
        assert_true(n > 0);
        /* the packet plus a stray copy behind it */
        memcpy(buf + n, buf, (size_t)n);
        assert_int_equal(kdcom_vm_host_feed(&V->host, V->now, buf,
                                            (size_t)(2 * n)), n);
    }
    assert_int_equal(kdcom_vm_host_want_read(&V->host), 0);
    {
        /* a data leader byte waits; noise before it is still taken */
        static const uint8_t lead[2] = {0x5a, KDCOM_LEADER_BYTE_DATA};
        assert_int_equal(kdcom_vm_host_feed(&V->host, V->now, lead, 2), 1);
        assert_int_equal(kdcom_vm_host_feed(&V->host, V->now, lead + 1, 1),
                         0);
    }
    assert_int_equal(kdcom_vm_host_next_deadline(&V->host), V->now);
    assert_int_equal(kdcom_vm_host_want_write(&V->host), 1); /* the ACK */
    assert_int_equal(kdcom_vm_host_poll(&V->host, V->shm, V->size, V->now),
                     KDCOM_VM_POLL_IDLE);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_SEQ), seq);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_STATUS), KDCOM_VM_ST_RECEIVED);
    assert_int_equal(kdcom_vm_host_want_read(&V->host), 1);
    vmh_steps(V, 5, 1);
}

static void test_resend_from_debugger(void **state)
{
    uint8_t sc[16] = {0x30, 0x30};
    uint32_t seq;
    uint64_t rt;

    (void)state;
    assert_int_equal(vmh_sync_poll(V), KDCOM_VM_ST_TIMEOUT);
    /* during a RECEIVE: the kernel is told to resend */
    seq = vmh_post(V, KDCOM_VM_OP_RECEIVE, KDCOM_TYPE_STATE_MANIPULATE, H_OFF,
                   56, D_OFF, 100, 0);
    vmh_step(V, 1);
    inject_control(KDCOM_TYPE_RESEND);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_RESEND);
    /* during a SEND: retransmitted, the kernel is not told */
    V->wire_to_dbg_down = 1;
    memcpy(V->shm + H_OFF, sc, sizeof sc);
    seq = vmh_post(V, KDCOM_VM_OP_SEND, KDCOM_TYPE_STATE_CHANGE64, H_OFF, 16,
                   D_OFF, 0, 20);
    vmh_step(V, 1);
    vmh_step(V, 1);
    rt = vmh_link_stats(V)->retransmits;
    inject_control(KDCOM_TYPE_RESEND);
    vmh_step(V, 1);
    assert_true(vmh_link_stats(V)->retransmits >
                rt);
    assert_int_not_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_SEQ), seq);
    V->wire_to_dbg_down = 0;
    assert_int_equal(vmh_wait(V, seq, 100, 5), KDCOM_VM_ST_OK);
    /* between requests: remembered for the next RECEIVE ... */
    inject_control(KDCOM_TYPE_RESEND);
    seq = vmh_post(V, KDCOM_VM_OP_RECEIVE, KDCOM_TYPE_STATE_MANIPULATE, H_OFF,
                   56, D_OFF, 100, 0);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_RESEND);
    /* ... unless a break-in poll comes first */
    inject_control(KDCOM_TYPE_RESEND);
    seq = vmh_post(V, KDCOM_VM_OP_POLL_BREAKIN, 0, 0, 0, 0, 0, 0);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_TIMEOUT);
    seq = vmh_post(V, KDCOM_VM_OP_RECEIVE, KDCOM_TYPE_STATE_MANIPULATE, H_OFF,
                   56, D_OFF, 100, 0);
    assert_int_equal(vmh_wait(V, seq, 100, 5), KDCOM_VM_ST_TIMEOUT);
}

/* The debugger answers before its ACK of our packet arrives (the ACK is
 * lost): the reply acknowledges the packet implicitly and is held for the
 * kernel's next RECEIVE. */
static void test_reply_before_ack(void **state)
{
    uint8_t sc[16] = {0x30, 0x30}, rep[60];
    uint32_t seq;
    struct kdcom_event ev;
    uint8_t buf[512];
    int n;

    (void)state;
    memset(rep, 0x42, sizeof rep);
    assert_int_equal(vmh_sync(V), 0);
    memcpy(V->shm + H_OFF, sc, sizeof sc);
    seq = vmh_post(V, KDCOM_VM_OP_SEND, KDCOM_TYPE_STATE_CHANGE64, H_OFF, 16,
                   D_OFF, 0, 20);
    kdcom_vm_host_poll(&V->host, V->shm, V->size, V->now);
    n = kdcom_vm_host_drain(&V->host, V->now, buf, sizeof buf);
    assert_true(n > 16);
    assert_int_equal(kdcom_feed(&V->dbg, V->now, buf, (size_t)n), n);
    assert_int_equal(kdcom_next_event(&V->dbg, &ev), KDCOM_EV_PACKET);
    /* the debugger's ACK is lost; its reply is not */
    n = kdcom_drain(&V->dbg, V->now, buf, sizeof buf);
    assert_int_equal(n, 16);
    assert_int_equal(kdcom_send(&V->dbg, V->now, KDCOM_TYPE_STATE_MANIPULATE,
                                rep, 56, rep, 4), KDCOM_OK);
    n = kdcom_drain(&V->dbg, V->now, buf, sizeof buf);
    inject(buf, (size_t)n);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_OK);
    assert_int_equal(vmh_link_stats(V)
                         ->implicit_acks, 1);
    seq = vmh_post(V, KDCOM_VM_OP_RECEIVE, KDCOM_TYPE_STATE_MANIPULATE, H_OFF,
                   56, D_OFF, 100, 0);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_RECEIVED);
    assert_int_equal(vmh_ld(V, KDCOM_VM_OFF_RSP_DATA_LEN), 4);
    assert_memory_equal(V->shm + H_OFF, rep, 56);
    vmh_steps(V, 10, 1);
    assert_int_equal(vmh_stats(V)->rx_overrun, 0);
}

/* A packet that comes while the kernel runs is dropped by its poll. */
static void test_packet_while_running(void **state)
{
    uint8_t m[56];
    uint32_t seq;

    (void)state;
    memset(m, 1, sizeof m);
    assert_int_equal(vmh_sync(V), 0);
    assert_int_equal(kdcom_send(&V->dbg, V->now, KDCOM_TYPE_STATE_MANIPULATE,
                                m, 56, NULL, 0), KDCOM_OK);
    vmh_steps(V, 5, 1);
    assert_int_equal(kdcom_vm_host_want_read(&V->host), 0);
    seq = vmh_post(V, KDCOM_VM_OP_POLL_BREAKIN, 0, 0, 0, 0, 0, 0);
    assert_int_equal(vmh_wait(V, seq, 5, 1), KDCOM_VM_ST_TIMEOUT);
    assert_int_equal(vmh_stats(V)->rx_while_idle, 1);
    assert_int_equal(kdcom_vm_host_want_read(&V->host), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abi_constants),
        cmocka_unit_test(test_vm_stats_by_index),
        VMH_TEST(test_config_and_names),
        VMH_TEST(test_deadlines_and_flow),
        VMH_TEST(test_resend_from_debugger),
        VMH_TEST(test_reply_before_ack),
        VMH_TEST(test_packet_while_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
