/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vm_internal.h - helpers shared by the VM channel host service sources
 * (vm_host.c, vm_host_link.c).  Not installed.
 *
 * Every access to the shared region goes through vm_ld*()/vm_st*(): one
 * naturally aligned 32-bit atomic access, converted from/to little-endian.
 * Atomics (not plain loads) because the guest writes the region
 * concurrently; the __atomic builtins compile to plain instructions for
 * 4-byte aligned words on every supported CPU, so the core stays free of
 * library calls.
 */
#ifndef KDCOM_VM_INTERNAL_H
#define KDCOM_VM_INTERNAL_H

#include "internal.h"
#include "kdcom_vm.h"

#define KDCOM_VM_HOST_MAGIC 0x4b44564du /* "KDVM" */

static inline uint32_t kdcom_vm_le32(uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap32(v);
#else
    return v;
#endif
}

static inline uint32_t vm_ld(const void *shm, uint32_t off)
{
    const uint32_t *p = (const uint32_t *)((const uint8_t *)shm + off);
    return kdcom_vm_le32(__atomic_load_n(p, __ATOMIC_RELAXED));
}

static inline uint32_t vm_ld_acq(const void *shm, uint32_t off)
{
    const uint32_t *p = (const uint32_t *)((const uint8_t *)shm + off);
    return kdcom_vm_le32(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static inline void vm_st(void *shm, uint32_t off, uint32_t v)
{
    uint32_t *p = (uint32_t *)((uint8_t *)shm + off);
    __atomic_store_n(p, kdcom_vm_le32(v), __ATOMIC_RELAXED);
}

static inline void vm_st_rel(void *shm, uint32_t off, uint32_t v)
{
    uint32_t *p = (uint32_t *)((uint8_t *)shm + off);
    __atomic_store_n(p, kdcom_vm_le32(v), __ATOMIC_RELEASE);
}

/* Every call on a host starts here: KDCOM_OK, or why it cannot be used. */
static inline int kdcom_vm_host_check(const struct kdcom_vm_host *h)
{
    if (h == NULL)
        return KDCOM_ERR_INVAL;
    if (h->magic != KDCOM_VM_HOST_MAGIC)
        return KDCOM_ERR_NOT_INIT;
    return KDCOM_OK;
}

/* Every completion of the request in progress: its answer goes out at the
 * next poll, and the counters that name outcomes are counted here. */
static inline void kdcom_vm_finish(struct kdcom_vm_host *h, uint32_t status)
{
    h->cur.done = 1;
    h->cur.status = status;
    if (status >= KDCOM_VM_ST_ERR)
        h->stats.errors++;
    else if (h->cur.op == KDCOM_VM_OP_SEND && status == KDCOM_VM_ST_OK)
        h->stats.sends_acked++;
    else if (h->cur.op == KDCOM_VM_OP_SEND && status == KDCOM_VM_ST_DROPPED)
        h->stats.sends_dropped++;
    else if (h->cur.op == KDCOM_VM_OP_RECEIVE && status == KDCOM_VM_ST_RESEND)
        h->stats.resends++;
    else if (h->cur.op == KDCOM_VM_OP_RECEIVE && status == KDCOM_VM_ST_TIMEOUT)
        h->stats.timeouts++;
}

/* Takes the pending break-in, if any (handed to the guest, or dropped);
 * counter, if any, counts it.  Returns 1 if there was one. */
static inline int kdcom_vm_take_breakin(struct kdcom_vm_host *h,
                                        uint64_t *counter)
{
    if (!h->breakin)
        return 0;
    h->breakin = 0;
    if (counter != NULL)
        (*counter)++;
    return 1;
}

/* The received packet the host holds for a RECEIVE is given back to the
 * link (dropped, or copied to the guest); counter, if any, says why. */
static inline void kdcom_vm_slot_release(struct kdcom_vm_host *h,
                                         uint64_t *counter)
{
    if (!h->slot.full)
        return;
    h->slot.full = 0;
    h->slot.data = NULL;
    if (counter != NULL)
        (*counter)++;
    kdcom_packet_done(&h->link);
}

/* vm_host_link.c, for vm_host.c (which it never calls back):
 * takes every pending link event into the host's request state. */
void kdcom_vm_pump(struct kdcom_vm_host *h);
/* Hands a validated SEND to the link if it can take it now. */
void kdcom_vm_try_queue(struct kdcom_vm_host *h);

#endif /* KDCOM_VM_INTERNAL_H */
