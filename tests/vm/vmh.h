/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vmh.h - single-threaded harness for the VM channel host service: a
 * region in test memory, the host service, a DEBUGGER-role link joined to
 * it by an in-memory wire, and a virtual clock.  The test plays the guest
 * by writing mailbox fields directly, which is what the hostile-guest
 * tests need (a real guest transport would refuse to misbehave).
 *
 * Helpers never assert; they return what they saw.
 */
#ifndef KDCOM_TEST_VMH_H
#define KDCOM_TEST_VMH_H

#include <stddef.h>
#include <stdint.h>

#include "kdcom.h"
#include "kdcom_vm.h"

#define VMH_REGION 0x10000u
#define VMH_WIRE 65536u
#define VMH_MAX_RX 64

/* Where a guest keeps its packet buffers by default: the offsets the
 * tests post in their requests. */
#define H_OFF KDCOM_VM_DEF_HEAD_OFF
#define D_OFF KDCOM_VM_DEF_DATA_OFF

struct vmh_rx {
    uint32_t type, len;
    uint8_t payload[KDCOM_MAX_PAYLOAD];
};

struct vmh {
    uint8_t shm[VMH_REGION] __attribute__((aligned(8)));
    uint8_t *mem;         /* the region used: shm, or one the test owns */
    size_t size;          /* what the host is told */
    struct kdcom_vm_host host;
    struct kdcom_link dbg;
    uint64_t now;
    int wire_to_dbg_down; /* 1: bytes from the host vanish (silence) */
    int dbg_answers;      /* 1: packets the debugger gets are kept */
    uint8_t to_host[VMH_WIRE];
    size_t to_host_len;
    /* what the debugger received (PACKET events) */
    struct vmh_rx rx[VMH_MAX_RX];
    unsigned n_rx;
    unsigned n_synced, n_reset_ev;
    uint32_t guest_seq;
};

/* Zeroes the region and sets up host and debugger (ack timeouts short so
 * that silence tests stay fast in virtual time). */
int vmh_init(struct vmh *v, const struct kdcom_vm_config *cfg);

/* Allocates a harness and initialises it (vmh_init) with the tests'
 * usual host timeouts: ACK 20 ms, RECEIVE receive_timeout_ms.  The guest
 * half is left zero.  Returns NULL on failure; free() releases it. */
struct vmh *vmh_new(uint32_t receive_timeout_ms);

/* The common cmocka setup: *vp = vmh_new(200) with the guest half
 * initialised at epoch 1.  Returns 0, or -1 on failure. */
int vmh_setup(struct vmh **vp);

/* The host tests' cmocka fixture.  V is the running test's harness (cmocka
 * runs one test at a time; every test names it, hence the short name).
 * vmh_fixture_setup makes it with vmh_setup; vmh_fixture_teardown frees
 * it, and its region too when a test's own setup gave it one (V->mem not
 * V->shm).  VMH_TEST(f) is test f with both. */
extern struct vmh *V;
int vmh_fixture_setup(void **state);
int vmh_fixture_teardown(void **state);
#define VMH_TEST(f)                                                          \
    cmocka_unit_test_setup_teardown(f, vmh_fixture_setup, vmh_fixture_teardown)

/* (Re)initialises the debugger link as vmh_init does: a new debugger on
 * the same wire, when called again. */
int vmh_dbg_init(struct vmh *v);

/* The host service's statistics, and those of its TARGET link. */
const struct kdcom_vm_stats *vmh_stats(const struct vmh *v);
const struct kdcom_stats *vmh_link_stats(const struct vmh *v);

/* The guest's initialisation of its half: epoch, magic last. */
void vmh_guest_init(struct vmh *v, uint32_t epoch);

uint32_t vmh_ld(const struct vmh *v, uint32_t off);
void vmh_st(struct vmh *v, uint32_t off, uint32_t val);

/* Posts a request the way a guest does; returns its sequence number. */
uint32_t vmh_post(struct vmh *v, uint32_t op, uint32_t type, uint32_t hoff,
                  uint32_t hlen, uint32_t doff, uint32_t dlen, uint32_t arg);

/* Posts a HELLO with this ABI version; returns its sequence number. */
uint32_t vmh_hello(struct vmh *v);

/* One round: poll the host, move bytes both ways, let the debugger take
 * its events, advance the clock by dt ms.  Returns the poll result. */
int vmh_step(struct vmh *v, uint64_t dt);

/* n rounds of vmh_step, dt ms each, whatever they return. */
void vmh_steps(struct vmh *v, unsigned n, uint64_t dt);

/* Steps (dt ms each) until RSP_SEQ == seq or max steps.  Returns the
 * response status, or -1 if no answer came. */
int vmh_wait(struct vmh *v, uint32_t seq, unsigned max, uint64_t dt);

/* Makes the debugger synchronise (RESET handshake) with the host. */
int vmh_sync(struct vmh *v);

/* vmh_sync, then a break-in poll (as a running kernel's clock tick would
 * make) that takes the handshake's RESEND.  Returns the poll's status
 * (KDCOM_VM_ST_TIMEOUT: nothing else was waiting), or -1 if the debugger
 * did not synchronise or the poll got no answer. */
int vmh_sync_poll(struct vmh *v);

#endif /* KDCOM_TEST_VMH_H */
