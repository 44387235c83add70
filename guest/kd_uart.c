/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kd_uart.c - the uart back end: classic KDCOM on a 16550.  The stream
 * back end (kd_stream.c) does the KDCOM part, through an in-guest
 * libkdcom host service; this file is its byte port, the UART.
 *
 * THEORY OF OPERATION
 *
 *   Opening the port programs the 16550: polled, interrupts off (IER =
 *   0), 8N1 at 115200 / KdUartDivisor baud, FIFOs on.  Reading moves the
 *   bytes the UART has received (LSR.DR) out of RBR; writing moves bytes
 *   into the transmitter while LSR.THRE says it takes them, up to 16 at a
 *   time (the 16550 FIFO depth: THRE means the FIFO is empty).  Neither
 *   waits: the stream back end calls them on every idle step.
 *
 *   A UART cannot tell that the debugger at the other end of the cable
 *   changed, so reading never reports a new peer: the debugger's RESET
 *   starts it over.  Line errors (overrun, parity, framing) are not
 *   special-cased either: a damaged packet fails its checksum and the
 *   link asks for a resend.
 */
#include "kd_backend.h"

ULONG KdUartDivisor = 1;

#define UART_FIFO 16

int KdStreamPlatformOpen(void)
{
    KdUartPlatformWrite(KDUART_IER, 0);    /* polled: no interrupts */
    KdUartPlatformWrite(KDUART_LCR, 0x80); /* DLAB on */
    KdUartPlatformWrite(KDUART_DLL, (uint8_t)(KdUartDivisor & 0xFF));
    KdUartPlatformWrite(KDUART_DLM, (uint8_t)((KdUartDivisor >> 8) & 0xFF));
    KdUartPlatformWrite(KDUART_LCR, 0x03); /* 8N1, DLAB off */
    KdUartPlatformWrite(KDUART_FCR, 0x07); /* FIFOs on and cleared */
    KdUartPlatformWrite(KDUART_MCR, 0x03); /* DTR, RTS */
    return 0;
}

int KdStreamPlatformRead(uint8_t *Buffer, ULONG Size)
{
    ULONG n = 0;

    while (n < Size && (KdUartPlatformRead(KDUART_LSR) & KDUART_LSR_DR))
        Buffer[n++] = KdUartPlatformRead(KDUART_RBR);
    return (int)n;
}

ULONG KdStreamPlatformWrite(const uint8_t *Buffer, ULONG Size)
{
    ULONG n = 0;

    if (Size != 0 && (KdUartPlatformRead(KDUART_LSR) & KDUART_LSR_THRE)) {
        while (n < UART_FIFO && n < Size) {
            KdUartPlatformWrite(KDUART_THR, Buffer[n]);
            n++;
        }
    }
    return n;
}

void KdStreamPlatformWait(ULONG Ms, int Output)
{
    /* A kernel polls its UART with interrupts off: nothing to wait on. */
    (void)Ms;
    (void)Output;
}
