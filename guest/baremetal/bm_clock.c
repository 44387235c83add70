/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bm_clock.c - a monotonic millisecond clock for the bare-metal kernel:
 * the time-stamp counter, its rate measured once at boot against PIT
 * channel 2 (1,193,182 Hz, the speaker gate at port 0x61), as kernels
 * without an HPET driver do.  Under QEMU TCG the TSC follows the host's,
 * so the clock tracks real time; under KVM it is the real TSC.
 *
 * Converting ticks to milliseconds needs a 64-by-32-bit division, which
 * i386 code would take from libgcc (__udivdi3); we do it with two divl
 * instructions instead, so the kernel links without any runtime library.
 */
#include "bm.h"

#define PIT_HZ 1193182u
#define CAL_MS 20u

static uint64_t tsc_origin;
static uint32_t tsc_per_ms = 1000000u; /* 1 GHz until measured */

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* n / d for 64-bit n and 32-bit d > 0, without libgcc. */
static uint64_t div64_32(uint64_t n, uint32_t d)
{
    uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n, qhi, qlo, r;

    qhi = hi / d;
    r = hi % d;
    /* r < d, so (r:lo) / d fits in 32 bits: one divl, no overflow. */
    __asm__("divl %4" : "=a"(qlo), "=d"(r) : "0"(lo), "1"(r), "rm"(d));
    return ((uint64_t)qhi << 32) | qlo;
}

void bm_clock_init(void)
{
    uint32_t count = PIT_HZ / 1000u * CAL_MS;
    uint64_t t0, t1;
    uint32_t spins = 0;
    uint8_t gate;

    /* Channel 2, mode 0 (interrupt on terminal count), binary: OUT2 (bit
     * 5 of port 0x61) goes high when the count reaches zero.  Gate off
     * while programming, speaker data off. */
    gate = (uint8_t)(bm_inb(0x61) & ~0x03u);
    bm_outb(0x61, gate);
    bm_outb(0x43, 0xb0);
    bm_outb(0x42, (uint8_t)count);
    bm_outb(0x42, (uint8_t)(count >> 8));
    bm_outb(0x61, (uint8_t)(gate | 0x01u));
    t0 = rdtsc();
    while ((bm_inb(0x61) & 0x20u) == 0 && ++spins < 100000000u)
        ;
    t1 = rdtsc();
    bm_outb(0x61, gate);
    if (spins < 100000000u && t1 - t0 >= CAL_MS && t1 - t0 < 0xffffffffu)
        tsc_per_ms = (uint32_t)(t1 - t0) / CAL_MS;
    else
        bm_printf("bm: clock: PIT calibration failed, assuming 1 GHz\n");
    if (tsc_per_ms == 0)
        tsc_per_ms = 1;
    tsc_origin = rdtsc();
}

uint64_t bm_clock_ms(void)
{
    return div64_32(rdtsc() - tsc_origin, tsc_per_ms);
}

uint32_t bm_clock_tsc_per_ms(void)
{
    return tsc_per_ms;
}

uint32_t bm_clock_entropy(void)
{
    return (uint32_t)rdtsc();
}

void bm_delay_ms(uint32_t ms)
{
    uint64_t end = bm_clock_ms() + ms;

    while (bm_clock_ms() < end)
        bm_pause();
}
