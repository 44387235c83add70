/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bm_vm.c - the vm back end's platform for the bare-metal kernel: QEMU's
 * ivshmem device (PCI 1af4:1110) is the VM channel.
 *
 *   BAR 2  the shared memory (64-bit, prefetchable; as large as the
 *          memory backend or the server's file): the mailbox of
 *          include/kdcom_vm.h, returned by KdVmPlatformChannel().
 *   BAR 0  256 bytes of registers: IVPosition (+8) is our peer id on
 *          ivshmem-doorbell (0 on ivshmem-plain); writing
 *          (peer << 16) | vector to Doorbell (+12) makes QEMU signal that
 *          peer's eventfd, which is how KdVmPlatformNotify() wakes the
 *          host (kdcom-shim --ivshmem-server is peer 0).
 *
 * Both devices have the same PCI id.  ivshmem-doorbell is told apart by
 * its MSI-X capability (present unless msi=off) or a non-zero IVPosition
 * (kdcom-shim hands out ids from 1); "doorbell=on" on the command line
 * forces it for msi=off with peer id 0, "doorbell=off" disables it.  On
 * ivshmem-plain a ring would be a wasted exit, so none is made.
 *
 * Paging is off, so BAR 2 must lie below 4 GiB; firmware puts a small BAR
 * there.  A missing device, an unassigned or unreachable BAR or a region
 * smaller than KDCOM_VM_MIN_SIZE is reported and the kernel stops.
 */
#include "bm.h"

#include <kdcom_vm.h>

#include "kdguest.h"

#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110
#define REG_IVPOSITION 8
#define REG_DOORBELL 12

const char bm_backend_name[] = "vm";

static uint8_t *region;
static uint32_t region_size;
static volatile uint32_t *doorbell;
static uint32_t ring;
static uint32_t rings;

uint64_t KdPlatformMilliseconds(void)
{
    return bm_clock_ms();
}

void *KdVmPlatformChannel(ULONG *Size)
{
    if (region == NULL)
        return NULL;
    *Size = region_size;
    return region;
}

void KdVmPlatformNotify(void)
{
    if (doorbell != NULL) {
        *doorbell = ring;
        rings++;
    }
}

/* 1 if the function lists an MSI-X capability (id 0x11). */
static int has_msix(uint32_t bdf)
{
    uint32_t ptr, guard = 0;

    if ((bm_pci_read32(bdf, 0x04) & 0x00100000u) == 0)
        return 0; /* status: no capability list */
    ptr = bm_pci_read32(bdf, 0x34) & 0xfcu;
    while (ptr >= 0x40 && guard++ < 48) {
        uint32_t cap = bm_pci_read32(bdf, ptr);
        if ((cap & 0xffu) == 0x11u)
            return 1;
        ptr = (cap >> 8) & 0xfcu;
    }
    return 0;
}

/* Size of a memory BAR (and its upper half for a 64-bit one) by the
 * write-ones probe, with memory decoding off meanwhile. */
static uint64_t bar_size(uint32_t bdf, uint32_t off, int is64)
{
    uint32_t cmd = bm_pci_read32(bdf, 0x04);
    uint32_t lo = bm_pci_read32(bdf, off), hi = 0, slo, shi = 0xffffffffu;

    bm_pci_write32(bdf, 0x04, cmd & ~0x3u);
    bm_pci_write32(bdf, off, 0xffffffffu);
    slo = bm_pci_read32(bdf, off);
    bm_pci_write32(bdf, off, lo);
    if (is64) {
        hi = bm_pci_read32(bdf, off + 4);
        bm_pci_write32(bdf, off + 4, 0xffffffffu);
        shi = bm_pci_read32(bdf, off + 4);
        bm_pci_write32(bdf, off + 4, hi);
    }
    bm_pci_write32(bdf, 0x04, cmd);
    return ~((((uint64_t)shi) << 32) | (slo & ~0xfu)) + 1u;
}

int bm_backend_setup(void)
{
    uint32_t bdf = bm_pci_find(IVSHMEM_VENDOR, IVSHMEM_DEVICE);
    uint32_t bar0, bar2, bar3 = 0, ivpos = 0, flags, abi;
    uint64_t base, size;
    int is64, msix, ring_it;

    if (bdf == 0xffffffffu) {
        bm_printf("bm: vm: no ivshmem device (PCI 1af4:1110): start QEMU "
                  "with -device ivshmem-plain,memdev=... or "
                  "-device ivshmem-doorbell,chardev=...\n");
        return -1;
    }
    bm_printf("bm: vm: ivshmem found at PCI %02x:%02x.%u\n", bdf >> 16,
              (bdf >> 11) & 31u, (bdf >> 8) & 7u);
    bar0 = bm_pci_read32(bdf, 0x10);
    bar2 = bm_pci_read32(bdf, 0x18);
    if (bar2 & 1u) {
        bm_printf("bm: vm: BAR2 is an I/O BAR, not memory\n");
        return -1;
    }
    is64 = (bar2 & 0x6u) == 0x4u;
    if (is64)
        bar3 = bm_pci_read32(bdf, 0x1c);
    base = ((uint64_t)bar3 << 32) | (bar2 & ~0xfu);
    size = bar_size(bdf, 0x18, is64);
    bm_printf("bm: vm: BAR2 at %llx, %u KiB (%s, %s)\n", base,
              (uint32_t)(size >> 10), is64 ? "64-bit" : "32-bit",
              (bar2 & 0x8u) ? "prefetchable" : "not prefetchable");
    if (base == 0) {
        bm_printf("bm: vm: BAR2 has no address (firmware did not assign "
                  "it)\n");
        return -1;
    }
    if ((base >> 32) != 0 || size > 0x100000000ull - base) {
        bm_printf("bm: vm: BAR2 lies above 4 GiB, out of reach with paging "
                  "off: use a smaller region or less guest memory\n");
        return -1;
    }
    if (size < KDCOM_VM_MIN_SIZE) {
        bm_printf("bm: vm: region of %u bytes is smaller than the VM "
                  "channel's minimum (%u)\n", (uint32_t)size,
                  (unsigned)KDCOM_VM_MIN_SIZE);
        return -1;
    }
    /* Memory decoding on (firmware normally did it already). */
    bm_pci_write32(bdf, 0x04, bm_pci_read32(bdf, 0x04) | 0x2u);
    region = (uint8_t *)(uintptr_t)base;
    region_size = size > 0xfffff000u ? 0xfffff000u : (uint32_t)size;

    if ((bar0 & 1u) == 0 && (bar0 & ~0xfu) != 0)
        ivpos = *(volatile uint32_t *)(uintptr_t)((bar0 & ~0xfu) +
                                                  REG_IVPOSITION);
    msix = has_msix(bdf);
    ring_it = bm_opts.doorbell == 1 ||
              (bm_opts.doorbell < 0 && (msix || ivpos != 0));
    if (ring_it && (bar0 & ~0xfu) == 0) {
        bm_printf("bm: vm: BAR0 (the doorbell register) has no address: "
                  "polling\n");
        ring_it = 0;
    }
    if (ring_it) {
        doorbell = (volatile uint32_t *)(uintptr_t)((bar0 & ~0xfu) +
                                                    REG_DOORBELL);
        ring = bm_opts.doorbell_peer << 16; /* vector 0 */
        KdGuestChannelFlags = KDCOM_VM_GF_DOORBELL;
        bm_printf("bm: vm: ivshmem-doorbell%s: we are peer %u, each "
                  "request rings peer %u\n", msix ? " (MSI-X)" : "", ivpos,
                  bm_opts.doorbell_peer);
    } else {
        bm_printf("bm: vm: %s: no doorbell, the host polls\n",
                  bm_opts.doorbell == 0 ? "doorbell=off" : "ivshmem-plain");
    }
    KdGuestEpochSeed = bm_clock_entropy();

    /* What the region says about its host right now (it may come later). */
    flags = *(volatile uint32_t *)(region + KDCOM_VM_OFF_HOST_FLAGS);
    abi = *(volatile uint32_t *)(region + KDCOM_VM_OFF_HOST_ABI);
    if (flags & KDCOM_VM_HF_READY)
        bm_printf("bm: vm: region validated: host attached (ABI %u.%u, "
                  "flags %x)\n", abi >> 16, abi & 0xffffu, flags);
    else
        bm_printf("bm: vm: region validated: no host attached yet\n");
    return 0;
}

static void ring_host(void)
{
    *doorbell = ring;
    rings++;
}

int bm_backend_rtt(uint32_t count)
{
    return bm_rtt_run(region, region_size, count,
                      doorbell != NULL ? ring_host : NULL);
}

void bm_backend_report(void)
{
    bm_printf("bm: vm: sends=%u acked=%u dropped=%u receives=%u "
              "received=%u timeouts=%u resends=%u polls=%u breakins=%u "
              "host_timeouts=%u bad_answers=%u host_restarts=%u "
              "doorbell_rings=%u\n",
              KdGuestStats.sends, KdGuestStats.sends_acked,
              KdGuestStats.sends_dropped, KdGuestStats.receives,
              KdGuestStats.received, KdGuestStats.timeouts,
              KdGuestStats.resends, KdGuestStats.polls,
              KdGuestStats.breakins, KdGuestStats.host_timeouts,
              KdGuestStats.bad_answers, KdGuestStats.host_restarts, rings);
}
