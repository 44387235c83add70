/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * transport_fd.h - the simulated kernel's serial line: a byte port on a
 * socket, tty or pty endpoint, the way a kernel's COM port would carry
 * KDCOM.  What the bytes mean is the caller's business: kdcom-simkernel
 * gives them to guest/'s stream back end (backend_fd.c), kdcom-simkernel-
 * uart to its emulated 16550 (backend_uart.c).
 */
#ifndef TRANSPORT_FD_H
#define TRANSPORT_FD_H

#include <stddef.h>
#include <stdint.h>

#include "../common/wiretrace.h"

/* This file also implements backend.h's backend_setup() (parses and
 * opens the endpoint `target`: a listening one accepts debuggers one
 * after the other, as QEMU's `-serial tcp:...,server` does; prints the
 * port or pty path on stdout; wt, which may be NULL, sees every byte),
 * backend_close() and backend_has_wire() (1) for both builds on an
 * endpoint. */

/* fdtr_read(): a new debugger was accepted. */
#define FDTR_NEW_PEER (-1)

/* Reads up to cap bytes that have come, without waiting: their count, 0
 * if none (or no debugger), or FDTR_NEW_PEER, nothing read, once when a
 * listening endpoint accepted a debugger.  A debugger that goes away is
 * reported on stderr (unless backend_quiet) and the line waits for the
 * next one. */
long fdtr_read(uint8_t *buf, size_t cap);

/* Writes up to len bytes without waiting; returns how many were taken (0:
 * the line is busy).  Without a debugger all are taken, and lost, as a
 * UART sends into an unplugged cable. */
size_t fdtr_write(const uint8_t *buf, size_t len);

/* Sleeps until the line can be read (or written, if out), a debugger
 * knocks, or ms pass. */
void fdtr_wait(int ms, int out);

#endif /* TRANSPORT_FD_H */
