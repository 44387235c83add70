/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bm_uart.c - the uart back end's platform for the bare-metal kernel:
 * the 16550 at COM1 (I/O ports 0x3f8-0x3ff), which QEMU emulates and
 * connects to its -serial chardev.  The kernel speaks KDCOM there itself
 * (libkdcom's TARGET role inside guest/kd_uart.c), the way a stock
 * Windows guest with kdcom.dll does today.
 */
#include "bm.h"

#include "kdguest.h"

#define COM1 0x3f8

const char bm_backend_name[] = "uart";

uint64_t KdPlatformMilliseconds(void)
{
    return bm_clock_ms();
}

uint8_t KdUartPlatformRead(ULONG Register)
{
    return bm_inb((uint16_t)(COM1 + (Register & 7u)));
}

void KdUartPlatformWrite(ULONG Register, uint8_t Value)
{
    bm_outb((uint16_t)(COM1 + (Register & 7u)), Value);
}

int bm_backend_setup(void)
{
    /* A 16550 keeps what is written to its scratch register; an empty
     * port reads back 0xff. */
    bm_outb(COM1 + 7, 0x5a);
    if (bm_inb(COM1 + 7) != 0x5a) {
        bm_printf("bm: uart: no 16550 at COM1 (0x3f8): start QEMU with "
                  "-serial ...\n");
        return -1;
    }
    KdUartDivisor = bm_opts.divisor;
    bm_printf("bm: uart: 16550 at COM1, divisor %u (%u baud)\n",
              bm_opts.divisor, 115200u / bm_opts.divisor);
    return 0;
}

int bm_backend_rtt(uint32_t count)
{
    (void)count;
    bm_printf("bm: rtt: the round-trip measurement needs the vm kernel\n");
    return -1;
}

void bm_backend_report(void)
{
    bm_printf("bm: uart: sends=%u acked=%u dropped=%u receives=%u "
              "received=%u timeouts=%u resends=%u polls=%u breakins=%u\n",
              KdGuestStats.sends, KdGuestStats.sends_acked,
              KdGuestStats.sends_dropped, KdGuestStats.receives,
              KdGuestStats.received, KdGuestStats.timeouts,
              KdGuestStats.resends, KdGuestStats.polls,
              KdGuestStats.breakins);
}
