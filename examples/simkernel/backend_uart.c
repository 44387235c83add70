/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backend_uart.c - kdcom-simkernel-uart: a 16550 for guest/'s uart back
 * end, whose wire is an endpoint (socket, tty, pty).  The guest programs
 * and polls the UART registers as it would COM1; this file turns register
 * accesses into buffered non-blocking reads and writes.
 *
 * A real polled UART keeps its CPU busy while it waits.  This one sleeps
 * up to 1 ms in poll() after many empty LSR reads in a row, so an idle
 * simulated kernel costs almost nothing.  The wire is transport_fd.c's:
 * a listening endpoint accepts debuggers one after the other, like QEMU's
 * `-serial tcp:...,server`, and a UART does not notice who is connected.
 */
#include <stdio.h>

#include "../common/exutil.h"
#include "backend.h"
#include "kdguest.h"
#include "transport_fd.h"

#define IDLE_SPINS 64

static uint8_t rx[4096], tx[4096];
static size_t rx_len, rx_off, tx_len;
static uint8_t lcr, regs[8];
static unsigned empty_polls;
/* The guest checks LSR before every THR write: the LSR read right after a
 * write is mid-burst, the second one in a row means the frame is done. */
static int last_was_write;

const char *backend_program(void)
{
    return "kdcom-simkernel-uart";
}

const char *backend_args(void)
{
    return "ENDPOINT";
}

const char *backend_summary(void)
{
    return "a simulated Windows kernel on guest/'s 16550 UART back end";
}

const char *backend_transport(void)
{
    return "  Its KD transport is guest/'s uart back end, the code a kernel runs\n"
           "  on a 16550 serial port (COM1), driving an emulated UART whose wire is\n"
           "  ENDPOINT: what a debugger sees there is what a VM's serial port would\n"
           "  carry.\n";
}

const char *backend_help(void)
{
    return "ENDPOINT\n"
           "  tcp-listen:[HOST:]PORT  wait for debuggers, one after the other (HOST\n"
           "                          127.0.0.1 if left out; PORT 0: any free port)\n"
           "  unix-listen:PATH        the same on a Unix socket, created with mode 0600\n"
           "  tcp:HOST:PORT           connect to a debugger that listens\n"
           "  unix:PATH               the same on a Unix socket\n"
           "  tty:DEVICE[,BAUD]       a serial line, in raw mode\n"
           "  pty                     a new pty for the debugger to open\n";
}

const char *backend_stdout(void)
{
    return "  stdout gets one line for scripts: KDCOM_SIM_PORT=PORT (tcp-listen, the\n"
           "  port actually bound) or KDCOM_SIM_PTY=/dev/pts/N (pty).\n";
}

const char *backend_examples(void)
{
    return "  kdcom-simkernel-uart tcp-listen:127.0.0.1:5801\n"
           "      then: kdcom-client tcp:127.0.0.1:5801 wait-stop 5000 version go\n"
           "      or:   windbg -k com:ipport=5801,port=127.0.0.1\n";
}

static void flush_tx(void)
{
    size_t off = 0;

    empty_polls = 0; /* the kernel is busy sending: do not nap yet */
    while (off < tx_len) {
        size_t w = fdtr_write(tx + off, tx_len - off);
        if (w == 0)
            fdtr_wait(10, 1); /* a full socket: the line is busy */
        off += w;
    }
    tx_len = 0;
}

/* Refills rx if it is empty; sleeps a little after many empty polls. */
static void fill_rx(void)
{
    long n;

    if (rx_off < rx_len)
        return;
    n = fdtr_read(rx, sizeof rx);
    if (n > 0) {
        rx_len = (size_t)n;
        rx_off = 0;
        empty_polls = 0;
        return;
    }
    /* FDTR_NEW_PEER: a new debugger, which a UART cannot tell. */
    if (++empty_polls >= IDLE_SPINS)
        fdtr_wait(1, 0);
}

uint8_t KdUartPlatformRead(ULONG reg)
{
    reg &= 7;
    if (reg == KDUART_LSR) {
        int burst = last_was_write;
        last_was_write = 0;
        if (burst)
            return (uint8_t)(KDUART_LSR_THRE | 0x40 |
                             (rx_off < rx_len ? KDUART_LSR_DR : 0));
        if (tx_len != 0)
            flush_tx(); /* the transmitter drains while the CPU polls */
        fill_rx();
        return (uint8_t)(KDUART_LSR_THRE | 0x40 |
                         (rx_off < rx_len ? KDUART_LSR_DR : 0));
    }
    if (reg == KDUART_RBR && !(lcr & 0x80)) {
        fill_rx();
        return rx_off < rx_len ? rx[rx_off++] : 0;
    }
    if (reg == KDUART_LCR)
        return lcr;
    return regs[reg];
}

void KdUartPlatformWrite(ULONG reg, uint8_t v)
{
    reg &= 7;
    if (reg == KDUART_THR && !(lcr & 0x80)) {
        last_was_write = 1;
        tx[tx_len++] = v;
        if (tx_len == sizeof tx)
            flush_tx();
        return;
    }
    if (reg == KDUART_LCR)
        lcr = v;
    else
        regs[reg] = v;
}

uint64_t KdPlatformMilliseconds(void)
{
    return ex_now_ms();
}
