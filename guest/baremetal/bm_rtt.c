/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bm_rtt.c - the VM channel's round trip alone, measured from inside the
 * guest: 512 bytes to the host and 512 bytes back through the ivshmem
 * region, with no KD, no KDCOM and no TCP (command line word rtt=N, vm
 * kernel only; the host side is tests/bench/vm_echo.c).
 *
 * The exchange uses the mailbox's two sequence words and buffers
 * (include/kdcom_vm.h: REQ_SEQ 0x10, RSP_SEQ 0x80, 0x1000, 0x2000) under
 * its own magic, "KDVE", so a kdcom-shim never mistakes it for a guest:
 *
 *   0x00 MAGIC   0x4556444B, written last by the guest
 *   0x04 COUNT   round trips the guest will make
 *   0x08 LEN     512
 *   guest: request bytes at 0x1000, then REQ_SEQ = n (and the doorbell)
 *   host:  answer at 0x2000 = every request byte XOR 0xff, then RSP_SEQ = n
 *
 * The guest spins with pause on RSP_SEQ (as guest/'s transport does
 * without a host kick) and checks every answer byte.  The rate is what
 * one vCPU and one host thread reach through shared memory; under TCG
 * every guest instruction is translated code, so it is far below what KVM
 * gives (there the loads and stores run natively and only a doorbell
 * write would exit).
 */
#include "bm.h"

#include <kdcom_vm.h>

#define RTT_MAGIC 0x4556444Bu
#define RTT_LEN 512u
#define RTT_OFF_COUNT 0x04
#define RTT_OFF_LEN 0x08
#define RTT_TIMEOUT_MS 5000u      /* for one answer */
#define RTT_FIRST_TIMEOUT_MS 30000u /* for the echo host to appear */

static void put32(uint8_t *region, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(region + off) = v;
}

static uint32_t get32(const uint8_t *region, uint32_t off)
{
    return *(const volatile uint32_t *)(region + off);
}

int bm_rtt_run(uint8_t *region, uint32_t size, uint32_t count,
               void (*ring)(void))
{
    volatile uint8_t *req = region + KDCOM_VM_DEF_HEAD_OFF;
    const volatile uint8_t *ans = region + KDCOM_VM_DEF_DATA_OFF;
    uint32_t seq, i, bad = 0, ms;
    uint64_t start;

    if (size < KDCOM_VM_MIN_SIZE)
        return -1;
    for (i = 0; i < KDCOM_VM_CTL_SIZE; i += 4)
        put32(region, i, 0);
    put32(region, RTT_OFF_COUNT, count);
    put32(region, RTT_OFF_LEN, RTT_LEN);
    __asm__ volatile("" ::: "memory");
    put32(region, KDCOM_VM_OFF_MAGIC, RTT_MAGIC);
    bm_printf("bm: rtt: waiting for the echo host (%u round trips of %u B "
              "each way)\n", count, RTT_LEN);

    start = bm_clock_ms();
    for (seq = 1; seq <= count; seq++) {
        uint32_t spins = 0;
        uint64_t deadline = 0;

        for (i = 0; i < RTT_LEN; i++)
            req[i] = (uint8_t)(seq + i);
        /* x86 keeps stores in order: the bytes are visible before the
         * sequence word; the barrier keeps the compiler from moving them. */
        __asm__ volatile("" ::: "memory");
        put32(region, KDCOM_VM_OFF_REQ_SEQ, seq);
        if (ring != NULL)
            ring();
        while (get32(region, KDCOM_VM_OFF_RSP_SEQ) != seq) {
            bm_pause();
            if ((++spins & 1023u) != 0)
                continue;
            if (deadline == 0)
                deadline = bm_clock_ms() +
                           (seq == 1 ? RTT_FIRST_TIMEOUT_MS : RTT_TIMEOUT_MS);
            else if (bm_clock_ms() > deadline) {
                bm_printf("bm: rtt: no answer to round trip %u\n", seq);
                return -1;
            }
        }
        if (seq == 1)
            start = bm_clock_ms(); /* the host was found: time from here */
        __asm__ volatile("" ::: "memory");
        for (i = 0; i < RTT_LEN; i++)
            if (ans[i] != (uint8_t)((seq + i) ^ 0xffu))
                bad++;
    }
    ms = (uint32_t)(bm_clock_ms() - start);
    if (ms == 0)
        ms = 1;
    /* The first round trip found the host; the rate counts the others.
     * count <= BM_RTT_MAX keeps the product within 32 bits. */
    bm_printf("bm: rtt: %u round trips in %u ms: %u round trips/s, %u bad "
              "answer bytes\n", count - 1, ms, (count - 1) * 1000u / ms, bad);
    return bad == 0 ? 0 : -1;
}
