/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bm.h - the pieces of the bare-metal test kernel (guest/baremetal/):
 * port I/O, the console, the clock, PCI configuration space, the back end
 * each build links, and the exit codes QEMU reports.
 *
 * The kernel is 32-bit protected mode, paging off, interrupts off, one
 * processor: every access below is a plain load, store or port
 * instruction.  It includes only the compiler's freestanding headers.
 */
#ifndef BM_H
#define BM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- port I/O ---- */

static inline void bm_outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t bm_inb(uint16_t port)
{
    uint8_t v;

    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void bm_outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t bm_inl(uint16_t port)
{
    uint32_t v;

    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void bm_pause(void)
{
    __asm__ volatile("pause");
}

/* ---- exit: QEMU's isa-debug-exit device (iobase 0xf4) ----
 * Writing V makes QEMU exit with status (V << 1) | 1; without the device
 * the write goes nowhere and the kernel halts instead. */
#define BM_EXIT_PORT 0xf4
#define BM_EXIT_REBOOT 0x10    /* QEMU status 33: the debugger's .reboot */
#define BM_EXIT_STOPPED 0x11   /* 35: run_ms elapsed */
#define BM_EXIT_NO_DEVICE 0x20 /* 65: no usable channel / UART */
#define BM_EXIT_FAILED 0x21    /* 67: the transport did not initialise */
#define BM_EXIT_BAD_BOOT 0x22  /* 69: not started by a Multiboot loader */

void bm_exit(uint8_t code);

/* ---- console: QEMU's debugcon port 0xe9 (-debugcon file:LOG) ---- */

#define BM_CONSOLE_PORT 0xe9

/* printf subset: %s %c %u %d %x %%, an optional '0' and width, and 'll'
 * before u or x for 64-bit values. */
void bm_printf(const char *fmt, ...);
void bm_vprintf(const char *fmt, va_list ap);

/* ---- clock: the TSC, calibrated once against PIT channel 2 ---- */

void bm_clock_init(void);
uint64_t bm_clock_ms(void);
uint32_t bm_clock_tsc_per_ms(void);
/* The low 32 bits of the TSC: differs on every boot (an epoch seed). */
uint32_t bm_clock_entropy(void);
void bm_delay_ms(uint32_t ms);

/* ---- PCI configuration mechanism #1 (ports 0xcf8 / 0xcfc) ---- */

uint32_t bm_pci_read32(uint32_t bdf, uint32_t off);
void bm_pci_write32(uint32_t bdf, uint32_t off, uint32_t v);
/* The first function with this vendor and device id: its bus/dev/fn in
 * the mechanism #1 encoding (bus << 16 | dev << 11 | fn << 8), or
 * 0xffffffff. */
uint32_t bm_pci_find(uint16_t vendor, uint16_t device);

/* ---- the command line (Multiboot), parsed by bm_main.c ---- */

struct bm_options {
    int initial_break;         /* "nobreak" clears it */
    uint32_t print_interval_ms;/* "print=MS" */
    uint32_t run_ms;           /* "runfor=MS" */
    int doorbell;              /* "doorbell=off" 0, "=on" 1, -1 auto */
    uint32_t doorbell_peer;    /* "peer=N": who the doorbell rings [0] */
    uint32_t divisor;          /* "divisor=N": 16550 divisor [1] */
    int quiet;                 /* "quiet" */
    uint32_t rtt;              /* "rtt=N": channel round trips only */
};

/* rtt=N is capped here (N * 1000 stays within 32 bits). */
#define BM_RTT_MAX 4000000u

extern struct bm_options bm_opts;

/* ---- the back end each build links (bm_vm.c or bm_uart.c) ---- */

extern const char bm_backend_name[];
/* Finds and prepares the device; 0, or -1 after a console message. */
int bm_backend_setup(void);
/* One line of counters after the run. */
void bm_backend_report(void);
/* rtt=N: the channel's round trip alone (vm only); 0 or -1. */
int bm_backend_rtt(uint32_t count);
/* bm_rtt.c: N round trips on a mapped region, ringing with ring() if
 * not NULL after each request; 0, or -1 after a console message. */
int bm_rtt_run(uint8_t *region, uint32_t size, uint32_t count,
               void (*ring)(void));

#endif /* BM_H */
