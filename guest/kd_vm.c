/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kd_vm.c - the vm back end: the mailbox is the region shared with the
 * hypervisor (QEMU ivshmem-plain BAR 2, or a file two processes map).
 *
 * THEORY OF OPERATION
 *
 *   No KDCOM code runs in the guest: the hypervisor's host service
 *   (libkdcom/vm_host.c) frames, acknowledges and retransmits.  This file
 *   only hands the platform's region to the mailbox client and relaxes
 *   the CPU while the client waits for an answer; the wait is bounded by
 *   the client's timeouts (kd_chan.c).
 *
 *   Relaxing: with no KdVmPlatformRelax hook, one CPU pause per read of
 *   RSP_SEQ ("the guest spins politely").  With one, the hook decides: it
 *   may pause, yield, or sleep until RSP_SEQ changes (a futex, a
 *   hypercall that parks the vCPU until the host answers), as long as it
 *   returns within about 10 ms so the client's clocks keep
 *   running.
 */
#include "kd_backend.h"

void (*KdVmPlatformRelax)(volatile uint32_t *Word, uint32_t Seen,
                          ULONG Round) = 0;

int KdgBackendInit(void)
{
    return 0;
}

void *KdgBackendChannel(ULONG *Size)
{
    return KdVmPlatformChannel(Size);
}

void KdgBackendNotify(void)
{
    KdVmPlatformNotify();
}

void KdgBackendService(void)
{
}

void KdgBackendIdle(volatile uint32_t *word, uint32_t seen, ULONG round)
{
    if (KdVmPlatformRelax != 0) {
        KdVmPlatformRelax(word, seen, round);
        return;
    }
    /* Tell the CPU we spin: saves power and yields the core to a sibling
     * hyperthread, which may well be running the host. */
#if defined(__i386__) || defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}
