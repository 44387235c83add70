/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * backend_uart.c - kdcom-simkernel-uart: a 16550 for guest/'s uart back
 * end, whose wire is an endpoint (socket, tty, pty).  The guest programs
 * and polls the UART registers as it would COM1; this file turns register
 * accesses into buffered non-blocking reads and writes.
 *
 * A real polled UART keeps its CPU busy while it waits.  This one sleeps
 * up to 1 ms in poll() after many empty LSR reads in a row, so an idle
 * simulated kernel costs almost nothing.  A listening endpoint accepts
 * debuggers one after the other, like QEMU's `-serial tcp:...,server`.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/endpoint.h"
#include "../common/exutil.h"
#include "backend.h"
#include "kdguest.h"
#include "simep.h"

#define IDLE_SPINS 64

static struct ep_spec spec;
static int lfd = -1, cfd = -1, keep_slave = -1;
static struct wiretrace *trace;
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

int backend_has_wire(void)
{
    return 1;
}

int backend_setup(const char *target, struct wiretrace *wt)
{
    char err[256];

    trace = wt;
    if (ep_parse(target, &spec, err, sizeof err) != 0 ||
        simep_open(&spec, &lfd, &cfd, &keep_slave, err, sizeof err) != 0) {
        fprintf(stderr, "kdcom-simkernel-uart: %s\n", err);
        return -1;
    }
    return 0;
}

void backend_close(void)
{
    simep_close(&lfd, &cfd, &keep_slave);
}

/* The debugger went away (n, err: the read or write that said so). */
static void hang_up(long n, int err)
{
    char why[160];

    if (lfd < 0)
        return; /* a tty or a connect endpoint stays as it is */
    if (!backend_quiet)
        fprintf(stderr, "kdcom-simkernel-uart: debugger %s\n",
                ep_end_reason(n, err, why, sizeof why));
    close(cfd);
    cfd = -1;
    rx_len = rx_off = tx_len = 0;
    if (trace != NULL)
        wt_reset(trace);
}

static void flush_tx(void)
{
    size_t off = 0;

    empty_polls = 0; /* the kernel is busy sending: do not nap yet */
    if (cfd < 0) {
        tx_len = 0; /* no cable: the bytes leave the UART anyway */
        return;
    }
    while (off < tx_len) {
        ssize_t w = write(cfd, tx + off, tx_len - off);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd p = {cfd, POLLOUT, 0};
                poll(&p, 1, 10); /* a full socket: the line is busy */
                continue;
            }
            if (errno == EINTR)
                continue;
            hang_up(-1, errno);
            tx_len = 0;
            return;
        }
        wt_bytes(trace, 0, tx + off, (size_t)w);
        off += (size_t)w;
    }
    tx_len = 0;
}

/* Refills rx if it is empty; sleeps a little after many empty polls. */
static void fill_rx(void)
{
    ssize_t n;

    if (rx_off < rx_len)
        return;
    if (cfd < 0 && lfd >= 0)
        cfd = ep_accept(lfd, NULL, 0);
    if (cfd < 0) {
        if (++empty_polls >= IDLE_SPINS)
            ex_sleep_ms(1);
        return;
    }
    n = read(cfd, rx, sizeof rx);
    if (n > 0) {
        wt_bytes(trace, 1, rx, (size_t)n);
        rx_len = (size_t)n;
        rx_off = 0;
        empty_polls = 0;
        return;
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                   errno != EINTR && errno != EIO)) {
        hang_up((long)n, n < 0 ? errno : 0);
        return;
    }
    if (++empty_polls >= IDLE_SPINS) {
        struct pollfd p = {cfd, POLLIN, 0};
        poll(&p, 1, 1);
    }
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
