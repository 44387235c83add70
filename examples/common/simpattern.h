/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * simpattern.h - the memory image of the simulated kernel: where it lives
 * and the deterministic byte pattern it starts with, so a debugger client
 * can verify a bulk read without a reference file.
 */
#ifndef SIMPATTERN_H
#define SIMPATTERN_H

#include <stdint.h>

#define SIM_KERN_BASE 0xfffff80000000000ull /* image starts here */
#define SIM_MEM_SIZE (4u << 20)             /* 4 MiB */
#define SIM_LOADED_MODULE_LIST (SIM_KERN_BASE + 0x3ff000u)
#define SIM_DEBUGGER_DATA_LIST (SIM_KERN_BASE + 0x3fe000u)
#define SIM_THREAD (SIM_KERN_BASE + 0x3fd000u)
/* The kernel's DbgBreakPointWithStatus: "int 3; ret" (cc c3).  Break-ins
 * and the initial breakpoint stop here, as on Windows. */
#define SIM_BREAK_PC (SIM_KERN_BASE + 0x1000u)

/* Byte at image offset off: a mix of the offset's bytes, so a misplaced,
 * repeated or shifted block never matches by accident; the two bytes of
 * the break routine at SIM_BREAK_PC are its instructions. */
static inline uint8_t sim_pattern(uint64_t off)
{
    uint32_t x = (uint32_t)off * 2654435761u;

    if (off == SIM_BREAK_PC - SIM_KERN_BASE)
        return 0xcc; /* int 3 */
    if (off == SIM_BREAK_PC - SIM_KERN_BASE + 1)
        return 0xc3; /* ret */
    return (uint8_t)((x >> 24) ^ (uint8_t)(off >> 8) ^ (uint8_t)off);
}

#endif /* SIMPATTERN_H */
